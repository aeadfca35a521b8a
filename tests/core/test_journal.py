import pytest
from django.db import DatabaseError, connection, transaction

from beffroi.cli import main
from beffroi.core import chain, journal
from beffroi.core.models import JournalEntry


def _append_three():
    for n in range(3):
        journal.append("test.event", subject=f"thing:{n}", data={"n": n, "é": "ü"})


def test_entries_are_chained(db):
    _append_three()
    entries = list(JournalEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == chain.GENESIS
    assert entries[1].prev_hash == entries[0].hash
    assert journal.verify() is None


@pytest.mark.parametrize("statement", ["UPDATE", "DELETE"])
def test_database_refuses_update_and_delete(db, statement):
    _append_three()
    sql = {
        "UPDATE": "UPDATE core_journalentry SET reason = 'rewritten' WHERE seq = 2",
        "DELETE": "DELETE FROM core_journalentry WHERE seq = 2",
    }[statement]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert JournalEntry.objects.get(seq=2).reason == ""


def _disable_triggers(cursor):
    if connection.vendor == "sqlite":
        cursor.execute("DROP TRIGGER core_journalentry_no_update")
        cursor.execute("DROP TRIGGER core_journalentry_no_delete")
    else:
        cursor.execute("ALTER TABLE core_journalentry DISABLE TRIGGER USER")


def test_verify_names_an_entry_edited_behind_the_apps_back(db, capsys):
    _append_three()
    with connection.cursor() as cursor:
        _disable_triggers(cursor)
        cursor.execute("UPDATE core_journalentry SET subject = 'forged' WHERE seq = 2")
    assert main(["journal", "verify"]) == 1
    out = capsys.readouterr().out
    assert "#2" in out and "BROKEN" in out


def test_verify_finds_a_deleted_entry(db, capsys):
    _append_three()
    with connection.cursor() as cursor:
        _disable_triggers(cursor)
        cursor.execute("DELETE FROM core_journalentry WHERE seq = 2")
    assert main(["journal", "verify"]) == 1
    assert "#2 is missing" in capsys.readouterr().out


def test_verify_finds_truncated_tail(db, capsys):
    _append_three()
    with connection.cursor() as cursor:
        _disable_triggers(cursor)
        cursor.execute("DELETE FROM core_journalentry WHERE seq = 3")
    assert main(["journal", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_verify_ok(db, capsys):
    _append_three()
    assert main(["journal", "verify"]) == 0
    assert "3 entries" in capsys.readouterr().out


def test_pure_chain_detects_reordering():
    a = {
        "seq": 1,
        "at": "t",
        "actor": None,
        "actor_label": "",
        "organisation": None,
        "action": "a",
        "subject": "",
        "reason": "",
        "rule": "",
        "data": {},
    }
    a["prev_hash"], a["hash"] = chain.GENESIS, chain.entry_hash(a, chain.GENESIS)
    b = dict(a, seq=2, action="b", prev_hash=a["hash"])
    b["hash"] = chain.entry_hash(b, a["hash"])
    assert chain.verify([a, b]) is None
    assert chain.verify([b, a]) is not None
