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
