"""The watch room's valve and its settled decisions: the triage note never becomes the
partners' line, a decision never lands on a card someone settled, a closed activation
takes no new source or line, and a member's export of the main courante is journaled."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry

pytestmark = pytest.mark.django_db

NOTE = "vérifié : rappelé la fille de l'occupante au 06 12 34 56 78"
POST = "Eau au 1er étage rue des Halles, Luçon"


@pytest.fixture
def act(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )


def _card(act, text=POST, n="1"):
    from beffroi.watch.models import Card, CardState

    return Card.objects.create(
        activation=act, text=text, posted_at=timezone.now(), external_id=n, state=CardState.QUEUED
    )


def _u(name, act, *more):
    return reverse(name, args=[act.organisation.slug, act.pk, *more])


def _partner_page(client, act, members):
    from beffroi.watch import actions

    _link, token = actions.create_partner_link(
        act, label="COD", days=1, actor=members["coordinator"]
    )
    client.logout()
    return client.get(reverse("watch-partner", args=[token])).content.decode()


# -- 1: the note is the team's, the line is the partners' ---------------------------------


@pytest.mark.parametrize("decision", ["verified", ""])
def test_the_internal_note_never_reaches_the_partners(client, members, act, decision):
    from beffroi.watch.models import Card, LogEntry

    card = _card(act)
    client.force_login(members["volunteer"])
    client.post(_u("watch-card-claim", act, card.pk))
    # As triage.js sends it: the note box, an empty line text, « Transmettre » ticked.
    r = client.post(
        _u("watch-card-escalate", act, card.pk),
        {"category": "degats", "notes": NOTE, "text": "", "for_partners": "1",
         "decision": decision, "evidence": ""},
    )  # fmt: skip
    assert r.json()["ok"], r.json()
    line = LogEntry.objects.get()
    assert line.text == POST and line.for_partners
    # The note stays the team's, on the card.
    assert Card.objects.get(pk=card.pk).notes == NOTE
    page = _partner_page(client, act, members)
    assert "rue des Halles" in page
    assert "06 12 34" not in page


def test_the_line_text_box_writes_the_line(client, members, act):
    from beffroi.watch.models import Card, LogEntry

    card = _card(act)
    client.force_login(members["volunteer"])
    client.post(_u("watch-card-claim", act, card.pk))
    client.post(
        _u("watch-card-escalate", act, card.pk),
        {"category": "degats", "notes": NOTE, "text": "Eau au 1er étage, rue des Halles",
         "for_partners": "1", "decision": "verified"},
    )  # fmt: skip
    assert LogEntry.objects.get().text == "Eau au 1er étage, rue des Halles"
    assert Card.objects.get(pk=card.pk).notes == NOTE
    page = _partner_page(client, act, members)
    assert "Eau au 1er étage, rue des Halles" in page and "06 12 34" not in page


def test_a_send_without_the_sharing_field_stays_internal(client, members, act):
    from beffroi.watch.models import LogEntry

    card = _card(act)
    client.force_login(members["volunteer"])
    client.post(_u("watch-card-escalate", act, card.pk), {"category": "degats"})
    assert LogEntry.objects.get().for_partners is False


def test_the_triage_page_names_both_boxes_and_their_keys(client, members, act):
    client.force_login(members["volunteer"])
    page = client.get(_u("watch-triage", act)).content.decode()
    assert 'id="notes"' in page and 'id="line-text"' in page
    assert "Note interne (jamais transmise aux partenaires)" in page
    assert "Texte pour la main courante (facultatif : sinon le message)" in page
    assert "n note interne · l texte de la ligne" in page


# -- 7: a settled card is not overwritten ---------------------------------------------------


def test_a_second_decision_does_not_overwrite_a_settled_card(
    client, members, act, second_volunteer
):
    from beffroi.watch import actions
    from beffroi.watch.models import CardDecision

    card = _card(act)
    actions.decide(card, "verified", actor=members["volunteer"], notes="vérifié par appel",
                   evidence=["https://mairie.example/alerte"])  # fmt: skip
    client.force_login(second_volunteer)
    r = client.post(_u("watch-card-decide", act, card.pk), {"decision": "irrelevant"})
    assert r.status_code == 409
    assert r.json()["error"] == (
        "Cette carte a déjà été traitée (Vérifié, par volunteer) : corrigez-la depuis les "
        "cartes traitées."
    )
    card.refresh_from_db()
    assert (card.decision, card.decided_by, card.notes, card.evidence) == (
        "verified", members["volunteer"], "vérifié par appel", ["https://mairie.example/alerte"]
    )  # fmt: skip
    assert CardDecision.objects.count() == 1


def test_a_decision_on_a_card_in_the_main_courante_points_to_its_line(client, members, act):
    from beffroi.watch import actions

    card = _card(act)
    actions.escalate(card, actor=members["volunteer"], category="routes", decision="rumour")
    client.force_login(members["volunteer"])
    r = client.post(_u("watch-card-decide", act, card.pk), {"decision": "verified"})
    assert r.status_code == 409
    assert "requalifiez-la depuis sa ligne" in r.json()["error"]


def test_an_empty_decision_is_named(client, members, act):
    card = _card(act)
    client.force_login(members["volunteer"])
    r = client.post(_u("watch-card-decide", act, card.pk), {"decision": ""})
    assert r.status_code == 400 and r.json()["error"] == "Aucune décision choisie."


def test_a_stale_requeue_does_not_undo_a_correction(client, members, act):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    card = _card(act)
    actions.decide(card, "irrelevant", actor=members["volunteer"])
    client.force_login(members["volunteer"])
    import re

    page = client.get(_u("watch-decided", act)).content.decode()
    requeue_form = page[page.index(_u("watch-card-requeue", act, card.pk)) :]
    seen = re.search(r'name="vu" value="([^"]+)"', requeue_form).group(1)
    card.refresh_from_db()
    actions.correct_decision(card, "verified", actor=members["coordinator"], seen=seen)
    r = client.post(_u("watch-card-requeue", act, card.pk), {"retour": "", "vu": seen})
    said = [str(m) for m in get_messages(r.wsgi_request)]
    assert said == [
        "Cette carte a été corrigée entre-temps (Vérifié, par coord) : voyez sa décision "
        "actuelle avant de la remettre dans la file."
    ]
    card = Card.objects.get(pk=card.pk)
    assert (card.state, card.decision) == ("decided", "verified")
    # From an up-to-date page it goes back.
    r = client.post(
        _u("watch-card-requeue", act, card.pk),
        {"retour": "", "vu": card.decided_at.isoformat()},
    )
    assert Card.objects.get(pk=card.pk).state == "queued"


def test_requalifying_a_line_keeps_the_card_s_note_and_evidence(client, members, act):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    card = _card(act, "Pont effondré", "2")
    entry = actions.escalate(
        card, actor=members["volunteer"], category="routes", decision="verified",
        notes="confirmé mairie", evidence=["https://mairie.example/alerte"],
    )  # fmt: skip
    client.force_login(members["volunteer"])
    client.post(_u("watch-courante-verification", act, entry.pk), {"verification": "to_verify"})
    card = Card.objects.get(pk=card.pk)
    assert card.decision == "to_verify"
    assert (card.notes, card.evidence) == ("confirmé mairie", ["https://mairie.example/alerte"])


# -- 9: a closed activation ------------------------------------------------------------------


def test_a_closed_activation_takes_no_new_source(client, members, act):
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    actions.close_activation(act, actor=members["coordinator"])
    client.force_login(members["coordinator"])
    r = client.post(
        _u("watch-sources", act),
        {"kind": "rss", "name": "Vigicrues", "url": "https://www.vigicrues.gouv.fr/flux.xml",
         "poll_interval": "120", "timeout": "20"},
    )  # fmt: skip
    assert r.status_code == 200
    assert "Activation close : aucune source ne démarre plus." in r.content.decode()
    assert not Source.objects.exists()


def test_a_closed_activation_takes_no_new_line_and_keeps_the_draft(client, members, act):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    line = actions.add_log_entry(
        act, actor=members["volunteer"], text="Route coupée", channel="telephone",
        category="routes",
    )  # fmt: skip
    card = _card(act)
    actions.close_activation(act, actor=members["coordinator"])
    client.force_login(members["volunteer"])
    r = client.post(
        _u("watch-courante-add", act),
        {"text": "après clôture", "channel": "telephone", "category": "routes"},
        follow=True,
    )
    page = r.content.decode()
    assert "Activation close : la main courante n&#x27;accepte plus de nouvelle ligne" in page
    assert "après clôture" in page  # the typed line is shown again
    r = client.post(_u("watch-card-escalate", act, card.pk), {"category": "routes"})
    assert r.status_code == 409
    assert LogEntry.objects.count() == 1
    # Its lines are still corrected (a phone number withdrawn from the partners).
    assert actions.set_entry_sharing(line, False, actor=members["volunteer"])


# -- 10: a member's export is journaled --------------------------------------------------------


def test_a_member_export_is_journaled_without_the_search_text(client, members, act):
    from beffroi.watch import actions

    actions.add_log_entry(
        act, actor=members["volunteer"], text="Mme X 06 12 34 56 78", channel="telephone",
        category="routes", for_partners=False,
    )  # fmt: skip
    client.force_login(members["volunteer"])
    r = client.get(_u("watch-courante-export", act, "csv") + "?q=Mme+X&categorie=routes")
    assert r.status_code == 200
    entry = JournalEntry.objects.filter(action="watch.log.export").get()
    assert entry.actor == members["volunteer"]
    assert entry.subject == f"activation:{act.pk}"
    assert entry.data == {
        "format": "csv", "lines": 1, "filters": {"categorie": "routes"}, "search": True,
        "queued": False,
    }  # fmt: skip
    assert "Mme" not in str(entry.data)


def test_a_queued_member_export_is_journaled(client, members, act, monkeypatch):
    from beffroi.watch import actions, exports

    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    actions.add_log_entry(
        act, actor=members["volunteer"], text="Route coupée", channel="telephone",
        category="routes",
    )  # fmt: skip
    client.force_login(members["coordinator"])
    r = client.post(_u("watch-courante-export", act, "ods"))
    assert r.status_code == 302
    entry = JournalEntry.objects.filter(action="watch.log.export").get()
    assert entry.data["queued"] is True and entry.data["format"] == "ods"


def test_a_partner_link_export_is_not_a_member_export(client, members, act):
    from beffroi.watch import actions

    actions.add_log_entry(
        act, actor=members["volunteer"], text="Route coupée", channel="telephone",
        category="routes",
    )  # fmt: skip
    _link, token = actions.create_partner_link(
        act, label="COD", days=1, actor=members["coordinator"]
    )
    client.get(reverse("watch-partner-export", args=[token, "csv"]))
    assert not JournalEntry.objects.filter(action="watch.log.export").exists()


def test_a_send_from_the_triage_room_does_not_take_a_card_someone_decided(
    client, members, act, second_volunteer
):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry

    card = _card(act)
    actions.decide(card, "irrelevant", actor=members["volunteer"], notes="doublon")
    client.force_login(second_volunteer)
    r = client.post(
        _u("watch-card-escalate", act, card.pk), {"category": "routes", "for_partners": "1"}
    )
    assert r.status_code == 409
    assert r.json()["error"].startswith("Cette carte a déjà été traitée (Sans intérêt, par ")
    card = Card.objects.get(pk=card.pk)
    assert (card.state, card.notes) == ("decided", "doublon")
    assert not LogEntry.objects.exists()
    # From the decided cards' page, where its verdict is seen, it still goes.
    actions.escalate_decided(card, actor=second_volunteer, category="routes")
    assert LogEntry.objects.get().verification == "irrelevant"
