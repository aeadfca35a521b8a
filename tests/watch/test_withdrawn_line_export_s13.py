"""A line withdrawn from the partners (« Retirer ») is not handed out afterwards in a
partners' export file prepared before the withdrawal; the team's own exports, and a
partners' export prepared after it, are."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

PHONE = "Mme X 06 12 34 56 78 cave inondée"
REFUSED = (
    "Une ligne de cet export a été retirée des partenaires depuis sa préparation : "
    "relancez l'export."
)


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_transaction(monkeypatch):
    # The real worker closes stale connections between tasks; inside a test's
    # transaction that would close it under us.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


@pytest.fixture
def shared(org, members, monkeypatch):
    from beffroi.watch import actions, exports

    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    coord = members["coordinator"]
    act = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    line = actions.add_log_entry(
        act, actor=members["volunteer"], text=PHONE, channel="telephone", category="degats"
    )
    other = actions.add_log_entry(
        act, actor=members["volunteer"], text="Route coupée", channel="telephone",
        category="routes",
    )  # fmt: skip
    _link, token = actions.create_partner_link(act, label="COD", days=1, actor=coord)
    return act, line, other, token


def _prepare(client, url):
    job_url = client.post(url)["Location"]
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    return job_url + "fichier"


def _body(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_a_partners_file_prepared_before_a_withdrawal_is_refused(client, members, shared):
    from beffroi.watch import actions

    _act, line, _other, token = shared
    file_url = _prepare(client, reverse("watch-partner-export", args=[token, "csv"]))
    actions.set_entry_sharing(line, False, actor=members["volunteer"])
    got = client.get(file_url)
    assert got.status_code == 410
    assert got.content.decode() == REFUSED
    # A new export, prepared after the withdrawal, goes out without the line.
    again = client.get(_prepare(client, reverse("watch-partner-export", args=[token, "csv"])))
    assert got.status_code == 410 and again.status_code == 200
    body = _body(again)
    assert "Route coupée" in body and "06 12 34" not in body


def test_a_partner_member_s_prepared_file_is_refused_too(client, members, shared):
    from beffroi.watch import actions

    act, line, _other, _token = shared
    client.force_login(members["partner"])
    url = reverse("watch-courante-export", args=[act.organisation.slug, act.pk, "csv"])
    file_url = _prepare(client, url)
    actions.set_entry_sharing(line, False, actor=members["volunteer"])
    assert client.get(file_url).status_code == 410


def test_a_withdrawal_leaves_the_team_s_own_file_and_earlier_ones(client, members, shared):
    from beffroi.watch import actions

    act, line, other, token = shared
    # Withdrawn then shared again before the export: nothing withdrawn since it began.
    actions.set_entry_sharing(other, False, actor=members["volunteer"])
    actions.set_entry_sharing(other, True, actor=members["volunteer"])
    partner_file = _prepare(client, reverse("watch-partner-export", args=[token, "csv"]))
    assert client.get(partner_file).status_code == 200
    client.force_login(members["volunteer"])
    url = reverse("watch-courante-export", args=[act.organisation.slug, act.pk, "csv"])
    team_file = _prepare(client, url)
    actions.set_entry_sharing(line, False, actor=members["volunteer"])
    # The team's file holds internal lines anyway: a withdrawal from partners changes nothing.
    assert client.get(team_file).status_code == 200
