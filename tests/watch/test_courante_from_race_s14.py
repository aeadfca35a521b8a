"""Two volunteers change the status (or verification) of one main courante line at the
same moment, each from a page that loaded it « ouvert »: threads with a connection each,
real transactions. The first holds the line's row until it commits (it is paused just
before its journal entry); the second waits for it, then journals the first one's value
as its "from", not the value its page loaded. On SQLite the write lock orders them the
same way; on PostgreSQL the row lock does (read without it, the second journaled
« ouvert »)."""

from __future__ import annotations

import pytest

from threads import start_thread

pytestmark = pytest.mark.usesdb


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: each thread's connection must see what the others commit."""


@pytest.mark.parametrize(
    ("action", "journaled", "first", "second", "start"),
    [
        ("update_log_status", "watch.log.status", "en-cours", "clos", "ouvert"),
        ("requalify_entry", "watch.log.verify", "rumour", "false", ""),
    ],
)
def test_the_second_change_journals_the_first_ones_value_as_its_from(
    org, members, paused_journal, action, journaled, first, second, start
):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    line = actions.add_log_entry(
        activation, actor=members["volunteer"], text="Appel : cave inondée",
        channel="telephone", category="degats",
    )  # fmt: skip
    change = getattr(actions, action)
    pages = [LogEntry.objects.get(pk=line.pk) for _ in range(2)]  # both loaded it as it was
    reached, go = paused_journal
    errors: list[BaseException] = []
    slow = start_thread(
        lambda: change(pages[0], first, actor=members["volunteer"]), name="slow", errors=errors
    )
    assert reached.wait(timeout=30)
    other = start_thread(
        lambda: change(pages[1], second, actor=members["coordinator"]), name="other", errors=errors
    )
    other.join(timeout=1.0)
    assert other.is_alive(), "the second change did not wait for the first"
    go.set()
    slow.join(timeout=60)
    other.join(timeout=60)
    assert not errors, errors
    froms = [
        (e.data["from"], e.data["to"])
        for e in JournalEntry.objects.filter(action=journaled).order_by("seq")
    ]
    assert froms == [(start, first), (first, second)]
    assert courante_verify.check().ok
