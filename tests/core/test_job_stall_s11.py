"""A RUNNING export or audit whose worker still beats but whose progress has stood still
(a hung network read, a deadlock) is said, on its page, not to have advanced for N
minutes: a warning, never a failure, since a slow step reports nothing either. The
threshold is ``BEFFROI_JOB_STALL_MINUTES``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from beffroi.core import jobs

RUNNING, READY, DONE = (
    TaskResultStatus.RUNNING,
    TaskResultStatus.READY,
    TaskResultStatus.SUCCESSFUL,
)
NOW = 1_800_000_000.0  # a fixed "now" for the pure rule (epoch seconds)
MIN = 60.0


def test_the_rule_counts_whole_minutes_once_past_the_setting(settings):
    settings.BEFFROI_JOB_STALL_MINUTES = 15
    assert jobs.stalled_minutes(RUNNING, NOW - 14 * MIN - 59, None, now=NOW) is None
    assert jobs.stalled_minutes(RUNNING, NOW - 15 * MIN, None, now=NOW) == 15
    assert jobs.stalled_minutes(RUNNING, NOW - 61.5 * MIN, None, now=NOW) == 61
    # Waiting or finished jobs do not stall; their pages say other things.
    assert jobs.stalled_minutes(READY, NOW - 60 * MIN, None, now=NOW) is None
    assert jobs.stalled_minutes(DONE, NOW - 60 * MIN, None, now=NOW) is None


def test_a_job_that_never_reported_counts_from_its_start(settings):
    settings.BEFFROI_JOB_STALL_MINUTES = 15
    started = datetime.fromtimestamp(NOW - 20 * MIN, tz=UTC)
    assert jobs.stalled_minutes(RUNNING, None, started, now=NOW) == 20
    # A report after the start is what counts.
    assert jobs.stalled_minutes(RUNNING, NOW - MIN, started, now=NOW) is None
    assert jobs.stalled_minutes(RUNNING, None, None, now=NOW) is None


def test_the_threshold_is_a_setting_and_zero_turns_it_off(settings):
    settings.BEFFROI_JOB_STALL_MINUTES = 2
    assert jobs.stall_after() == timedelta(minutes=2)
    assert jobs.stalled_minutes(RUNNING, NOW - 2 * MIN, None, now=NOW) == 2
    settings.BEFFROI_JOB_STALL_MINUTES = 0
    assert jobs.stalled_minutes(RUNNING, NOW - 600 * MIN, None, now=NOW) is None


class _Clock:
    """time.time and time.monotonic of core.jobs, moved by hand."""

    def __init__(self, monkeypatch):
        self.t = NOW
        monkeypatch.setattr(jobs.time, "time", lambda: self.t)
        monkeypatch.setattr(jobs.time, "monotonic", lambda: self.t)


def test_cache_progress_records_when_the_progress_last_moved(db, monkeypatch):
    from django.core.cache import cache

    clock = _Clock(monkeypatch)
    progress = jobs.cache_progress("test-progress", 600)
    progress(0.1, "lecture")
    assert cache.get("test-progress") == {"fraction": 0.1, "message": "lecture", "moved_at": NOW}
    clock.t += 300  # the same report again: it has not moved
    progress(0.1, "lecture")
    assert cache.get("test-progress")["moved_at"] == NOW
    clock.t += 300
    progress(0.1, "mise en page du PDF")  # a new stage is a move, at the same fraction
    assert cache.get("test-progress")["moved_at"] == NOW + 600
    clock.t += 60
    progress(0.4, "mise en page du PDF")
    assert cache.get("test-progress")["moved_at"] == NOW + 660


def test_noting_moves_keeps_the_time_beside_progress_stored_elsewhere(db, monkeypatch):
    clock = _Clock(monkeypatch)
    seen = []
    progress = jobs.noting_moves("audit:7", 600, lambda f, m: seen.append((f, m)))
    assert jobs.last_moved("audit:7") is None
    progress(0.2, "réponses lues")
    clock.t += 500
    progress(0.2, "réponses lues")
    assert jobs.last_moved("audit:7") == NOW
    progress(0.4, "rafales")
    assert jobs.last_moved("audit:7") == NOW + 500
    assert seen == [(0.2, "réponses lues"), (0.2, "réponses lues"), (0.4, "rafales")]


# -- the pages ---------------------------------------------------------------------------


@pytest.fixture
def export_page(client, export_room, settings):
    """A partner's PDF export, RUNNING on a worker that beats; returns its page's URL
    and the job id."""
    from django_tasks_db.models import DBTaskResult

    settings.BEFFROI_JOB_STALL_MINUTES = 15
    _activation, _link, token = export_room
    first = client.post(reverse("watch-partner-export", args=[token, "pdf"]), {"q": "route"})
    job_id = first["Location"].rstrip("/").split("/")[-1]
    jobs.beat("busy-worker")
    DBTaskResult.objects.filter(pk=job_id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=40),
        worker_ids=["busy-worker"],
    )  # fmt: skip
    return first["Location"], job_id


def _set_progress(job_id: str, **value):
    from django.core.cache import cache

    from beffroi.watch import tasks

    cache.set(tasks._progress_key(job_id), value, 600)


def test_an_export_whose_progress_stood_still_says_so_and_stays_running(client, export_page):
    import time

    from beffroi.watch import tasks

    url, job_id = export_page
    _set_progress(
        job_id, fraction=0.1, message="mise en page du PDF", moved_at=time.time() - 20 * MIN
    )
    job = tasks.find_export(job_id)
    assert job is not None and job.running and not job.failed and job.stalled_minutes == 20
    page = client.get(url).content.decode()
    assert "Export en cours…" in page
    assert "Cet export n'a pas avancé depuis 20 minutes" in page
    assert 'hx-trigger="every 1s"' in page  # still followed: it may yet move

    _set_progress(job_id, fraction=0.5, message="mise en page du PDF", moved_at=time.time())
    page = client.get(url).content.decode()
    assert "n'a pas avancé" not in page


def test_an_export_without_any_report_counts_from_its_start(client, export_page):
    url, _job_id = export_page  # started 40 minutes ago, nothing reported
    assert "Cet export n'a pas avancé depuis 40 minutes" in client.get(url).content.decode()


def test_progress_written_by_an_older_worker_says_nothing(client, export_page):
    url, job_id = export_page
    _set_progress(job_id, fraction=0.1, message="mise en page du PDF")  # no moved_at
    assert "n'a pas avancé" not in client.get(url).content.decode()


def test_an_audit_whose_progress_stood_still_says_so(
    client, org, members, settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core.cache import cache
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tasks_db.models import DBTaskResult

    from beffroi.audits import actions
    from beffroi.audits.models import Audit
    from beffroi.audits.tasks import run_audit_task

    settings.MEDIA_ROOT = str(tmp_path)
    settings.BEFFROI_JOB_STALL_MINUTES = 15
    export = b"id,submitdate,Q1\n1,2026-03-02 10:00:00,Oui\n"
    upload = SimpleUploadedFile("export.csv", export, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        audit = actions.start_audit(org, upload, fmt="limesurvey", actor=members["coordinator"])
    jobs.beat("audit-worker")
    DBTaskResult.objects.filter(task_path=run_audit_task.module_path).update(
        status="RUNNING", worker_ids=["audit-worker"],
        started_at=timezone.now() - timedelta(minutes=30),
    )  # fmt: skip
    # What the task's progress wrote: its row, and when it last moved.
    actions.report_progress(audit, 0.4, "examen des rafales")
    cache.set(jobs.moved_key(audit.moved_name), timezone.now().timestamp() - 17 * MIN, 600)

    client.force_login(members["coordinator"])
    detail = reverse("audit-detail", args=[org.slug, audit.pk])
    page = client.get(detail).content.decode()
    assert "Cet audit n'a pas avancé depuis 17 minutes" in page
    assert "Interrompu" not in page and 'hx-trigger="every 1s"' in page
    assert Audit.objects.get(pk=audit.pk).stalled_minutes == 17

    cache.set(jobs.moved_key(audit.moved_name), timezone.now().timestamp(), 600)
    assert "n'a pas avancé" not in client.get(detail).content.decode()


def test_the_audit_task_notes_when_its_progress_moved(
    transactional_db, org, members, settings, tmp_path, django_capture_on_commit_callbacks
):
    # transactional: django-tasks' worker closes the connection between tasks.
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from beffroi.audits import actions
    from beffroi.audits.models import Audit

    settings.MEDIA_ROOT = str(tmp_path)
    export = b"id,submitdate,Q1\n1,2026-03-02 10:00:00,Oui\n2,2026-03-02 10:05:00,Non\n"
    upload = SimpleUploadedFile("export.csv", export, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        audit = actions.start_audit(org, upload, fmt="limesurvey", actor=members["coordinator"])
    assert jobs.last_moved(audit.moved_name) is None
    before = timezone.now().timestamp()
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    audit = Audit.objects.get(pk=audit.pk)
    assert audit.status == Audit.Status.DONE, audit.error
    moved = jobs.last_moved(audit.moved_name)
    assert moved is not None and moved >= before - 1
    assert audit.stalled_minutes is None  # done: nothing to say
