"""A card put back in the queue by the previous version left no row saying so (requeues
wrote none then). When the worker learns such an activation again from its first
decision, that card's old verdict must not be taught again: it is back in the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from watch_rooms import decision_room

pytestmark = pytest.mark.usesdb

OLD_STATE = Path(__file__).parent / "classify" / "fixtures" / "online_state_v1_s11.npz"


def test_a_card_requeued_before_the_upgrade_teaches_nothing(org, members):
    from beffroi.watch import actions
    from beffroi.watch.classify import load_default
    from beffroi.watch.models import Card, CardDecision
    from beffroi.watch.worker import ActivationProcessor

    activation, (call, road) = decision_room(
        org, members["coordinator"], ["Coincés sur le toit, aidez-nous", "Route de Luçon coupée"]
    )
    volunteer = members["volunteer"]
    actions.decide(call, "irrelevant", actor=volunteer)
    actions.correct_source(call, "Eyewitness", actor=volunteer)
    actions.decide(road, "relevant", actor=volunteer)
    actions.return_to_queue(Card.objects.get(pk=call.pk), actor=volunteer)
    # What the previous version left behind: no row for the requeue, a state without keys.
    CardDecision.objects.filter(card=call, decision="", source="").delete()
    actions.store_model_state(
        activation,
        learner_state=OLD_STATE.read_bytes(),
        learned_until=CardDecision.objects.latest("pk").pk,
        labels_learned=3,
    )
    proc = ActivationProcessor(activation, load_default())
    proc.learn()
    held = {key: proc.learner.labels(key) for key in proc.learner.lesson_keys()}
    assert held == {
        # The card keeps its corrected source, so that lesson stands.
        f"card:{call.pk}:source": {"source": "Eyewitness"},
        f"card:{road.pk}": {"informative": "True"},
    }
    # Decided again, it teaches again.
    actions.decide(Card.objects.get(pk=call.pk), "verified", actor=volunteer)
    proc.learn()
    assert proc.learner.labels(f"card:{call.pk}") == {"informative": "True"}
