"""`beffroi watch courante-reseal` and the leaked old secret: a line forged with it, its
digest journaled in an appended entry, must not come out of the re-seal under the new
key as if the journal vouched for it (docs/decisions/courante-digest.md, "What the
journal vouches for")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

pytestmark = pytest.mark.usesdb

OLD, NEW = "the secret that leaked", "the secret after the leak"


@pytest.fixture
def courante(org, members, settings):
    """Three lines journaled under OLD (the first one's status changed since)."""
    from beffroi.watch import actions

    settings.BEFFROI_PSEUDONYM_KEY = OLD
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    lines = [
        actions.add_log_entry(
            activation, actor=members["volunteer"], text=f"Route coupée {i}",
            channel="telephone", category="routes",
        )
        for i in range(3)
    ]  # fmt: skip
    actions.update_log_status(lines[0], "en-cours", actor=members["volunteer"])
    return activation, lines


def _raw_update(entry, **values):
    from beffroi.watch.models import LogEntry

    table = connection.ops.quote_name(LogEntry._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*values.values(), entry.pk])


def _forge(settings, org, line, *, secret=OLD, status="ouvert", **values):
    """What the holder of a leaked secret can do with write access to the database:
    rewrite the row, then append (the journal's triggers refuse UPDATE and DELETE, not
    INSERT, and its chain is unkeyed) an entry carrying the line's digest under that
    secret's key, which then matches the forged line."""
    from beffroi.core import journal
    from beffroi.watch import courante_verify
    from beffroi.watch.models import LogEntry

    _raw_update(line, status=status, **values)
    server = settings.BEFFROI_PSEUDONYM_KEY
    settings.BEFFROI_PSEUDONYM_KEY = secret
    try:
        journal.append(
            "watch.log.status",
            organisation=org,
            subject=f"log:{line.pk}",
            data={"number": line.number, "from": "ouvert", "to": status},
            seal=courante_verify.content_seal([LogEntry.objects.get(pk=line.pk)]),
        )
    finally:
        settings.BEFFROI_PSEUDONYM_KEY = server


def _reseals():
    from beffroi.core.models import JournalEntry

    return list(JournalEntry.objects.filter(action="watch.log.reseal").order_by("seq"))


def _head():
    from beffroi.core.models import JournalHead

    return JournalHead.objects.get(pk=1).seq


@pytest.fixture
def forged_after_switch(courante, org, members, settings):
    """The server switched to NEW and journaled a change under it, then line 3 was
    forged with the leaked OLD secret."""
    from beffroi.watch import actions

    activation, lines = courante
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    # The server's first digest under the new key: from here, the old key is retired.
    actions.update_log_status(lines[1], "clos", actor=members["volunteer"])
    _forge(settings, org, lines[2], text="Route ouverte, aucun danger")
    return activation, lines


def test_a_forgery_appended_after_the_switch_is_refused_all_or_nothing(forged_after_switch):
    from beffroi.watch import actions, courante_verify

    _activation, lines = forged_after_switch
    head = _head()

    done = actions.reseal_courante(OLD)
    assert done.refused and done.broken is None and done.report.ok
    [finding] = done.report.unvouched
    assert (finding.line_id, finding.number, finding.kind) == (
        lines[2].pk, 3, courante_verify.UNVOUCHED,
    )  # fmt: skip
    message = finding.message()
    assert f"ligne 3 (id {lines[2].pk}) de l'activation « Crue du Lay »" in message
    assert "le journal ne s'en porte pas garant" in message
    # Nothing written, not even the genuine line 1.
    assert _reseals() == [] and _head() == head and done.sealed == {}
    assert actions.reseal_courante(OLD, dry_run=True).refused


def test_carried_over_on_request_the_line_is_marked_in_the_journal(forged_after_switch, members):
    from beffroi.core import journal
    from beffroi.watch import actions, courante_verify

    activation, lines = forged_after_switch

    done = actions.reseal_courante(OLD, carry_unvouched=True)
    assert not done.refused
    assert done.sealed == {activation.pk: 2}
    [entry] = _reseals()
    assert entry.data["unvouched"] == [lines[2].pk]
    assert set(entry.data["content"]["lines"]) == {str(lines[0].pk), str(lines[2].pk)}
    report = courante_verify.check()
    assert report.ok and journal.verify() is None
    # The mark outlives the re-seal: every later check counts the line.
    assert report.carried == 1
    actions.update_log_status(lines[2], "clos", actor=members["volunteer"])
    assert courante_verify.check().carried == 1


def test_a_key_retired_twice_is_bounded_by_its_own_successor(courante, org, members, settings):
    """A then B then C, re-sealed in one run: a forgery under A appended once B was in
    use is refused, although no entry under C precedes it."""
    from beffroi.watch import actions

    _activation, lines = courante
    middle = "the secret of the second year"
    settings.BEFFROI_PSEUDONYM_KEY = middle
    actions.update_log_status(lines[1], "clos", actor=members["volunteer"])
    _forge(settings, org, lines[2], text="Route ouverte")
    settings.BEFFROI_PSEUDONYM_KEY = NEW

    done = actions.reseal_courante(OLD, middle)
    assert [f.line_id for f in done.report.unvouched] == [lines[2].pk]
    assert done.refused and _reseals() == []


def test_a_forgery_before_the_switch_is_caught_with_the_compromise_date(
    courante, org, members, settings
):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    _activation, lines = courante
    leaked = JournalEntry.objects.order_by("-seq").first().at + timedelta(microseconds=1)
    # While OLD is still the server's secret: a forged text whose entry records only a
    # status change, and a genuine status change and withdrawal from the partners.
    _forge(settings, org, lines[2], text="Route ouverte, aucun danger")
    actions.update_log_status(lines[0], "clos", actor=members["volunteer"])
    actions.set_entry_sharing(lines[1], False, actor=members["volunteer"])
    settings.BEFFROI_PSEUDONYM_KEY = NEW

    done = actions.reseal_courante(OLD, compromised_since=leaked)
    # The genuine changes are walked back to a digest from before the leak; the forged
    # text is not, since the entry before it vouches for the old text.
    assert [f.line_id for f in done.report.unvouched] == [lines[2].pk]
    assert done.refused and _reseals() == []


def test_changes_the_journal_records_in_clear_are_walked_back(courante, members, settings):
    """Status, verification, sharing and a card's decision after the compromise date:
    each is undone from what its entry records, back to a digest from before it."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    activation, lines = courante
    leaked = JournalEntry.objects.order_by("-seq").first().at + timedelta(microseconds=1)
    actor = members["volunteer"]
    actions.update_log_status(lines[0], "clos", actor=actor)
    actions.requalify_entry(lines[0], "verified", actor=actor)
    actions.set_entry_sharing(lines[0], False, actor=actor)
    actions.set_entry_sharing(lines[0], True, actor=actor)
    actions.update_log_status(lines[1], "transmis", actor=actor)
    settings.BEFFROI_PSEUDONYM_KEY = NEW

    done = actions.reseal_courante(OLD, compromised_since=leaked)
    assert not done.refused, [f.message() for f in done.report.unvouched]
    assert done.sealed == {activation.pk: 3}


def test_a_clear_record_that_contradicts_the_line_is_not_walked_back(courante, org, settings):
    """A forged status entry whose 'to' is not the line's status: the walk stops."""
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    _activation, lines = courante
    leaked = JournalEntry.objects.order_by("-seq").first().at + timedelta(microseconds=1)
    _raw_update(lines[1], status="clos")
    journal.append(
        "watch.log.status",
        organisation=org,
        subject=f"log:{lines[1].pk}",
        data={"number": 2, "from": "ouvert", "to": "transmis"},
        seal=courante_verify.content_seal([LogEntry.objects.get(pk=lines[1].pk)]),
    )
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    done = actions.reseal_courante(OLD, compromised_since=leaked)
    assert [f.line_id for f in done.report.unvouched] == [lines[1].pk]


def test_a_card_decision_is_walked_back_though_it_names_no_previous_verdict(org, members, settings):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from watch_rooms import add_cards

    settings.BEFFROI_PSEUDONYM_KEY = OLD
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"],
        actor=members["coordinator"],
    )  # fmt: skip
    [card] = add_cards(activation, ["Digue rompue à Luçon"], lang="fr")
    line = actions.escalate(
        card, actor=members["volunteer"], category="routes", decision="to_verify"
    )
    leaked = JournalEntry.objects.order_by("-seq").first().at + timedelta(microseconds=1)
    actions.requalify_entry(line, "verified", actor=members["volunteer"])
    assert JournalEntry.objects.order_by("-seq").first().action == "watch.card.decide"
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    done = actions.reseal_courante(OLD, compromised_since=leaked)
    assert not done.refused and done.sealed == {activation.pk: 1}


def test_a_line_added_after_the_compromise_is_not_vouched_for(courante, members, settings):
    """Its creation cannot be walked back: the holder of the leaked secret could have
    appended the line and its entry alike."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    activation, _lines = courante
    leaked = JournalEntry.objects.order_by("-seq").first().at + timedelta(microseconds=1)
    added = actions.add_log_entry(
        activation, actor=members["volunteer"], text="Pont fermé",
        channel="telephone", category="routes",
    )  # fmt: skip
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    done = actions.reseal_courante(OLD, compromised_since=leaked)
    assert [f.line_id for f in done.report.unvouched] == [added.pk]
    # Without the date, the server's own entries under the key it held are trusted.
    assert not actions.reseal_courante(OLD, dry_run=True).refused


def _run(*args):
    from beffroi.cli import main

    return main(["watch", "courante-reseal", *args])


def test_the_command_lists_the_unvouched_lines_and_carries_them_on_request(
    forged_after_switch, monkeypatch, capsys
):
    _activation, lines = forged_after_switch
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)

    assert _run() == 1
    out = capsys.readouterr().out
    assert f"ligne 3 (id {lines[2].pk})" in out
    assert "Nouveau scellement refusé, rien n'a été écrit : 1 ligne intacte" in out
    assert "--carry-unvouched" in out
    assert _reseals() == []

    assert _run("--carry-unvouched", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"ligne 3 (id {lines[2].pk})" in out and _reseals() == []
    assert _run("--carry-unvouched") == 0
    out = capsys.readouterr().out
    assert "dont 1 ligne reprise sans garantie du journal" in out
    assert f"ligne 3 (id {lines[2].pk})" in out
    assert _reseals()[0].data["unvouched"] == [lines[2].pk]
    from beffroi.cli import main

    assert main(["watch", "courante-verify"]) == 0
    assert "Lignes reprises sans garantie du journal lors d'un nouveau scellement" in (
        capsys.readouterr().out
    )


def test_the_command_takes_the_compromise_date(courante, org, settings, monkeypatch, capsys):
    from beffroi.core.models import JournalEntry

    _activation, lines = courante
    leaked = JournalEntry.objects.order_by("-seq").first().at + timedelta(microseconds=1)
    _forge(settings, org, lines[2], text="Route ouverte")
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)
    assert _run("--dry-run") == 0
    capsys.readouterr()
    assert _run("--dry-run", "--compromised-since", leaked.isoformat()) == 1
    assert f"ligne 3 (id {lines[2].pk})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "error"),
    [("hier", "not a date and time: 'hier'"), ("2999-01-01T00:00", "is in the future")],
)
def test_a_bad_compromise_date_is_a_usage_error(db, monkeypatch, capsys, value, error):
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)
    with pytest.raises(SystemExit) as stop:
        _run("--compromised-since", value)
    assert stop.value.code == 2
    assert error in capsys.readouterr().err


def test_a_server_given_its_own_secret_back_retires_the_wrong_one(courante, org, members, settings):
    """OLD, then a wrong secret restored by mistake, then OLD again, and a forgery under
    the wrong secret appended after OLD came back: the re-seal from the wrong secret
    vouches for what the server sealed under it, not for the forgery."""
    from beffroi.watch import actions

    activation, lines = courante
    wrong = "the secret of a mistaken restore"
    settings.BEFFROI_PSEUDONYM_KEY = wrong
    actions.update_log_status(lines[1], "clos", actor=members["volunteer"])
    settings.BEFFROI_PSEUDONYM_KEY = OLD
    actions.update_log_status(lines[0], "clos", actor=members["volunteer"])
    _forge(settings, org, lines[2], secret=wrong, text="Route ouverte")

    done = actions.reseal_courante(wrong)
    assert [f.line_id for f in done.report.unvouched] == [lines[2].pk]
    done = actions.reseal_courante(wrong, carry_unvouched=True)
    assert done.sealed == {activation.pk: 2}


# The refusal names the honest causes an operator can check before suspecting a
# forgery: a process still on the old secret after the switch (a rolling restart), and a
# walk back stopped at a digest under an older secret not given.
ROLLING = "redémarrés l'un après l'autre"
OLDER = "son empreinte précédente est sous un secret plus ancien, non fourni"
THIRD = "the secret after the next change"


def test_a_rolling_restart_refusal_names_the_stale_process(
    courante, members, settings, monkeypatch, capsys
):
    """The web app restarted on NEW and journaled a change; the worker, not yet
    restarted, then added a line under OLD."""
    from beffroi.watch import actions
    from beffroi.watch.courante_verify import Walk

    activation, lines = courante
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    actions.update_log_status(lines[1], "clos", actor=members["volunteer"])
    settings.BEFFROI_PSEUDONYM_KEY = OLD
    added = actions.add_log_entry(
        activation, actor=members["volunteer"], text="Pont fermé",
        channel="telephone", category="routes",
    )  # fmt: skip
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", OLD)

    assert _run() == 1
    out = capsys.readouterr().out
    assert f"ligne 4 (id {added.pk})" in out and "Nouveau scellement refusé" in out
    assert ROLLING in out and "tournait encore avec l'ancien secret" in out
    assert "--carry-unvouched" in out.split(ROLLING)[1]
    # The walk stopped at the line's creation, not at an older key: nothing to give.
    assert OLDER not in out
    [finding] = actions.reseal_courante(OLD, dry_run=True).report.unvouched
    assert finding.stop is Walk.STOPPED


@pytest.fixture
def resealed_then_leaked(courante, members, settings):
    """OLD, then NEW (re-sealed from OLD, OLD put aside), then a third secret; NEW leaked
    before the first re-seal."""
    from beffroi.watch import actions

    _activation, lines = courante
    leak = timezone.now()
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    actions.update_log_status(lines[0], "clos", actor=members["volunteer"])
    assert not actions.reseal_courante(OLD).refused
    settings.BEFFROI_PSEUDONYM_KEY = THIRD
    actions.update_log_status(lines[0], "ouvert", actor=members["volunteer"])
    return lines, leak


def test_a_walk_stopped_at_an_older_secret_asks_for_it(resealed_then_leaked):
    from beffroi.watch import actions
    from beffroi.watch.courante_verify import Walk

    lines, leak = resealed_then_leaked
    done = actions.reseal_courante(NEW, compromised_since=leak, dry_run=True)
    assert done.refused
    # Lines 2 and 3: NEW's re-seal entry, after the leak date, leads back to OLD's digests.
    assert [(f.line_id, f.stop) for f in done.report.unvouched] == [
        (lines[1].pk, Walk.OLDER_KEY), (lines[2].pk, Walk.OLDER_KEY),
    ]  # fmt: skip
    for finding in done.report.unvouched:
        assert finding.message().endswith(f"{OLDER} : donnez-le aussi avec --old-secret-file")
    # Given OLD as well, the walk reaches OLD's digests from before NEW's first entry.
    assert not actions.reseal_courante(NEW, OLD, compromised_since=leak, dry_run=True).refused


def test_the_command_asks_for_the_older_secret_without_the_rolling_hint(
    resealed_then_leaked, monkeypatch, capsys
):
    lines, leak = resealed_then_leaked
    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", NEW)
    assert _run("--compromised-since", leak.isoformat()) == 1
    out = capsys.readouterr().out
    assert f"ligne 2 (id {lines[1].pk})" in out and OLDER in out
    # Every line names its cause; the rolling-restart hint would mislead here.
    assert ROLLING not in out


@pytest.mark.parametrize(
    ("action", "stop"),
    [("watch.post.edit", "STOPPED"), ("watch.log.reseal", "OLDER_KEY")],
)
def test_the_walk_blames_the_older_secret_only_when_it_got_that_far(courante, action, stop):
    """An entry the walk cannot undo (an author's edit), just after a digest under a key
    not given, ends the walk at that entry: giving the older secret would not help."""
    from datetime import UTC, datetime

    from beffroi.watch import courante_digest, courante_verify
    from beffroi.watch.courante_verify import Walk, _Journaled, _replays

    _activation, lines = courante
    line = lines[0]
    fields = courante_verify.line_fields(line)
    key = courante_digest.derive_key(NEW.encode())
    at = datetime(2026, 11, 20, 14, tzinfo=UTC)

    def journaled(key_id, digest, seq, action):
        return _Journaled(digest, key_id, courante_digest.VERSION, line.activation_id,
                          line.number, at, seq, action=action)  # fmt: skip

    history = [
        journaled("not-given", "0" * 64, 1, "watch.log.add"),
        journaled(courante_digest.key_id(key), courante_digest.digest(
            key, fields, seq=5, line_id=line.pk), 5, action),
    ]  # fmt: skip
    keys = {courante_digest.key_id(key): key}
    walk = _replays(fields, line.pk, history, keys, {courante_digest.key_id(key): 3}, matched=5)
    assert walk is Walk[stop]
