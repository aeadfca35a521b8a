"""A declared post that joins an existing card (a préfecture's feed repeating a message
first seen from a citizen) makes the card speak for its sender, the most authoritative
one when several do; the explanation and the batch's journal entry record it, and a
volunteer's correction still prevails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beffroi.watch.pipeline.priority import (
    DECLARED_LINE,
    JOINED_LINE,
    declared_sender,
    outranks,
    with_joined_sender,
)

AT = datetime(2024, 1, 1, 10, tzinfo=UTC)
TEXT = "La route départementale 746 est coupée à Luçon par la crue, déviation par Sainte-Gemme"
JOINED_GOV = JOINED_LINE + "institution"


@pytest.fixture
def setup(org, members):
    from beffroi.watch import actions
    from beffroi.watch.classify import load_default

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)

    def source(name: str, declared: str = "") -> int:
        url = f"https://example.org/{len(name)}-{declared or 'plain'}.xml"
        return actions.add_source(
            activation, kind="rss", name=name, data={"url": url}, actor=coord,
            declared_source=declared,
        ).pk  # fmt: skip

    processor = None

    def run() -> None:
        # One processor, as in the worker: its pipeline holds the groups seen so far.
        nonlocal processor
        from beffroi.watch.worker import ActivationProcessor

        if processor is None:
            processor = ActivationProcessor(activation, load_default())
        processor.process()

    return activation, source, run


def _post(source_id: int, external_id: str, text: str = TEXT) -> None:
    from beffroi.watch import actions
    from beffroi.watch.sources import RawPost

    raw = RawPost("rss", str(source_id), external_id, text, AT)
    assert actions.receive_posts(source_id, [raw], {}) == 1


def _card(activation):
    from beffroi.watch.models import Card

    return Card.objects.get(activation=activation)


def _queued(activation) -> list[dict]:
    from beffroi.core.models import JournalEntry

    return [
        e.data
        for e in JournalEntry.objects.filter(action="watch.queue").order_by("pk")
        if e.data.get("declared_senders")
    ]


def test_a_declared_post_joining_a_citizens_card_makes_it_the_senders(db, setup):
    activation, source, run = setup
    citizen, prefecture = source("Blog"), source("Préfecture", "Government")
    _post(citizen, "a")
    run()
    card = _card(activation)
    guessed = card.source_type
    assert guessed != "Government" and declared_sender(card.explanation) is None

    _post(prefecture, "b")
    run()
    card = _card(activation)
    assert card.posts_count == 2
    assert card.source_type == "Government"
    assert JOINED_GOV in card.explanation
    assert not any(line.startswith("témoin direct") for line in card.explanation)
    # The card is still the citizen's post: the line does not claim its source is declared.
    assert card.source_id == citizen
    (entry,) = _queued(activation)
    [change] = entry["declared_senders"]
    assert change["card"] == card.pk and change["from"] == guessed and change["to"] == "Government"


def test_the_most_authoritative_declared_sender_wins(db, setup):
    activation, source, run = setup
    newsroom, prefecture = source("Ouest-France", "Media"), source("Préfecture", "Government")
    _post(newsroom, "a")
    run()
    assert _card(activation).source_type == "Media"
    _post(prefecture, "b")
    run()
    assert _card(activation).source_type == "Government"
    # A newsroom relaying the préfecture afterwards does not take the card back.
    _post(source("France Bleu", "Media"), "c")
    run()
    card = _card(activation)
    assert card.source_type == "Government" and card.posts_count == 3
    assert JOINED_GOV in card.explanation
    assert len(_queued(activation)) == 1


def test_a_declared_post_in_the_same_batch_as_the_first_one(db, setup):
    activation, source, run = setup
    citizen, prefecture = source("Blog"), source("Préfecture", "Government")
    _post(citizen, "a")
    _post(prefecture, "b")
    run()
    card = _card(activation)
    assert card.source_id == citizen and card.posts_count == 2
    assert card.source_type == "Government" and JOINED_GOV in card.explanation


def test_a_declared_first_post_is_not_rewritten_by_its_copies(db, setup):
    activation, source, run = setup
    prefecture, citizen = source("Préfecture", "Government"), source("Blog")
    _post(prefecture, "a")
    _post(citizen, "b")
    run()
    card = _card(activation)
    assert card.source_type == "Government"
    assert DECLARED_LINE + "institution" in card.explanation
    assert JOINED_GOV not in card.explanation
    assert _queued(activation) == []


def test_a_volunteers_correction_still_prevails(db, setup, members):
    from beffroi.watch import actions

    activation, source, run = setup
    _post(source("Blog"), "a")
    run()
    actions.correct_source(_card(activation), "Eyewitness", actor=members["coordinator"])
    _post(source("Préfecture", "Government"), "b")
    run()
    card = _card(activation)
    assert card.source_type == "Government"  # what the machine now knows...
    assert actions.effective_source_type(card) == "Eyewitness"  # ...under the volunteer's word


def test_sender_helpers():
    assert outranks("Government", None) and outranks("Government", "Media")
    assert not outranks("Media", "Government") and not outranks("Media", "Media")
    assert not outranks("Eyewitness", None)  # not a declarable sender
    explanation = ["aucun indice d'urgence", "informatif p=0,80", "témoin direct p=0,61 (probable)"]
    joined = with_joined_sender(explanation, "NGOs")
    assert joined == ["aucun indice d'urgence", "informatif p=0,80", JOINED_LINE + "ONG"]
    assert declared_sender(joined) == "NGOs"
    assert declared_sender([DECLARED_LINE + "média"]) == "Media"
    assert declared_sender(explanation) is None
    # No line on who speaks (no classifier then): the sender's line is added once.
    bare = with_joined_sender(["aucun indice d'urgence"], "Media")
    assert bare == ["aucun indice d'urgence", JOINED_LINE + "média"]
    assert with_joined_sender(bare, "Media") == bare


def test_the_joined_line_is_said_in_english():
    from beffroi.watch.views_i18n import explanation
    from english_catalogue import english

    with english():
        assert explanation([JOINED_GOV]) == ["declared sender of a post in the group: authority"]
