"""`beffroi watch courante-reseal`: after the pseudonym secret changed on purpose, each
main courante line's digest is journaled again under the new key, once every line has
been checked under the old one; a line rewritten behind Beffroi's back is never sealed
again (docs/decisions/courante-digest.md)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

pytestmark = pytest.mark.usesdb

OLD, NEW = "the secret of the first years", "the secret after the rotation"


@pytest.fixture
def rotated(org, members, settings):
    """Three lines journaled under OLD and one line from before the digest, then the
    server switched to NEW: every digested line reads as under another key."""
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    settings.BEFFROI_PSEUDONYM_KEY = OLD
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    older = LogEntry.objects.create(
        activation=activation, number=1, channel="telephone", category="routes", text="avant"
    )
    lines = [
        actions.add_log_entry(
            activation, actor=members["volunteer"], text=f"Route coupée {i}",
            channel="telephone", category="routes", at=timezone.now(),
        )
        for i in range(3)
    ]  # fmt: skip
    actions.update_log_status(lines[0], "en-cours", actor=members["volunteer"])
    assert courante_verify.check().ok
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    report = courante_verify.check()
    assert [f.kind for f in report.findings] == [courante_verify.FOREIGN] * 3
    return activation, older, lines


def _raw_update(entry, **values):
    from beffroi.watch.models import LogEntry

    table = connection.ops.quote_name(LogEntry._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*values.values(), entry.pk])


def _reseals():
    from beffroi.core.models import JournalEntry

    return list(JournalEntry.objects.filter(action="watch.log.reseal").order_by("seq"))


def test_after_a_reseal_the_check_is_clean_under_the_new_key(rotated):
    from beffroi.core import journal
    from beffroi.watch import actions, courante_verify

    activation, _older, lines = rotated
    done = actions.reseal_courante(OLD)
    assert not done.refused
    assert done.sealed == {activation.pk: 3} and done.changed_meanwhile == 0
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]
    # The line from before the digest gets none: nobody checked it.
    assert (report.checked, report.intact, report.uncovered) == (4, 3, 1)
    assert journal.verify() is None
    [entry] = _reseals()
    assert entry.subject == f"activation:{activation.pk}"
    assert entry.data["from_key"] == courante_verify.key_id(OLD)
    assert entry.data["content"]["key"] == courante_verify.key_id(NEW)
    assert set(entry.data["content"]["lines"]) == {str(line.pk) for line in lines}
    # Nothing left to do: a second run journals nothing.
    assert actions.reseal_courante(OLD).sealed == {}
    assert len(_reseals()) == 1


def test_a_line_rewritten_before_the_reseal_refuses_it_and_stays_reported(rotated):
    from beffroi.watch import actions, courante_verify

    _activation, _older, lines = rotated
    _raw_update(lines[1], text="Route ouverte")
    done = actions.reseal_courante(OLD)
    assert done.refused and done.sealed == {}
    assert [(f.number, f.kind) for f in done.report.findings] == [
        (lines[1].number, courante_verify.CHANGED)
    ]
    assert _reseals() == []
    # Under the new key alone the line is still reported (with the two others).
    assert lines[1].number in [f.number for f in courante_verify.check().findings]


def test_a_wrong_old_secret_refuses_everything(rotated):
    from beffroi.watch import actions, courante_verify

    done = actions.reseal_courante("not the old secret")
    assert done.refused
    assert {f.kind for f in done.report.findings} == {courante_verify.FOREIGN}
    assert _reseals() == []


def test_the_current_secret_as_the_old_one_is_refused(rotated):
    from beffroi.core.actions import ActionError
    from beffroi.watch import actions

    with pytest.raises(ActionError, match="déjà sous sa clé"):
        actions.reseal_courante(NEW)


def test_a_line_forged_during_the_reseal_is_not_laundered(rotated, monkeypatch):
    """Rewritten after the check, before its batch: its fields no longer read as
    checked, so it is not sealed under the new key, and stays reported."""
    from beffroi.watch import actions, courante_verify

    _activation, _older, lines = rotated
    real = courante_verify.check

    def check_then_forge(*args, **kwargs):
        report = real(*args, **kwargs)
        _raw_update(lines[2], status="clos")
        return report

    monkeypatch.setattr(courante_verify, "check", check_then_forge)
    done = actions.reseal_courante(OLD)
    monkeypatch.setattr(courante_verify, "check", real)
    assert done.changed_meanwhile == 1 and done.sealed == {_activation.pk: 2}
    report = courante_verify.check()
    assert [f.number for f in report.findings] == [lines[2].number]
    # Run again, the old key now names it as changed, and the re-seal is refused.
    again = actions.reseal_courante(OLD)
    assert again.refused
    assert [(f.number, f.kind) for f in again.report.findings] == [
        (lines[2].number, courante_verify.CHANGED)
    ]


def test_a_line_changed_through_beffroi_after_the_rotation_is_left_as_it_is(rotated, members):
    from beffroi.watch import actions, courante_verify

    activation, _older, lines = rotated
    actions.update_log_status(lines[1], "clos", actor=members["volunteer"])
    done = actions.reseal_courante(OLD)
    assert done.sealed == {activation.pk: 2}
    assert courante_verify.check().ok


def test_a_reseal_stopped_after_a_batch_leaves_every_line_checkable(rotated, monkeypatch):
    from beffroi.core import journal
    from beffroi.watch import actions, courante_verify

    activation, _older, _lines = rotated
    real = journal.append
    calls = []

    def append(action, **kwargs):
        if action == "watch.log.reseal":
            calls.append(action)
            if len(calls) == 2:
                raise KeyboardInterrupt
        return real(action, **kwargs)

    monkeypatch.setattr(journal, "append", append)
    with pytest.raises(KeyboardInterrupt):
        actions.reseal_courante(OLD, batch_size=1)
    monkeypatch.setattr(journal, "append", real)
    # One line sealed under the new key, the others still under the old one: a re-run
    # checks them all (under either key) and finishes.
    assert len(_reseals()) == 1
    assert actions.reseal_courante(OLD, batch_size=1).sealed == {activation.pk: 2}
    assert courante_verify.check().ok


# -- the command ---------------------------------------------------------------------------


def _run(*args):
    from beffroi.cli import main

    return main(["watch", "courante-reseal", *args])


def test_the_command_reads_the_old_secret_from_a_file_or_the_environment(
    rotated, tmp_path, monkeypatch, capsys
):
    activation, _older, _lines = rotated
    monkeypatch.delenv("BEFFROI_OLD_PSEUDONYM_KEY", raising=False)
    with pytest.raises(SystemExit) as stop:
        _run()
    assert stop.value.code == 2
    assert "give the old secret in --old-secret-file" in capsys.readouterr().err

    secret_file = tmp_path / "old_secret_key"
    secret_file.write_text(OLD + "\n")
    assert _run("--old-secret-file", str(secret_file), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Simulation : 3 lignes seraient scellées sous la nouvelle clé" in out
    assert _reseals() == []

    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)
    assert _run("--activation", str(activation.pk)) == 0
    out = capsys.readouterr().out
    assert f"Activation « Crue du Lay » (n° {activation.pk}) : 3 lignes scellées" in out
    assert _reseals() != []

    from beffroi.cli import main

    assert main(["watch", "courante-verify"]) == 0


def test_the_command_refuses_with_the_findings_and_exit_1(rotated, monkeypatch, capsys):
    _activation, _older, lines = rotated
    _raw_update(lines[0], text="Route ouverte")
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)
    assert _run() == 1
    out = capsys.readouterr().out
    assert "contenu modifié hors de Beffroi" in out
    assert "Nouveau scellement refusé, rien n'a été écrit" in out
    assert _reseals() == []


def test_an_empty_secret_file_or_a_bad_batch_is_a_usage_error(db, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(SystemExit) as stop:
        _run("--old-secret-file", str(empty))
    assert stop.value.code == 2
    assert "is empty" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        _run("--batch", "0")
    assert stop.value.code == 2


def test_an_unknown_activation_is_a_usage_error_before_anything_is_checked(db, monkeypatch, capsys):
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)
    with pytest.raises(SystemExit) as stop:
        _run("--activation", "999999", "--activation", "999998")
    assert stop.value.code == 2
    assert "no activation with id 999999, 999998" in capsys.readouterr().err
    assert _reseals() == []


def test_a_broken_chain_refuses_the_reseal(rotated, monkeypatch, capsys):
    from django.db.models import F

    from beffroi.core.models import JournalHead
    from beffroi.watch import actions

    # The head points past the last entry: entries were removed from the end.
    JournalHead.objects.filter(pk=1).update(seq=F("seq") + 3)
    done = actions.reseal_courante(OLD)
    # Every line checks: the broken chain alone refuses it.
    assert done.refused and done.broken is not None and done.report.ok
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)
    assert _run() == 1
    assert "Journal rompu à l'entrée n° " in capsys.readouterr().out
    assert _reseals() == []
