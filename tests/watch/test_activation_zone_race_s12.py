"""A zone changed while the worker stores a batch located in the old one, under true
concurrency (threads, one connection each, real transactions).

The edit has scored the waiting cards again and is about to commit; the worker's batch,
located in the old zone, reaches ``store_cards``. On PostgreSQL the batch waits on the
activation's row lock the edit holds, then reads the new zone and scores itself for it
(without the lock it would read the old, committed zone and store a card the edit never
saw). On SQLite (WAL, BEGIN IMMEDIATE) the single write lock gives the same order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from threads import start_thread

CARCASSONNE = "L'eau monte rue de la Gare à Carcassonne, des voitures coincées"


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: each thread's connection must see what the others commit."""


def test_a_batch_stored_during_the_edit_waits_and_takes_the_new_zone(org, members, paused_journal):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.sources import RawPost
    from beffroi.watch.worker import ActivationProcessor

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85128"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="import", config={})
    at = datetime(2026, 11, 24, tzinfo=UTC)
    processor = ActivationProcessor(activation, None)  # locates in the old zone
    # A first batch loads the pipeline's models: the one under test then takes no time
    # to reach store_cards, so the wait below is the lock's, not the models'.
    first = RawPost("file", str(source.pk), "0", "Digue fragile à Luçon ce soir", at)
    assert actions.receive_posts(source.pk, [first], {"i": "0"}) == 1
    assert processor.process() == 1
    post = RawPost("file", str(source.pk), "1", CARCASSONNE, at)
    assert actions.receive_posts(source.pk, [post], {"i": "1"}) == 1

    reached, go = paused_journal
    errors: list[BaseException] = []
    edit = start_thread(
        lambda: actions.update_activation(
            activation,
            name="Crue",
            event_type="inondation",
            keywords={},
            ends_at=None,
            area=["85128", "11"],
            actor=members["coordinator"],
        ),
        name="slow",  # held before its journal entry (paused_journal)
        errors=errors,
    )
    assert reached.wait(timeout=30)
    store = start_thread(processor.process, name="store", errors=errors)
    store.join(timeout=2.0)
    assert store.is_alive(), "the batch did not wait for the edit"
    go.set()
    edit.join(timeout=60)
    store.join(timeout=60)
    assert not errors, errors
    card = Card.objects.get(activation=activation, text=CARCASSONNE)
    assert card.in_area is True
    assert "dans la zone : Carcassonne" in card.explanation
    assert not Post.objects.filter(activation=activation, processed=False).exists()


def test_a_main_courante_line_added_during_an_edit_does_not_deadlock(org, members, paused_journal):
    """The edit locks the activation's row for no key update only: a line (or a card, a
    post) referencing the activation checks its foreign key when it commits, after taking
    the journal's head; with the row locked FOR UPDATE that check waited on the edit,
    which waited on the journal's head: PostgreSQL broke the deadlock by failing one."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85128"], actor=members["coordinator"]
    )
    reached, go = paused_journal
    errors: list[BaseException] = []
    edit = start_thread(
        lambda: actions.update_activation(
            activation,
            name="Crue de l'Aude",
            event_type="inondation",
            keywords={},
            ends_at=None,
            area=["85128", "11"],
            actor=members["coordinator"],
        ),
        name="slow",  # held before its journal entry (paused_journal)
        errors=errors,
    )
    assert reached.wait(timeout=30)
    line = start_thread(
        lambda: actions.add_log_entry(
            activation,
            actor=members["volunteer"],
            text="Appel : route coupée à Limoux",
            channel="telephone",
            category="routes",
        ),
        name="line",
        errors=errors,
    )
    line.join(timeout=2.0)
    go.set()
    edit.join(timeout=60)
    line.join(timeout=60)
    assert not errors, errors
    assert LogEntry.objects.filter(activation=activation).count() == 1
    assert JournalEntry.objects.filter(action="watch.activation.update").count() == 1
