"""Where each event of a consultation's journal may stand, and what each key import
must agree with (review of session 15's open points).

A rebuilt journal could close a consultation twice (which head is the proclaimed
result?), journal an action no closed consultation allows, or merge and re-date key
imports, of which only the last fingerprint used to be checked. Each test starts
from an honest example board, checks that it verifies, then changes what a
dishonest organiser would change and re-chains the journal, as a forger would."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from beffroi.cli import main as cli_main
from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.board import KeyInfo
from beffroi.consult.bundle import JournalEvent
from beffroi.consult.credentials import PublicCredential, key_list_fingerprint
from beffroi.consult.examples import affair_spec, random_answers
from beffroi.consult.verify import verify_bundle
from consult_bundles import Scene, rechain_journal, scene

# The example board: entries from 2026-03-03 to 2026-03-15 19:30, a reissue on the
# 16th at 06:00, the close on the 16th at 16:30.
LATE_IMPORT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NEW_BALLOTS = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)


def _failures(data: bytes) -> list[str]:
    report = verify_bundle(data)
    assert not report.ok
    return report.lines()


def _has(lines: list[str], text: str) -> bool:
    return any(text in line for line in lines)


def _closed(sc: Scene, seconds: int) -> JournalEvent:
    board = sc.ex.board
    return JournalEvent(
        sc.ex.spec.closes + timedelta(seconds=seconds),
        "closed",
        {"head": board.head, "entries": len(board.entries)},
    )


def _reissued(sc: Scene) -> set[str]:
    return {e.data["public_key"] for e in sc.events if e.kind == "credential_added"}


def _imported_fingerprint(sc: Scene) -> str:
    reissued = _reissued(sc)
    return key_list_fingerprint(
        (p.public_key, p.segment) for p in sc.public if p.public_key not in reissued
    )


def late_import_scene(n_new: int = 30, *, import_at: datetime = LATE_IMPORT) -> Scene:
    """The example board plus a list of ``n_new`` keys imported after the opening
    (dated ``import_at``), each of which votes once, after the board's last entry."""
    sc = scene()
    ex = sc.ex
    rng = random.Random(16)
    segment = next(iter(ex.spec.segment_codes()), None)
    for i in range(n_new):
        seed = rng.randbytes(32)
        pk = bytes(SigningKey(seed).verify_key).hex()
        sc.public.append(PublicCredential(pk, segment))
        ex.board.keys[pk] = KeyInfo(segment)
        answers, rows = random_answers(ex.spec, rng)
        ballot = make_ballot(ex.spec, answers, rows, public_key=pk, seq=1)
        ex.board.submit(ballot, sign(ballot, seed), NEW_BALLOTS + timedelta(seconds=i))
    event = JournalEvent(
        import_at,
        "credentials_imported",
        {"count": n_new, "keys_fingerprint": _imported_fingerprint(sc)},
    )
    sc.events = sorted([*sc.events, event], key=lambda e: e.at)
    return sc


# -- the close, once; after it, only post-hoc decisions ------------------------------


def test_the_honest_boards_verify() -> None:
    for sc in (scene(), late_import_scene()):
        report = verify_bundle(sc.bundle())
        assert report.ok, report.lines()


def test_a_journal_closed_twice_is_refused() -> None:
    sc = scene()
    sc.after_close.append(_closed(sc, 60))
    lines = _failures(sc.bundle())
    n = len(sc.events) + 1
    assert _has(
        lines, f"2 événements « closed » (événements {n}, {n + 1}) : une consultation ne se clôt"
    ), lines


def test_a_second_close_naming_another_head_is_refused_too() -> None:
    """The case that matters: two closes, each proclaiming another board."""
    sc = scene()
    other = JournalEvent(sc.ex.spec.closes, "closed", {"head": "ab" * 32, "entries": 3})
    sc.events.append(other)
    lines = _failures(sc.bundle())
    assert _has(lines, "2 événements « closed »"), lines


def test_an_opening_journaled_twice_is_refused() -> None:
    sc = scene()
    first = sc.events[0]
    sc.events.append(replace(first, at=sc.later()))
    lines = _failures(sc.bundle())
    assert _has(lines, "2 événements « opened »"), lines


def test_an_event_before_the_opening_is_refused() -> None:
    sc = scene()
    opened, imported = sc.events[0], sc.events[1]
    assert (opened.kind, imported.kind) == ("opened", "credentials_imported")
    sc.events[0], sc.events[1] = imported, opened
    lines = _failures(sc.bundle())
    assert _has(lines, "événement 2 : « opened » doit être le premier événement"), lines


@pytest.mark.parametrize("kind", ["credentials_imported", "credential_revoked", "opened"])
def test_an_action_journaled_after_the_close_is_refused(kind: str) -> None:
    sc = scene()
    model = next(e for e in sc.events if e.kind == kind)
    sc.after_close.append(replace(model, at=sc.ex.spec.closes + timedelta(seconds=5)))
    lines = _failures(sc.bundle())
    n = len(sc.events) + 1
    assert _has(lines, f"événement {n + 1} : « {kind} » après la clôture (événement {n})"), lines


def test_a_decision_after_the_close_is_still_allowed() -> None:
    """A post-hoc exclusion decided after the close is legal (shown with its effect)."""
    sc = scene()
    entry = sc.ex.board.entries[4]["hash"]
    rule = {
        "code": "exclude_entries",
        "label": "Décisions",
        "params": {"entries": {entry: "doublon"}},
        "added_after_opening": True,
    }
    sc.after_close.append(
        JournalEvent(
            sc.ex.spec.closes + timedelta(hours=1),
            "rule_added",
            {"rule": rule, "entries_added": [entry]},
        )
    )
    sc.spec_dict["rules"] = [r for r in sc.spec_dict["rules"] if r["code"] != "exclude_entries"]
    sc.spec_dict["rules"].append(rule)
    report = verify_bundle(sc.bundle())
    assert report.ok, report.lines()


# -- every key import, not only the last -------------------------------------------


def test_a_late_import_dated_after_its_keys_ballots_is_refused() -> None:
    """Re-dated to after the new keys voted: more distinct keys voted before it than
    had been imported before it."""
    sc = late_import_scene(import_at=NEW_BALLOTS + timedelta(hours=1))
    lines = _failures(sc.bundle())
    assert _has(lines, "codes différents ont voté avant le 2026-03-15T21:00:00.000000Z"), lines
    assert _has(lines, "import redaté, ou fusionné avec un autre"), lines


def test_the_import_times_reach_the_worker_processes(monkeypatch: Any) -> None:
    """Big boards are cut into parts checked by worker processes: lowered here so that
    this small one is too."""
    from beffroi.consult import verify as verify_module

    monkeypatch.setattr(verify_module, "PARALLEL_THRESHOLD", 10)
    assert verify_bundle(late_import_scene().bundle(), workers=2).ok
    forged = late_import_scene(import_at=NEW_BALLOTS + timedelta(hours=1)).bundle()
    report = verify_bundle(forged, workers=2)
    assert not report.ok
    assert _has(report.lines(), "codes différents ont voté avant"), report.lines()


def test_a_second_import_dated_with_the_opening_is_counted_late() -> None:
    """A second import dated with the opening: the opening journals one, right after
    « opened »; another one there is late by its place (a server clock stepped back
    dates it so), bounded by the board like any late import and said in a warning."""
    sc = late_import_scene(import_at=LATE_IMPORT)
    opening_at = sc.events[0].at
    sc.events = sorted(
        (
            replace(e, at=opening_at)
            if e.kind == "credentials_imported" and e.at != opening_at
            else e
            for e in sc.events
        ),
        key=lambda e: e.at,
    )
    report = verify_bundle(sc.bundle())
    assert report.ok, report.lines()
    assert [i["late"] for i in report.stats["imports"]] == [False, True]
    assert _has(
        report.warnings,
        "événement 3 : import de clés daté de l'ouverture alors qu'il n'est pas "
        "l'événement 2, juste après « opened » : il est compté comme un import tardif",
    ), report.warnings


def test_a_credentialed_consultation_without_an_opening_import_is_refused() -> None:
    sc = scene(spec=affair_spec(access="credentialed"))
    assert verify_bundle(sc.bundle()).ok
    # The opening's import moved to a day later: the same keys, the counts still add up.
    sc.events = sorted(
        (
            replace(e, at=e.at + timedelta(days=1)) if e.kind == "credentials_imported" else e
            for e in sc.events
        ),
        key=lambda e: e.at,
    )
    lines = _failures(sc.bundle())
    assert _has(lines, "consultation sur codes sans import de clés à son ouverture"), lines


def test_an_import_of_no_key_is_refused() -> None:
    sc = scene()
    opening = sc.events[1]
    sc.events.append(replace(opening, at=sc.later(), data={**opening.data, "count": 0}))
    sc.events.sort(key=lambda e: e.at)
    lines = _failures(sc.bundle())
    assert _has(lines, "import de 0 clé, que Beffroi n'inscrit jamais"), lines
    assert _has(lines, "même empreinte de clés que l'import précédent"), lines


@pytest.mark.parametrize("value", ["x", None, "AB" * 32])
def test_a_malformed_import_fingerprint_is_named(value: Any) -> None:
    def edit(ev: dict[str, Any]) -> None:
        if ev["kind"] == "credentials_imported":
            ev["data"]["keys_fingerprint"] = value

    lines = _failures(rechain_journal(scene().bundle(), edit))
    assert _has(lines, "événement 2 : empreinte des clés importées"), lines


def test_an_import_in_an_open_consultation_is_refused() -> None:
    sc = scene(spec=affair_spec(access="open"))
    assert verify_bundle(sc.bundle()).ok
    sc.events.insert(
        1,
        JournalEvent(
            sc.events[0].at, "credentials_imported", {"count": 1, "keys_fingerprint": "ab" * 32}
        ),
    )
    lines = _failures(sc.bundle())
    assert _has(lines, "événement 2 : import de clés dans une consultation ouverte à tous"), lines


def test_a_late_import_merged_into_the_opening_needs_an_outside_copy(tmp_path: Path) -> None:
    """Merged into the opening's import, a late list leaves a bundle consistent with
    itself: only a copy kept outside it tells (a journal head noted from the board
    page after the opening, here the one right after the late import)."""
    honest = late_import_scene()
    noted = verify_bundle(honest.bundle()).stats["journal_hashes"]
    late_n = next(
        i for i, e in enumerate(honest.events) if e.kind == "credentials_imported" and i > 1
    )
    head = noted[late_n]
    merged = late_import_scene()
    merged.events = [
        e for i, e in enumerate(merged.events) if e.kind != "credentials_imported" or i == 1
    ]
    opening = merged.events[1]
    merged.events[1] = replace(
        opening,
        data={
            "count": opening.data["count"] + 30,
            "keys_fingerprint": _imported_fingerprint(merged),
        },
    )
    data = merged.bundle()
    assert verify_bundle(data).ok  # the limit, written in bundle-format.md
    path = tmp_path / "dossier.zip"
    path.write_bytes(data)
    assert cli_main(["verify", str(path), "--quiet", "--journal-head", head]) != 0


def test_verify_prints_each_import_fingerprint_for_the_authority_figures() -> None:
    """The authority prints a figure per batch; each import's is printed to compare."""
    from beffroi.consult.cli_verify import summary_lines

    sc = late_import_scene()
    first_batch = sc.events[1].data["keys_fingerprint"]
    report = verify_bundle(sc.bundle())
    assert report.ok, report.lines()
    said = " ".join(summary_lines(report.stats))
    assert "Empreinte des clés importées, codes réémis exclus, après chaque import" in said
    assert f"1) {first_batch} ; 2) {_imported_fingerprint(sc)}." in said
    # One import: the key-list fingerprint line already says it.
    single = verify_bundle(scene().bundle())
    assert "après chaque import" not in " ".join(summary_lines(single.stats))
