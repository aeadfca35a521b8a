"""A decision taken by mistake is corrected: the decided cards' page (a decided card leaves
the queue, and nothing led back to it), a new decision or the card back in the queue,
each journaled; partners and observers reach none of it."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry
from watch_rooms import decision_room


@pytest.fixture
def room(org, members):
    texts = ["Coincés sur le toit à Luçon, aidez-nous", "Pensées aux sinistrés"]
    return decision_room(org, members["coordinator"], texts)


def _url(name, activation, *args):
    return reverse(name, args=[activation.organisation.slug, activation.pk, *args])


def _said(response):
    """The message this response added (those of earlier, unfollowed redirects wait in
    the same storage)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def test_a_mistaken_decision_is_found_and_corrected(client, members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import CardDecision

    activation, (call, _other) = room
    actions.decide(
        call,
        "irrelevant",
        actor=members["volunteer"],
        notes="doublon ?",
        evidence=["https://example.org/a"],
    )
    client.force_login(members["volunteer"])
    queue = client.get(_url("watch-queue", activation)).json()
    assert call.pk not in [c["id"] for c in queue["cards"]]
    page = client.get(_url("watch-decided", activation)).content.decode()
    assert "Coincés sur le toit" in page and "Sans intérêt" in page and "doublon ?" in page
    assert "1 carte traitée." in page
    assert f'action="{_url("watch-decided-correct", activation, call.pk)}"' in page

    response = client.post(
        _url("watch-decided-correct", activation, call.pk),
        {"decision": "verified", "notes": "", "retour": "moi=1"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/tri/traitees/?moi=1")
    assert _said(response) == ["Décision corrigée : Vérifié."]
    call.refresh_from_db()
    assert (call.decision, call.state) == ("verified", "decided")
    # The reasons stay: a correction of the verdict.
    assert call.notes == "doublon ?" and call.evidence == ["https://example.org/a"]
    assert list(CardDecision.objects.filter(card=call).values_list("decision", flat=True)) == [
        "irrelevant",
        "verified",
    ]
    decisions = JournalEntry.objects.filter(action="watch.card.decide", subject=f"card:{call.pk}")
    assert [e.data["decision"] for e in decisions.order_by("seq")] == ["irrelevant", "verified"]


def test_a_new_note_replaces_the_old_one(client, members, room):
    from beffroi.watch import actions

    activation, (call, _other) = room
    actions.decide(call, "irrelevant", actor=members["volunteer"], notes="doublon ?")
    client.force_login(members["coordinator"])
    client.post(
        _url("watch-decided-correct", activation, call.pk),
        {"decision": "to_verify", "notes": "Appel à l'aide réel, à vérifier"},
    )
    call.refresh_from_db()
    assert (call.decision, call.notes) == ("to_verify", "Appel à l'aide réel, à vérifier")
    assert call.decided_by == members["coordinator"]


def test_a_card_goes_back_to_the_queue(client, members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import CardDecision

    activation, (call, _other) = room
    actions.decide(call, "irrelevant", actor=members["volunteer"])
    client.force_login(members["volunteer"])
    response = client.post(_url("watch-card-requeue", activation, call.pk))
    assert _said(response) == ["Carte remise dans la file de tri."]
    call.refresh_from_db()
    assert (call.state, call.decision) == ("queued", "")
    queue = client.get(_url("watch-queue", activation)).json()
    assert call.pk in [c["id"] for c in queue["cards"]]
    requeued = JournalEntry.objects.get(action="watch.card.requeue", subject=f"card:{call.pk}")
    assert requeued.data == {"from": "irrelevant"}
    # Its history stays; the return to the queue joins it (neither decision nor source),
    # which tells the worker to withdraw the card's lesson.
    history = CardDecision.objects.filter(card=call).order_by("pk")
    assert list(history.values_list("decision", "source")) == [("irrelevant", ""), ("", "")]
    # Twice: said, nothing else changes.
    again = client.post(_url("watch-card-requeue", activation, call.pk))
    assert _said(again) == ["Cette carte est déjà dans la file."]
    # A card of the queue is no longer corrected from the decided page (someone may hold it).
    refused = client.post(
        _url("watch-decided-correct", activation, call.pk), {"decision": "verified"}
    )
    assert _said(refused) == ["Cette carte n'est plus parmi les cartes traitées."]
    call.refresh_from_db()
    assert call.decision == ""


def test_an_escalated_card_is_corrected_from_its_line(client, members, room):
    from beffroi.watch import actions

    activation, (call, _other) = room
    actions.escalate(call, actor=members["volunteer"], category="personnes", decision="verified")
    client.force_login(members["volunteer"])
    assert "Coincés" not in client.get(_url("watch-decided", activation)).content.decode()
    response = client.post(_url("watch-card-requeue", activation, call.pk))
    assert _said(response) == [
        "Cette carte est dans la main courante : requalifiez-la depuis sa ligne."
    ]
    call.refresh_from_db()
    assert call.state == "escalated"


def test_an_unknown_decision_is_said(client, members, room):
    from beffroi.watch import actions

    activation, (call, _other) = room
    actions.decide(call, "relevant", actor=members["volunteer"])
    client.force_login(members["volunteer"])
    response = client.post(
        _url("watch-decided-correct", activation, call.pk), {"decision": "peut-être"}
    )
    assert _said(response) == ["Décision inconnue : peut-être"]
    call.refresh_from_db()
    assert call.decision == "relevant"


def test_filters_and_pages(client, members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation, (call, other) = room
    actions.decide(call, "verified", actor=members["volunteer"])
    actions.decide(other, "irrelevant", actor=members["coordinator"])
    client.force_login(members["volunteer"])
    mine = client.get(_url("watch-decided", activation), {"moi": "1"}).content.decode()
    assert "Coincés" in mine and "Pensées" not in mine
    only = client.get(_url("watch-decided", activation), {"decision": "irrelevant"})
    assert "Pensées" in only.content.decode() and "Coincés" not in only.content.decode()
    now = timezone.now()
    Card.objects.bulk_create(
        Card(
            activation=activation,
            group_id=f"x{i}",
            external_id=f"x{i}",
            text=f"carte {i}",
            posted_at=now,
            state="decided",
            decision="irrelevant",
            decided_at=now - timezone.timedelta(seconds=i),
        )
        for i in range(60)
    )
    first = client.get(_url("watch-decided", activation)).content.decode()
    assert "Cartes 1 à 50 sur 62." in first
    # Older pages start at a decision (keyset: tests/watch/test_decided_keyset_s11.py).
    older = re.search(r'href="\?([^"]*)" rel="next"', first).group(1)
    second = client.get(f"{_url('watch-decided', activation)}?{older}").content.decode()
    assert "Cartes 51 à 62 sur 62." in second and second.count('data-card="') == 12


@pytest.mark.parametrize("role", ["partner", "scrutineer"])
def test_partners_and_observers_reach_none_of_it(client, members, room, role):
    from beffroi.watch import actions

    activation, (call, _other) = room
    actions.decide(call, "irrelevant", actor=members["volunteer"])
    client.force_login(members[role])
    assert client.get(_url("watch-decided", activation)).status_code == 403
    for name, data in [
        ("watch-decided-correct", {"decision": "verified"}),
        ("watch-card-requeue", {}),
    ]:
        assert client.post(_url(name, activation, call.pk), data).status_code == 403
    call.refresh_from_db()
    assert (call.state, call.decision) == ("decided", "irrelevant")


def test_the_activation_page_leads_there_for_the_team_only(client, members, room):
    activation, _cards = room
    link = f'href="{_url("watch-decided", activation)}"'
    client.force_login(members["volunteer"])
    assert link in client.get(_url("watch-activation", activation)).content.decode()
    client.force_login(members["partner"])
    assert link not in client.get(_url("watch-activation", activation)).content.decode()


def test_a_correction_made_meanwhile_is_not_undone_silently(client, members, room):
    import re

    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation, (call, _other) = room
    actions.decide(call, "irrelevant", actor=members["volunteer"])
    client.force_login(members["volunteer"])
    page = client.get(_url("watch-decided", activation)).content.decode()
    seen = re.search(r'name="vu" value="([^"]+)"', page).group(1)
    # Meanwhile, the coordination corrects it from its own page.
    actions.correct_decision(
        Card.objects.get(pk=call.pk), "verified", actor=members["coordinator"], seen=seen
    )
    response = client.post(
        _url("watch-decided-correct", activation, call.pk), {"decision": "relevant", "vu": seen}
    )
    assert _said(response) == [
        "Cette carte a été corrigée entre-temps (Vérifié, par coord) : voyez sa "
        "décision actuelle avant de la changer."
    ]
    call.refresh_from_db()
    assert call.decision == "verified"
    # From the page as it is now, the correction goes through.
    page = client.get(_url("watch-decided", activation)).content.decode()
    seen = re.search(r'name="vu" value="([^"]+)"', page).group(1)
    client.post(
        _url("watch-decided-correct", activation, call.pk), {"decision": "relevant", "vu": seen}
    )
    call.refresh_from_db()
    assert call.decision == "relevant"


def test_a_decided_card_is_sent_to_the_main_courante(client, members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation, (call, other) = room
    actions.decide(call, "verified", actor=members["volunteer"], notes="vu par deux témoins")
    actions.decide(other, "relevant", actor=members["volunteer"])
    client.force_login(members["volunteer"])
    page = client.get(_url("watch-decided", activation)).content.decode()
    assert f'action="{_url("watch-decided-escalate", activation, call.pk)}"' in page
    response = client.post(
        _url("watch-decided-escalate", activation, call.pk),
        {"category": "personnes", "for_partners": "1"},
    )
    assert _said(response) == ["Envoyée en main courante (ligne n° 1)."]
    line = LogEntry.objects.get(card=call)
    assert (line.category, line.verification, line.for_partners) == ("personnes", "verified", True)
    call.refresh_from_db()
    assert call.state == "escalated"
    assert JournalEntry.objects.filter(action="watch.card.escalate", subject=f"card:{call.pk}")
    # Unticked: for the team only. An unknown category: said, nothing sent.
    refused = client.post(
        _url("watch-decided-escalate", activation, other.pk), {"category": "autre-chose"}
    )
    assert _said(refused) == ["Catégorie inconnue."]
    assert not LogEntry.objects.filter(card=other).exists()
    client.post(_url("watch-decided-escalate", activation, other.pk), {"category": "autre"})
    assert LogEntry.objects.get(card=other).for_partners is False
    # Once in the main courante, it is no longer among the decided cards.
    again = client.post(
        _url("watch-decided-escalate", activation, call.pk), {"category": "personnes"}
    )
    assert _said(again) == ["Cette carte n'est plus parmi les cartes traitées."]
    assert LogEntry.objects.filter(card=call).count() == 1


@pytest.mark.parametrize("role", ["partner", "scrutineer"])
def test_partners_do_not_send_decided_cards(client, members, room, role):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation, (call, _other) = room
    actions.decide(call, "verified", actor=members["volunteer"])
    client.force_login(members[role])
    response = client.post(
        _url("watch-decided-escalate", activation, call.pk), {"category": "personnes"}
    )
    assert response.status_code == 403
    assert not LogEntry.objects.exists()
