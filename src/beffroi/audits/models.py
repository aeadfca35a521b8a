from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beffroi.core.models import Organisation

# Far longer than any audit takes. An audit running under a dead worker (killed for its
# memory, stopped past its grace period; ``core.jobs.interrupted``: its worker stopped
# beating, or one that never beat ran it for longer than this) is never taken up again by
# django-tasks. Such audits are not counted in the organisation's limit (three of them
# would refuse its every upload), and are shown as interrupted rather than « en cours »
# for ever. An audit still waiting after this long is not counted either.
STUCK_AFTER = timedelta(hours=6)


class Audit(models.Model):
    """One audit of an uploaded survey export, run in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("échec")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audits")
    # SET_NULL, not PROTECT: a member's account must be erasable (privacy); who did it
    # stays in the journal (actor_label).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    fmt = models.CharField(max_length=20)
    electorate = models.JSONField(default=dict, blank=True)
    has_mapping = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit")
        verbose_name_plural = _("audits")

    def __str__(self) -> str:
        return f"audit {self.pk} of {self.original_name}"

    @property
    def folder(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "audits" / str(self.pk)

    @property
    def input_path(self) -> Path:
        return self.folder / "input"

    @property
    def mapping_path(self) -> Path:
        return self.folder / "mapping.toml"

    @property
    def structure_path(self) -> Path:
        """The survey's .lss, when one was uploaded: its presence says so (the folder
        starts empty), which needs no column."""
        return self.folder / "structure.lss"

    def output(self, name: str) -> Path:
        return self.folder / name

    @cached_property
    def _task(self) -> Any:
        """The django-tasks row of this audit's latest run, or None."""
        from django_tasks_db.models import DBTaskResult

        from beffroi.audits.tasks import run_audit_task

        return (
            DBTaskResult.objects.filter(
                task_path=run_audit_task.module_path, args_kwargs__args__0=self.pk
            )
            .order_by("-enqueued_at")
            .only("status", "worker_ids", "started_at")
            .first()
        )

    @property
    def moved_name(self) -> str:
        """The job's name for ``core.jobs.noting_moves``."""
        return f"audit:{self.pk}"

    @cached_property
    def stalled_minutes(self) -> int | None:
        """Minutes a running audit's progress has stood still, once past the setting
        (``core.jobs.stalled_minutes``): a warning on its page, while its worker lives."""
        if self.status != self.Status.RUNNING or self.stuck:
            return None
        from beffroi.core import jobs

        task = self._task
        if task is None:
            return None
        return jobs.stalled_minutes(
            task.status, jobs.last_moved(self.moved_name), task.started_at or self.created_at
        )

    @cached_property
    def stuck(self) -> bool:
        """Running, but its worker is gone (see ``STUCK_AFTER``). A job still waiting is
        not: a worker that starts again takes it up."""
        if self.status != self.Status.RUNNING:
            return False
        from beffroi.core import jobs

        task = self._task
        if task is None:  # no task to ask (removed by hand): its age says
            return self.created_at < timezone.now() - STUCK_AFTER
        # A task no longer RUNNING (it ended, the audit's row not yet told) is not stuck.
        return jobs.interrupted(
            task.status, task.worker_ids, task.started_at or self.created_at, STUCK_AFTER
        )

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED} or self.stuck
