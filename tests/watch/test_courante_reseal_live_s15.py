"""The main courante check, the re-seal and the handle repair on a live server and after
secret changes (docs/decisions/courante-digest.md): a line added or edited through
Beffroi during a check is no finding; the repair refuses to start while lines are under
another key; two secret changes are re-sealed in one run; the repair reads each journal
entry once; the old secret never reaches the terminal."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from watch_rooms import courante_quoting

pytestmark = pytest.mark.usesdb

A, B, C = "secret A of the first years", "secret B after a rotation", "secret C after a second"
HANDLE = "RT@xtianvincent: Stranded in flood"


def _line(activation, members, i):
    from beffroi.watch import actions

    return actions.add_log_entry(
        activation, actor=members["volunteer"], text=f"Route coupée {i}",
        channel="telephone", category="routes", at=timezone.now(),
    )  # fmt: skip


def _activation(org, members, name="Crue"):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name=name, event_type="inondation", actor=members["coordinator"]
    )


def _raw_update(entry, **values):
    from beffroi.watch.models import LogEntry

    table = connection.ops.quote_name(LogEntry._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*values.values(), entry.pk])


def _handle_line(org, members):
    """An activation whose one main courante line quotes a handle, journaled under A."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, Post, Source

    activation = _activation(org, members, "Haiyan")
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    card = Card.objects.create(
        activation=activation, group_id="g1", source=source, source_kind="file",
        external_id="1", text=HANDLE, posted_at=timezone.now(),
    )  # fmt: skip
    Post.objects.create(
        activation=activation, source=source, external_id="1", text=HANDLE,
        created_at=timezone.now(), card=card, processed=True,
    )  # fmt: skip
    line = LogEntry.objects.create(
        activation=activation, number=1, channel="reseaux-sociaux", category="autre",
        text=HANDLE, card=card,
    )  # fmt: skip
    actions.set_entry_sharing(line, False, actor=members["coordinator"])
    return activation, line


# -- the repair before the re-seal --------------------------------------------------------


def test_the_repair_refuses_to_start_while_lines_are_under_another_key(org, members, settings):
    from beffroi.core.actions import ActionError
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    settings.BEFFROI_PSEUDONYM_KEY = A
    activation, line = _handle_line(org, members)
    assert courante_verify.check().ok
    settings.BEFFROI_PSEUDONYM_KEY = B
    entries = JournalEntry.objects.count()
    with pytest.raises(ActionError, match="lancez d'abord beffroi watch courante-reseal"):
        actions.scrub_handles(activation)
    # Nothing rewritten, nothing journaled: the re-seal still goes through.
    assert LogEntry.objects.get(pk=line.pk).text == HANDLE
    assert JournalEntry.objects.count() == entries
    done = actions.reseal_courante(A)
    assert not done.refused, [f.message() for f in done.report.findings]
    # After the re-seal, the repair runs and leaves a clean check.
    actions.scrub_handles(activation)
    assert "xtianvincent" not in LogEntry.objects.get(pk=line.pk).text
    assert courante_verify.check().ok


def test_the_repair_command_refuses_before_any_activation_starts(org, members, settings, capsys):
    from beffroi.cli import main
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    settings.BEFFROI_PSEUDONYM_KEY = A
    activation, line = _handle_line(org, members)
    settings.BEFFROI_PSEUDONYM_KEY = B
    # An earlier activation with nothing under another key: not repaired either.
    first = _activation(org, members, "Avant")
    _line(first, members, 1)
    actions.add_log_entry(
        first, actor=members["volunteer"], text=HANDLE, channel="reseaux-sociaux",
        category="autre", at=timezone.now(),
    )  # fmt: skip
    ids = sorted([first.pk, activation.pk])
    args = ["watch", "scrub-handles", *[x for pk in ids for x in ("--activation", str(pk))]]
    # A dry run says so and still counts.
    assert main([*args, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "sous une autre clé" in captured.err and "dry run" in captured.out
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "1 ligne de la main courante (« Haiyan ») est scellée sous une autre clé" in err
    assert "lancez d'abord beffroi watch courante-reseal" in err
    assert LogEntry.objects.get(pk=line.pk).text == HANDLE
    assert LogEntry.objects.filter(text=HANDLE).count() == 2


# -- a live server during the check ------------------------------------------------------


def _during_the_check(monkeypatch, act):
    """Run ``act`` once, right after the check has read the journal and before it reads
    the lines: what a volunteer does meanwhile on a live server."""
    from beffroi.watch import courante_verify

    real = courante_verify._journal
    done = []

    def journal_then_act(*args, **kwargs):
        found = real(*args, **kwargs)
        if not done:
            done.append(act())
        return found

    monkeypatch.setattr(courante_verify, "_journal", journal_then_act)
    return done


def test_a_line_added_during_the_check_does_not_refuse_the_reseal(
    org, members, settings, monkeypatch
):
    from beffroi.watch import actions, courante_verify

    settings.BEFFROI_PSEUDONYM_KEY = A
    activation = _activation(org, members)
    _line(activation, members, 1)
    settings.BEFFROI_PSEUDONYM_KEY = B
    added = _during_the_check(monkeypatch, lambda: _line(activation, members, 2))
    done = actions.reseal_courante(A)
    assert added
    assert not done.refused, [f.message() for f in done.report.findings]
    assert done.sealed == {activation.pk: 1}
    monkeypatch.undo()
    assert courante_verify.check().ok


def test_a_line_edited_during_the_check_is_no_finding(org, members, monkeypatch):
    from beffroi.watch import actions, courante_verify

    activation = _activation(org, members)
    line = _line(activation, members, 1)
    _during_the_check(
        monkeypatch,
        lambda: actions.update_log_status(line, "clos", actor=members["volunteer"]),
    )
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]
    assert report.intact == 1


def test_a_line_edited_twice_during_the_check_is_no_finding(org, members, monkeypatch):
    """The second edit lands after the lines were read: the recheck reads the line again."""
    from beffroi.watch import actions, courante_verify

    activation = _activation(org, members)
    line = _line(activation, members, 1)
    real = courante_verify._recheck

    def edit_then_recheck(flagged, *args):
        actions.update_log_status(line, "en-cours", actor=members["volunteer"])
        return real(flagged, *args)

    monkeypatch.setattr(courante_verify, "_recheck", edit_then_recheck)
    _during_the_check(
        monkeypatch,
        lambda: actions.update_log_status(line, "clos", actor=members["volunteer"]),
    )
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]


def test_a_line_forged_during_the_check_is_still_reported(org, members, monkeypatch):
    from beffroi.watch import actions, courante_verify

    activation = _activation(org, members)
    line = _line(activation, members, 1)
    # A change through Beffroi and, after it, one behind its back: the newer digest does
    # not vouch for the forged text.
    _during_the_check(
        monkeypatch,
        lambda: (
            actions.update_log_status(line, "clos", actor=members["volunteer"]),
            _raw_update(line, text="Route ouverte"),
        ),
    )
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [(1, courante_verify.CHANGED)]


def test_a_line_slipped_in_during_the_check_is_still_reported(org, members, monkeypatch):
    from beffroi.watch import courante_verify
    from beffroi.watch.models import LogEntry

    activation = _activation(org, members)
    _line(activation, members, 1)
    _during_the_check(
        monkeypatch,
        lambda: LogEntry.objects.create(
            activation=activation, number=2, channel="telephone", category="routes", text="x"
        ),
    )
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [(2, courante_verify.UNJOURNALED)]


# -- two secret changes -----------------------------------------------------------------


@pytest.fixture
def twice(org, members, settings):
    """Lines journaled under A and under B, the server now under C: no re-seal between."""
    settings.BEFFROI_PSEUDONYM_KEY = A
    activation = _activation(org, members)
    _line(activation, members, 1)
    settings.BEFFROI_PSEUDONYM_KEY = B
    _line(activation, members, 2)
    settings.BEFFROI_PSEUDONYM_KEY = C
    return activation


def test_two_secret_changes_are_resealed_in_one_run(twice):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions, courante_verify

    assert actions.reseal_courante(A).refused
    assert actions.reseal_courante(B).refused
    done = actions.reseal_courante(A, B)
    assert not done.refused and done.sealed == {twice.pk: 2}
    assert courante_verify.check().ok
    [entry] = JournalEntry.objects.filter(action="watch.log.reseal")
    assert entry.data["from_keys"] == [courante_verify.key_id(A), courante_verify.key_id(B)]


def test_the_command_takes_the_old_secret_file_twice(twice, tmp_path, monkeypatch, capsys):
    from beffroi.cli import main
    from beffroi.watch import courante_verify

    monkeypatch.delenv("BEFFROI_OLD_PSEUDONYM_KEY", raising=False)
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text(A + "\n")
    second.write_text(B + "\n")
    assert main(["watch", "courante-reseal", "--old-secret-file", str(first)]) == 1
    out = capsys.readouterr().out
    assert "Nouveau scellement refusé" in out
    args = ["watch", "courante-reseal", "--old-secret-file", str(first)]
    assert main([*args, "--old-secret-file", str(second)]) == 0
    assert "2 lignes scellées" in capsys.readouterr().out
    assert courante_verify.check().ok


def test_the_file_and_the_environment_together(twice, tmp_path, monkeypatch, capsys):
    from beffroi.cli import main
    from beffroi.watch import courante_verify

    first = tmp_path / "a"
    first.write_text(A)
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", B)
    assert main(["watch", "courante-reseal", "--old-secret-file", str(first)]) == 0
    assert courante_verify.check().ok


# -- the old secret's form ----------------------------------------------------------------


def test_a_binary_secret_file_prints_no_byte_of_it(db, tmp_path, monkeypatch, capsys):
    from beffroi.cli import main

    monkeypatch.delenv("BEFFROI_OLD_PSEUDONYM_KEY", raising=False)
    binary = tmp_path / "binary"
    binary.write_bytes(b"abc\xfe\xedsecret")
    with pytest.raises(SystemExit) as stop:
        main(["watch", "courante-reseal", "--old-secret-file", str(binary)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "not UTF-8 text" in err
    assert "0xfe" not in err and "position" not in err and "secret" not in err.split(":")[-1]


def test_an_environment_secret_with_spaces_is_tried_as_given(
    org, members, settings, monkeypatch, capsys
):
    """The deployment read BEFFROI_PSEUDONYM_KEY from the environment as is, spaces
    included: the old secret from the environment is tried both as given and stripped."""
    from beffroi.cli import main
    from beffroi.watch import courante_verify

    spaced = f"  {A} "
    settings.BEFFROI_PSEUDONYM_KEY = spaced
    _line(_activation(org, members), members, 1)
    settings.BEFFROI_PSEUDONYM_KEY = C
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", spaced)
    assert main(["watch", "courante-reseal"]) == 0
    assert courante_verify.check().ok


def test_a_wrong_old_secret_is_named_as_the_likely_cause(twice, monkeypatch, capsys):
    from beffroi.cli import main

    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", "not any old secret")
    assert main(["watch", "courante-reseal"]) == 1
    out = capsys.readouterr().out
    assert "ce secret n'est sans doute pas le bon" in out


# -- the repair reads each journal entry once ---------------------------------------------


def test_the_repair_decodes_each_later_entry_once(org, members, monkeypatch):
    """Each batch journals its digests; the next batch reads only what came after."""
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    activation = _activation(org, members, "Haiyan")
    n = 8
    courante_quoting(activation, members["coordinator"], HANDLE, n)
    real = courante_verify._digests
    decoded: list[int] = []

    def counting(seq, at, data):
        decoded.append(seq)
        return real(seq, at, data)

    monkeypatch.setattr(courante_verify, "_digests", counting)
    actions.scrub_handles(activation, batch_size=1)
    assert not LogEntry.objects.filter(activation=activation, text__contains="xtian").exists()
    # One scrub_lines entry per batch, each decoded once (re-reading them all for every
    # batch would decode n * (n - 1) / 2).
    assert len(decoded) == len(set(decoded))
    assert len(decoded) >= n - 1
    monkeypatch.undo()
    assert courante_verify.check().ok
