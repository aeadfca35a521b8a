"""Background exports of the main courante (``beffroi worker`` runs them).

A PDF of a few thousand lines takes minutes of WeasyPrint layout, a large ODS
several seconds: too long for a request.  The job is a django-tasks result; its
arguments say what it holds (activation, filters, whether it is the partners'
view), which is what the pages check before showing or serving it.  The file
is written under ``DATA_DIR/exports/watch`` and only appears once complete.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_tasks import TaskContext, task
from django_tasks.base import TaskResultStatus

from beffroi.core import jobs
from beffroi.watch import exports

log = logging.getLogger(__name__)


def keep_files() -> timedelta:
    """How long finished files stay, then the next export sweeps them (a setting)."""
    return timedelta(hours=getattr(settings, "BEFFROI_WATCH_EXPORT_HOURS", 24))


def export_dir() -> Path:
    return Path(settings.DATA_DIR) / "exports" / "watch"


def export_path(job_id: str, fmt: str) -> Path:
    # The id comes from the task backend (a UUID), never from the request.
    return export_dir() / f"{job_id}.{fmt}"


def _progress_key(job_id: str) -> str:
    return f"watch-export-progress:{job_id}"


def _sweep(now: float) -> None:
    for path in export_dir().glob("*"):
        try:
            if now - path.stat().st_mtime > keep_files().total_seconds():
                path.unlink()
        except OSError:  # another worker swept it first
            continue


@task(takes_context=True)
def export_courante_task(
    context: TaskContext,
    activation_id: int,
    fmt: str,
    params: dict[str, str],
    partner: bool,
    filename: str,
    base_url: str = "",
) -> dict[str, Any]:
    """Build one export file; returns its row count, size and download name."""
    from beffroi.watch.models import Activation

    job_id = str(context.task_result.id)
    # Kept while the job runs, however long (deleted when it ends): the page's bar, and
    # when the progress last moved (``ExportJob.stalled_minutes``).
    progress = jobs.cache_progress(_progress_key(job_id), 24 * 3600)

    try:
        activation = Activation.objects.get(pk=activation_id)
        entries = exports.filtered(exports.visible_entries(activation, partner=partner), params)
        data = exports.rows(entries.order_by("number"))
        title = f"{activation.name} — main courante — {timezone.localtime():%d/%m/%Y %H:%M}"
        content = exports.build(fmt, data, title, base_url=base_url, progress=progress)
        target = export_path(job_id, fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep(time.time())
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(content)
        partial.rename(target)  # the download link appears only for a whole file
    finally:
        cache.delete(_progress_key(job_id))
    return {"rows": len(data), "size": len(content), "filename": filename}


@dataclass(frozen=True)
class ExportJob:
    """A background export as the pages see it."""

    id: str
    activation_id: int
    fmt: str
    params: dict[str, str]
    partner: bool
    status: str  # READY, RUNNING, SUCCESSFUL, FAILED (django-tasks)
    enqueued_at: Any
    value: dict[str, Any] | None
    progress: dict[str, Any] | None
    started_at: Any = None
    worker_ids: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.status == TaskResultStatus.SUCCESSFUL and self.path.exists()

    @property
    def dead(self) -> bool:
        """RUNNING under a worker that died: django-tasks never takes it up again
        (``jobs.interrupted``; ``STUCK_AFTER`` for a worker that does not say)."""
        return jobs.interrupted(self.status, self.worker_ids, self.started_at, STUCK_AFTER)

    @property
    def failed(self) -> bool:
        # A finished job whose file was swept counts as gone, not as ready.
        return (
            self.status == TaskResultStatus.FAILED
            or (self.status == TaskResultStatus.SUCCESSFUL and not self.path.exists())
            or self.dead
        )

    @property
    def pending(self) -> bool:
        return self.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING) and not self.dead

    @property
    def running(self) -> bool:
        return self.status == TaskResultStatus.RUNNING and not self.dead

    @property
    def stale(self) -> bool:
        return jobs.waiting_too_long(self.status, self.enqueued_at)

    @property
    def stalled_minutes(self) -> int | None:
        """Minutes a running export's progress has stood still, past the setting
        (``jobs.stalled_minutes``); a worker of an older version wrote no ``moved_at``:
        nothing can be said then."""
        if not self.running:
            return None
        if self.progress is not None and "moved_at" not in self.progress:
            return None
        moved_at = self.progress.get("moved_at") if self.progress else None
        return jobs.stalled_minutes(self.status, moved_at, self.started_at)

    @property
    def path(self) -> Path:
        return export_path(self.id, self.fmt)

    @property
    def filename(self) -> str:
        return str((self.value or {}).get("filename") or f"main-courante.{self.fmt}")


class ExportsBusy(Exception):
    """The activation already has the most exports waiting or running for this view."""

    def __init__(self, pending: int) -> None:
        super().__init__(pending)
        self.pending = pending


def max_pending_exports() -> int:
    """Exports of one activation waiting or running at once, for each view (the team's,
    the partners'). They share the task queue with audits and live audits: without a
    bound, a partner link (forwarded, leaked) could queue PDF after PDF and keep the
    crisis cell's own exports waiting; with one bound per view, partners cannot."""
    return int(getattr(settings, "BEFFROI_WATCH_MAX_PENDING_EXPORTS", 3))


# Far longer than any export of a main courante takes (a PDF of 10,000 lines is minutes):
# a job of a worker that never said it was alive is taken for dead past this age.
STUCK_AFTER = timedelta(hours=1)


def request_export(
    activation_id: int,
    fmt: str,
    params: dict[str, str],
    *,
    partner: bool,
    filename: str,
    base_url: str = "",
) -> str:
    """Queue an export; returns the job's id: that of the same export when one is already
    waiting (a second click, a reload). ``ExportsBusy`` when the view has too many."""
    from beffroi.watch.models import Activation

    # Requests sent at once (a partner link's holder firing POSTs in parallel) must not
    # each find room in the queue.
    with jobs.one_step(Activation, activation_id):
        return _queue_export(
            activation_id, fmt, params, partner=partner, filename=filename, base_url=base_url
        )


def _queue_export(
    activation_id: int,
    fmt: str,
    params: dict[str, str],
    *,
    partner: bool,
    filename: str,
    base_url: str,
) -> str:
    from django_tasks_db.models import DBTaskResult

    clean = {k: str(params[k]) for k in exports.FILTER_PARAMS if params.get(k)}
    # A job RUNNING under a dead worker (killed, stopped past its grace period):
    # django-tasks never takes it up again, so it is neither counted (it would refuse the
    # view's exports for ever) nor reused (its page never ends). A job still READY is only
    # waiting for a worker: it counts.
    waiting = [
        job
        for job in DBTaskResult.objects.filter(
            task_path=export_courante_task.module_path,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
            args_kwargs__args__0=activation_id,
        ).order_by("enqueued_at")
        if bool(job.args_kwargs["args"][3]) == partner
        and not jobs.interrupted(job.status, job.worker_ids, job.started_at, STUCK_AFTER)
    ]
    for job in waiting:
        if job.args_kwargs["args"][1:3] == [fmt, clean]:
            return str(job.id)
    if len(waiting) >= max_pending_exports():
        raise ExportsBusy(len(waiting))
    result = export_courante_task.enqueue(
        activation_id, fmt, clean, partner, filename, base_url=base_url
    )
    return str(result.id)


def find_export(job_id: str) -> ExportJob | None:
    """The job with that id, or None (unknown id, or another task's)."""
    from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

    try:
        result = export_courante_task.get_result(job_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValueError):
        return None
    args = list(result.args)
    activation_id, fmt, params, partner = args[0], args[1], args[2], args[3]
    value = None
    if result.status == TaskResultStatus.SUCCESSFUL:
        value = result.return_value if isinstance(result.return_value, dict) else None
    progress = (
        cache.get(_progress_key(job_id)) if result.status == TaskResultStatus.RUNNING else None
    )
    return ExportJob(
        id=str(result.id),
        activation_id=int(activation_id),
        fmt=str(fmt),
        params=dict(params),
        partner=bool(partner),
        status=str(result.status),
        enqueued_at=result.enqueued_at,
        value=value,
        progress=progress,
        started_at=result.started_at,
        worker_ids=tuple(result.worker_ids),
    )
