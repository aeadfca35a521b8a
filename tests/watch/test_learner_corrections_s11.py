"""Undoing a decision undoes its lesson: the worker feeds the activation's learner what the
team currently believes of each card, so a corrected decision replaces the wrong lesson and
a card put back in the queue withdraws it, in the order the team did it."""

from __future__ import annotations

import numpy as np
import pytest

from watch_rooms import decision_room

TEXTS = [
    "Coincés sur le toit à Luçon, aidez-nous",
    "Pensées aux sinistrés de Vendée",
    "Le pont de Chasnais est fermé, l'eau passe dessus",
]


@pytest.fixture(scope="module")
def base():
    from beffroi.watch.classify import load_default

    return load_default()


@pytest.fixture
def room(org, members):
    return decision_room(org, members["coordinator"], TEXTS)


def _lessons(learner) -> dict[str, dict[str, str]]:
    return {key: learner.labels(key) for key in learner.lesson_keys()}


def test_decide_correct_requeue_leaves_the_lessons_the_team_holds(base, room, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.classify import OnlineLearner
    from beffroi.watch.models import ActivationModel, Card, CardDecision
    from beffroi.watch.worker import ActivationProcessor

    activation, (call, thoughts, bridge) = room
    volunteer, coordinator = members["volunteer"], members["coordinator"]
    proc = ActivationProcessor(activation, base)

    # A call for help dismissed by mistake, a message of sympathy, a bridge closed.
    actions.decide(call, "irrelevant", actor=volunteer)
    actions.decide(thoughts, "irrelevant", actor=volunteer)
    actions.decide(bridge, "relevant", actor=volunteer)
    actions.correct_source(bridge, "Eyewitness", actor=volunteer)
    assert proc.learn() == 4
    assert _lessons(proc.learner) == {
        f"card:{call.pk}": {"informative": "False"},
        f"card:{thoughts.pk}": {"informative": "False"},
        f"card:{bridge.pk}": {"informative": "True"},
        f"card:{bridge.pk}:source": {"source": "Eyewitness"},
    }

    # The coordinator sees the call on « Cartes traitées » and corrects it; the bridge
    # is put back in the queue (to verify first); the sympathy turns out to be a rumour's
    # copy, « Faux », which teaches nothing.
    actions.correct_decision(Card.objects.get(pk=call.pk), "verified", actor=coordinator)
    actions.return_to_queue(Card.objects.get(pk=bridge.pk), actor=coordinator)
    actions.correct_decision(Card.objects.get(pk=thoughts.pk), "false", actor=coordinator)
    assert proc.learn() == 1  # one lesson given, two withdrawn
    held = {
        f"card:{call.pk}": {"informative": "True"},
        # The card keeps its corrected source, so the learner keeps that lesson.
        f"card:{bridge.pk}:source": {"source": "Eyewitness"},
    }
    assert _lessons(proc.learner) == held
    assert proc.learner.n_examples == 2

    # The requeue went through the one door: journaled, and a row of the card's history
    # (neither decision nor source) that the worker read in its turn.
    assert JournalEntry.objects.filter(action="watch.card.requeue").count() == 1
    rows = CardDecision.objects.filter(card=bridge).order_by("pk")
    assert list(rows.values_list("decision", "source")) == [
        ("relevant", ""),
        ("", "Eyewitness"),
        ("", ""),
    ]

    # The saved state holds the same lessons: a new worker predicts exactly as this one,
    # and as a learner taught only the current verdicts.
    saved = ActivationModel.objects.get(activation=activation)
    restored = OnlineLearner.from_bytes(bytes(saved.learner_state), base)
    assert _lessons(restored) == held
    assert saved.labels_learned == 5
    again = ActivationProcessor(activation, base)
    assert again.learn() == 0 and _lessons(again.learner) == held
    current = OnlineLearner(base)
    current.learn(TEXTS[2], source="Eyewitness", key=f"card:{bridge.pk}:source")
    current.learn(TEXTS[0], informative=True, key=f"card:{call.pk}")
    x = base.transform(TEXTS)
    for name, logits in again.learner.logits(x).items():
        np.testing.assert_array_equal(logits, current.logits(x)[name])

    # Decided again after the requeue: taught again.
    actions.decide(Card.objects.get(pk=bridge.pk), "verified", actor=volunteer)
    assert again.learn() == 1
    assert again.learner.labels(f"card:{bridge.pk}") == {"informative": "True"}


def test_a_requeue_and_a_new_decision_in_one_batch_are_applied_in_order(base, room, members):
    """The worker may meet the whole story at once (it was stopped): the order of the
    rows decides, not their kind."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card
    from beffroi.watch.worker import ActivationProcessor

    activation, (call, *_rest) = room
    volunteer = members["volunteer"]
    actions.decide(call, "irrelevant", actor=volunteer)
    actions.return_to_queue(Card.objects.get(pk=call.pk), actor=volunteer)
    actions.decide(Card.objects.get(pk=call.pk), "relevant", actor=volunteer)
    proc = ActivationProcessor(activation, base)
    proc.learn()
    assert _lessons(proc.learner) == {f"card:{call.pk}": {"informative": "True"}}
    # And the other way round: decided, then back in the queue for good.
    actions.return_to_queue(Card.objects.get(pk=call.pk), actor=volunteer)
    proc.learn()
    assert proc.learner.n_examples == 0


def test_an_escalation_with_a_verdict_replaces_the_card_s_lesson(base, room, members):
    """Requalified from its main courante line (« Rumeur » found true), a card's lesson
    follows the new verdict too."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card
    from beffroi.watch.worker import ActivationProcessor

    activation, (call, *_rest) = room
    volunteer = members["volunteer"]
    actions.decide(call, "irrelevant", actor=volunteer)
    # A decided card changes verdict through its correction, then goes to the main
    # courante from the decided cards' page (a decision no longer lands on it twice).
    actions.correct_decision(Card.objects.get(pk=call.pk), "rumour", actor=volunteer)
    entry = actions.escalate_decided(
        Card.objects.get(pk=call.pk), actor=volunteer, category="personnes"
    )
    actions.requalify_entry(entry, "false", actor=volunteer)
    proc = ActivationProcessor(activation, base)
    proc.learn()
    assert proc.learner.n_examples == 0
    actions.requalify_entry(entry, "verified", actor=volunteer)
    proc.learn()
    assert _lessons(proc.learner) == {f"card:{call.pk}": {"informative": "True"}}


def test_a_state_learnt_before_keys_is_learnt_again_keyed(base, room, members):
    """An activation whose learner was saved by the previous version (lessons without
    keys, which no correction could reach) learns its decisions again from the first."""
    from pathlib import Path

    from beffroi.watch import actions
    from beffroi.watch.models import ActivationModel, Card, CardDecision
    from beffroi.watch.worker import ActivationProcessor

    activation, (call, thoughts, _bridge) = room
    volunteer = members["volunteer"]
    actions.decide(call, "irrelevant", actor=volunteer)
    actions.decide(thoughts, "irrelevant", actor=volunteer)
    old = Path(__file__).parent / "classify" / "fixtures" / "online_state_v1_s11.npz"
    actions.store_model_state(
        activation,
        learner_state=old.read_bytes(),
        learned_until=CardDecision.objects.latest("pk").pk,
        labels_learned=3,
    )
    proc = ActivationProcessor(activation, base)
    assert proc.learner.n_examples == 0 and proc.learned_until == 0
    assert proc.learn() == 2
    assert _lessons(proc.learner) == {
        f"card:{call.pk}": {"informative": "False"},
        f"card:{thoughts.pk}": {"informative": "False"},
    }
    assert ActivationModel.objects.get(activation=activation).labels_learned == 2
    actions.correct_decision(Card.objects.get(pk=call.pk), "verified", actor=volunteer)
    proc.learn()
    assert proc.learner.labels(f"card:{call.pk}") == {"informative": "True"}
    # Saved keyed: the next worker keeps it and does not start over.
    again = ActivationProcessor(activation, base)
    assert _lessons(again.learner) == _lessons(proc.learner) and again.learn() == 0
