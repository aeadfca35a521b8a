import re

import pytest
from django.core import mail
from django.urls import reverse

from beffroi.core import actions
from beffroi.core.models import JournalEntry, Membership
from reset_mails import deliver_reset_mails


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_and_logout_are_journaled(client, members):
    response = _login(client, "coord", "pw-test-123456")
    assert response.status_code == 302
    entry = JournalEntry.objects.filter(action="auth.login").last()
    assert entry.actor_label == "coord"
    # Only a keyed pseudonym of the network, never the raw address.
    assert entry.data["network"].startswith("prefix:")
    assert "127.0.0" not in str(entry.data)
    client.post(reverse("logout"))
    assert JournalEntry.objects.filter(action="auth.logout").exists()


def test_failed_login_is_journaled_without_unknown_usernames(client, members):
    _login(client, "coord", "wrong")
    _login(client, "my-password-typed-in-the-wrong-box", "x")
    failures = list(JournalEntry.objects.filter(action="auth.login_failed"))
    assert [f.data["username"] for f in failures] == ["coord", "(inconnu)"]


def test_login_is_throttled_per_account(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    for _ in range(3):
        assert _login(client, "coord", "wrong").status_code == 200
    response = _login(client, "coord", "pw-test-123456")  # right password, but locked
    assert response.status_code == 200
    assert "Trop de tentatives" in response.content.decode()
    assert JournalEntry.objects.filter(action="auth.login_failed", data__throttled=True).exists()
    # Another account from the same network is not locked out by this one.
    assert _login(client, "volunteer", "pw-test-123456").status_code == 302


def test_admin_login_is_throttled_too(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 2
    for _ in range(2):
        client.post("/admin/login/", {"username": "coord", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "coord", "password": "pw-test-123456"})
    assert "Trop de tentatives" in response.content.decode()


def test_invitation_flow_creates_account_and_membership(client, members, org):
    client.force_login(members["coordinator"])
    response = client.post(
        reverse("members", args=[org.slug]), {"email": "new@example.org", "role": "volunteer"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[0].body).group(0)
    client.logout()
    path = link.split("testserver", 1)[1]
    response = client.post(
        path,
        {
            "username": "nouvelle",
            "password1": "une-phrase-longue-42",
            "password2": "une-phrase-longue-42",
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(user__username="nouvelle").role == "volunteer"
    assert JournalEntry.objects.filter(action="invitation.accept").exists()
    # The link works once only.
    response = client.get(path)
    assert response.status_code == 410
    assert "déjà été utilisé" in response.content.decode()


def test_invitation_token_is_not_stored_in_clear(members, org):
    invitation, token = actions.invite(
        org, "x@example.org", "partner", actor=members["coordinator"]
    )
    assert token not in invitation.token_hash


def test_role_change_is_journaled_and_last_coordinator_kept(client, members, org):
    client.force_login(members["coordinator"])
    volunteer = Membership.objects.get(user=members["volunteer"])
    client.post(reverse("member-role", args=[org.slug, volunteer.pk]), {"role": "partner"})
    volunteer.refresh_from_db()
    assert volunteer.role == "partner"
    entry = JournalEntry.objects.filter(action="member.role").last()
    assert entry.data == {"user": "volunteer", "from": "volunteer", "to": "partner"}
    own = Membership.objects.get(user=members["coordinator"])
    client.post(reverse("member-role", args=[org.slug, own.pk]), {"role": "volunteer"})
    own.refresh_from_db()
    assert own.role == "coordinator"


def test_password_reset_sends_a_french_mail(client, members):
    response = client.post(reverse("password_reset"), {"email": "c@example.org"})
    assert response.status_code == 302
    deliver_reset_mails()
    assert "mot de passe" in mail.outbox[0].body
    assert "/mot-de-passe/nouveau/" in mail.outbox[0].body


def test_healthz(client, db):
    data = client.get("/healthz").json()
    assert data["status"] == "ok" and data["database"] == "ok"


@pytest.mark.parametrize("lang,word", [("fr", "Connexion"), ("en", "Log in")])
def test_language_switch(client, db, lang, word):
    client.post(reverse("set_language"), {"language": lang, "next": "/"})
    assert word in client.get(reverse("login")).content.decode()


def test_csrf_is_enforced(db, members):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post(
            reverse("login"), {"username": "coord", "password": "pw-test-123456"}
        ).status_code
        == 403
    )
