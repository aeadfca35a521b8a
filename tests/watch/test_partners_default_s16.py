"""The valve's default: « Transmettre aux partenaires » starts ticked only for a verified
item. The decided cards' page ticks it for a « Vérifié » card alone, the triage panel and a
hand-typed main courante line start unticked; and a request that leaves the field out (an
old page, a script) never shares the line, verified or not: what is sent is what the form
says (docs/decisions/watch-room.md)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from watch_rooms import decision_room

pytestmark = pytest.mark.django_db

DECISIONS = ["verified", "relevant", "to_verify", "rumour", "false"]


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions

    activation, cards = decision_room(
        org, members["coordinator"], [f"Message {d}" for d in DECISIONS]
    )
    for card, decision in zip(cards, DECISIONS, strict=True):
        actions.decide(card, decision, actor=members["volunteer"])
    return activation, dict(zip(DECISIONS, cards, strict=True))


def _url(name, activation, *args):
    return reverse(name, args=[activation.organisation.slug, activation.pk, *args])


def _partners_box(html: str, where: str) -> str:
    """The « partners » checkbox tag inside the element whose opening tag has ``where``."""
    start = html.index(where)
    match = re.compile(r'<input type="checkbox"[^>]*for_partners[^>]*>').search(html, start)
    assert match, f"no partners box after {where}"
    return match.group(0)


def test_the_decided_page_ticks_the_box_for_a_verified_card_only(client, members, room):
    activation, cards = room
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-decided", activation)).content.decode()
    ticked = {
        d: " checked" in _partners_box(html, f'id="carte-{card.pk}"') for d, card in cards.items()
    }
    assert ticked == {d: d == "verified" for d in DECISIONS}


def test_the_triage_panel_and_a_typed_line_start_unticked(client, members, room):
    from beffroi.watch.forms import LogEntryForm

    activation, _cards = room
    client.force_login(members["volunteer"])
    triage = client.get(_url("watch-triage", activation)).content.decode()
    box = re.search(r'<input type="checkbox" id="for-partners"[^>]*>', triage)
    assert box and "checked" not in box.group(0)
    courante = client.get(_url("watch-courante", activation)).content.decode()
    box = re.search(r"<input[^>]*id_for_partners[^>]*>", courante)
    assert box and "checked" not in box.group(0)
    assert LogEntryForm()["for_partners"].value() is False


def test_a_request_without_the_field_keeps_even_a_verified_line_internal(client, members, room):
    from beffroi.watch.models import LogEntry

    activation, cards = room
    client.force_login(members["volunteer"])
    # The decided cards' page, for the verified card its box would have ticked.
    client.post(
        _url("watch-decided-escalate", activation, cards["verified"].pk), {"category": "autre"}
    )
    assert LogEntry.objects.get(card=cards["verified"]).for_partners is False
    # A hand-typed line.
    client.post(
        _url("watch-courante-add", activation),
        {"text": "Appel de la mairie : route coupée", "channel": "telephone", "category": "routes"},
    )
    assert LogEntry.objects.get(card=None).for_partners is False
    # An explicit tick is kept, whatever the verification: the volunteer chose.
    client.post(
        _url("watch-decided-escalate", activation, cards["rumour"].pk),
        {"category": "autre", "for_partners": "1"},
    )
    line = LogEntry.objects.get(card=cards["rumour"])
    assert (line.verification, line.for_partners) == ("rumour", True)


def test_the_triage_send_without_the_field_keeps_a_verified_line_internal(client, org, members):
    from beffroi.watch.models import LogEntry
    from watch_rooms import triage_room

    activation = triage_room(org, members["coordinator"], ["Famille sur le toit", "Digue"])
    first, second = activation.cards.order_by("-priority")
    client.force_login(members["volunteer"])
    sent = {"category": "personnes", "decision": "verified"}
    client.post(_url("watch-card-escalate", activation, first.pk), sent)
    line = LogEntry.objects.get(card=first)
    assert (line.verification, line.for_partners) == ("verified", False)
    client.post(_url("watch-card-escalate", activation, second.pk), {**sent, "for_partners": "1"})
    assert LogEntry.objects.get(card=second).for_partners is True
