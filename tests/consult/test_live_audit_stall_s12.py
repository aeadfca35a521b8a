"""The live audit of a consultation warns, like exports and uploaded audits, when a
running job's progress has stood still for ``BEFFROI_JOB_STALL_MINUTES`` (the one rule
of ``core.jobs.stalled_minutes``), and a run whose worker died no longer blocks a new one."""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from beffroi.consult import tasks
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.core import jobs

from .test_tasks_audit import small_spec


def _running(c, **fields) -> DBTaskResult:
    job = tasks.live_audit_task.enqueue(c.cid)
    row = DBTaskResult.objects.get(id=job.id)
    row.status, row.started_at = "RUNNING", timezone.now()
    for k, v in fields.items():
        setattr(row, k, v)
    row.save()
    return row


def _page(client, org, c) -> str:
    return client.get(reverse("consult-audit", args=[org.slug, c.cid])).content.decode()


def test_a_running_audit_whose_progress_stood_still_says_so(client, members, org, settings):
    settings.BEFFROI_JOB_STALL_MINUTES = 15
    c, _ = setup_consultation(org, cid="stall", access="open", spec_dict=small_spec("stall"))
    _running(c)
    client.force_login(members["coordinator"])
    key = tasks._progress_key(c.cid)
    cache.set(key, {"fraction": 0.4, "message": "scénarios", "moved_at": time.time() - 60}, 600)
    page = _page(client, org, c)
    assert 'data-status="running"' in page
    assert "audit-stalled" not in page
    cache.set(
        key, {"fraction": 0.4, "message": "scénarios", "moved_at": time.time() - 20 * 60}, 600
    )
    page = _page(client, org, c)
    assert 'data-testid="audit-stalled"' in page
    assert "Cet audit n'a pas avancé depuis 20 minutes" in page
    assert "relancez l'audit" in page
    # The poll (htmx) gets the same warning.
    partial = client.get(
        reverse("consult-audit", args=[org.slug, c.cid]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Cet audit n'a pas avancé depuis 20 minutes" in partial
    # Zero is the operator's "never".
    settings.BEFFROI_JOB_STALL_MINUTES = 0
    assert "audit-stalled" not in _page(client, org, c)


def test_a_run_that_never_reported_counts_from_its_start(client, members, org, settings):
    settings.BEFFROI_JOB_STALL_MINUTES = 15
    c, _ = setup_consultation(org, cid="stall2", access="open", spec_dict=small_spec("stall2"))
    _running(c, started_at=timezone.now() - timedelta(minutes=16))
    client.force_login(members["scrutineer"])
    assert "Cet audit n'a pas avancé depuis 16 minutes" in _page(client, org, c)


def test_the_progress_the_worker_writes_carries_its_last_move(db, monkeypatch, settings):
    # The task's own writer (jobs.cache_progress) is what the warning reads; its entry
    # must outlive the stall it is there to reveal.
    settings.BEFFROI_JOB_STALL_MINUTES = 15
    assert jobs.stall_after().total_seconds() < tasks.PROGRESS_KEPT
    now = [1_800_000_000.0]
    monkeypatch.setattr(jobs.time, "time", lambda: now[0])
    monkeypatch.setattr(jobs.time, "monotonic", lambda: now[0])
    jobs.cache_progress(tasks._progress_key("x"), tasks.PROGRESS_KEPT)(0.2, "rafales")
    progress = cache.get(tasks._progress_key("x"))
    now[0] += 17 * 60
    assert jobs.stalled_minutes("RUNNING", progress["moved_at"], None, now=now[0]) == 17


def test_a_run_whose_worker_died_no_longer_blocks_a_new_one(client, members, org):
    c, _ = setup_consultation(org, cid="mort", access="open", spec_dict=small_spec("mort"))
    row = _running(c, worker_ids=["w-gone"])
    jobs.beat("w-gone")
    assert tasks.audit_jobs(c.cid).pending == row  # its worker lives: it runs
    cache.delete("worker-alive:w-gone")  # the worker stopped beating (killed)
    assert tasks.audit_jobs(c.cid).pending is None
    client.force_login(members["coordinator"])
    assert "Lancer l'audit" in _page(client, org, c)  # no run ever finished
    assert client.post(reverse("consult-audit", args=[org.slug, c.cid])).status_code == 302
    assert DBTaskResult.objects.filter(status="READY").count() == 1
