"""A return to the queue under true concurrency (threads, one connection each, real
transactions): it is a row the worker learns from its watermark, so its id must follow
commit order like a decision's; and « Envoyer en main courante » sent from the decided
page while someone puts the card back in the queue waits for that change and refuses.

On PostgreSQL the transactions overlap: the held requeue holds the card's row lock, which
escalate_decided's SELECT … FOR UPDATE waits on (the previous view checked the card's state
before that and escalated a card back in the queue). On SQLite (WAL, BEGIN IMMEDIATE)
writers queue on the single write lock, so the same outcome comes from a serial order."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from threads import start_thread


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: each thread's connection must see what the others commit."""


@pytest.fixture
def cards(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    made = []
    for i in range(2):
        card = Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source_kind="mastodon",
            external_id=str(i),
            text=f"Route coupée n°{i} à Luçon",
            posted_at=timezone.now(),
        )
        actions.decide(card, "irrelevant", actor=members["volunteer"])
        made.append(card.pk)
    return made


def test_a_requeue_committed_later_never_gets_a_smaller_id(members, cards, paused_journal):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardDecision

    reached, go = paused_journal
    first, second = cards
    errors: list[BaseException] = []
    slow = start_thread(
        lambda: actions.return_to_queue(Card.objects.get(pk=first), actor=members["volunteer"]),
        name="slow",
        errors=errors,
    )
    assert reached.wait(timeout=30)
    fast = start_thread(
        lambda: actions.correct_decision(
            Card.objects.get(pk=second), "verified", actor=members["partner"]
        ),
        name="fast",
        errors=errors,
    )
    on_postgres = connection.vendor == "postgresql"
    fast.join(timeout=30 if on_postgres else 0.5)
    if on_postgres:
        assert not fast.is_alive(), "a decision on another card waited for the held requeue"
        learned_until = CardDecision.objects.latest("pk").pk  # what the worker would see now
    go.set()
    slow.join(timeout=60)
    fast.join(timeout=60)
    assert not errors, errors
    requeue = CardDecision.objects.get(card_id=first, decision="", source="")
    if on_postgres:
        assert requeue.pk > learned_until
    # Rows in id order are the journal's decisions and requeues in its order.
    by_id = [(f"card:{d.card_id}", d.decision) for d in CardDecision.objects.order_by("pk")]
    by_seq = [
        (e.subject, e.data.get("decision", ""))
        for e in JournalEntry.objects.filter(
            action__in=["watch.card.decide", "watch.card.requeue"]
        ).order_by("seq")
    ]
    assert by_id == by_seq


def test_a_card_sent_while_it_goes_back_to_the_queue_is_refused(members, cards, paused_journal):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry

    reached, go = paused_journal
    card_id = cards[0]
    # Read by the « send » request before the requeue: it still says « decided ».
    seen = Card.objects.get(pk=card_id)
    outcome: list[str] = []

    def send() -> None:
        try:
            actions.escalate_decided(seen, actor=members["volunteer"], category="routes")
        except actions.ActionError as exc:
            outcome.append(str(exc))
        else:
            outcome.append("sent")

    errors: list[BaseException] = []
    slow = start_thread(
        lambda: actions.return_to_queue(Card.objects.get(pk=card_id), actor=members["coordinator"]),
        name="slow",
        errors=errors,
    )
    assert reached.wait(timeout=30)
    fast = start_thread(send, name="fast", errors=errors)
    fast.join(timeout=0.5)
    assert fast.is_alive(), "the send did not wait for the card's row"
    go.set()
    slow.join(timeout=60)
    fast.join(timeout=60)
    assert not errors, errors
    assert outcome == ["Cette carte n'est plus parmi les cartes traitées."]
    assert Card.objects.get(pk=card_id).state == "queued"
    assert not LogEntry.objects.exists()
    assert not JournalEntry.objects.filter(action="watch.card.escalate").exists()
