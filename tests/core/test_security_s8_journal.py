"""Journal tamper-evidence, session 8 review: the append-only triggers must hold
against every SQL way of rewriting a row, and the journal must not stop an
account or an organisation from being deleted (its lines keep their ids and
names, and the chain still verifies)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from beffroi.core import actions, journal
from beffroi.core.models import JournalEntry, Organisation


def _row(seq: int) -> tuple[list[str], list[object]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_journalentry WHERE seq = %s", [seq])
        columns = [d[0] for d in cursor.description]
        return columns, list(cursor.fetchone())


def _rewrite_sql(columns: list[str]) -> str:
    """An insert that, where the row exists, replaces it (SQLite's REPLACE deletes the
    old row without firing its DELETE trigger) or updates it (PostgreSQL's upsert)."""
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    if connection.vendor == "sqlite":
        return f"INSERT OR REPLACE INTO core_journalentry ({names}) VALUES ({marks})"
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "seq")
    return (
        f"INSERT INTO core_journalentry ({names}) VALUES ({marks}) "
        f"ON CONFLICT (seq) DO UPDATE SET {sets}"
    )


@pytest.mark.parametrize("same_id", [True, False])
def test_an_insert_cannot_replace_a_journal_line(db, same_id):
    for n in range(3):
        journal.append("test.event", subject=f"thing:{n}")
    columns, row = _row(2)
    row[columns.index("subject")] = "forged"
    if not same_id:
        # A new id with the old line's number: the unique seq is the conflict.
        row[columns.index("id")] = 10_000
    with (
        pytest.raises((DatabaseError, IntegrityError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(_rewrite_sql(columns), row)
    assert JournalEntry.objects.get(seq=2).subject == "thing:1"
    assert JournalEntry.objects.count() == 3
    assert journal.verify() is None


def test_plain_appends_still_work_after_the_guard(db):
    for n in range(5):
        journal.append("test.event", subject=f"thing:{n}")
    assert list(JournalEntry.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert journal.verify() is None


def test_an_account_named_in_the_journal_can_be_deleted(db):
    org = actions.create_organisation("Mairie", "mairie")
    user = actions.create_account("benevole", "pw-test-123456")
    actions.set_role(user, org, "volunteer", actor=None)
    journal.append("test.event", actor=user, organisation=org, subject="x")
    user_id = user.pk
    user.delete()  # refused before: SET_NULL tried to UPDATE the journal
    entry = JournalEntry.objects.get(action="test.event")
    # The line is untouched: the id it was hashed with and the name at the time.
    assert entry.actor_id == user_id
    assert entry.actor_label == "benevole"
    assert journal.verify() is None


def test_an_organisation_named_in_the_journal_can_be_deleted(db):
    org = actions.create_organisation("Mairie", "mairie")
    journal.append("test.event", organisation=org, subject="x")
    org_id = org.pk
    Organisation.objects.filter(pk=org_id).delete()
    assert JournalEntry.objects.get(action="test.event").organisation_id == org_id
    assert journal.verify() is None
