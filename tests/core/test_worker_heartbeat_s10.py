"""One rule says a worker is dead: ``beffroi worker`` beats in the shared cache every
``BEAT_SECONDS`` and a worker silent for ``ALIVE_SECONDS`` is dead. A job waiting with no
live worker waits for nothing (the pages say so); a job RUNNING under a dead worker is
interrupted (not counted, not reused, shown « Interrompu ») within a minute instead of an
hour (exports) or six (audits). A worker that never beat (django-tasks' ``db_worker`` run
by hand) is judged by its job's age, as before."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from beffroi.core import jobs

RUNNING, READY = TaskResultStatus.RUNNING, TaskResultStatus.READY
LONG = timedelta(hours=1)


def _silent(worker_id: str) -> None:
    """What the cache holds once a worker that beat has been silent past ALIVE_SECONDS."""
    from django.core.cache import cache

    jobs.beat(worker_id)
    cache.delete(jobs._alive_key(worker_id))
    cache.delete(jobs._ANY)


def test_a_worker_is_alive_silent_or_unknown(db):
    assert jobs.worker_alive("w-never") is None
    jobs.beat("w-1")
    assert jobs.worker_alive("w-1") is True and jobs.any_worker_alive()
    _silent("w-1")
    assert jobs.worker_alive("w-1") is False and not jobs.any_worker_alive()


def test_a_beat_lasts_alive_seconds(db, monkeypatch):
    monkeypatch.setattr(jobs, "ALIVE_SECONDS", 1)
    jobs.beat("w-short")
    assert jobs.worker_alive("w-short") is True
    time.sleep(1.2)
    assert jobs.worker_alive("w-short") is False
    assert not jobs.any_worker_alive()


def test_a_running_job_is_interrupted_when_its_worker_is_dead_whatever_its_age(db):
    now = timezone.now()
    jobs.beat("alive")
    _silent("dead")
    jobs.beat("alive")  # _silent cleared the "any" mark
    assert not jobs.interrupted(RUNNING, ["alive"], now - 3 * LONG, LONG)  # long, not dead
    assert jobs.interrupted(RUNNING, ["alive", "dead"], now - timedelta(seconds=90), LONG)
    assert not jobs.interrupted(READY, ["dead"], now - 3 * LONG, LONG)  # waits: not running
    # A worker that never beat: the job's age decides.
    assert not jobs.interrupted(RUNNING, ["by-hand"], now - LONG / 2, LONG)
    assert jobs.interrupted(RUNNING, ["by-hand"], now - 2 * LONG, LONG)
    assert jobs.interrupted(RUNNING, [], now - 2 * LONG, LONG)


def test_a_job_waits_for_nothing_only_when_no_worker_is_alive(db):
    old = timezone.now() - timedelta(seconds=jobs.STALE_AFTER + 30)
    young = timezone.now() - timedelta(seconds=10)
    assert jobs.waiting_too_long(READY, old)
    assert not jobs.waiting_too_long(READY, young)
    jobs.beat("busy")  # a worker alive behind a long job: the job waits its turn
    assert not jobs.waiting_too_long(READY, old)
    assert not jobs.waiting_too_long(RUNNING, old)


def test_the_heartbeat_thread_beats_then_says_goodbye(transactional_db, monkeypatch):
    monkeypatch.setattr(jobs, "BEAT_SECONDS", 0.05)
    stop = threading.Event()
    thread = jobs.heartbeat("w-thread", stop)
    for _ in range(100):
        if jobs.worker_alive("w-thread"):
            break
        time.sleep(0.05)
    assert jobs.worker_alive("w-thread") is True
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert jobs.worker_alive("w-thread") is False  # known, and gone


@pytest.fixture
def room(export_room, settings):
    settings.BEFFROI_WATCH_MAX_PENDING_EXPORTS = 1
    activation, _link, token = export_room
    return activation, token


def _claimed(location: str, worker_id: str, started_ago: timedelta) -> str:
    from django_tasks_db.models import DBTaskResult

    job_id = location.rstrip("/").split("/")[-1]
    DBTaskResult.objects.filter(pk=job_id).update(
        status="RUNNING", started_at=timezone.now() - started_ago, worker_ids=[worker_id]
    )
    return job_id


def test_an_export_whose_worker_stopped_beating_is_interrupted_at_once(client, room):
    from beffroi.watch import tasks

    _activation, token = room
    url = reverse("watch-partner-export", args=[token, "pdf"])
    first = client.post(url, {"q": "route"})
    _silent("killed")
    job_id = _claimed(first["Location"], "killed", timedelta(minutes=2))
    job = tasks.find_export(job_id)
    assert job is not None and job.dead and job.failed and not job.pending
    page = client.get(first["Location"]).content.decode()
    assert "Relancez-le depuis la main courante" in page  # said failed, at once
    assert 'hx-trigger="every 1s"' not in page  # and no longer polled
    again = client.post(url, {"q": "route"})
    assert again.status_code == 302 and job_id not in again["Location"]  # not reused


def test_an_export_of_a_live_worker_runs_on_however_long(client, room):
    from beffroi.watch import tasks

    _activation, token = room
    url = reverse("watch-partner-export", args=[token, "pdf"])
    first = client.post(url, {"q": "route"})
    jobs.beat("slow")
    job_id = _claimed(first["Location"], "slow", tasks.STUCK_AFTER * 2)
    job = tasks.find_export(job_id)
    assert job is not None and job.running and not job.dead
    assert client.post(url, {"q": "digue"}).status_code == 429  # it still counts


def test_an_audit_whose_worker_stopped_beating_is_interrupted(
    org, members, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tasks_db.models import DBTaskResult

    from beffroi.audits import actions
    from beffroi.audits.models import Audit
    from beffroi.audits.tasks import run_audit_task

    settings.MEDIA_ROOT = str(tmp_path)
    settings.BEFFROI_AUDIT_MAX_PENDING = 1
    export = b"id,submitdate,Q1\n1,2026-03-02 10:00:00,Oui\n"
    upload = SimpleUploadedFile("export.csv", export, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        audit = actions.start_audit(org, upload, fmt="limesurvey", actor=members["coordinator"])
    Audit.objects.filter(pk=audit.pk).update(status=Audit.Status.RUNNING)
    task = DBTaskResult.objects.get(task_path=run_audit_task.module_path)
    jobs.beat("audit-worker")
    task.status, task.worker_ids, task.started_at = "RUNNING", ["audit-worker"], timezone.now()
    task.save()
    audit = Audit.objects.get(pk=audit.pk)
    assert not audit.stuck
    with pytest.raises(actions.AuditsBusy):
        actions.start_audit(
            org,
            SimpleUploadedFile("b.csv", export, content_type="text/csv"),
            fmt="limesurvey",
            actor=members["coordinator"],
        )
    _silent("audit-worker")
    audit = Audit.objects.get(pk=audit.pk)
    assert audit.stuck and audit.finished
    second = actions.start_audit(  # the dead one no longer counts
        org,
        SimpleUploadedFile("b.csv", export, content_type="text/csv"),
        fmt="limesurvey",
        actor=members["coordinator"],
    )
    assert second.pk != audit.pk
