"""A job's page keeps what its last run found after the cron prunes django-tasks' rows
(``prune_db_task_results --min-age-days 7``, docs/operations.md): the consultation's
live audit keeps its summary line and verdict, a failed run still says so, and the
pages of the other jobs (an uploaded export's audit, a main courante export) answer
a pruned job without a server error."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from beffroi.consult import actions, api, tasks
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.core.models import JobOutcome
from consult_specs import cantine_spec

pytestmark = pytest.mark.usesdb


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()


def _open_with_answers(org, cid: str, n: int = tasks.MIN_RESPONSES + 5):
    spec_dict = cantine_spec(cid, access="open", rules=())
    c, _ = setup_consultation(org, cid=cid, access="open", spec_dict=spec_dict)
    spec = c.get_spec()
    for i in range(n):
        ballot = make_ballot(
            spec, {"menu": ("bio", "local")[i % 2]}, [], public_key=None, seq=i + 1, segment="N"
        )
        item = actions.Incoming(ballot, None, net=f"prefix:{i}", addr=f"addr:{i}", ua="ua:x")
        assert actions.submit_ballots(c.cid, [item])[0].error is None
    DBTaskResult.objects.all().delete()  # the runs the answers scheduled: not these tests'
    return c


def _work() -> None:
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def _prune() -> None:
    """The documented cron, with every finished row old enough."""
    call_command("prune_db_task_results", min_age_days=0, failed_min_age_days=0, verbosity=0)


def _page(client, org, c) -> str:
    resp = client.get(reverse("consult-audit", args=[org.slug, c.cid]))
    assert resp.status_code == 200
    return resp.content.decode()


def test_the_live_audit_summary_outlives_the_pruning_of_its_job(
    transactional_db, client, members, org
):
    c = _open_with_answers(org, "cantine")
    client.force_login(members["coordinator"])
    client.post(reverse("consult-audit", args=[org.slug, c.cid]))
    _work()
    before = _page(client, org, c)
    assert "Dernier audit terminé le" in before and "Verdict" in before

    _prune()
    assert not DBTaskResult.objects.exists()  # the cron took the job's row
    after = _page(client, org, c)
    assert "Dernier audit terminé le" in after
    assert "Aucun audit n'a encore tourné" not in after
    assert "Verdict" in after and "réponse signalée sur 25." in after
    assert "Relancer l'audit" in after

    # A scheduled run that finds the consultation closed replaces nothing.
    actions.close_consultation(c, actor=None)
    assert tasks.live_audit_task.call(c.cid)["skipped"] is True
    assert "réponse signalée sur 25." in _page(client, org, c)


def test_a_failed_run_still_says_so_once_its_row_is_pruned(
    transactional_db, client, members, org, monkeypatch
):
    c = _open_with_answers(org, "panne")

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(tasks, "audit_box", broken)
    tasks.live_audit_task.enqueue(c.cid, members["coordinator"].pk)
    _work()
    assert DBTaskResult.objects.get().status == "FAILED"
    _prune()
    client.force_login(members["coordinator"])
    page = _page(client, org, c)
    assert "Le dernier audit a échoué" in page and "Dernier audit terminé le" in page


def test_the_migration_carries_each_consultations_last_finished_run(db, org):
    migration = importlib.import_module("beffroi.core.migrations.0007_job_outcome")
    path = tasks.live_audit_task.module_path
    assert path == migration.LIVE_AUDIT
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)

    def row(cid, minutes, status="SUCCESSFUL", value=None, task_path=path):
        return DBTaskResult.objects.create(
            task_path=task_path,
            args_kwargs={"args": [cid], "kwargs": {}},
            status=status,
            finished_at=t0 + timedelta(minutes=minutes),
            return_value=value,
            queue_name="default",
            backend_name="default",
            priority=0,
            run_after=t0,
        )

    row("a", 1, value={"summary": {"verdict": "ancien"}})
    row("a", 2, value={"summary": {"verdict": "dernier"}})
    row("a", 3, value={"skipped": True})  # after the close: no news
    row("b", 1, value={"summary": None})
    row("b", 5, status="FAILED")
    row("c", 9, task_path="beffroi.watch.tasks.export_courante_task", value={"x": 1})
    JobOutcome.objects.all().delete()
    migration.carry_live_audits(apps, None)

    kept = {o.name: o for o in JobOutcome.objects.all()}
    assert set(kept) == {tasks._outcome_name("a"), tasks._outcome_name("b")}
    a = kept[tasks._outcome_name("a")]
    assert a.status == "SUCCESSFUL" and a.return_value == {"summary": {"verdict": "dernier"}}
    assert a.finished_at == t0 + timedelta(minutes=2)
    b = kept[tasks._outcome_name("b")]
    assert b.status == "FAILED" and b.return_value is None


def test_a_pruned_main_courante_export_is_not_found_not_a_server_error(
    transactional_db, client, members, org, monkeypatch
):
    from beffroi.watch import actions as watch_actions
    from beffroi.watch import exports

    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)  # to the background, whatever its size
    coord = members["coordinator"]
    activation = watch_actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    watch_actions.add_log_entry(
        activation, actor=coord, text="Route coupée", channel="telephone", category="routes"
    )
    client.force_login(coord)
    kwargs = {"org": org.slug, "activation_id": activation.pk}
    job_url = client.post(reverse("watch-courante-export", kwargs=kwargs | {"fmt": "csv"}))[
        "Location"
    ]
    _work()
    assert client.get(job_url).status_code == 200
    _prune()
    for url in (job_url, job_url + "fichier"):
        gone = client.get(url)
        assert gone.status_code == 404 and "Page introuvable" in gone.content.decode()


def test_an_uploaded_exports_audit_keeps_its_page_once_its_job_is_pruned(
    transactional_db, client, members, org
):
    from beffroi.audits.models import Audit
    from beffroi.audits.tasks import run_audit_task

    audit = Audit.objects.create(
        organisation=org,
        original_name="export.csv",
        sha256="0" * 64,
        size=10,
        fmt="csv",
        status=Audit.Status.DONE,
        progress=1.0,
        summary={"responses": 40, "flagged": 3, "clusters": 1, "checks_skipped": 0},
    )
    run_audit_task.enqueue(audit.pk)  # its run, finished long ago
    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=audit.created_at)
    _prune()
    assert not DBTaskResult.objects.exists()
    client.force_login(members["coordinator"])
    page = client.get(reverse("audit-detail", args=[org.slug, audit.pk]))
    assert page.status_code == 200
    assert "40" in page.content.decode() and not Audit.objects.get(pk=audit.pk).stuck
