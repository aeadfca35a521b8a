"""Evidence links are read a line at a time, as the panel asks: a refused line is quoted
whole (« pas un lien » was reported as « pas »), links side by side on one line are
taken, and nothing is recorded when one line is wrong."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def card(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    return Card.objects.create(
        activation=activation,
        group_id="g",
        source_kind="mastodon",
        external_id="1",
        text="Coincés sur le toit",
        posted_at=timezone.now(),
    )


def _post(client, card, name, **data):
    url = reverse(name, args=[card.activation.organisation.slug, card.activation.pk, card.pk])
    return client.post(url, data)


def test_a_wrong_line_is_quoted_whole_and_nothing_is_recorded(client, members, card):
    client.force_login(members["volunteer"])
    response = _post(
        client,
        card,
        "watch-card-decide",
        decision="verified",
        notes="à recouper",
        evidence="pas un lien\r\nhttps://example.org/ok",
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Lien de preuve invalide : « pas un lien » (un lien par ligne, commençant par "
        "https:// ou http://)."
    )
    card.refresh_from_db()
    assert (card.decision, card.evidence, card.notes) == ("", [], "")


def test_links_one_a_line_or_side_by_side(client, members, card):
    client.force_login(members["volunteer"])
    response = _post(
        client,
        card,
        "watch-card-decide",
        decision="verified",
        evidence="https://example.org/a\n\n  https://example.org/b https://example.org/a  \n",
    )
    assert response.status_code == 200
    card.refresh_from_db()
    assert card.evidence == ["https://example.org/a", "https://example.org/b"]


def test_the_escalation_reads_them_the_same_way(client, members, card):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    refused = _post(
        client,
        card,
        "watch-card-escalate",
        category="personnes",
        decision="verified",
        evidence="voir le tweet de la mairie",
    )
    assert refused.status_code == 400
    assert "« voir le tweet de la mairie »" in refused.json()["error"]
    assert not LogEntry.objects.exists()
    sent = _post(
        client,
        card,
        "watch-card-escalate",
        category="personnes",
        decision="verified",
        evidence="https://example.org/mairie",
    )
    assert sent.status_code == 200
    card.refresh_from_db()
    assert card.evidence == ["https://example.org/mairie"]
