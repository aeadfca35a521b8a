"""An overused partner link says « 1 minute » / « 10 minutes » (was « minute(s) »),
in French and in English."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.core.throttle import Window
from english_catalogue import english


@pytest.fixture
def link(org, members):
    from beffroi.watch import actions as watch_actions

    coord = members["coordinator"]
    activation = watch_actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
    )
    _link, token = watch_actions.create_partner_link(
        activation, label="COD 85", days=1, actor=coord
    )
    return token


@pytest.mark.parametrize(
    "retry_after,french,english_text",
    [
        (45, "réessayez dans 1 minute.", "try again in 1 minute."),
        (600, "réessayez dans 10 minutes.", "try again in 10 minutes."),
    ],
)
def test_an_overused_partner_link_says_minute_or_minutes(
    client, link, monkeypatch, retry_after, french, english_text
) -> None:
    monkeypatch.setattr(
        "beffroi.watch.views.throttle.hit",
        lambda *args, **kwargs: Window(count=2, limit=1, retry_after=retry_after),
    )
    url = reverse("watch-partner", args=[link])
    response = client.get(url)
    assert response.status_code == 429
    assert response.content.decode().endswith(french)
    with english():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.content.decode().endswith(english_text)
