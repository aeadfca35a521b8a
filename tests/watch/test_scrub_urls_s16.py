"""``scrub-handles`` also rewrites a card's address and the address its escalated line
copied from it (partners read and export both), and the status and skip lines of the
activation's sources stored before they were pseudonymised; one journaled run counts
them (review R16, findings 3 and 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.usesdb

ACCOUNT_URL = "https://www.facebook.com/jeanne.dupont/posts/111222333"
TYPED_URL = "https://piaille.fr/@prefecture/42"
DID = "did:plc:jeannesecretdid00"
WHEN = datetime(2026, 1, 8, 6, tzinfo=UTC)


def _rows(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, Post, Source

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(
        activation=activation,
        kind="bluesky",
        name="b",
        config={},
        # As a worker before the status lines were pseudonymised wrote them.
        status_message=f"Erreur inattendue (ValidationError) : at://{DID}/app.bsky.feed.post/1",
        last_skip_reason=f"Message illisible : auteur {DID}.",
    )
    card = Card.objects.create(
        activation=activation, group_id="g1", source=source, source_kind="bluesky",
        external_id="1", text="Rue inondée", posted_at=WHEN, url=ACCOUNT_URL,
    )  # fmt: skip
    Post.objects.create(
        activation=activation, source=source, external_id="1", text="Rue inondée",
        created_at=WHEN, url=ACCOUNT_URL, raw={}, card=card, processed=True,
    )  # fmt: skip
    escalated = LogEntry.objects.create(
        activation=activation, number=1, channel="social", category="info",
        text="Rue inondée", card=card, source_url=ACCOUNT_URL, for_partners=True,
    )  # fmt: skip
    typed = LogEntry.objects.create(
        activation=activation, number=2, channel="social", category="info",
        text="Communiqué", card=card, source_url=TYPED_URL, for_partners=True,
    )  # fmt: skip
    return activation, source, card, escalated, typed


def test_the_repair_empties_the_card_and_line_addresses_naming_an_account(org, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    activation, source, card, escalated, typed = _rows(org, members)
    dry = actions.scrub_handles(activation, dry_run=True)
    assert (dry.cards, dry.log_entries, dry.source_lines) == (1, 1, 1)

    counts = actions.scrub_handles(activation)

    card.refresh_from_db()
    escalated.refresh_from_db()
    typed.refresh_from_db()
    source.refresh_from_db()
    assert card.url == "" and escalated.source_url == ""
    # A link a volunteer gave is typed text, kept as typed.
    assert typed.source_url == TYPED_URL
    assert DID not in source.status_message + source.last_skip_reason
    assert source.status_message.startswith("Erreur inattendue (ValidationError) : at://did:h_")
    assert counts.source_lines == 1
    entry = JournalEntry.objects.get(action="watch.activation.scrub_handles")
    assert entry.data["source_lines"] == 1 and entry.data["cards"] == 1
    assert entry.data["log_entries"] == 1
    # A second run finds nothing left.
    assert not actions.scrub_handles(activation).changed


def test_the_partner_export_no_longer_names_the_account(org, members):
    from django.test import Client
    from django.urls import reverse

    from beffroi.watch import actions

    activation, *_rest = _rows(org, members)
    client = Client()
    client.force_login(members["partner"])
    url = reverse("watch-courante-export", args=[org.slug, activation.pk, "csv"])
    assert b"jeanne.dupont" in client.get(url).content
    actions.scrub_handles(activation)
    assert b"jeanne.dupont" not in client.get(url).content


def test_the_repaired_lines_are_still_vouched_for(org, members):
    from beffroi.watch import actions, courante_verify

    activation, _source, _card, escalated, typed = _rows(org, members)
    # Touched through a door: from then on the journal holds their digests.
    for line in (escalated, typed):
        actions.set_entry_sharing(line, False, actor=members["coordinator"])
    before = courante_verify.check()
    assert before.findings == [] and before.intact == 2
    actions.scrub_handles(activation)
    escalated.refresh_from_db()
    assert escalated.source_url == ""
    report = courante_verify.check()
    assert report.findings == [] and report.intact == 2
