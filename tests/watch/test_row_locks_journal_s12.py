"""Row locks and the journal's head, under true concurrency (threads, one connection each,
real transactions; docs/decisions/0002-journal.md, "Lock order").

A transaction that holds the journal's head until it commits must never then wait for a
lock that another transaction took before asking for the head: PostgreSQL would find the
cycle and fail one of them. On SQLite (WAL, BEGIN IMMEDIATE) the single write lock runs
the two one after the other, and these tests just pass."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from threads import start_thread
from watch_rooms import decision_room


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: each thread's connection must see what the others commit."""


def test_an_escalation_with_a_verdict_and_a_line_typed_at_once_both_commit(
    org, members, paused_journal
):
    """A line typed by hand has taken the next number (its row is inserted, not yet
    committed) and is about to take the journal's head. A card escalated with a verdict
    at that moment journaled its decision first (so held the head), then inserted its line
    with the same number and waited for the typed line's transaction: a deadlock on
    PostgreSQL. The escalation now takes its line's number before the head."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation, (card,) = decision_room(
        org, members["coordinator"], ["Digue rompue à Luçon, maisons inondées"]
    )
    reached, go = paused_journal
    errors: list[BaseException] = []
    typed = start_thread(
        lambda: actions.add_log_entry(
            activation,
            actor=members["coordinator"],
            text="Appel : route coupée à Luçon",
            channel="telephone",
            category="routes",
        ),
        name="slow",
        errors=errors,
    )
    assert reached.wait(timeout=30)
    escalated = start_thread(
        lambda: actions.escalate(
            card, actor=members["volunteer"], category="personnes", decision="verified"
        ),
        name="escalate",
        errors=errors,
    )
    escalated.join(timeout=2.0)
    go.set()
    typed.join(timeout=60)
    escalated.join(timeout=60)
    assert not errors, errors
    lines = LogEntry.objects.filter(activation=activation)
    assert sorted(lines.values_list("number", flat=True)) == [1, 2]
    assert lines.get(card=card).verification == "verified"
    actions_done = list(
        JournalEntry.objects.filter(action__startswith="watch.").values_list("action", flat=True)
    )
    # The decision is journaled before its escalation, as when escalate called decide().
    assert actions_done.index("watch.card.decide") < actions_done.index("watch.card.escalate")
    assert "watch.log.add" in actions_done


def test_an_export_request_does_not_hold_up_the_main_courante(org, members, monkeypatch):
    """Counting an activation's exports waiting locks its row, until the job is queued. A
    line committing meanwhile checks its foreign key on that row, holding the journal's
    head: with FOR UPDATE it waited for the export request, and every action of every
    organisation waited behind it. FOR NO KEY UPDATE lets the check through (PostgreSQL;
    on SQLite the request holds the database's write lock and the line waits its turn)."""
    from beffroi.watch import actions, tasks
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85128"], actor=members["coordinator"]
    )
    reached, go = threading.Event(), threading.Event()
    limit = tasks.max_pending_exports

    def slow_limit() -> int:
        # Inside the locked step: the activation's row is held.
        if threading.current_thread().name == "export":
            reached.set()
            go.wait(timeout=30)
        return limit()

    monkeypatch.setattr(tasks, "max_pending_exports", slow_limit)
    errors: list[BaseException] = []
    export = start_thread(
        lambda: tasks.request_export(
            activation.pk, "csv", {}, partner=False, filename="main-courante.csv"
        ),
        name="export",
        errors=errors,
    )
    try:
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
        line.join(timeout=5.0)
        if connection.vendor == "postgresql":
            assert not line.is_alive(), "the line waited for the export request"
    finally:
        go.set()
    export.join(timeout=60)
    line.join(timeout=60)
    assert not errors, errors
    assert LogEntry.objects.filter(activation=activation).count() == 1
