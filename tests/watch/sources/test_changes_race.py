"""An author's edit arriving while the worker makes the post's card.

The sink (a source thread) and the worker (another thread) each have their
own database connection. The worker has written the card and marked the post
processed but not committed yet when the edit comes in. On PostgreSQL (read
committed), an edit that read the post without a lock would see it
unprocessed and leave the change pending, while the worker's look-up of
pending changes, made before the edit was committed, missed it: the card
would never show the edit. The row lock in ``record_post_edit`` makes the
edit wait for the worker's commit. On SQLite the transactions queue on the
single write lock, and the outcome must be the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction


def _while_held(hold: Callable[[], object], change: Callable[[], object]) -> None:
    """Run ``hold`` in a transaction left open, then ``change`` in a second thread
    (each on its own connection): ``change`` must wait for that transaction (the
    race is on), and both must end cleanly once it commits."""
    held = threading.Event()
    commit = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                hold()
                held.set()
                commit.wait(10)
        except BaseException as exc:
            errors.append(exc)
            held.set()
        finally:
            connection.close()

    def second() -> None:
        try:
            change()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert held.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive()  # the change waits for the held transaction
    commit.set()
    a.join(30)
    b.join(30)
    assert not errors, errors
    assert not a.is_alive() and not b.is_alive()


def _received_post(org: Any, members: Any) -> tuple[Any, Any, datetime]:
    """An activation with a Mastodon source that has received post "1"."""
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources import RawPost

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="mastodon", name="m", config={})
    when = datetime(2026, 11, 23, 3, tzinfo=UTC)
    actions.receive_items(
        source.pk, [RawPost("mastodon", str(source.pk), "1", "Digue fissurée", when)], {"v": 1}
    )
    return activation, source, when


@pytest.mark.slow
def test_an_edit_during_the_cards_commit_reaches_the_card(transactional_db, org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, PostChange
    from beffroi.watch.sources import RawPost
    from beffroi.watch.sources.base import PostChange as Change
    from beffroi.watch.worker import ActivationProcessor

    activation, source, when = _received_post(org, members)
    new = RawPost("mastodon", str(source.pk), "1", "Digue rompue, évacuez", when)
    edit = Change("edit", "mastodon", str(source.pk), "1", at=when, post=new)

    _while_held(
        lambda: ActivationProcessor(activation, None).process(),
        lambda: actions.receive_items(source.pk, [edit], {"v": 1}),
    )
    change = PostChange.objects.get()
    assert change.applied_at is not None
    card = Card.objects.get(source=source, external_id="1")
    assert card.text == "Digue rompue, évacuez" and card.author_edited_at == when


@pytest.mark.slow
def test_a_deletion_during_an_escalation_withdraws_the_new_line(transactional_db, org, members):
    """A volunteer escalates the card (main courante line written, not yet
    committed) when the author's deletion arrives. Had the deletion read the
    card's lines before the escalation committed, the new line would keep the
    deleted text for partners: the deletion waits on the card's row lock, then
    reads the lines."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry
    from beffroi.watch.sources.base import PostChange as Change
    from beffroi.watch.worker import ActivationProcessor

    activation, source, when = _received_post(org, members)
    assert ActivationProcessor(activation, None).process() == 1
    card = Card.objects.get(source=source, external_id="1")
    deletion = Change("delete", "mastodon", str(source.pk), "1", at=when)

    _while_held(
        lambda: actions.escalate(card, actor=members["coordinator"], category="autre"),
        lambda: actions.receive_items(source.pk, [deletion], {"v": 1}),
    )
    entry = LogEntry.objects.get(card=card)
    assert entry.author_deleted_at == when
    assert entry.withdrawn_text == "Digue fissurée"
    assert "Digue fissurée" not in entry.text
