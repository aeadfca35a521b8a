"""Volunteers correct a card's source type: the action, the endpoint, the
filters that follow the correction, the roles that may not, and the lesson it
leaves for the activation's learner."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.core.models import JournalEntry
from watch_rooms import decision_room

SOURCE_VALUES = ["Eyewitness", "Media", "Government", "NGOs", "Business", "Outsiders"]


@pytest.fixture
def room(org, members):
    # The model guessed "Media" for the first and "Eyewitness" for the second.
    rows = [
        ("Je suis coincée au premier étage, l'eau monte", 0.9, "Media"),
        ("Ouest-France : la digue a cédé à Luçon", 0.5, "Eyewitness"),
    ]
    return decision_room(
        org,
        members["coordinator"],
        [text for text, _prio, _guess in rows],
        posted_at=timezone.now(),
        priority=lambda i: rows[i][1],
        source_type=lambda i: rows[i][2],
    )


def _u(name, org, activation, **kw):
    return reverse(name, kwargs={"org": org.slug, "activation_id": activation.pk, **kw})


def test_correction_keeps_the_guess_records_a_lesson_and_is_journaled(members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import CardDecision

    _activation, (card, _other) = room
    volunteer = members["volunteer"]
    actions.claim(card, actor=volunteer)
    card = actions.correct_source(card, "Eyewitness", actor=volunteer)
    assert (card.source_type, card.source_corrected) == ("Media", "Eyewitness")
    assert actions.effective_source_type(card) == "Eyewitness"
    # The volunteer still holds the card: correcting the source is not deciding.
    assert card.claimed_by == volunteer and card.state == "queued" and card.decision == ""
    rows = list(CardDecision.objects.filter(card=card).values_list("decision", "source"))
    assert rows == [("", "Eyewitness")]
    entry = JournalEntry.objects.filter(action="watch.card.source").get()
    assert entry.subject == f"card:{card.pk}" and entry.actor_id == volunteer.pk
    assert entry.data == {"predicted": "Media", "from": "", "to": "Eyewitness"}

    # Said twice: no second lesson, no second entry.
    actions.correct_source(card, "Eyewitness", actor=volunteer)
    assert CardDecision.objects.filter(card=card).count() == 1
    assert JournalEntry.objects.filter(action="watch.card.source").count() == 1
    # Changed again (and after the decision): a new lesson, journaled from→to.
    card = actions.decide(card, "verified", actor=volunteer)
    card = actions.correct_source(card, "NGOs", actor=volunteer)
    assert card.source_corrected == "NGOs" and card.decision == "verified"
    last = JournalEntry.objects.filter(action="watch.card.source").order_by("seq").last()
    assert last.data == {"predicted": "Media", "from": "Eyewitness", "to": "NGOs"}
    assert list(CardDecision.objects.filter(card=card).values_list("decision", "source")) == [
        ("", "Eyewitness"),
        ("verified", ""),
        ("", "NGOs"),
    ]


def test_confirming_the_guess_is_a_lesson_too(members, room):
    from beffroi.watch import actions
    from beffroi.watch.models import CardDecision

    _activation, (_card, other) = room
    other = actions.correct_source(other, "Eyewitness", actor=members["volunteer"])
    assert other.source_corrected == "Eyewitness"
    assert CardDecision.objects.filter(card=other, source="Eyewitness").count() == 1


def test_unknown_type_or_someone_elses_card_is_refused_and_changes_nothing(members, room):
    from beffroi.core import actions as core_actions
    from beffroi.core.models import Role
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardDecision

    activation, (card, _other) = room
    with pytest.raises(actions.ActionError, match="Type de source inconnu : Journaliste"):
        actions.correct_source(card, "Journaliste", actor=members["volunteer"])
    other = core_actions.create_account("veilleuse", "pw-test-123456")
    core_actions.set_role(
        other, activation.organisation, Role.VOLUNTEER, actor=members["coordinator"]
    )
    actions.claim(card, actor=other)
    with pytest.raises(actions.ActionError, match="déjà prise"):
        actions.correct_source(card, "Media", actor=members["volunteer"])
    assert Card.objects.get(pk=card.pk).source_corrected == ""
    assert not CardDecision.objects.exists()
    assert not JournalEntry.objects.filter(action="watch.card.source").exists()


def test_endpoint_shows_the_correction_and_filters_follow_it(client, members, org, room):
    activation, (card, other) = room
    client.force_login(members["volunteer"])
    queue = _u("watch-queue", org, activation)

    def ids(**params):
        return [c["id"] for c in client.get(queue, params).json()["cards"]]

    # Before: the model's guesses.
    assert ids(source="Media") == [card.pk] and ids(source="Eyewitness") == [other.pk]
    shown = client.get(queue).json()["cards"][0]
    assert (shown["source_type_label"], shown["source_corrected"]) == ("Média", False)

    url = _u("watch-card-source", org, activation, card_id=card.pk)
    answer = client.post(url, {"source_type": "Eyewitness"}).json()
    assert answer["ok"] and answer["card"]["source_type"] == "Eyewitness"
    assert answer["card"]["source_type_label"] == "Témoin direct"
    assert answer["card"]["source_corrected"] is True
    # After: the correction wins over the guess, in the filter and on the card.
    assert ids(source="Eyewitness") == [card.pk, other.pk]
    assert ids(source="Media") == []
    assert ids(plateforme="mastodon") == [card.pk, other.pk]
    assert ids(plateforme="rss") == []

    bad = client.post(url, {"source_type": "Bot"})
    assert bad.status_code == 400 and bad.json()["error"] == "Type de source inconnu : Bot"
    missing = client.post(url, {})
    assert missing.status_code == 400 and "Type de source inconnu" in missing.json()["error"]


def test_triage_page_offers_one_key_per_source_type(client, members, org, room):
    from beffroi.watch.models import DECISION_KEYS, SOURCE_TYPE_KEYS

    activation, _cards = room
    client.force_login(members["volunteer"])
    html = client.get(_u("watch-triage", org, activation)).content.decode()
    assert sorted(SOURCE_TYPE_KEYS) == sorted(SOURCE_VALUES)
    for value, key in SOURCE_TYPE_KEYS.items():
        assert f'data-source-type="{value}" data-key="{key}"' in html
    # No key does two things, and none steals a navigation key.
    keys = [*SOURCE_TYPE_KEYS.values(), *DECISION_KEYS.values()]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {"j", "k", "e", "n"}
    for label in ("Témoin direct", "Média", "Institution", "ONG", "Entreprise", "Commentateur"):
        assert label in html


@pytest.mark.parametrize(
    ("role", "status"),
    [("partner", 403), ("scrutineer", 403), ("outsider", 404), ("anonymous", 302)],
)
def test_partners_and_the_public_cannot_correct(client, members, org, room, role, status):
    from beffroi.watch.models import Card

    activation, (card, _other) = room
    if role != "anonymous":
        client.force_login(members[role])
    url = _u("watch-card-source", org, activation, card_id=card.pk)
    assert client.post(url, {"source_type": "Eyewitness"}).status_code == status
    assert Card.objects.get(pk=card.pk).source_corrected == ""
    assert not JournalEntry.objects.filter(action="watch.card.source").exists()


def test_the_activations_learner_learns_the_corrected_source(members, room):
    from beffroi.watch import actions
    from beffroi.watch.classify import load_default
    from beffroi.watch.worker import ActivationProcessor

    activation, (card, other) = room
    volunteer = members["volunteer"]
    actions.correct_source(card, "Eyewitness", actor=volunteer)
    actions.decide(other, "irrelevant", actor=volunteer)
    proc = ActivationProcessor(activation, load_default())
    assert proc.learn() == 2
    assert proc.learner is not None
    # One lesson each: the correction teaches only the source, the decision only
    # informativeness.
    assert proc.learner.labels(f"card:{card.pk}:source") == {"source": "Eyewitness"}
    assert proc.learner.labels(f"card:{other.pk}") == {"informative": "False"}
    assert proc.learner.n_examples == 2


def test_a_lesson_carries_the_kinds_of_the_cards_own_author(members, room):
    """The learner is taught the post as the classifier saw it: with the author kinds
    read at ingest, from the card's own post (not from another copy in its group)."""
    import numpy as np

    from beffroi.watch import actions
    from beffroi.watch.classify import load_default
    from beffroi.watch.models import Post, Source
    from beffroi.watch.worker import ActivationProcessor

    activation, (card, other) = room
    source = Source.objects.create(activation=activation, kind="mastodon", name="m", config={})
    now = timezone.now()
    for external_id, target, kinds in [("0", card, "government"), ("copy", card, "media")]:
        Post.objects.create(
            activation=activation, source=source, external_id=external_id, text=card.text,
            created_at=now, author_kinds=kinds, card=target,
        )  # fmt: skip
    card.source = source
    card.save(update_fields=["source"])
    actions.correct_source(card, "Eyewitness", actor=members["volunteer"])
    actions.correct_source(other, "Media", actor=members["volunteer"])
    base = load_default()
    proc = ActivationProcessor(activation, base)
    assert proc.learn() == 2
    assert proc.learner is not None
    taught = [lesson.indices for lesson in proc.learner._lessons.values()]
    seen = base.transform([card.text], [("government",)])
    assert np.array_equal(np.sort(taught[0]), np.sort(seen.indices))
    assert not np.array_equal(np.sort(taught[0]), np.sort(base.transform([card.text]).indices))
    # A card with no stored post is taught from its text alone.
    assert np.array_equal(np.sort(taught[1]), np.sort(base.transform([other.text]).indices))


@given(value=st.one_of(st.sampled_from(SOURCE_VALUES), st.text(max_size=40)))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_posted_value_is_recorded_or_refused_in_french(client, members, org, room, value):
    """Whatever a client posts: a known type is recorded once; anything else is
    a 400 naming the value, and leaves the card, its lessons and the journal as
    they were."""
    from beffroi.watch.models import Card, CardDecision

    activation, (card, _other) = room
    client.force_login(members["volunteer"])
    before = Card.objects.get(pk=card.pk).source_corrected
    lessons = CardDecision.objects.filter(card=card).count()
    entries = JournalEntry.objects.filter(action="watch.card.source").count()
    url = _u("watch-card-source", org, activation, card_id=card.pk)
    answer = client.post(url, {"source_type": value})
    now = Card.objects.get(pk=card.pk).source_corrected
    if value in SOURCE_VALUES:
        assert answer.status_code == 200 and now == value
        grew = 0 if before == value else 1
        assert CardDecision.objects.filter(card=card).count() == lessons + grew
        assert JournalEntry.objects.filter(action="watch.card.source").count() == entries + grew
    else:
        assert answer.status_code == 400
        assert answer.json()["error"].startswith("Type de source inconnu")
        assert now == before
        assert CardDecision.objects.filter(card=card).count() == lessons
        assert JournalEntry.objects.filter(action="watch.card.source").count() == entries
