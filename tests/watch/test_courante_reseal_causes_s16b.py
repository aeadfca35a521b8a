"""`beffroi watch courante-reseal`'s refusal names the honest causes an operator can
check before suspecting a forgery: a process still on the old secret after the switch
(a rolling restart), and a walk back that stopped at a digest under an older secret the
re-seal was not given (docs/decisions/courante-digest.md)."""

from __future__ import annotations

import pytest
from django.utils import timezone

pytestmark = pytest.mark.usesdb

A, B, C = "secret A", "secret B", "secret C"
ROLLING = "redémarrés l'un après l'autre"
OLDER = "son empreinte précédente est sous un secret plus ancien, non fourni"


@pytest.fixture
def courante(org, members, settings):
    from beffroi.watch import actions

    settings.BEFFROI_PSEUDONYM_KEY = A
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
    return activation, lines


def _run(monkeypatch, secret, extra=()):
    from beffroi.cli import main

    monkeypatch.setenv("BEFFROI_OLD_PSEUDONYM_KEY", secret)
    return main(["watch", "courante-reseal", *extra])


@pytest.fixture
def rolling_restart(courante, members, settings):
    """The web app restarted on B and journaled a change; the worker, not yet restarted,
    then added a line under A."""
    from beffroi.watch import actions

    activation, lines = courante
    settings.BEFFROI_PSEUDONYM_KEY = B
    actions.update_log_status(lines[0], "en-cours", actor=members["volunteer"])
    settings.BEFFROI_PSEUDONYM_KEY = A
    added = actions.add_log_entry(
        activation, actor=members["volunteer"], text="Pont fermé",
        channel="telephone", category="routes",
    )  # fmt: skip
    settings.BEFFROI_PSEUDONYM_KEY = B
    return added


def test_a_rolling_restart_refusal_names_the_stale_process(rolling_restart, monkeypatch, capsys):
    from beffroi.watch.courante_verify import Walk

    assert _run(monkeypatch, A) == 1
    out = capsys.readouterr().out
    assert f"ligne 4 (id {rolling_restart.pk})" in out
    assert "Nouveau scellement refusé" in out
    assert ROLLING in out and "tournait encore avec l'ancien secret" in out
    assert "--carry-unvouched" in out.split(ROLLING)[1]
    # The walk stopped at the line's creation, not at an older key: nothing to give.
    assert OLDER not in out
    from beffroi.watch import actions

    [finding] = actions.reseal_courante(A, dry_run=True).report.unvouched
    assert finding.stop is Walk.STOPPED


@pytest.fixture
def resealed_then_leaked(courante, members, settings):
    """A, then B (re-sealed from A, A put aside), then C; B leaked before the first
    re-seal."""
    from beffroi.watch import actions

    _activation, lines = courante
    leak = timezone.now()
    settings.BEFFROI_PSEUDONYM_KEY = B
    actions.update_log_status(lines[0], "en-cours", actor=members["volunteer"])
    assert not actions.reseal_courante(A).refused
    settings.BEFFROI_PSEUDONYM_KEY = C
    actions.update_log_status(lines[0], "clos", actor=members["volunteer"])
    return lines, leak


def test_a_walk_stopped_at_an_older_secret_asks_for_it(resealed_then_leaked):
    from beffroi.watch import actions
    from beffroi.watch.courante_verify import Walk

    lines, leak = resealed_then_leaked
    done = actions.reseal_courante(B, compromised_since=leak, dry_run=True)
    assert done.refused
    # Lines 2 and 3: B's re-seal entry, after the leak date, leads back to A's digests.
    assert [(f.line_id, f.stop) for f in done.report.unvouched] == [
        (lines[1].pk, Walk.OLDER_KEY), (lines[2].pk, Walk.OLDER_KEY),
    ]  # fmt: skip
    for finding in done.report.unvouched:
        assert finding.message().endswith(f"{OLDER} : donnez-le aussi avec --old-secret-file")
    # Given A as well, the walk reaches A's digests from before B's first entry.
    assert not actions.reseal_courante(B, A, compromised_since=leak, dry_run=True).refused


def test_the_command_asks_for_the_older_secret_without_the_rolling_hint(
    resealed_then_leaked, monkeypatch, capsys
):
    lines, leak = resealed_then_leaked
    assert _run(monkeypatch, B, extra=("--compromised-since", leak.isoformat())) == 1
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
    key = courante_digest.derive_key(B.encode())
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
