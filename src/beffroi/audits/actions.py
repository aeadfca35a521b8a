"""State changes of audits (DESIGN rule 1): upload, progress, completion, failure."""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from beffroi.audits.models import STUCK_AFTER, Audit
from beffroi.core import jobs, journal
from beffroi.core.models import Organisation


def _store(upload: UploadedFile, target: Any) -> tuple[str, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


class AuditsBusy(Exception):
    """The organisation already has the most audits waiting or running."""

    def __init__(self, pending: int) -> None:
        super().__init__(pending)
        self.pending = pending


def max_pending() -> int:
    """Audits of one organisation waiting or running at once. They share the task queue
    with the watch room's exports: without a bound, one organisation's uploads (any
    scrutineer may send them) would keep a crisis cell's exports waiting."""
    return int(getattr(settings, "BEFFROI_AUDIT_MAX_PENDING", 3))


def start_audit(
    organisation: Organisation,
    upload: UploadedFile,
    *,
    fmt: str,
    actor: Any,
    electorate: dict[str, int] | None = None,
    mapping: UploadedFile | None = None,
    structure: UploadedFile | None = None,
) -> Audit:
    """Store the upload, journal it (with its SHA-256) and queue the audit;
    ``AuditsBusy`` (nothing stored) when the organisation has too many waiting."""
    from beffroi.audits.tasks import run_audit_task

    # Uploads sent at once must not each find room in the queue.
    with jobs.one_step(Organisation, organisation.pk):
        pending = sum(
            1
            for audit in organisation.audits.filter(
                status__in=[Audit.Status.QUEUED, Audit.Status.RUNNING],
                created_at__gte=timezone.now() - STUCK_AFTER,
            )
            if not audit.stuck  # its worker died: it will never end
        )
        if pending >= max_pending():
            raise AuditsBusy(pending)
        audit = Audit.objects.create(
            organisation=organisation,
            created_by=actor,
            original_name=upload.name or "export",
            sha256="",
            size=0,
            fmt=fmt,
            electorate=electorate or {},
            has_mapping=mapping is not None,
        )
        shutil.rmtree(audit.folder, ignore_errors=True)  # never mix with older files
        # Which structure named the report's questions, so that a copy can be checked
        # against it like the export.
        about_structure: dict[str, str] = {}
        try:
            audit.sha256, audit.size = _store(upload, audit.input_path)
            if mapping is not None:
                _store(mapping, audit.mapping_path)
            if structure is not None:
                about_structure["structure"] = structure.name or "structure.lss"
                about_structure["structure_sha256"] = _store(structure, audit.structure_path)[0]
        except BaseException:
            shutil.rmtree(audit.folder, ignore_errors=True)
            raise
        audit.save(update_fields=["sha256", "size"])
        journal.append(
            "audit.upload",
            actor=actor,
            organisation=organisation,
            subject=f"audit:{audit.pk}",
            data={
                "file": audit.original_name,
                "sha256": audit.sha256,
                "size": audit.size,
                "format": fmt,
                "electorate": audit.electorate,
                **about_structure,
            },
        )
        # Queued only once the row and the journal entry are committed.
        transaction.on_commit(lambda: run_audit_task.enqueue(audit.pk))
    return audit


def report_progress(audit: Audit, fraction: float, message: str) -> None:
    """Live status for the page; operational, so not journaled (no decision is made)."""
    Audit.objects.filter(pk=audit.pk).update(
        status=Audit.Status.RUNNING, progress=round(fraction, 3), progress_message=message[:200]
    )


def _discard_inputs(audit: Audit) -> None:
    """The uploaded export holds raw network addresses and user agents (LimeSurvey's
    ipaddr column) that the report only shows as pseudonyms: once the audit's end is
    committed, the server keeps its SHA-256 and size (journaled) and the report, not the
    file (deleted earlier, a failed commit would leave an audit with nothing to rerun)."""

    def unlink() -> None:
        for path in (audit.input_path, audit.mapping_path, audit.structure_path):
            path.unlink(missing_ok=True)

    transaction.on_commit(unlink)


@transaction.atomic
def complete_audit(audit: Audit, summary: dict[str, Any]) -> None:
    _discard_inputs(audit)
    audit.status, audit.progress, audit.summary = Audit.Status.DONE, 1.0, summary
    audit.progress_message, audit.finished_at = "", timezone.now()
    audit.save(update_fields=["status", "progress", "summary", "progress_message", "finished_at"])
    journal.append(
        "audit.complete", organisation=audit.organisation, subject=f"audit:{audit.pk}", data=summary
    )


@transaction.atomic
def fail_audit(audit: Audit, error: str, *, journaled: str | None = None) -> None:
    """``error`` is shown on the audit's page, to the people who fix the file; ``journaled``,
    when given, is what the journal keeps instead (hash-chained, it can be neither amended
    nor purged): a refusal that quotes a cell of the file is journaled without it
    (``InputError.for_the_journal``)."""
    _discard_inputs(audit)
    audit.status, audit.error, audit.finished_at = Audit.Status.FAILED, error, timezone.now()
    audit.save(update_fields=["status", "error", "finished_at"])
    journal.append(
        "audit.failed",
        organisation=audit.organisation,
        subject=f"audit:{audit.pk}",
        reason=(error if journaled is None else journaled)[:500],
    )
