"""The minutes a refusal announces: one helper (throttle.retry_minutes) for the log-in,
the reset request and the partner link, rounded up so that a retry after them passes."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from beffroi.core import throttle
from beffroi.core.throttle import Window, retry_minutes


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 1), (1, 1), (59, 1), (60, 1), (61, 2), (89, 2), (90, 2), (150, 3), (900, 15)],
)
def test_retry_minutes_rounds_up(seconds: int, minutes: int) -> None:
    assert retry_minutes(seconds) == minutes


@given(st.integers(min_value=0, max_value=10**7))
def test_waiting_the_minutes_said_is_always_enough(seconds: int) -> None:
    said = retry_minutes(seconds)
    assert said * 60 >= seconds and said >= 1
    # ...and never a whole minute more than needed.
    assert said == 1 or (said - 1) * 60 < seconds


def _over(monkeypatch, retry_after: int) -> None:
    # Every counter is over its limit: hit() is what each caller counts with.
    monkeypatch.setattr(
        throttle,
        "hit",
        lambda *args, **kwargs: Window(count=2, limit=1, retry_after=retry_after),
    )


def test_login_refusal_uses_the_helper(client, members, monkeypatch) -> None:
    _over(monkeypatch, 89)  # 1 min 29 s: "1 minute" before, too early a retry
    response = client.post(reverse("login"), {"username": "c", "password": "wrong"})
    assert "Réessayez dans 2 minutes." in response.content.decode()


def test_reset_refusal_uses_the_helper(client, members, monkeypatch) -> None:
    _over(monkeypatch, 150)  # round(2.5) said 2
    response = client.post(reverse("password_reset"), {"email": "c@example.org"})
    assert "Réessayez dans 3 minutes." in response.content.decode()


def test_partner_link_refusal_uses_the_helper(client, org, members, monkeypatch) -> None:
    from beffroi.watch import actions as watch_actions

    coord = members["coordinator"]
    activation = watch_actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
    )
    _link, token = watch_actions.create_partner_link(
        activation, label="COD 85", days=1, actor=coord
    )
    _over(monkeypatch, 89)
    response = client.get(reverse("watch-partner", args=[token]))
    assert response.status_code == 429
    assert response.content.decode().endswith("réessayez dans 2 minutes.")
    assert response["Retry-After"] == "89"
