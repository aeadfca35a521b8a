"""Failed log-ins against a member reach the organisation's journal for its coordinators
(review R10): the line has no actor (nobody got in) and names the account in its subject,
so the actor filter never showed it, and only the superuser saw an account under attack."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

FAILED = "Connexion refusée"


def _fail(username: str, times: int = 2) -> None:
    guesser = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(times):
        guesser.post(reverse("login"), {"username": username, "password": "wrong"})


def _journal(user, org) -> str:
    reader = Client()
    reader.force_login(user)
    response = reader.get(reverse("journal", args=[org.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_coordinator_sees_failed_log_ins_against_a_member(members, org):
    _fail("volunteer")
    assert FAILED in _journal(members["coordinator"], org)


def test_not_for_someone_outside_the_organisation_nor_for_a_scrutineer(members, org):
    _fail("outsider")
    assert FAILED not in _journal(members["coordinator"], org)
    _fail("volunteer")
    assert FAILED not in _journal(members["scrutineer"], org)


def test_a_failure_on_an_unknown_name_stays_out(members, org):
    _fail("nobody-here")
    assert FAILED not in _journal(members["coordinator"], org)
