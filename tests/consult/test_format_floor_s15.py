"""Consultations opened before the format was stamped in the spec: what the anchored
data still fix about the journal's number, and how a scrutineer checks the rest
against a journal head noted earlier (docs/decisions/bundle-format.md, "What stays
open before format 3")."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from beffroi.cli import main as cli_main
from beffroi.consult import actions, live
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.examples import affair_spec
from beffroi.consult.spec import spec_hash
from beffroi.consult.verify import verify_bundle
from consult_bundles import member, reissued_key_votes, scene

ZONED_ONE = (
    "journal.jsonl : format de paquet 1 (sans numéro) dans l'événement « opened », mais les "
    "questions et règles gelées portent un fuseau horaire (timezone)"
)


def zoned() -> Any:
    return replace(affair_spec(), timezone="America/Martinique")


def _run(tmp_path: Path, data: bytes, capsys: Any, *extra: str) -> tuple[int, str]:
    path = tmp_path / "dossier.zip"
    path.write_bytes(data)
    code = cli_main(["verify", "--quiet", *extra, str(path)])
    return code, capsys.readouterr().out


def test_a_zoned_spec_was_never_opened_under_format_1() -> None:
    honest = scene(bundle_format=2, spec=zoned())
    report = verify_bundle(honest.bundle())
    assert report.ok, report.lines()
    assert report.stats["bundle_format"] == 2
    # The forger drops the number to get the format 1 reading of a late flag.
    h = spec_hash(honest.ex.spec)
    forged = scene(opened={"spec_hash": h}, bundle_format=2, spec=zoned())
    forged.flag_after_close()
    report = verify_bundle(forged.bundle())
    assert any(x.startswith(ZONED_ONE) for x in report.lines()), report.lines()
    # Read by format 2: no « may come from an older Beffroi » note.
    assert report.stats["bundle_format"] == 2
    assert not any("antérieures à cette règle" in n for n in report.notes), report.notes


def test_a_spec_without_a_zone_keeps_both_older_readings() -> None:
    """Nothing anchored tells 1 from 2 there: both pass, said as read from the journal."""
    for fmt in (1, 2):
        report = verify_bundle(scene(bundle_format=fmt).bundle())
        assert report.ok, report.lines()
        assert report.stats["format_from"] == "journal"
    assert verify_bundle(scene().bundle()).stats["format_from"] == "spec"


def test_the_format_line_says_when_only_the_journal_holds_the_number(
    tmp_path: Path, capsys: Any
) -> None:
    code, out = _run(tmp_path, scene(bundle_format=2).bundle(), capsys)
    assert code == 0, out
    assert "Format du paquet : 2, lu dans le journal seul" in out
    code, out = _run(tmp_path, scene().bundle(), capsys)
    assert code == 0, out
    assert "lu dans le journal seul" not in out


def test_a_journal_head_noted_earlier_must_still_be_there(tmp_path: Path, capsys: Any) -> None:
    sc = scene(bundle_format=2)
    data = sc.bundle()
    lines = [json.loads(x) for x in member(data, "journal.jsonl").splitlines()]
    opened, head = lines[0]["hash"], lines[-1]["hash"]
    code, out = _run(tmp_path, data, capsys)
    assert f"Tête du journal de la consultation : {head} ({len(lines)} événements)" in out
    code, out = _run(tmp_path, data, capsys, "--journal-head", opened, "--journal-head", head)
    assert code == 0, out
    assert "événement 1 de ce journal (l'ouverture), inchangé" in out
    assert f"les {len(lines)} premiers événements sont ceux d'alors" in out
    # The same consultation with the number dropped: every hash from the opening on moves.
    forged = scene(opened={"spec_hash": spec_hash(sc.ex.spec)}, bundle_format=2).bundle()
    assert verify_bundle(forged).ok
    code, out = _run(tmp_path, forged, capsys, "--journal-head", opened)
    assert code == 1
    assert f"aucun événement n'a l'empreinte {opened} relevée plus tôt" in out


def test_the_late_flag_note_of_format_1_says_how_to_check(tmp_path: Path, capsys: Any) -> None:
    sc = scene(bundle_format=1)
    sc.flag_after_close()
    data = sc.bundle()
    opened = json.loads(member(data, "journal.jsonl").splitlines()[0])["hash"]
    report = verify_bundle(data)
    assert any(f"l'événement « opened » ({opened})" in n for n in report.notes), report.notes


@pytest.mark.usesdb
def test_the_board_page_shows_the_journal_head(client: Any, org: Any) -> None:
    c, _ = setup_consultation(org, cid="tete-journal", access="mixed", per_segment=1)
    actions.close_consultation(c, actor=None)
    last = c.events.order_by("-n").first()
    assert last is not None and last.kind == "closed"
    page = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert f'data-testid="journal-head">{last.hash}</code>' in page
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert report.stats["journal_head"] == last.hash


# -- what a rebuilt journal could still choose: a reissue's time --------------------


def test_a_reissued_code_cannot_vote_before_its_reissue() -> None:
    honest = verify_bundle(reissued_key_votes(0))
    assert honest.ok, honest.lines()
    lines = verify_bundle(reissued_key_votes(120)).lines()
    assert any(
        "avant que son code réémis soit ajouté au journal" in x and "(journal refait ?)" in x
        for x in lines
    ), lines
