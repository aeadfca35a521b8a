"""Refused log-ins and the journal, session 8 security review.

The journal can never be purged. Every attempt refused by the throttle used to append a
journal line, so anyone, without an account, could grow the journal at the rate of their
requests for as long as they liked. A window's refusals are now journaled once per counter
that starts refusing; the others are still counted (and refused)."""

from __future__ import annotations

from django.urls import reverse

from beffroi.core.models import JournalEntry


def _login(client, username, password="wrong"):
    return client.post(reverse("login"), {"username": username, "password": password})


def _journaled(**data):
    return JournalEntry.objects.filter(action="auth.login_failed", **data).count()


def test_hammering_one_account_journals_its_lock_once(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    # Fewer than the network's limit (30): only the account's counter refuses.
    for _ in range(25):
        response = _login(client, "coord")
    assert "Trop de tentatives" in response.content.decode()
    assert _journaled(data__throttled=False) == 3
    assert _journaled(data__throttled=True) == 1


def test_hammering_from_one_network_journals_its_lock_once(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 2
    settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK = 5
    # A new name each time: no account counter ever fills, the network's does.
    for n in range(40):
        response = _login(client, f"guess-{n}")
    assert "Trop de tentatives" in response.content.decode()
    assert _journaled(data__throttled=False) == 5
    assert _journaled(data__throttled=True) == 1
    # Once the network is refused, accounts crossing their own limit add nothing.
    for _ in range(5):
        _login(client, "coord")
    assert _journaled(data__throttled=True) == 1


def test_each_account_locked_from_a_network_still_open_is_journaled(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 2
    for username in ("coord", "volunteer"):
        for _ in range(6):
            _login(client, username)
    locks = JournalEntry.objects.filter(action="auth.login_failed", data__throttled=True)
    assert sorted(e.data["username"] for e in locks) == ["coord", "volunteer"]
    # The right password is still refused while the account is locked.
    response = _login(client, "coord", "pw-test-123456")
    assert response.status_code == 200 and "Trop de tentatives" in response.content.decode()
