"""The actor's name a journal line shows is part of its hash (format 2), and journals
written before that still verify (format 1)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from beffroi.cli import main
from beffroi.core import chain, journal
from beffroi.core.models import JournalEntry


def _line(seq, prev, *, version, label="alice", action="a"):
    entry = {
        "seq": seq,
        "at": f"2026-11-24T06:00:0{seq}.000000Z",
        "actor": 7,
        "actor_label": label,
        "organisation": None,
        "action": action,
        "subject": "",
        "reason": "",
        "rule": "",
        "data": {},
        "prev_hash": prev,
    }
    entry["hash"] = chain.entry_hash(entry, prev, version=version)
    return entry


def _chain(versions):
    lines, prev = [], chain.GENESIS
    for seq, version in enumerate(versions, start=1):
        lines.append(_line(seq, prev, version=version))
        prev = lines[-1]["hash"]
    return lines


def test_the_two_formats_never_give_the_same_hash():
    line = _line(1, chain.GENESIS, version=2)
    assert chain.entry_hash(line, chain.GENESIS, version=1) != line["hash"]


@pytest.mark.parametrize("versions", [[1, 1, 1], [2, 2, 2], [1, 1, 2, 2]])
def test_old_new_and_mixed_journals_verify(versions):
    assert chain.verify(_chain(versions)) is None


def test_a_renamed_actor_breaks_a_format_2_line():
    lines = _chain([1, 2, 2])
    lines[1]["actor_label"] = "mallory"
    broken = chain.verify(lines)
    assert broken is not None and broken.seq == 2


def test_a_format_2_line_rewritten_in_format_1_is_refused():
    # Renaming the actor and re-hashing the line (and the rest) in the old format, which
    # does not see the name, must not pass for an old line.
    lines = _chain([2, 2, 2])
    prev = lines[0]["hash"]
    for line in lines[1:]:
        line["actor_label"] = "mallory"
        line["prev_hash"] = prev
        line["hash"] = chain.entry_hash(line, prev, version=1)
        prev = line["hash"]
    broken = chain.verify(lines)
    assert broken is not None and broken.seq == 2
    assert "actor's name" in broken.problem


def test_the_app_hashes_the_actors_name(db, capsys):
    user = get_user_model().objects.create_user("claire", password="x" * 12)
    journal.append("test.event", actor=user, subject="thing")
    entry = JournalEntry.objects.get()
    assert entry.actor_label == "claire"
    assert main(["journal", "verify"]) == 0
    capsys.readouterr()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_journalentry_no_update")
        else:
            cursor.execute("ALTER TABLE core_journalentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE core_journalentry SET actor_label = 'mallory'")
    assert main(["journal", "verify"]) == 1
    assert "#1" in capsys.readouterr().out
