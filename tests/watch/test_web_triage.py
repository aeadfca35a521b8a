"""Triage room and main courante through the web endpoints."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    now = timezone.now()
    cards = [
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source_kind=kind,
            external_id=str(i),
            text=text,
            posted_at=now,
            priority=prio,
            lang=lang,
            commune_code=code,
            commune_name=name,
            info_type=itype,
        )
        for i, (text, prio, lang, code, name, itype, kind) in enumerate(
            [
                (
                    "Coincés sur le toit à Luçon",
                    0.9,
                    "fr",
                    "85128",
                    "Luçon",
                    "Affected individuals",
                    "mastodon",
                ),
                (
                    "Route coupée à Chasnais",
                    0.6,
                    "fr",
                    "85054",
                    "Chasnais",
                    "Infrastructure and utilities",
                    "rss",
                ),
                ("Thoughts with everyone", 0.1, "en", "", "", "Sympathy and support", "bluesky"),
            ]
        )
    ]
    return activation, cards


def _u(name, org, activation, **kw):
    return reverse(name, kwargs={"org": org.slug, "activation_id": activation.pk, **kw})


def test_queue_is_ordered_by_priority_and_filtered(client, members, org, room):
    activation, cards = room
    client.force_login(members["volunteer"])
    data = client.get(_u("watch-queue", org, activation)).json()
    assert [c["id"] for c in data["cards"]] == [cards[0].pk, cards[1].pk, cards[2].pk]
    assert data["total"] == 3
    for params, expected in [
        ({"commune": "85054"}, [cards[1].pk]),
        ({"commune": "luçon"}, [cards[0].pk]),
        ({"lang": "en"}, [cards[2].pk]),
        ({"plateforme": "rss"}, [cards[1].pk]),
        ({"type": "Affected individuals"}, [cards[0].pk]),
    ]:
        got = client.get(_u("watch-queue", org, activation), params).json()["cards"]
        assert [c["id"] for c in got] == expected, params


def test_claim_is_exclusive_until_released_or_stale(client, members, org, room):
    from beffroi.core import actions as core_actions
    from beffroi.core.models import Role
    from beffroi.watch.models import Card

    activation, cards = room
    other = core_actions.create_account("veilleuse", "pw-test-123456")
    core_actions.set_role(other, org, Role.VOLUNTEER, actor=members["coordinator"])
    card = cards[0]
    claim = _u("watch-card-claim", org, activation, card_id=card.pk)
    client.force_login(members["volunteer"])
    assert client.post(claim).json()["ok"]
    client.force_login(other)
    refused = client.post(claim)
    assert refused.status_code == 409 and "déjà prise" in refused.json()["error"]
    queue = client.get(_u("watch-queue", org, activation)).json()["cards"]
    shown = next(c for c in queue if c["id"] == card.pk)
    assert shown["claimed"] and not shown["mine"] and shown["claimed_by"] == "volunteer"
    # Deciding someone else's card is refused as well, and changes nothing.
    decide = _u("watch-card-decide", org, activation, card_id=card.pk)
    assert client.post(decide, {"decision": "relevant"}).status_code == 409
    assert Card.objects.get(pk=card.pk).decision == ""
    # An abandoned claim can be taken over.
    Card.objects.filter(pk=card.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert client.post(claim).json()["ok"]
    assert Card.objects.get(pk=card.pk).claimed_by == other
    client.force_login(members["volunteer"])
    release = _u("watch-card-release", org, activation, card_id=card.pk)
    assert client.post(release).status_code == 409  # not theirs any more
    client.force_login(other)
    assert client.post(release).json()["ok"]
    assert Card.objects.get(pk=card.pk).claimed_by is None


def test_conditional_update_admits_one_winner(members, org, room):
    """The claim is one UPDATE … WHERE claimed_by IS NULL: whoever runs second
    matches no row, whatever they read before."""
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    _activation, cards = room
    other = core_actions.create_account("veilleuse", "pw-test-123456")
    stale_copy = Card.objects.get(pk=cards[1].pk)  # both read "free"
    actions.claim(cards[1], actor=members["volunteer"])
    with pytest.raises(actions.ActionError):
        actions.claim(stale_copy, actor=other)
    assert JournalEntry.objects.filter(action="watch.card.claim").count() == 1


def test_decision_is_journaled_with_notes_and_evidence(client, members, org, room):
    from beffroi.watch.models import Card, CardDecision

    activation, cards = room
    client.force_login(members["volunteer"])
    card = cards[0]
    client.post(_u("watch-card-claim", org, activation, card_id=card.pk))
    res = client.post(
        _u("watch-card-decide", org, activation, card_id=card.pk),
        {
            "decision": "to_verify",
            "notes": "photo à recouper",
            "evidence": "https://example.org/photo\nhttps://example.org/carte",
        },
    )
    assert res.json()["ok"]
    card = Card.objects.get(pk=card.pk)
    assert (card.state, card.decision, card.claimed_by_id) == ("decided", "to_verify", None)
    assert card.evidence == ["https://example.org/photo", "https://example.org/carte"]
    entry = JournalEntry.objects.filter(action="watch.card.decide").get()
    assert entry.reason == "photo à recouper" and entry.data["decision"] == "to_verify"
    assert CardDecision.objects.filter(card=card).count() == 1
    # Gone from the queue.
    ids = [c["id"] for c in client.get(_u("watch-queue", org, activation)).json()["cards"]]
    assert card.pk not in ids


@pytest.mark.parametrize(
    "data, message",
    [
        ({"decision": "peut-être"}, "Décision inconnue"),
        ({"decision": "relevant", "evidence": "javascript:alert(1)"}, "Lien de preuve invalide"),
    ],
)
def test_bad_decisions_are_refused_in_french(client, members, org, room, data, message):
    from beffroi.watch.models import Card

    activation, cards = room
    client.force_login(members["volunteer"])
    res = client.post(_u("watch-card-decide", org, activation, card_id=cards[0].pk), data)
    assert res.status_code == 400 and message in res.json()["error"]
    assert Card.objects.get(pk=cards[0].pk).decision == ""
    assert not JournalEntry.objects.filter(action="watch.card.decide").exists()


def test_escalation_reaches_the_main_courante(client, members, org, room):
    from beffroi.watch.models import Card, LogEntry

    activation, cards = room
    client.force_login(members["volunteer"])
    res = client.post(
        _u("watch-card-escalate", org, activation, card_id=cards[0].pk),
        {
            "category": "personnes",
            "text": "Famille sur le toit, rue des Halles",
            "for_partners": "1",
        },
    )
    assert res.json() == {"ok": True, "entry": 1}
    entry = LogEntry.objects.get()
    assert (entry.text, entry.commune_name, entry.channel) == (
        "Famille sur le toit, rue des Halles",
        "Luçon",
        "reseaux-sociaux",
    )
    assert entry.for_partners and Card.objects.get(pk=cards[0].pk).state == "escalated"
    again = client.post(
        _u("watch-card-escalate", org, activation, card_id=cards[0].pk), {"category": "personnes"}
    )
    assert again.status_code == 409
    # A decision from the triage room no longer lands on it (someone settled it)...
    late = client.post(
        _u("watch-card-decide", org, activation, card_id=cards[0].pk), {"decision": "verified"}
    )
    assert late.status_code == 409
    assert LogEntry.objects.get().verification == ""
    # ...its line is requalified instead, and the line's verification follows.
    client.post(
        _u("watch-courante-verification", org, activation, entry_id=entry.pk),
        {"verification": "verified"},
    )
    assert LogEntry.objects.get().verification == "verified"
    client.force_login(members["partner"])
    page = client.get(_u("watch-courante", org, activation)).content.decode()
    assert "Famille sur le toit" in page and "Vérifié" in page


def test_a_card_is_sent_with_its_verdict_in_one_step(client, members, org, room):
    """From the triage panel a volunteer sends a card with its verification: one decision
    (journaled, taught) and a line whose verification column starts from it. A bad
    verdict changes nothing."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Card, CardDecision, LogEntry

    activation, cards = room
    client.force_login(members["volunteer"])
    url = _u("watch-card-escalate", org, activation, card_id=cards[0].pk)
    bad = client.post(url, {"category": "personnes", "decision": "certain"})
    assert bad.status_code == 400 and "Décision inconnue" in bad.json()["error"]
    assert not LogEntry.objects.exists() and not CardDecision.objects.exists()
    assert Card.objects.get(pk=cards[0].pk).state == "queued"
    res = client.post(
        url,
        {
            "category": "personnes",
            "text": "Famille sur le toit",
            "decision": "verified",
            "evidence": "https://example.org/photo",
        },
    )
    assert res.json() == {"ok": True, "entry": 1}
    entry = LogEntry.objects.get()
    assert entry.verification == "verified"
    card = Card.objects.get(pk=cards[0].pk)
    assert (card.state, card.decision, card.evidence) == (
        "escalated",
        "verified",
        ["https://example.org/photo"],
    )
    assert list(CardDecision.objects.values_list("decision", flat=True)) == ["verified"]
    actions = list(
        JournalEntry.objects.filter(subject=f"card:{card.pk}").values_list("action", flat=True)
    )
    assert actions[-2:] == ["watch.card.decide", "watch.card.escalate"]
    # Sending it again is refused and records no second decision.
    again = client.post(url, {"category": "personnes", "decision": "false"})
    assert again.status_code == 409
    assert CardDecision.objects.count() == 1 and LogEntry.objects.get().verification == "verified"


def test_lines_are_requalified_from_the_main_courante(client, members, org, room):
    """A rumour turns out true: the team changes the line's verification from the main
    courante. A line from the triage room takes it as a decision on its card; a manual
    line records it itself. Both are journaled; a bad value changes nothing."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardDecision

    activation, cards = room
    volunteer = members["volunteer"]
    sent = actions.escalate(cards[0], actor=volunteer, category="personnes", decision="rumour")
    manual = actions.add_log_entry(
        activation, actor=volunteer, text="Appel : pont fermé", channel="telephone",
        category="routes",
    )  # fmt: skip
    client.force_login(volunteer)
    page = client.get(_u("watch-courante", org, activation)).content.decode()
    assert f"/{sent.pk}/verification/" in page and 'name="verification"' in page

    def requalify(entry, value):
        url = _u("watch-courante-verification", org, activation, entry_id=entry.pk)
        return client.post(url, {"verification": value}, follow=True)

    refused = requalify(sent, "certain").content.decode()
    assert "Vérification inconnue" in refused
    sent.refresh_from_db()
    assert sent.verification == "rumour" and CardDecision.objects.count() == 1
    requalify(sent, "verified")
    sent.refresh_from_db()
    assert sent.verification == "verified"
    assert Card.objects.get(pk=cards[0].pk).decision == "verified"
    assert list(CardDecision.objects.values_list("decision", flat=True)) == ["rumour", "verified"]
    requalify(manual, "to_verify")
    manual.refresh_from_db()
    assert manual.verification == "to_verify"
    change = JournalEntry.objects.get(action="watch.log.verify")
    # (with the line's content digest: docs/decisions/courante-digest.md)
    assert {k: v for k, v in change.data.items() if k != "content"} == {
        "number": manual.number,
        "from": "",
        "to": "to_verify",
    }
    client.force_login(members["partner"])
    assert requalify(manual, "false").status_code == 403
    assert (
        'name="verification"'
        not in client.get(_u("watch-courante", org, activation)).content.decode()
    )


def test_manual_entries_status_search_and_numbering(client, members, org, room):
    from beffroi.watch.models import LogEntry, LogUpdate

    activation, _cards = room
    client.force_login(members["volunteer"])
    add = _u("watch-courante-add", org, activation)
    client.post(
        add,
        {
            "text": "Appel mairie : gymnase ouvert",
            "channel": "telephone",
            "category": "officiel",
            "commune_code": "85128",
            "for_partners": "on",
        },
    )
    client.post(
        add, {"text": "Observation : pont submergé", "channel": "observation", "category": "routes"}
    )
    bad = client.post(
        add,
        {"text": "x", "channel": "telephone", "category": "autre", "commune_code": "99999"},
        follow=True,
    )
    assert "Commune inconnue" in bad.content.decode()
    entries = LogEntry.objects.order_by("number")
    assert [e.number for e in entries] == [1, 2]
    assert entries[0].commune_name == "Luçon" and not entries[1].for_partners
    client.post(
        _u("watch-courante-status", org, activation, entry_id=entries[0].pk),
        {"status": "clos", "note": "fermé à 18 h"},
    )
    assert LogEntry.objects.get(number=1).status == "clos"
    assert LogUpdate.objects.get().note == "fermé à 18 h"
    page = client.get(_u("watch-courante", org, activation), {"q": "pont"}).content.decode()
    assert "pont submergé" in page and "gymnase" not in page
    page = client.get(_u("watch-courante", org, activation), {"statut": "clos"}).content.decode()
    assert "gymnase" in page and "pont submergé" not in page


def test_exports_parse(client, members, org, room):
    from odf.opendocument import load
    from odf.table import TableRow
    from openpyxl import load_workbook

    from beffroi.watch import actions

    activation, _cards = room
    actions.add_log_entry(
        activation,
        actor=members["coordinator"],
        text='=HYPERLINK("x")',
        channel="autre",
        category="autre",
    )
    actions.add_log_entry(
        activation,
        actor=members["coordinator"],
        text="Digue rompue, Aiguillon",
        channel="observation",
        category="degats",
    )
    client.force_login(members["partner"])
    get = lambda fmt: client.get(_u("watch-courante-export", org, activation, fmt=fmt))  # noqa: E731
    res = get("csv")
    assert res["Content-Disposition"].startswith('attachment; filename="main-courante-crue-')
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert rows[0][0] == "N°" and [r[0] for r in rows[1:]] == ["1", "2"]
    assert rows[1][6] == '\'=HYPERLINK("x")'  # never a formula in the crisis cell's sheet
    wb = load_workbook(io.BytesIO(get("xlsx").content))
    values = list(wb.active.iter_rows(values_only=True))
    assert values[1][0] == "N°" and values[3][6] == "Digue rompue, Aiguillon"
    assert wb.active.cell(row=3, column=7).data_type == "s"
    doc = load(io.BytesIO(get("ods").content))
    assert len(doc.spreadsheet.getElementsByType(TableRow)) == 4
    # The PDF is always prepared in the background (tests/watch/test_web_exports_jobs.py).
    pdf = get("pdf")
    assert pdf["Content-Type"].startswith("text/html") and "Préparer" in pdf.content.decode()
    assert get("exe").status_code == 404


def test_event_stream_announces_changes(client, members, org, room, monkeypatch):
    from beffroi.watch import live

    activation, _cards = room
    monkeypatch.setattr(live, "WSGI_MAX", 0.3)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.05)
    client.force_login(members["volunteer"])
    res = client.get(_u("watch-triage-stream", org, activation))
    assert res["Content-Type"] == "text/event-stream" and not res.is_async
    body = b"".join(res.streaming_content).decode()
    assert body.startswith("retry: ") and body.count("event: change") == 1
    client.force_login(members["partner"])
    assert client.get(_u("watch-triage-stream", org, activation)).status_code == 403
    res = client.get(_u("watch-courante-stream", org, activation))
    assert "event: change" in b"".join(res.streaming_content).decode()


def test_activation_form_and_sources_form(client, members, org):
    from beffroi.watch.models import Activation, Source

    client.force_login(members["coordinator"])
    res = client.post(
        reverse("watch-activation-new", args=[org.slug]),
        {
            "name": "Tempête Ciarán",
            "event_type": "tempete",
            "area": "29, 22 56",
            "keywords": "fr: tempête, #Ciaran\nen: storm",
        },
    )
    activation = Activation.objects.get()
    assert res.status_code == 302 and activation.area == ["29", "22", "56"]
    assert activation.keywords == {"fr": ["tempête", "#Ciaran"], "en": ["storm"]}
    bad = client.post(
        reverse("watch-activation-new", args=[org.slug]),
        {"name": "x", "event_type": "tempete", "area": "2A999"},
    )
    assert "Commune inconnue" in bad.content.decode()
    sources = reverse("watch-sources", args=[org.slug, activation.pk])
    page = client.get(sources, {"type": "mastodon"}).content.decode()
    assert "Instance" in page and "Mots-dièse" in page
    res = client.post(sources, {"kind": "rss", "name": "Vigicrues", "url": "pas une adresse"})
    assert res.status_code == 200 and not Source.objects.exists()
    res = client.post(
        sources, {"kind": "rss", "name": "Vigicrues", "url": "https://www.vigicrues.gouv.fr/rss"}
    )
    assert res.status_code == 302 and Source.objects.get().kind == "rss"
    status = client.get(reverse("watch-sources-status", args=[org.slug, activation.pk])).json()
    assert status["sources"][0]["message"] == "En attente du worker."


def test_event_stream_is_async_and_endless_under_asgi(transactional_db, members, org, room):
    """Under uvicorn the stream is an async generator (Django 5.2 would buffer
    an async iterator entirely under WSGI, never under ASGI)."""
    import asyncio

    from django.test import AsyncRequestFactory

    from beffroi.watch import views

    activation, _cards = room
    request = AsyncRequestFactory().get("/flux/")
    request.user = members["volunteer"]
    response = views.triage_stream(request, org=org.slug, activation_id=activation.pk)
    assert response.is_async and response["Content-Type"] == "text/event-stream"

    async def first_chunks():
        from asgiref.sync import sync_to_async
        from django.db import connection

        stream = aiter(response.streaming_content)
        chunks = [await anext(stream), await anext(stream)]
        await stream.aclose()
        # The stream read the database from asgiref's thread; a server closes that
        # connection when the request finishes, so does the test (PostgreSQL
        # refuses to drop a test database a session still uses).
        await sync_to_async(lambda: connection.close())()
        return chunks

    retry, change = asyncio.run(first_chunks())
    assert retry == b"retry: 1500\n\n" and change.startswith(b"event: change\ndata: 3-")


def test_live_version_moves_when_a_change_commits_with_an_older_stamp(members, room, monkeypatch):
    """On PostgreSQL an action stamps ``updated_at`` before it waits for the journal's
    lock, so it can commit after a later-stamped change: the team's live version must
    still move (the journal number does), while the partners' version does not follow
    internal work."""
    from beffroi.watch import actions, views
    from beffroi.watch.models import Card

    activation, cards = room
    later = timezone.now() + timedelta(minutes=5)
    Card.objects.filter(pk=cards[2].pk).update(updated_at=later)
    team = views._version(activation.pk, Card)
    log_team = views._log_version(activation.pk, partner=False)
    log_partner = views._log_version(activation.pk, partner=True)
    # The claim below is stamped earlier than what the page has already seen.
    monkeypatch.setattr(actions.timezone, "now", lambda: later - timedelta(minutes=1))
    actions.claim(cards[0], actor=members["volunteer"])
    assert views._version(activation.pk, Card) != team
    assert views._log_version(activation.pk, partner=False) != log_team
    assert views._log_version(activation.pk, partner=True) == log_partner


def test_partner_version_moves_when_a_shared_line_commits_with_an_older_stamp(
    members, room, monkeypatch
):
    """The partners' version leaves the journal out, yet a change to a line they see must
    reach their open page even when it is stamped earlier than one they have seen; a line
    kept for the team moves nothing for them."""
    from beffroi.watch import actions, views
    from beffroi.watch.models import LogEntry

    activation, _cards = room
    coordinator = members["coordinator"]

    def line(text: str, for_partners: bool = True) -> LogEntry:
        return actions.add_log_entry(
            activation,
            actor=coordinator,
            text=text,
            channel="telephone",
            category="routes",
            for_partners=for_partners,
        )

    old, newer, internal = line("Route coupée"), line("Pont fermé"), line("Note", False)
    later = timezone.now() + timedelta(minutes=5)
    LogEntry.objects.filter(pk=newer.pk).update(updated_at=later)
    seen = views._log_version(activation.pk, partner=True)
    monkeypatch.setattr(actions.timezone, "now", lambda: later - timedelta(minutes=1))
    actions.update_log_status(internal, "clos", actor=coordinator)
    assert views._log_version(activation.pk, partner=True) == seen
    actions.update_log_status(old, "clos", actor=coordinator)
    assert views._log_version(activation.pk, partner=True) != seen


def test_queue_marks_cards_their_authors_edited_or_deleted(client, members, org, room):
    from beffroi.watch.models import Card

    activation, cards = room
    now = timezone.now()
    Card.objects.filter(pk=cards[0].pk).update(author_deleted_at=now, author_edited_at=now)
    Card.objects.filter(pk=cards[1].pk).update(author_edited_at=now)
    client.force_login(members["volunteer"])
    shown = {c["id"]: c for c in client.get(_u("watch-queue", org, activation)).json()["cards"]}
    assert [shown[c.pk]["author_change"] for c in cards] == ["deleted", "edited", ""]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(
    "view, data",
    [
        ("watch-card-decide", {"decision": "peut-être"}),
        ("watch-card-decide", {"decision": "relevant", "evidence": "javascript:alert(1)"}),
        ("watch-card-source", {"source_type": "voyant"}),
        ("watch-card-escalate", {"category": "personnes", "decision": "certain"}),
        ("watch-card-escalate", {"category": "météo"}),
    ],
)
def test_bad_input_is_a_400_in_every_language(client, members, org, room, view, data, language):
    """The status says whose fault it is (400: the request; 409: the card's state), whatever
    language the message is written in."""
    activation, cards = room
    client.force_login(members["volunteer"])
    url = _u(view, org, activation, card_id=cards[0].pk)
    res = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
    assert res.status_code == 400, res.json()
    assert res.json()["ok"] is False and res.json()["error"]
