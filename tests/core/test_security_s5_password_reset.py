"""Password reset requests are rate-limited: each one sends an e-mail, so without a
limit anyone could flood a member's mailbox from the login page."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from reset_mails import deliver_reset_mails


def _ask(client, email, address="203.0.113.7"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_reset_requests_are_limited_per_address(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_RESET_LIMIT_PER_ADDRESS = 5
    for _ in range(3):
        assert _ask(client, "c@example.org").status_code == 302
    deliver_reset_mails()
    assert len(mail.outbox) == 3
    # From one network, the case of the address does not help.
    assert "Trop de demandes" in _ask(client, "C@Example.org").content.decode()
    # Other networks share the address's ceiling.
    for n in range(2):
        assert _ask(client, "c@example.org", address=f"198.51.{n}.9").status_code == 302
    response = _ask(client, "C@Example.org", address="198.51.100.9")
    assert response.status_code == 200
    assert "Trop de demandes" in response.content.decode()
    deliver_reset_mails()
    assert len(mail.outbox) == 5


def test_reset_requests_are_limited_per_network(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK = 4
    for i in range(4):
        assert (
            _ask(client, f"nobody{i}@example.org", address=f"203.0.113.{i + 1}").status_code == 302
        )
    response = _ask(client, "c@example.org", address="203.0.113.200")  # same /24
    assert response.status_code == 200
    assert "Trop de demandes" in response.content.decode()
    deliver_reset_mails()
    assert mail.outbox == []


def test_refusal_does_not_tell_whether_an_account_exists(client, members, settings):
    settings.BEFFROI_RESET_LIMIT_PER_ADDRESS = 1
    _ask(client, "c@example.org")
    _ask(client, "unknown@example.org")
    known = _ask(client, "c@example.org", address="198.51.100.1").content.decode()
    unknown = _ask(client, "unknown@example.org", address="198.51.100.2").content.decode()
    assert "Trop de demandes" in known and "Trop de demandes" in unknown
