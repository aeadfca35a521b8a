"""The decided cards' older pages start at a decision (keyset on decision time then card
id), like the main courante's: decisions taken while a volunteer reviews page 2 come in
at the top of page 1, page 2 keeps its cards, and « Plus anciennes » goes on from its last
card, nothing skipped or shown twice. The filters and the forms' way back keep the page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.usesdb


@pytest.fixture
def night(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    now = timezone.now()
    # 130 decided cards, two by two at the same second (the card id breaks the tie),
    # every third one by the volunteer, odd ones « Sans intérêt ».
    Card.objects.bulk_create(
        Card(
            activation=activation,
            group_id=f"g{i}",
            source_kind="mastodon",
            external_id=str(i),
            text=f"carte {i:03d}",
            posted_at=now,
            state="decided",
            decision="irrelevant" if i % 2 else "relevant",
            decided_by=members["volunteer"] if i % 3 == 0 else members["coordinator"],
            decided_at=now - timezone.timedelta(seconds=(130 - i) // 2),
        )
        for i in range(130)
    )
    ids = list(
        Card.objects.filter(activation=activation)
        .order_by("-decided_at", "-pk")
        .values_list("pk", flat=True)
    )
    return activation, ids


def _url(name, activation, *args):
    return reverse(name, args=[activation.organisation.slug, activation.pk, *args])


def _cards(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-card="(\d+)"', html)]


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="\?([^"]*)" rel="{rel}"', html)
    return unescape(found.group(1)) if found else None


def _walk(get, query: str = "") -> list[int]:
    seen: list[int] = []
    next_query: str | None = query
    for _ in range(20):
        if next_query is None:
            break
        html = get(next_query)
        seen += _cards(html)
        next_query = _link(html, "next")
    return seen


def _decide_new(activation, members, count: int) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    for i in range(count):
        card = Card.objects.create(
            activation=activation,
            group_id=f"n{i}",
            source_kind="mastodon",
            external_id=f"n{i}",
            text=f"nouvelle {i}",
            posted_at=timezone.now(),
        )
        actions.decide(card, "irrelevant", actor=members["coordinator"])


def test_decisions_arriving_do_not_shift_an_older_page(client, members, night):
    activation, ids = night
    client.force_login(members["volunteer"])
    url = _url("watch-decided", activation)

    def get(query: str) -> str:
        return client.get(f"{url}?{query}").content.decode()

    first = get("")
    assert _cards(first) == ids[:50] and "Cartes 1 à 50 sur 130." in first
    older = _link(first, "next")
    assert older is not None and older.startswith("depuis=")
    second = get(older)
    assert _cards(second) == ids[50:100] and "Cartes 51 à 100 sur 130." in second
    # Seven decisions while page 2 is read: it keeps its cards, its range moves.
    _decide_new(activation, members, 7)
    again = get(older)
    assert _cards(again) == ids[50:100]
    assert "Cartes 58 à 107 sur 137." in again
    third = get(_link(again, "next") or "")
    assert _cards(third) == ids[100:]
    assert _link(third, "next") is None
    # Back up: the 50 decisions just above page 2, then the newest page.
    above = get(_link(again, "prev") or "")
    assert _cards(above) == ids[:50] and "Cartes 8 à 57 sur 137." in above
    assert _link(above, "prev") == ""
    top = get("")
    assert len(_cards(top)) == 50 and _cards(top)[7:] == ids[:43]
    # Every decided card once, from the top.
    walked = _walk(get)
    assert len(walked) == 137 == len(set(walked)) and walked[7:] == ids


def test_filters_stay_with_the_pages(client, members, night):
    activation, ids = night
    client.force_login(members["volunteer"])
    url = _url("watch-decided", activation)

    def get(query: str) -> str:
        return client.get(f"{url}?{query}").content.decode()

    from beffroi.watch.models import Card

    mine = list(
        Card.objects.filter(pk__in=ids, decided_by=members["volunteer"], decision="irrelevant")
        .order_by("-decided_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert len(mine) == 22
    first = get("decision=irrelevant&moi=1")
    assert "Cartes 1 à 22 sur 22." not in first  # one page: no range of pages
    assert _cards(first) == mine
    everything = _walk(get, "decision=irrelevant")
    assert len(everything) == 65
    older = _link(get("decision=irrelevant"), "next") or ""
    assert older.startswith("decision=irrelevant&depuis=")


def test_a_correction_leaves_the_page_where_it_was(client, members, night):
    from beffroi.watch.models import Card

    activation, ids = night
    client.force_login(members["coordinator"])
    url = _url("watch-decided", activation)
    older = _link(client.get(url).content.decode(), "next") or ""
    page = client.get(f"{url}?{older}").content.decode()
    # The forms bring the volunteer back to this page.
    assert re.findall(r'name="retour" value="([^"]*)"', page)[0] == older.replace("&", "&amp;")
    # The page's first card is corrected: it moves to the top, the page stays put.
    card = Card.objects.get(pk=ids[50])
    response = client.post(
        _url("watch-decided-correct", activation, card.pk),
        {"decision": "verified", "retour": older, "vu": card.decided_at.isoformat()},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"?{older}")
    after = client.get(f"{url}?{older}").content.decode()
    assert _cards(after) == ids[51:101]
    assert _cards(client.get(url).content.decode())[0] == card.pk


@pytest.mark.parametrize(
    "value", ["", "x", "12", "12_", "_3", "-5_3", "1_2_3", "9" * 40 + "_1", "1_" + "9" * 40]
)
def test_a_malformed_start_gives_the_newest_page(client, members, night, value):
    activation, ids = night
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-decided", activation), {"depuis": value}).content.decode()
    assert _cards(html) == ids[:50]


def test_a_start_below_every_decision_gives_the_oldest(client, members, night):
    activation, ids = night
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-decided", activation), {"depuis": "1_1"}).content.decode()
    assert _cards(html) == ids[80:] and "Cartes 81 à 130 sur 130." in html
    assert _link(html, "next") is None
