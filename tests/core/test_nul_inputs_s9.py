"""A NUL character in a query parameter or a typed field (session 9 security review).
PostgreSQL's text and jsonb cannot hold one, and psycopg refuses to send one: each page
that compared a parameter with stored text, or stored a field as typed, answered 500 —
the public receipt page for anyone, a partner link's page, rows and exports for the link's
holders, the triage queue, the journal's filters, a card's notes and evidence links. Run
on SQLite and PostgreSQL (the suite's PostgreSQL pass selects these tests); an impossible
date in the journal's filter was a 500 on both."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from beffroi.consult.cli_example_bundle import setup_consultation


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    actions.add_log_entry(
        activation, actor=coord, text="Route coupée", channel="telephone", category="routes"
    )
    source = actions.add_source(
        activation, kind="rss", name="P", data={"url": "https://example.org/rss.xml"}, actor=coord
    )
    cards = [
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source=source,
            source_kind="rss",
            external_id=f"x{i}",
            text="L'eau monte",
            posted_at=timezone.now(),
        )
        for i in range(3)
    ]
    _link, token = actions.create_partner_link(activation, label="COD", days=1, actor=coord)
    return activation, cards, token


@pytest.fixture
def browser() -> Client:
    # Errors as the server answers them, not raised into the test.
    return Client(raise_request_exception=False)


def test_public_and_partner_pages(browser, org, room):
    c, _ = setup_consultation(org, cid="nul", access="mixed", per_segment=2)
    receipt = reverse("consult-receipt", args=[c.cid])
    assert browser.get(receipt, {"recu": "ab\x00cd"}).status_code == 200
    found = browser.get(receipt, {"recu": "\x00" * 64, "format": "json"})
    assert found.status_code == 200 and found.json()["found"] is False
    _activation, _cards, token = room
    for name in ("watch-partner", "watch-partner-rows"):
        for param in ("q", "categorie", "statut", "commune"):
            response = browser.get(reverse(name, args=[token]), {param: "a\x00b"})
            assert response.status_code == 200, (name, param)
            assert "Route coupée" not in response.content.decode()  # nothing matches
    export = browser.get(reverse("watch-partner-export", args=[token, "csv"]), {"q": "\x00"})
    assert export.status_code == 200


def test_member_filters(browser, org, members, room):
    activation, _cards, _token = room
    browser.force_login(members["coordinator"])
    queue = browser.get(
        reverse("watch-queue", args=[org.slug, activation.pk]), {"commune": "a\x00", "type": "x"}
    )
    assert queue.status_code == 200 and queue.json()["cards"] == []
    courante = browser.get(reverse("watch-courante", args=[org.slug, activation.pk]), {"q": "\x00"})
    assert courante.status_code == 200
    journal = reverse("journal", args=[org.slug])
    for params in ({"q": "a\x00b"}, {"action": "\x00", "actor": "\x00"}):
        assert browser.get(journal, params).status_code == 200
    for day in ("2026-02-31", "2026-13-01"):
        response = browser.get(journal, {"since": day})
        assert response.status_code == 200
        assert f"Date invalide : {day} (format AAAA-MM-JJ)." in response.content.decode()


def test_typed_fields_of_the_triage_room(browser, org, members, room):
    from beffroi.watch.models import LogEntry

    activation, cards, _token = room
    browser.force_login(members["volunteer"])

    def url(card, verb):
        return reverse(f"watch-card-{verb}", args=[org.slug, activation.pk, card.pk])

    first, second, third = cards
    browser.post(url(first, "claim"))
    decided = browser.post(
        url(first, "decide"), {"decision": "verified", "notes": "vu\x00 sur place"}
    )
    assert decided.status_code == 200
    first.refresh_from_db()
    assert first.notes == "vu sur place"
    browser.post(url(second, "claim"))
    refused = browser.post(
        url(second, "decide"), {"decision": "verified", "evidence": "https://x.example/a\x00"}
    )
    assert refused.status_code == 400 and "Lien de preuve invalide" in refused.json()["error"]
    browser.post(url(third, "claim"))
    escalated = browser.post(
        url(third, "escalate"), {"text": "Digue\x00 rompue", "category": "routes"}
    )
    assert escalated.status_code == 200
    assert LogEntry.objects.get(card=third).text == "Digue rompue"
