"""Login throttling under parallel attempts (session 5 audit): an attempt is counted
before its password is checked, so attempts in flight at once cannot all pass the
limit; a successful login gives its count back."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_attempts_in_flight_count_before_their_password_is_checked(
    client, members, settings, monkeypatch
):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    real_clean = AuthenticationForm.clean
    checked: list[str] = []

    def clean_with_a_parallel_attempt(form):
        # While this attempt's password is being checked, the next one arrives (five
        # in flight at most); with the limit at 3, only three may reach this check.
        checked.append(form.data["password"])
        if len(checked) < 5:
            _login(client, "coord", "wrong")
        return real_clean(form)

    monkeypatch.setattr(AuthenticationForm, "clean", clean_with_a_parallel_attempt)
    _login(client, "coord", "wrong")
    assert len(checked) == 3
    monkeypatch.setattr(AuthenticationForm, "clean", real_clean)
    refused = _login(client, "coord", "pw-test-123456")
    assert "Trop de tentatives" in refused.content.decode()


def test_successful_logins_do_not_use_up_the_limit(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 2
    for _ in range(4):
        assert _login(client, "coord", "pw-test-123456").status_code == 302
        client.logout()
    assert _login(client, "coord", "wrong").status_code == 200
    assert _login(client, "coord", "pw-test-123456").status_code == 302
