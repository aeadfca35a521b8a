"""Who reads the members' log-in lines in an organisation's journal: its coordinators,
for the members whose every organisation they coordinate; not its scrutineers, not
another organisation's coordinator (docs/decisions/0005-privacy.md, "Log-in lines")."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from beffroi.core import actions
from beffroi.core.models import Role

RIGHT = "pw-test-123456"


def _logs_in(username):
    response = Client().post(reverse("login"), {"username": username, "password": RIGHT})
    assert response.status_code == 302


def _login_rows(client, slug):
    return client.get(reverse("journal", args=[slug]), {"action": "auth."}).content.decode()


def test_coordinators_read_their_members_logins(client, members, org):
    _logs_in("volunteer")
    client.force_login(members["coordinator"])
    assert "<td>volunteer</td>" in _login_rows(client, org.slug)


def test_scrutineers_do_not_read_logins(client, members, org):
    _logs_in("volunteer")
    _logs_in("coord")
    client.force_login(members["scrutineer"])
    body = _login_rows(client, org.slug)
    assert "<td>volunteer</td>" not in body and "<td>coord</td>" not in body
    # Their organisation's own lines are still there.
    assert client.get(reverse("journal", args=[org.slug])).status_code == 200


def test_another_organisations_coordinator_does_not_read_a_shared_members_logins(
    client, members, org
):
    other = actions.create_organisation("Autre", "autre")
    boss = actions.create_account("boss", RIGHT)
    actions.set_role(boss, other, Role.COORDINATOR, actor=None)
    actions.set_role(members["volunteer"], other, Role.PARTNER, actor=boss)
    _logs_in("volunteer")
    client.force_login(boss)
    assert "<td>volunteer</td>" not in _login_rows(client, "autre")
    # Nor does the first organisation's coordinator, who does not coordinate "autre".
    client.force_login(members["coordinator"])
    assert "<td>volunteer</td>" not in _login_rows(client, org.slug)
    # One who coordinates both does.
    actions.set_role(members["coordinator"], other, Role.COORDINATOR, actor=boss)
    client.force_login(members["coordinator"])
    assert "<td>volunteer</td>" in _login_rows(client, org.slug)


def test_the_instance_superuser_reads_them(client, members, org):
    _logs_in("volunteer")
    client.force_login(actions.create_account("root", RIGHT, superuser=True))
    assert "<td>volunteer</td>" in _login_rows(client, org.slug)
