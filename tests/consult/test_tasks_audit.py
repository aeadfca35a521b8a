"""The consultation's audit page reads the background job: it never runs the
audit itself, shows when the last run finished and what it found, follows a
waiting or running job live (htmx polling), and lets a coordinator ask for a
fresh run, journaled when it records new flags."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from beffroi.consult import actions, api, tasks
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.models import ConsultEvent
from beffroi.consult.spec import format_time
from beffroi.core import jobs
from beffroi.core.models import JournalEntry


def small_spec(cid: str) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "id": cid,
        "title": "Horaires de la piscine",
        "opens": format_time(now - timedelta(days=3)),
        "closes": format_time(now + timedelta(days=2)),
        "access": "open",
        "questions": [
            {
                "code": "creneau",
                "label": "Créneau préféré",
                "kind": "single",
                "options": [
                    {"code": "matin", "label": "Matin"},
                    {"code": "midi", "label": "Midi"},
                    {"code": "soir", "label": "Soir"},
                ],
            },
            {"code": "note", "label": "Satisfaction", "kind": "scale"},
        ],
        "segments": [
            {"code": "Q1", "label": "Quartier 1", "electorate": 300},
            {"code": "Q2", "label": "Quartier 2", "electorate": 300},
        ],
        "rules": [{"code": "integrity_flag", "label": "Signalées", "params": {"flags": ["audit"]}}],
    }


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()


def _fill(c, monkeypatch, *, calm: int, burst: int) -> None:
    """Calm answers over two days from many networks, then a burst of identical
    answers from one network (what the live audit is there to catch)."""
    rng = random.Random(4)
    spec = c.get_spec()
    clock = [timezone.now() - timedelta(days=2)]
    monkeypatch.setattr(actions.timezone, "now", lambda: clock[0])

    def submit(answers, seq, segment, who):
        ballot = make_ballot(spec, answers, [], public_key=None, seq=seq, segment=segment)
        item = actions.Incoming(ballot, None, net=f"prefix:{who}", addr=f"addr:{who}", ua="ua:x")
        assert actions.submit_ballots(c.cid, [item])[0].error is None

    for i in range(calm):
        clock[0] += timedelta(seconds=rng.randint(600, 1800))
        answers = {"creneau": rng.choice(["matin", "midi", "soir"]), "note": rng.randint(1, 5)}
        submit(answers, i + 1, rng.choice(["Q1", "Q2"]), i)
    for i in range(burst):
        clock[0] += timedelta(seconds=2)
        submit({"creneau": "soir", "note": 1}, 1000 + i, "Q2", "bot")
    monkeypatch.undo()


def _work() -> None:
    # The real worker (it closes its connection: committed transactions only).
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def _page(client, org, c, **headers) -> str:
    return client.get(reverse("consult-audit", args=[org.slug, c.cid]), **headers).content.decode()


def test_rerun_is_queued_followed_live_then_read_and_journaled(
    transactional_db, client, members, org, monkeypatch
):
    c, _ = setup_consultation(org, cid="piscine", access="open", spec_dict=small_spec("piscine"))
    _fill(c, monkeypatch, calm=150, burst=60)
    DBTaskResult.objects.all().delete()  # the scheduled runs of the filling: not this test's
    client.force_login(members["coordinator"])
    page = _page(client, org, c)
    assert "Aucun audit n'a encore tourné" in page
    assert "hx-trigger" not in page

    def no_audit_on_load(*args, **kwargs):
        raise AssertionError("the page must not run the audit")

    # Asking for a run queues the job; the page then polls its status.
    resp = client.post(reverse("consult-audit", args=[org.slug, c.cid]))
    assert resp.status_code == 302
    job = DBTaskResult.objects.get()
    assert job.status == "READY" and job.args_kwargs["args"] == [c.cid, members["coordinator"].pk]
    monkeypatch.setattr(tasks, "run_audit", no_audit_on_load)
    page = _page(client, org, c)
    assert 'hx-trigger="every 1s"' in page and 'data-status="ready"' in page
    assert "Relancer" not in page  # no second run while one waits
    client.post(reverse("consult-audit", args=[org.slug, c.cid]))
    assert DBTaskResult.objects.count() == 1
    monkeypatch.undo()

    _work()
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL", job.traceback
    report = job.return_value
    assert report["new_flags"] > 0 and report["summary"]["flagged"] >= report["new_flags"]
    assert report["clusters"] and report["unverified"] == 210

    monkeypatch.setattr(tasks, "run_audit", no_audit_on_load)
    fragment = _page(client, org, c, HTTP_HX_REQUEST="true")
    assert fragment.lstrip().startswith('<div id="audit-live"')  # the fragment alone
    assert "hx-trigger" not in fragment and 'data-status="idle"' in fragment
    assert "Dernier audit terminé le" in fragment
    assert f"{report['new_flags']} signalements nouveaux inscrits." in fragment
    assert report["summary"]["verdict"][:40] in fragment
    flags = ConsultEvent.objects.filter(consultation=c, kind="flag").count()
    assert flags == report["new_flags"]
    entry = JournalEntry.objects.filter(action="consult.flags").latest("seq")
    assert entry.actor_id == members["coordinator"].pk
    assert "Relancer l'audit" in fragment

    # A second run finds nothing new: nothing more is journaled.
    monkeypatch.undo()
    before = JournalEntry.objects.filter(action="consult.flags").count()
    client.post(reverse("consult-audit", args=[org.slug, c.cid]))
    _work()
    assert JournalEntry.objects.filter(action="consult.flags").count() == before
    assert "Aucun signalement nouveau." in _page(client, org, c)


def test_running_job_shows_its_progress_and_a_stuck_queue_is_named(client, members, org):
    c, _ = setup_consultation(org, cid="bassin", access="open", spec_dict=small_spec("bassin"))
    client.force_login(members["scrutineer"])
    job = tasks.live_audit_task.enqueue(c.cid)
    row = DBTaskResult.objects.get(id=job.id)
    row.status, row.started_at = "RUNNING", timezone.now()
    row.save()
    jobs.cache_progress(tasks._progress_key(c.cid), 600)(0.42, "scénarios")
    page = _page(client, org, c)
    assert '<progress max="1" value="0.420">' in page and "scénarios" in page
    assert 'data-status="running"' in page
    assert "<form" not in page.split('id="audit-live"')[1].split("</section>")[0]  # scrutineer

    row.status = "READY"
    row.enqueued_at = timezone.now() - timedelta(minutes=10)
    row.save()
    assert "aucun travailleur ne semble tourner" in _page(client, org, c)
    resp = client.post(reverse("consult-audit", args=[org.slug, c.cid]))
    assert resp.status_code == 403


def test_scheduled_run_skips_a_closed_consultation_but_a_coordinator_run_does_not(org, members):
    c, _ = setup_consultation(org, cid="ferme", access="open", spec_dict=small_spec("ferme"))
    actions.close_consultation(c, actor=None)
    assert tasks.live_audit_task.call(c.cid)["skipped"] is True
    report = tasks.live_audit_task.call(c.cid, members["coordinator"].pk)
    assert "skipped" not in report and report["summary"] is None  # too few answers
    assert report["minimum"] == tasks.MIN_RESPONSES
    draft, _ = setup_consultation(
        org, cid="brouillon", access="open", spec_dict=small_spec("brouillon"), open_it=False
    )
    with pytest.raises(actions.ActionError, match="avant l'ouverture"):
        tasks.request_audit(draft, actor=members["coordinator"])
