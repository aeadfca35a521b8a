"""Claim, release and decide under true concurrency (issue #5 item 4).

Several threads, each a different volunteer with its own database connection,
are released together by a barrier and act on the same card, round after round
on fresh cards.  Whatever order the database lets them through in, the outcome
must be one a serial order could give: one claim winner per card, the losers
refused with the action's own message, and one journal entry per change that
really happened (none for a refused one).

On PostgreSQL the actions truly overlap: each conditional UPDATE waits on the
row lock of the first and then re-checks its WHERE clause on the committed row.
A read-then-write claim (SELECT "is it free?", then UPDATE) gives several
winners per card there; this file was checked to catch it.
On SQLite (WAL, ``BEGIN IMMEDIATE``) the threads queue on the single write lock
(the 20 s busy timeout is never reached, no "database is locked"), so whole
transactions run one after another: the run there checks every refusal path
and the final states under varied serial orders, but would not catch a
read-then-write.  It is kept because the embedded default must refuse the
same way.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

TAKEN = "Cette carte est déjà prise par une autre personne."
SETTLED = "Cette carte a déjà été traitée."
NOT_YOURS = "Vous n'avez pas pris cette carte."
# A decision on a card someone settled is refused (corrections go through their own page).
DECIDED_ALREADY = "Cette carte a déjà été traitée ("
IN_COURANTE = "Cette carte est déjà dans la main courante : requalifiez-la depuis sa ligne."


def _refused_as_settled(error: str | None) -> bool:
    return bool(error) and (error.startswith(DECIDED_ALREADY) or error == IN_COURANTE)


VOLUNTEERS = 6
ROUNDS = 12
STAGGER = 0.01  # seconds
DECISIONS = ["irrelevant", "relevant", "to_verify", "verified", "rumour", "false"]


@dataclass(frozen=True)
class Step:
    """What one thread does in one round: ``op`` on card ``card_id`` as ``user``."""

    op: str
    user: Any
    card_id: int
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    step: Step
    error: str | None  # the ActionError message; None when the action went through

    @property
    def won(self) -> bool:
        return self.error is None


def _act(step: Step) -> Callable[[], Any]:
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    # Read before the barrier, as a web request would have: the race is
    # between the actions' writes, not between the reads.
    card = Card.objects.get(pk=step.card_id)
    action = getattr(actions, step.op)
    return lambda: action(card, actor=step.user, **step.kwargs)


def run_rounds(rounds: list[list[Step]]) -> list[list[Outcome]]:
    """Run ``rounds[r][i]`` in thread ``i``, all threads of a round released at once.

    The threads live for the whole run (one connection each, closed at the
    end); an unexpected exception in any of them fails the test.

    Released all at once, the same kinds of action tend to reach the database
    in the same order (the cheapest Python path first), so every other round
    starts the threads in a seeded random order, ``STAGGER`` apart: short
    enough for the actions to overlap, long enough to vary who gets there first.
    """
    from beffroi.core.actions import ActionError

    width = len(rounds[0])
    assert all(len(r) == width for r in rounds)
    barrier = threading.Barrier(width)
    results: list[list[Outcome | None]] = [[None] * width for _ in rounds]
    crashes: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for r, steps in enumerate(rounds):
                go = _act(steps[i])
                rank = random.Random(r).sample(range(width), width)[i] if r % 2 else 0
                barrier.wait(timeout=60)
                time.sleep(rank * STAGGER)
                try:
                    go()
                except ActionError as exc:
                    results[r][i] = Outcome(steps[i], str(exc))
                else:
                    results[r][i] = Outcome(steps[i], None)
        except BaseException as exc:
            crashes.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(i,), name=f"volunteer-{i}") for i in range(width)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    if crashes:
        raise crashes[0]
    done: list[list[Outcome]] = []
    for row in results:
        assert all(o is not None for o in row)
        done.append([o for o in row if o is not None])
    return done


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: each thread's connection must see what the others commit."""


@pytest.fixture
def volunteers(org: Any) -> list[Any]:
    from beffroi.core import actions
    from beffroi.core.models import Role

    users = []
    for i in range(VOLUNTEERS + 1):
        user = actions.create_account(f"veilleur{i}", "pw-test-123456")
        actions.set_role(user, org, Role.VOLUNTEER, actor=None)
        users.append(user)
    return users


@pytest.fixture
def make_cards(org: Any, volunteers: list[Any]) -> Callable[[int], list[int]]:
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue de la Vendée", event_type="inondation", area=["85"]
    )
    made = 0

    def make(n: int) -> list[int]:
        nonlocal made
        now = timezone.now()
        ids = []
        for _ in range(n):
            made += 1
            card = Card.objects.create(
                activation=activation,
                group_id=f"g{made}",
                source_kind="mastodon",
                external_id=str(made),
                text=f"Route coupée n°{made} à Luçon",
                posted_at=now,
                priority=0.5,
            )
            ids.append(card.pk)
        return ids

    return make


def _journal(action: str, card_id: int) -> list[Any]:
    from beffroi.core.models import JournalEntry

    return list(
        JournalEntry.objects.filter(action=action, subject=f"card:{card_id}").order_by("seq")
    )


def _chain_intact() -> None:
    from beffroi.core import journal

    assert journal.verify() is None


def _decisions_follow_the_journal() -> None:
    """The worker learns decisions in id order from a watermark (``pk > learned_until``),
    so ids must be handed out in commit order: the same order as the journal."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import CardDecision

    by_id = [
        (f"card:{d.card_id}", d.actor_id, d.decision)
        for d in CardDecision.objects.exclude(decision="").order_by("pk")
    ]
    by_seq = [
        (e.subject, e.actor_id, e.data["decision"])
        for e in JournalEntry.objects.filter(action="watch.card.decide").order_by("seq")
    ]
    assert by_id == by_seq


def _split(outcomes: list[Outcome], op: str) -> tuple[list[Outcome], list[Outcome]]:
    mine = [o for o in outcomes if o.step.op == op]
    return [o for o in mine if o.won], [o for o in mine if not o.won]


def test_one_winner_per_card_among_many_claimants(
    volunteers: list[Any], make_cards: Callable[[int], list[int]]
) -> None:
    from beffroi.watch.models import Card

    racers, former = volunteers[:VOLUNTEERS], volunteers[VOLUNTEERS]
    cards = make_cards(ROUNDS)
    # Every third card was claimed long ago by someone who left: taking an
    # abandoned card over must be just as exclusive.
    abandoned = set(cards[::3])
    Card.objects.filter(pk__in=abandoned).update(
        claimed_by=former, claimed_at=timezone.now() - timedelta(hours=1)
    )
    rounds = [[Step("claim", user, card) for user in racers] for card in cards]

    for card_id, outcomes in zip(cards, run_rounds(rounds), strict=True):
        won, lost = _split(outcomes, "claim")
        assert len(won) == 1, f"card {card_id}: {len(won)} winners"
        assert {o.error for o in lost} == {TAKEN}
        winner = won[0].step.user
        card = Card.objects.get(pk=card_id)
        assert (card.state, card.claimed_by_id) == ("queued", winner.pk)
        entries = _journal("watch.card.claim", card_id)
        assert [e.actor_id for e in entries] == [winner.pk]
    _chain_intact()


def test_claims_racing_decisions_settle_one_way(
    volunteers: list[Any], make_cards: Callable[[int], list[int]]
) -> None:
    """Half the volunteers claim a free card while the other half decide it.

    Serially there are only two outcomes: a claim goes first (it wins, every
    decision is then refused because someone holds the card), or a decision
    goes first (the card is settled: every other decision and every claim is
    refused as already handled; a verdict is corrected from its own page).
    """
    from beffroi.watch.models import Card, CardDecision

    claimers, deciders = volunteers[:3], volunteers[3:VOLUNTEERS]
    cards = make_cards(ROUNDS)
    rounds = []
    for r, card in enumerate(cards):
        steps = [Step("claim", u, card) for u in claimers]
        steps += [
            Step("decide", u, card, {"decision": DECISIONS[(r + j) % len(DECISIONS)]})
            for j, u in enumerate(deciders)
        ]
        # Alternate who is started first, so neither kind always has a head start.
        rounds.append(steps if r % 2 else steps[::-1])

    for card_id, outcomes in zip(cards, run_rounds(rounds), strict=True):
        claims_won, claims_lost = _split(outcomes, "claim")
        decides_won, decides_lost = _split(outcomes, "decide")
        card = Card.objects.get(pk=card_id)
        claim_entries = _journal("watch.card.claim", card_id)
        decide_entries = _journal("watch.card.decide", card_id)
        if claims_won:
            assert len(claims_won) == 1 and not decides_won
            assert {o.error for o in claims_lost + decides_lost} == {TAKEN}
            holder = claims_won[0].step.user
            assert (card.state, card.claimed_by_id, card.decision) == ("queued", holder.pk, "")
            assert [e.actor_id for e in claim_entries] == [holder.pk]
            assert not decide_entries and not CardDecision.objects.filter(card=card).exists()
        else:
            assert len(decides_won) == 1
            assert all(_refused_as_settled(o.error) for o in decides_lost)
            assert {o.error for o in claims_lost} == {SETTLED}
            assert not claim_entries and len(decide_entries) == 1
            # The card keeps the one decision that went through.
            last = decide_entries[-1]
            assert last.actor_id == decides_won[0].step.user.pk
            assert (card.state, card.claimed_by_id) == ("decided", None)
            assert (card.decided_by_id, card.decision) == (last.actor_id, last.data["decision"])
            assert CardDecision.objects.filter(card=card).count() == 1
    _decisions_follow_the_journal()
    _chain_intact()


HOLDER_MOVES: dict[str, dict[str, Any]] = {
    "release": {},
    "decide": {"decision": "verified", "notes": "confirmé par la mairie"},
    "escalate": {"category": "degats"},
}


@pytest.mark.parametrize("move", sorted(HOLDER_MOVES))
def test_holder_settles_while_others_grab(
    move: str, volunteers: list[Any], make_cards: Callable[[int], list[int]]
) -> None:
    """The holder of a card releases, decides or escalates it at the very moment
    the others try to claim it, decide it or release it."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardDecision, LogEntry

    holder, claimers, rival, stranger = (
        volunteers[0],
        volunteers[1:4],
        volunteers[4],
        volunteers[5],
    )
    cards = make_cards(ROUNDS)
    for card_id in cards:
        actions.claim(Card.objects.get(pk=card_id), actor=holder)
    rounds = []
    for r, card in enumerate(cards):
        steps = [Step(move, holder, card, HOLDER_MOVES[move])]
        # The same volunteer's second tab: a double click must not act twice.
        steps.append(Step(move, holder, card, HOLDER_MOVES[move]))
        steps += [Step("claim", u, card) for u in claimers]
        steps.append(Step("decide", rival, card, {"decision": "rumour"}))
        steps.append(Step("release", stranger, card))
        rounds.append(steps if r % 2 else steps[::-1])

    for card_id, outcomes in zip(cards, run_rounds(rounds), strict=True):
        card = Card.objects.get(pk=card_id)
        holder_won = [o for o in outcomes if o.step.user == holder and o.won]
        holder_lost = [o for o in outcomes if o.step.user == holder and not o.won]
        claims_won, claims_lost = _split([o for o in outcomes if o.step.user != holder], "claim")
        rival_outcome = next(o for o in outcomes if o.step.user == rival)
        stranger_outcome = next(o for o in outcomes if o.step.user == stranger)
        assert len(claims_won) <= 1
        # A stranger never held the card, whoever holds it now.
        assert stranger_outcome.error == NOT_YOURS
        releases = _journal("watch.card.release", card_id)
        assert [e.actor_id for e in releases] == ([holder.pk] if move == "release" else [])
        claim_entries = _journal("watch.card.claim", card_id)
        # One claim entry is the holder's own claim made before the race.
        assert [e.actor_id for e in claim_entries] == [holder.pk] + [
            o.step.user.pk for o in claims_won
        ]

        if move == "release":
            # Exactly one of the two tabs releases; the other finds the card no
            # longer held by its volunteer.
            assert len(holder_won) == 1 and [o.error for o in holder_lost] == [NOT_YOURS]
            if rival_outcome.won:
                # The rival decided the freed card first: it is settled, so
                # every later claim is refused as already handled.
                assert not claims_won
                assert (card.state, card.claimed_by_id, card.decision) == (
                    "decided",
                    None,
                    "rumour",
                )
                assert {o.error for o in claims_lost} <= {TAKEN, SETTLED}
            else:
                assert rival_outcome.error == TAKEN
                assert card.state == "queued" and card.decision == ""
                assert {o.error for o in claims_lost} <= {TAKEN}
                taker = claims_won[0].step.user.pk if claims_won else None
                assert card.claimed_by_id == taker
            continue

        # decide and escalate: the holder's first tab always goes through, and
        # nobody can claim the card any more.
        assert not claims_won
        assert {o.error for o in claims_lost} <= {TAKEN, SETTLED}
        assert card.claimed_by_id is None
        if move == "decide":
            # The second tab finds the card settled, as the rival does (or finds it
            # held): one decision, journaled once.
            assert len(holder_won) == 1
            assert all(_refused_as_settled(o.error) for o in holder_lost)
            assert not rival_outcome.won
            assert rival_outcome.error == TAKEN or _refused_as_settled(rival_outcome.error)
            entries = _journal("watch.card.decide", card_id)
            assert len(entries) == 1
            assert CardDecision.objects.filter(card=card).count() == 1
            assert card.state == "decided"
            assert (card.decided_by_id, card.decision) == (holder.pk, "verified")
        else:
            # One main courante line, whoever's tab came second.
            assert len(holder_won) == 1
            assert [o.error for o in holder_lost] == ["Cette carte est déjà dans la main courante."]
            assert LogEntry.objects.filter(card=card).count() == 1
            assert len(_journal("watch.card.escalate", card_id)) == 1
            assert card.state == "escalated"
            # The rival meets the card held, or already in the main courante.
            assert not rival_outcome.won
            assert rival_outcome.error == TAKEN or _refused_as_settled(rival_outcome.error)
            assert card.decision == ""
    _decisions_follow_the_journal()
    _chain_intact()


def test_abandoned_card_decided_by_its_holder_while_others_take_it_over(
    volunteers: list[Any], make_cards: Callable[[int], list[int]]
) -> None:
    """A volunteer comes back to a card whose claim went stale and decides it
    just as the others take it over: either the decision goes first (the card
    is settled, every claim refused as handled) or one claim does (the holder
    is refused, the card is the taker's); never both, never two takers."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardDecision

    holder, others = volunteers[0], volunteers[1:VOLUNTEERS]
    cards = make_cards(ROUNDS)
    for card_id in cards:
        actions.claim(Card.objects.get(pk=card_id), actor=holder)
    Card.objects.filter(pk__in=cards).update(claimed_at=timezone.now() - 2 * actions.CLAIM_TIMEOUT)
    rounds = []
    for r, card in enumerate(cards):
        steps = [Step("decide", holder, card, {"decision": "verified"})]
        steps += [Step("claim", u, card) for u in others]
        rounds.append(steps if r % 2 else steps[::-1])

    for card_id, outcomes in zip(cards, run_rounds(rounds), strict=True):
        card = Card.objects.get(pk=card_id)
        decided, refused = _split(outcomes, "decide")
        claims_won, claims_lost = _split(outcomes, "claim")
        claim_entries = [e.actor_id for e in _journal("watch.card.claim", card_id)]
        decide_entries = [e.actor_id for e in _journal("watch.card.decide", card_id)]
        assert len(decided) + len(claims_won) == 1
        if decided:
            assert {o.error for o in claims_lost} == {SETTLED}
            assert (card.state, card.claimed_by_id, card.decided_by_id) == (
                "decided",
                None,
                holder.pk,
            )
            assert claim_entries == [holder.pk] and decide_entries == [holder.pk]
        else:
            taker = claims_won[0].step.user
            assert [o.error for o in refused] == [TAKEN]
            assert {o.error for o in claims_lost} == {TAKEN}
            assert (card.state, card.claimed_by_id, card.decision) == ("queued", taker.pk, "")
            assert claim_entries == [holder.pk, taker.pk] and not decide_entries
            assert not CardDecision.objects.filter(card=card).exists()
    _decisions_follow_the_journal()
    _chain_intact()


@pytest.mark.parametrize("held_action", ["decide", "correct_source"])
def test_a_decision_committed_later_never_gets_a_smaller_id(
    held_action: str,
    volunteers: list[Any],
    make_cards: Callable[[int], list[int]],
    paused_journal: tuple[threading.Event, threading.Event],
) -> None:
    """Two volunteers decide two different cards; the first is held just before
    its journal entry while the second commits.  The worker has by then learned
    the second decision and moved its watermark past its id: the first must
    get a larger id, or it would never be learned.  The held change is a decision
    or a source correction: both are lessons the worker reads by that watermark.

    On SQLite the held thread owns the write lock, so the second cannot commit
    until it is let go (after a short wait): the order is then simply serial.
    """
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardDecision

    reached, go = paused_journal
    first, second = make_cards(2)
    errors: list[BaseException] = []

    def decide(card_id: int, user: Any, decision: str) -> None:
        try:
            card = Card.objects.get(pk=card_id)
            if decision == "correct_source":
                actions.correct_source(card, "NGOs", actor=user)
            else:
                actions.decide(card, decision, actor=user)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    slow = threading.Thread(
        target=decide,
        args=(first, volunteers[0], "verified" if held_action == "decide" else held_action),
        name="slow",
    )
    fast = threading.Thread(target=decide, args=(second, volunteers[1], "false"), name="fast")
    slow.start()
    assert reached.wait(timeout=30)
    fast.start()
    on_postgres = connection.vendor == "postgresql"
    fast.join(timeout=30 if on_postgres else 0.5)
    if on_postgres:
        # Nothing of the first decision's may stand in the second's way.
        assert not fast.is_alive(), "a decision on another card waited for the held one"
        learned_until = CardDecision.objects.get().pk  # what the worker would see now
    go.set()
    slow.join(timeout=60)
    fast.join(timeout=60)
    assert not errors, errors
    if on_postgres:
        assert CardDecision.objects.get(card_id=first).pk > learned_until
    _decisions_follow_the_journal()
    _chain_intact()
