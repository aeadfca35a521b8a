"""« Envoyer en main courante » from the decided cards' page checks, in the action and on
the locked card row, that the card is still decided (and still with the decision the page
showed): that page is not live, and someone may have put the card back in the queue or
corrected it meanwhile."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from beffroi.core.models import JournalEntry
from watch_rooms import decision_room


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions

    activation, (card,) = decision_room(
        org, members["coordinator"], ["Coincés sur le toit à Luçon, aidez-nous"]
    )
    actions.decide(card, "verified", actor=members["volunteer"])
    card.refresh_from_db()
    return activation, card


def _url(name, activation, *args):
    return reverse(name, args=[activation.organisation.slug, activation.pk, *args])


def _said(response):
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def _nothing_sent(card):
    from beffroi.watch.models import LogEntry

    assert not LogEntry.objects.filter(card=card).exists()
    assert not JournalEntry.objects.filter(action="watch.card.escalate").exists()


def test_a_card_put_back_in_the_queue_meanwhile_is_not_sent(client, members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation, card = room
    client.force_login(members["volunteer"])
    page = client.get(_url("watch-decided", activation)).content.decode()
    assert f'<input type="hidden" name="vu" value="{card.decided_at.isoformat()}">' in page
    # Someone else puts it back in the queue while this page is open.
    actions.return_to_queue(Card.objects.get(pk=card.pk), actor=members["coordinator"])
    response = client.post(
        _url("watch-decided-escalate", activation, card.pk),
        {"category": "personnes", "for_partners": "1", "vu": card.decided_at.isoformat()},
    )
    assert _said(response) == ["Cette carte n'est plus parmi les cartes traitées."]
    assert Card.objects.get(pk=card.pk).state == "queued"
    _nothing_sent(card)


def test_the_action_reads_the_card_s_row_not_the_caller_s_copy(members, room):
    """A caller's copy read before a requeue committed still says « decided »: the action
    must not trust it (the view used to check it before calling the action)."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    _activation, stale = room
    actions.return_to_queue(Card.objects.get(pk=stale.pk), actor=members["coordinator"])
    assert stale.state == "decided"
    with pytest.raises(actions.ActionError, match="n'est plus parmi les cartes traitées"):
        actions.escalate_decided(stale, actor=members["volunteer"], category="personnes")
    _nothing_sent(stale)


def test_a_card_corrected_meanwhile_is_not_sent_with_its_new_verdict(client, members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation, card = room
    shown = card.decided_at.isoformat()
    actions.correct_decision(
        Card.objects.get(pk=card.pk), "irrelevant", actor=members["coordinator"]
    )
    client.force_login(members["volunteer"])
    response = client.post(
        _url("watch-decided-escalate", activation, card.pk),
        {"category": "personnes", "vu": shown},
    )
    assert _said(response) == [
        "Cette carte a été corrigée entre-temps (Sans intérêt, par coord) : voyez sa "
        "décision actuelle avant de l'envoyer en main courante."
    ]
    _nothing_sent(card)
    # Sent from the page as it now is, it goes, with the current decision.
    current = Card.objects.get(pk=card.pk).decided_at.isoformat()
    sent = client.post(
        _url("watch-decided-escalate", activation, card.pk),
        {"category": "personnes", "vu": current},
    )
    assert _said(sent) == ["Envoyée en main courante (ligne n° 1)."]
    line = Card.objects.get(pk=card.pk).log_entries.get()
    assert line.verification == "irrelevant"
    assert JournalEntry.objects.filter(action="watch.card.escalate").count() == 1
