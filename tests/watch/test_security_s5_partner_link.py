"""Partner links (session 5 audit): what their use writes to the journal."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from beffroi.core.models import JournalEntry
from beffroi.core.pseudonym import pseudonymise


@pytest.fixture
def link(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text="Route coupée", channel="telephone", category="routes"
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return token


def _views():
    return list(JournalEntry.objects.filter(action="watch.partner_link.view").order_by("seq"))


def test_partner_view_names_the_client_behind_the_proxy(client, link, monkeypatch):
    # Behind one reverse proxy every request comes from the proxy's address: the
    # journal must hold the pseudonym of the client the proxy saw, as the login does.
    monkeypatch.setattr("beffroi.core.client.PROXY_COUNT", 1)
    key = settings.BEFFROI_PSEUDONYM_KEY.encode()
    for visitor in ("198.51.100.7", "203.0.113.9"):
        response = client.get(
            reverse("watch-partner", args=[link]),
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=visitor,
        )
        assert response.status_code == 200
    clients = [e.data["client"] for e in _views()]
    assert clients == [
        pseudonymise("198.51.100.7", key=key, kind="addr"),
        pseudonymise("203.0.113.9", key=key, kind="addr"),
    ]


def test_unknown_export_format_is_not_journaled_as_a_use(client, link):
    response = client.get(reverse("watch-partner-export", args=[link, "exe<script>"]))
    assert response.status_code == 404
    assert _views() == []


def test_uses_of_one_link_are_rate_limited(client, link, settings):
    # Each use appends to the journal, which is never purged: a leaked link must not
    # let anyone grow it without bound. Over the limit: 429, said in French, nothing written.
    settings.BEFFROI_PARTNER_LINK_LIMIT = 3
    for _ in range(3):
        assert client.get(reverse("watch-partner", args=[link])).status_code == 200
    for url in (
        reverse("watch-partner", args=[link]),
        reverse("watch-partner-export", args=[link, "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "Ce lien a été utilisé trop souvent" in response.content.decode()
    assert len(_views()) == 3


def test_the_limit_is_per_link(client, link, org, members, settings):
    from beffroi.watch import actions
    from beffroi.watch.models import Activation

    settings.BEFFROI_PARTNER_LINK_LIMIT = 1
    activation = Activation.objects.get(organisation=org)
    _other, token = actions.create_partner_link(
        activation, label="SDIS 85", days=1, actor=members["coordinator"]
    )
    assert client.get(reverse("watch-partner", args=[link])).status_code == 200
    assert client.get(reverse("watch-partner", args=[link])).status_code == 429
    assert client.get(reverse("watch-partner", args=[token])).status_code == 200
