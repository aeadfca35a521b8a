"""The live integrity audit of a consultation's ballot box.

The board's unverified (unsigned) entries, with their private pseudonyms, are
handed to the pure audit (``beffroi.integrity.audit.audit_dataset``) as an
in-memory table; the responses it flags become ``flag`` events (action
``record_flags``) that the frozen ``integrity_flag`` rule reads.  Signed
ballots are not audited: their credential already proves one holder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, task

from beffroi.consult import actions
from beffroi.consult.forms import AUDIT_FLAG
from beffroi.consult.models import BoardEntry, Consultation, Status
from beffroi.consult.spec import format_time
from beffroi.core import jobs
from beffroi.core.actions import ActionError
from beffroi.integrity.audit import AuditResult, audit_dataset
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import from_table

# Below this many unverified answers the statistics say nothing useful.
MIN_RESPONSES = 20
# The live audit runs at most once per this many seconds per consultation.
AUDIT_EVERY = 60
# How long a run's progress stays in the cache after its last report: longer than any
# stall the page warns about (BEFFROI_JOB_STALL_MINUTES), so that the warning counts
# from the last move rather than from the run's start.
PROGRESS_KEPT = 24 * 3600
Progress = jobs.Progress
# A running audit that has taken this long under a worker that never said it was alive
# is taken for interrupted (the longest live audits take a few minutes).
LONGEST_RUN = timedelta(hours=1)
# A flag's evidence is journaled and published; longer than this it is cut.
EVIDENCE_MAX = 500
CUT_MARK = "…"
# Where a cut may fall, coarsest first: between two checks' evidence ("; "), between
# the parts of one check (" ; "), after a clause (", "), last between two words.
_BOUNDARIES = (re.compile(r"(?<! ); "), re.compile(r" ; "), re.compile(r", "), re.compile(r" "))


def cut_evidence(text: str, limit: int = EVIDENCE_MAX) -> str:
    """``text`` if it fits in ``limit`` characters, else its start cut at the coarsest
    boundary that still keeps at least half of the room, followed by "…".

    A sentence cut in its middle would be published as a fragment (and could not be
    re-said in English); the mark tells the reader that more was found than shown.
    """
    if len(text) <= limit:
        return text
    room = limit - len(CUT_MARK)
    for boundary in _BOUNDARIES:
        ends = [m.end() for m in boundary.finditer(text, 0, room + 2) if m.end() <= room]
        if ends and ends[-1] >= limit // 2:
            return text[: ends[-1]] + CUT_MARK
    # One word longer than half the room (a pasted answer): cut inside it.
    return text[:room] + CUT_MARK


def _value(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        return ",".join(sorted(str(x) for x in v)) or None
    return str(v)


def ballot_table(c: Consultation) -> list[dict[str, Any]]:
    """Normalised rows (see beffroi.integrity.load) for the unsigned entries."""
    spec = c.get_spec()
    global_qs = [q.code for q in spec.questions if not q.per_row and q.kind != "text"]
    row_qs = [q.code for q in spec.questions if q.per_row and q.kind != "text"]
    n_rows = len(spec.rows.labels) if spec.rows else 0
    out = []
    for e in BoardEntry.objects.filter(consultation=c, public_key=None).order_by("n").iterator():
        at = datetime.fromisoformat(e.received_at.replace("Z", "+00:00")).timestamp()
        row: dict[str, Any] = {
            "id": e.hash,
            "submitted": at,
            "net": e.net or None,
            "ip": e.addr or None,
            "ua": e.ua or None,
            "segment": e.ballot.get("segment"),
        }
        answers = e.ballot.get("answers", {})
        for code in global_qs:
            row[code] = _value(answers.get(code))
        rows = e.ballot.get("rows", [])
        for i in range(n_rows):
            r = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
            for code in row_qs:
                row[f"{code}[R{i + 1}]"] = _value(r.get(code))
        out.append(row)
    return out


def run_audit(c: Consultation, progress: Progress | None = None) -> AuditResult | None:
    table = ballot_table(c)
    if len(table) < MIN_RESPONSES:
        return None
    electorate = {s.code: s.electorate for s in c.get_spec().segments} or None
    try:
        return audit_dataset(
            from_table(table, segment="segment"), electorate=electorate, progress=progress
        )
    except InputError:
        return None


def _report(result: AuditResult | None, unverified: int, new_flags: int) -> dict[str, Any]:
    """What the audit page shows, small and JSON-ready: it is stored as the job's
    return value (the task database keeps it, so the page never re-runs the audit)."""
    clusters = []
    summary = None
    if result is not None:
        s = result.summary
        summary = {
            "verdict": str(s.get("verdict", "")),
            "flagged": int(s.get("flagged", 0)),
            "responses": int(s.get("responses", 0)),
        }
        clusters = [
            {
                "size": int(cl.get("size", 0)),
                "flagged": int(cl.get("flagged", 0)),
                "start": str(cl.get("start", "")),
                "end": str(cl.get("end", "")),
                "evidence": str(cl.get("evidence", "")),
            }
            for cl in result.clusters
            if cl.get("flagged")
        ]
    return {
        "ran_at": format_time(timezone.now()),
        "unverified": unverified,
        "minimum": MIN_RESPONSES,
        "summary": summary,
        "clusters": clusters,
        "new_flags": new_flags,
    }


def audit_box(
    c: Consultation, *, actor: Any = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Audit the box, record its flags (journaled when there are new ones) and
    return the report the audit page shows."""
    unverified = BoardEntry.objects.filter(consultation=c, public_key=None).count()
    if c.status == Status.DRAFT:
        return _report(None, unverified, 0)
    result = run_audit(c, progress)
    if result is None:
        return _report(None, unverified, 0)
    flags = []
    for i, rid in enumerate(result.ids):
        if bool(result.flagged[i]):
            evidence = "; ".join(result.reasons.get(i, [])) or (
                f"score d'automatisation {float(result.score[i]):.2f}"
            )
            flags.append((rid, AUDIT_FLAG, cut_evidence(evidence)))
    if c.status != Status.OPEN:
        # After the close the report is shown but records nothing (record_flags refuses):
        # a flag would change a result proclaimed under the frozen rule.
        return _report(result, unverified, 0) | {"not_recorded": len(flags)}
    if progress is not None:
        progress(0.97, "inscription des signalements")
    try:
        new = actions.record_flags(c, flags, actor=actor)
    except actions.ConsultationClosed:
        # Closed while the audit ran (the status above was read at its start).
        return _report(result, unverified, 0) | {"not_recorded": len(flags)}
    return _report(result, unverified, new)


def live_audit(c: Consultation, *, actor: Any = None) -> int:
    """Audit the box and record its flags; returns the number of new flags."""
    return int(audit_box(c, actor=actor)["new_flags"])


# -- the background job and what the page reads of it ------------------------------


def _progress_key(cid: str) -> str:
    return f"consult-audit-progress:{cid}"


def _outcome_name(cid: str) -> str:
    """The ``core.jobs.keep_outcome`` name of a consultation's live audit (the data
    migration core 0007 carries the older runs' reports under it)."""
    return f"consult-live-audit:{cid}"


@task()
def live_audit_task(cid: str, actor_id: int | None = None) -> dict[str, Any]:
    """Background job (``beffroi worker``): audit the box and record the flags.

    Scheduled runs (``actor_id`` None) only look at an open consultation; a run
    asked for by a coordinator also audits a closed one.  The returned report
    is what the audit page shows.
    """
    c = Consultation.objects.filter(cid=cid).first()
    if c is None:
        return _report(None, 0, 0)
    actor = None
    if actor_id is not None:
        actor = get_user_model().objects.filter(pk=actor_id).first()
    if c.status == Status.DRAFT or (actor is None and c.status != Status.OPEN):
        return _report(None, 0, 0) | {"skipped": True}
    try:
        # The progress outlives a step that reports nothing (the page's stall warning
        # reads when it last moved); the run deletes it when it ends.
        report = audit_box(
            c, actor=actor, progress=jobs.cache_progress(_progress_key(cid), PROGRESS_KEPT)
        )
    except Exception:
        jobs.keep_outcome(_outcome_name(cid), None, failed=True)
        raise
    finally:
        cache.delete(_progress_key(cid))
    # The page reads the report from here, not from the job's row: the cron prunes
    # django-tasks' rows after a week (docs/operations.md).
    jobs.keep_outcome(_outcome_name(cid), report)
    return report


def schedule_live_audit(cid: str) -> bool:
    """Queue the live audit after unverified ballots were committed, at most once
    every AUDIT_EVERY seconds per consultation; returns whether it was queued."""
    if not cache.add(f"consult-audit:{cid}", 1, timeout=AUDIT_EVERY):
        return False
    live_audit_task.enqueue(cid)
    return True


@dataclass
class AuditJobs:
    """The audit jobs of one consultation as the page shows them."""

    pending: Any | None  # the newest queued or running job (a DBTaskResult), if any
    last: Any | None  # how the newest finished run ended (a core JobOutcome)
    progress: dict[str, Any] | None  # fraction and message of the running job

    @property
    def report(self) -> dict[str, Any] | None:
        if self.last is None or self.last.status != TaskResultStatus.SUCCESSFUL:
            return None
        value = self.last.return_value
        return value if isinstance(value, dict) else None

    @property
    def stale(self) -> bool:
        """A job queued for minutes: no worker seems to be running."""
        return self.pending is not None and jobs.waiting_too_long(
            self.pending.status, self.pending.enqueued_at
        )

    @property
    def stalled_minutes(self) -> int | None:
        """Minutes a running audit's progress has stood still, once past the setting
        (``core.jobs.stalled_minutes``, the rule of exports and uploaded audits)."""
        if self.pending is None:
            return None
        moved_at = (self.progress or {}).get("moved_at")
        return jobs.stalled_minutes(
            self.pending.status,
            float(moved_at) if moved_at is not None else None,
            self.pending.started_at,
        )


def _jobs(cid: str) -> Any:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=live_audit_task.module_path, args_kwargs__args__0=cid
    )


def audit_jobs(cid: str) -> AuditJobs:
    runs = _jobs(cid)
    pending = (
        runs.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        .order_by("-enqueued_at")
        .first()
    )
    # A run whose worker died stays RUNNING for ever (django-tasks never takes it up
    # again): it no longer waits for anything, and must not keep a coordinator from
    # asking for a new run once the worker is restarted.
    if pending is not None and jobs.interrupted(
        pending.status, pending.worker_ids, pending.started_at, LONGEST_RUN
    ):
        pending = None
    # Skipped runs (scheduled after closing) are no news: they keep no outcome.
    last = jobs.last_outcome(_outcome_name(cid))
    progress = None
    if pending is not None and pending.status == TaskResultStatus.RUNNING:
        progress = cache.get(_progress_key(cid))
    return AuditJobs(pending, last, progress)


def request_audit(c: Consultation, *, actor: Any) -> bool:
    """Queue a run asked for by a coordinator; False when one is already waiting
    or running (the page shows its progress)."""
    if c.status == Status.DRAFT:
        raise ActionError(_("Pas d'audit avant l'ouverture : le tableau est vide."))
    if audit_jobs(c.cid).pending is not None:
        return False
    live_audit_task.enqueue(c.cid, actor.pk if actor is not None else None)
    return True
