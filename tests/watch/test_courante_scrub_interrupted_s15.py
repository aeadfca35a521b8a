"""A handle repair stopped at any point leaves no false alarm in the main courante check:
each batch that rewrites lines journals their new digests in its own transaction
(docs/decisions/courante-digest.md, "The handle repair")."""

from __future__ import annotations

import pytest
from django.db import connection

from watch_rooms import courante_quoting

pytestmark = pytest.mark.usesdb

OLD = "RT@xtianvincent: Stranded in flood"


def _room(org, members, n=3):
    """An activation with ``n`` cards quoting a handle, each with its post and a main
    courante line stored before the rule, then touched through a door (so the journal
    holds their digests)."""
    from beffroi.watch import actions, courante_verify

    activation = actions.create_activation(
        org, name="Haiyan", event_type="inondation", actor=members["coordinator"]
    )
    lines = courante_quoting(activation, members["coordinator"], OLD, n)
    assert courante_verify.check().ok
    return activation, lines


class Died(Exception):
    """The process stops: nothing more reaches the database."""


@pytest.fixture
def dying(monkeypatch):
    """``die()`` makes every later journal append fail, as for a process killed or a
    database gone: the repair's last entry (its counts) is never written."""
    from beffroi.core import journal

    state = {"dead": False}
    real = journal.append

    def append(*args, **kwargs):
        if state["dead"]:
            raise Died
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, "append", append)

    def die():
        state["dead"] = True
        raise Died

    return die


@pytest.mark.parametrize("k", [1, 2])
def test_a_repair_stopped_after_batch_k_leaves_a_clean_check(org, members, dying, k):
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    activation, lines = _room(org, members)
    done = []

    def tick(kind, _n):
        if kind == "cards":
            done.append(kind)
            if len(done) == k:
                dying()

    with pytest.raises(Died):
        actions.scrub_handles(activation, batch_size=1, progress=tick)
    texts = [LogEntry.objects.get(pk=line.pk).text for line in lines]
    assert sum("xtianvincent" not in text for text in texts) == k
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]
    assert report.intact == 3


def test_a_repair_stopped_inside_a_batch_writes_nothing_of_it_and_a_rerun_finishes(
    org, members, monkeypatch
):
    from beffroi.watch import actions, courante_verify, scrub
    from beffroi.watch.models import LogEntry

    activation, lines = _room(org, members)
    real = scrub._write
    calls = []

    def write(model, rows, fields):
        real(model, rows, fields)
        if model is LogEntry and rows:
            calls.append(1)
            if len(calls) == 2:
                # After the second batch's lines are written, before their digests.
                raise Died

    monkeypatch.setattr(scrub, "_write", write)
    with pytest.raises(Died):
        actions.scrub_handles(activation, batch_size=1)
    texts = [LogEntry.objects.get(pk=line.pk).text for line in lines]
    assert ["xtianvincent" in text for text in texts] == [False, True, True]
    assert courante_verify.check().ok

    monkeypatch.setattr(scrub, "_write", real)
    counts = actions.scrub_handles(activation, batch_size=1)
    assert counts.log_entries == 2
    assert not LogEntry.objects.filter(activation=activation, text__contains="xtian").exists()
    report = courante_verify.check()
    assert report.ok and report.intact == 3


def test_a_line_changed_through_beffroi_while_the_repair_runs_stays_verified(org, members):
    """A volunteer closes a line the repair has not reached yet: its newer digest vouches
    for it, so the repair journals its rewritten text too (no false alarm)."""
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    activation, lines = _room(org, members)

    def tick(kind, _n):
        if kind == "cards" and LogEntry.objects.get(pk=lines[2].pk).status != "clos":
            actions.update_log_status(lines[2], "clos", actor=members["volunteer"])

    actions.scrub_handles(activation, batch_size=1, progress=tick)
    assert LogEntry.objects.get(pk=lines[2].pk).status == "clos"
    assert not LogEntry.objects.filter(activation=activation, text__contains="xtian").exists()
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]


def test_a_line_forged_before_its_batch_is_not_laundered(org, members):
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    activation, lines = _room(org, members)
    table = connection.ops.quote_name(LogEntry._meta.db_table)

    def tick(kind, _n):
        if kind == "cards":
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET status = 'clos' WHERE id = %s", [lines[2].pk])

    actions.scrub_handles(activation, batch_size=1, progress=tick)
    assert "xtianvincent" not in LogEntry.objects.get(pk=lines[2].pk).text
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [(3, courante_verify.CHANGED)]


def test_the_command_stopped_by_ctrl_c_says_to_run_it_again(org, members, monkeypatch, capsys):
    from beffroi.cli import main
    from beffroi.watch import actions, courante_verify

    activation, _lines = _room(org, members)
    real = actions.scrub_handles

    def stopped(activation, **kwargs):
        def tick(kind, _n):
            raise KeyboardInterrupt

        return real(activation, **{**kwargs, "progress": tick, "batch_size": 1})

    monkeypatch.setattr(actions, "scrub_handles", stopped)
    assert main(["watch", "scrub-handles", "--activation", str(activation.pk)]) == 130
    err = capsys.readouterr().err
    assert f"interrupted in activation {activation.pk}" in err
    assert "run the same command again to finish" in err
    assert courante_verify.check().ok

    monkeypatch.setattr(actions, "scrub_handles", real)
    assert main(["watch", "scrub-handles", "--activation", str(activation.pk)]) == 0
    assert "2 log entries" in capsys.readouterr().out
    assert courante_verify.check().ok
