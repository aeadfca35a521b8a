"""Bundles carry a format number, journaled in the ``opened`` event: verify refuses a
format newer than it reads, reads a bundle without one as format 1, and explains the
late flags an older Beffroi could write without ever letting a missing number lighten
the verdict (docs/formats/bundle.md, "Format version")."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from beffroi.cli import main as cli_main
from beffroi.consult.bundle import BUNDLE_FORMAT, JournalEvent, opened_data
from beffroi.consult.spec import spec_hash
from beffroi.consult.verify import LATE_FLAGS, verify_bundle
from consult_bundles import Scene, member, replace_member, scene

FUTURE = BUNDLE_FORMAT + 1
TOO_NEW = (
    f"format de paquet {FUTURE} : mettez Beffroi à jour (cette version lit les formats 1 "
    f"à {BUNDLE_FORMAT})"
)


def flag_after_close(sc: Scene) -> dict[str, Any]:
    """Flag an unsigned entry after the close, with a flag the rule sets aside."""
    unsigned = next(
        e
        for e in sc.ex.board.entries
        if e["signature"] is None and not any(e["hash"] == ev.data.get("entry") for ev in sc.events)
    )
    rule = next(r for r in sc.spec_dict["rules"] if r["code"] == "integrity_flag")
    sc.after_close.append(
        JournalEvent(
            sc.ex.spec.closes + timedelta(seconds=2),
            "flag",
            {"entry": unsigned["hash"], "flag": rule["params"]["flags"][0], "evidence": "x"},
        )
    )
    return unsigned


def _run(tmp_path: Path, data: bytes, capsys: Any) -> tuple[int, str]:
    path = tmp_path / "dossier.zip"
    path.write_bytes(data)
    code = cli_main(["verify", "--quiet", str(path)])
    return code, capsys.readouterr().out


# -- the version is written, and read ------------------------------------------------


def test_a_versioned_bundle_verifies_and_says_its_format(tmp_path: Path, capsys: Any) -> None:
    data = scene().bundle()
    first = json.loads(member(data, "journal.jsonl").splitlines()[0])
    assert first["kind"] == "opened"
    assert first["data"]["bundle_format"] == BUNDLE_FORMAT
    report = verify_bundle(data)
    assert report.ok, report.lines()
    assert report.stats["bundle_format"] == BUNDLE_FORMAT
    code, out = _run(tmp_path, data, capsys)
    assert code == 0
    assert f"Format du paquet : {BUNDLE_FORMAT}." in out


def test_a_bundle_without_a_version_is_read_as_format_1(tmp_path: Path, capsys: Any) -> None:
    sc = scene(bundle_format=1)
    report = verify_bundle(sc.bundle())
    assert report.ok, report.lines()
    assert report.stats["bundle_format"] == 1
    code, out = _run(tmp_path, sc.bundle(), capsys)
    assert code == 0
    assert "Format du paquet : 1 (sans numéro" in out


@pytest.mark.usesdb
def test_the_app_journals_the_format_at_the_opening(db: Any) -> None:
    from beffroi.consult import live
    from beffroi.consult.cli_example_bundle import setup_consultation
    from beffroi.core import actions as core_actions

    org = core_actions.create_organisation("Org", "fmt13")
    c, _ = setup_consultation(org, cid="fmt13", access="mixed", per_segment=2)
    opened = live.journal_lines(c)[0]
    assert opened["kind"] == "opened"
    assert opened["data"] == {"spec_hash": c.spec_hash, "bundle_format": BUNDLE_FORMAT}
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert report.stats["bundle_format"] == BUNDLE_FORMAT


# -- a format from the future ----------------------------------------------------------


def test_a_future_format_is_refused_with_that_reason_alone(tmp_path: Path, capsys: Any) -> None:
    sc = scene(opened={"spec_hash": spec_hash(scene().ex.spec), "bundle_format": FUTURE})
    data = sc.bundle()
    # A future layout this version cannot parse: the format is still the one reason given.
    consultation = json.loads(member(data, "consultation.json"))
    consultation["a_future_field"] = {"x": 1}
    data = replace_member(data, "consultation.json", json.dumps(consultation).encode())
    report = verify_bundle(data)
    assert report.lines() == [TOO_NEW]
    code, out = _run(tmp_path, data, capsys)
    assert code == 1
    said = " ".join(out.split())
    assert "VÉRIFICATION IMPOSSIBLE" in said and TOO_NEW in said
    assert "anomalie" not in said


# (A float cannot even be journaled: the canonical encoding refuses it.)
@pytest.mark.parametrize("value", ["2", True, 0, -1, None, [2]])
def test_a_format_that_is_no_number_is_refused(value: Any) -> None:
    sc = scene(opened={"spec_hash": spec_hash(scene().ex.spec), "bundle_format": value})
    lines = verify_bundle(sc.bundle()).lines()
    said = f"journal.jsonl : format de paquet {value!r} invalide dans l'événement « opened »"
    assert any(x.startswith(said) for x in lines), lines


def test_the_opened_event_holds_no_other_field() -> None:
    sc = scene(opened={**opened_data(spec_hash(scene().ex.spec)), "rules_version": 1})
    lines = verify_bundle(sc.bundle()).lines()
    assert any("d'autres champs que spec_hash et bundle_format" in x for x in lines), lines


# -- flags after the close --------------------------------------------------------------


def test_late_flags_of_an_unversioned_bundle_fail_with_the_older_version_named(
    tmp_path: Path, capsys: Any
) -> None:
    sc = scene(bundle_format=1)
    flagged = flag_after_close(sc)
    report = verify_bundle(sc.bundle())
    # The failure stays: a forger rebuilding the journal could drop the number.
    assert not report.ok
    assert report.failures == [LATE_FLAGS], report.lines()
    notes = " ".join(report.notes)
    assert f"entrée n° {flagged['n']}" in notes
    assert "versions de Beffroi antérieures à cette règle" in notes
    assert "anomalie est donc maintenue" in notes
    # Recounted both ways: results.json matched the count with the flag, and the count
    # without it has the flagged answer back.
    with_flag = report.stats["counted"]["all"]
    without = report.stats["without_late_flags"]["counted"]["all"]
    assert without == with_flag + 1
    assert report.stats["without_late_flags"]["exclusions_by_rule"].get(
        "integrity_flag", 0
    ) + 1 == report.stats["exclusions_by_rule"].get("integrity_flag")
    code, out = _run(tmp_path, sc.bundle(), capsys)
    assert code == 1
    said = " ".join(out.split())
    assert "ÉCHEC : 1 anomalie" in said
    assert f"{with_flag} bulletins comptés ; sans eux : {without}." in said
    assert "Avec ces signalements (ce que results.json doit reproduire) :" in out
    assert "Sans ces signalements :" in out
    assert out.count("Recomptage, toutes les réponses comptées") == 2


def test_late_flags_of_a_versioned_bundle_are_not_put_on_an_older_version() -> None:
    sc = scene()
    flag_after_close(sc)
    report = verify_bundle(sc.bundle())
    assert report.failures == [LATE_FLAGS], report.lines()
    notes = " ".join(report.notes)
    assert f"format {BUNDLE_FORMAT} : aucune version de Beffroi" in notes
    assert "antérieure" not in notes


def test_results_that_ignore_the_late_flags_are_still_caught() -> None:
    """results.json must equal the count with every journaled flag; the count without
    the late ones is shown, never accepted in its place."""
    sc = scene(bundle_format=1)
    honest = scene(bundle_format=1)
    without = json.loads(member(honest.bundle(), "results.json"))
    flag_after_close(sc)
    lines = verify_bundle(sc.bundle(results=without)).lines()
    assert LATE_FLAGS in lines
    assert any("results.json ne correspond pas au recomptage" in x for x in lines), lines


def test_late_flags_among_other_anomalies_give_no_recount() -> None:
    sc = scene(bundle_format=1)
    flag_after_close(sc)
    data = sc.bundle()
    lines = member(data, "ballots.jsonl").decode().splitlines()
    first = json.loads(lines[0])
    first["receipt"] = "00" * 32
    lines[0] = json.dumps(first, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    board = ("\n".join(lines) + "\n").encode()
    report = verify_bundle(replace_member(data, "ballots.jsonl", board))
    assert any("le reçu ne correspond pas" in x for x in report.lines()), report.lines()
    assert LATE_FLAGS in report.lines()
    assert "recomptage non effectué : le tableau comporte des anomalies" in report.lines()
    assert "without_late_flags" not in report.stats


# -- forged downgrades ----------------------------------------------------------------------


def test_a_format_changed_in_place_breaks_the_journal_chain() -> None:
    data = scene().bundle()
    journal = member(data, "journal.jsonl")
    for forged in (b'"bundle_format":1,', b""):
        doctored = journal.replace(f'"bundle_format":{BUNDLE_FORMAT},'.encode(), forged, 1)
        assert doctored != journal
        lines = verify_bundle(replace_member(data, "journal.jsonl", doctored)).lines()
        assert "journal.jsonl, événement 1 : empreinte incorrecte (modifié ?)" in lines, lines


def test_stripping_the_format_from_a_rebuilt_journal_gains_a_forger_nothing() -> None:
    """A versioned bundle, late flag; the forger rebuilds the whole journal without the
    number: the late flag fails exactly as before, and the spec's own number, under the
    published hash, now names the downgrade."""
    versioned = scene()
    flag_after_close(versioned)
    stripped = scene(opened={"spec_hash": spec_hash(scene().ex.spec)})
    flag_after_close(stripped)
    assert verify_bundle(versioned.bundle()).failures == [LATE_FLAGS]
    report = verify_bundle(stripped.bundle())
    assert report.failures == [
        f"journal.jsonl : format de paquet 1 dans l'événement « opened », mais "
        f"{BUNDLE_FORMAT} dans les questions et règles gelées, que couvre l'empreinte "
        "publiée à l'ouverture (journal refait ?)",
        LATE_FLAGS,
        "recomptage non effectué : le tableau comporte des anomalies",
    ]
