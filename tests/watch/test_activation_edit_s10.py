"""The coordinator changes an open activation mid-exercise (a new hashtag, a later end, a
clearer name): journaled with old and new values; the zone stays; a closed activation and
anyone but the coordination cannot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org,
        name="Exercice crue",
        event_type="exercice",
        area=["85128"],
        keywords={"fr": ["crue"]},
        actor=members["coordinator"],
    )


def _url(name, activation):
    return reverse(name, args=[activation.organisation.slug, activation.pk])


def test_the_form_comes_filled_and_a_change_is_journaled(client, members, activation):
    client.force_login(members["coordinator"])
    page = client.get(_url("watch-activation-edit", activation)).content.decode()
    assert 'value="Exercice crue"' in page and "fr: crue</textarea>" in page
    assert "Zone : 85128." in page
    ends = (timezone.localtime() + timedelta(hours=6)).replace(second=0, microsecond=0)
    response = client.post(
        _url("watch-activation-edit", activation),
        {
            "name": "Exercice crue du Lay",
            "event_type": "exercice",
            "keywords": "fr: crue, #crueLay\nen: flood",
            "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    activation.refresh_from_db()
    assert activation.name == "Exercice crue du Lay"
    assert activation.keywords == {"fr": ["crue", "#crueLay"], "en": ["flood"]}
    assert activation.ends_at == ends
    assert activation.area == ["85128"]
    entry = JournalEntry.objects.filter(action="watch.activation.update").get()
    assert entry.data["name"] == {"from": "Exercice crue", "to": "Exercice crue du Lay"}
    assert entry.data["keywords"]["to"] == {"fr": ["crue", "#crueLay"], "en": ["flood"]}
    assert entry.data["ends_at"]["from"] is None
    assert set(entry.data) == {"name", "keywords", "ends_at"}
    # The page says what it is now.
    html = client.get(_url("watch-activation", activation)).content.decode()
    assert "#crueLay" in html


def test_nothing_changed_is_not_journaled(client, members, activation):
    client.force_login(members["coordinator"])
    client.post(
        _url("watch-activation-edit", activation),
        {"name": "Exercice crue", "event_type": "exercice", "keywords": "fr: crue"},
    )
    assert not JournalEntry.objects.filter(action="watch.activation.update").exists()


def test_refusals_keep_what_was_typed(client, members, activation):
    client.force_login(members["coordinator"])
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(
        _url("watch-activation-edit", activation),
        {
            "name": "Nouveau nom",
            "event_type": "exercice",
            "keywords": "fr: crue, digue",
            "ends_at": past,
        },
    ).content.decode()
    assert "La fin doit être à venir. Pour arrêter l&#x27;activation maintenant" in page
    assert 'value="Nouveau nom"' in page and "fr: crue, digue</textarea>" in page
    bad = client.post(
        _url("watch-activation-edit", activation),
        {"name": "Nouveau nom", "event_type": "exercice", "keywords": "crue, digue"},
    ).content.decode()
    assert "Ligne 1 : écrire « fr: mot, mot »" in bad and "crue, digue</textarea>" in bad
    activation.refresh_from_db()
    assert activation.name == "Exercice crue"


def test_a_closed_activation_is_not_edited(client, members, activation):
    from beffroi.watch import actions

    actions.close_activation(activation, actor=members["coordinator"])
    client.force_login(members["coordinator"])
    response = client.post(
        _url("watch-activation-edit", activation),
        {"name": "Rouverte ?", "event_type": "exercice", "keywords": ""},
    )
    assert response.status_code == 302
    activation.refresh_from_db()
    assert activation.name == "Exercice crue"
    with pytest.raises(actions.ActionError):
        actions.update_activation(
            activation,
            name="x",
            event_type="exercice",
            keywords={},
            ends_at=None,
            actor=members["coordinator"],
        )
    page = client.get(_url("watch-activation", activation)).content.decode()
    assert _url("watch-activation-edit", activation) not in page


@pytest.mark.parametrize("role", ["volunteer", "partner", "scrutineer"])
def test_only_the_coordination_edits(client, members, activation, role):
    client.force_login(members[role])
    assert client.get(_url("watch-activation-edit", activation)).status_code == 403
    response = client.post(
        _url("watch-activation-edit", activation),
        {"name": "Piraté", "event_type": "exercice", "keywords": ""},
    )
    assert response.status_code == 403
    activation.refresh_from_db()
    assert activation.name == "Exercice crue"
    page = client.get(_url("watch-activation", activation)).content.decode()
    assert _url("watch-activation-edit", activation) not in page


def test_handles_in_keywords_are_journaled_as_pseudonyms(client, members, activation):
    client.force_login(members["coordinator"])
    client.post(
        _url("watch-activation-edit", activation),
        {"name": "Exercice crue", "event_type": "exercice", "keywords": "fr: crue, @jean_dupont"},
    )
    entry = JournalEntry.objects.filter(action="watch.activation.update").get()
    assert "@jean_dupont" not in str(entry.data)
    activation.refresh_from_db()
    assert activation.keywords == {"fr": ["crue", "@jean_dupont"]}
