"""Letters and imports agree on segments, and a consultation closes once.

`credentials generate --count` makes keys without a segment. Over a consultation
with segments the organiser's import refuses them, after the letters may have been
printed: the tool now refuses it up front when it has the spec, and says what to
use instead; the import says the same when the authority ran it without the spec."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from beffroi.cli import main as cli_main
from beffroi.consult import actions, credentials
from beffroi.consult.actions import ActionError
from beffroi.consult.cli_example_bundle import BASE_URL, example_spec_dict, setup_consultation

CLOSES = datetime(2099, 12, 14, 17, tzinfo=UTC)


def _spec_file(tmp_path: Path, cid: str, *, segments: bool = True) -> Path:
    spec = example_spec_dict(cid, access="credentialed", closes=CLOSES)
    if not segments:
        spec["segments"] = []
    path = tmp_path / f"{cid}-consultation.json"
    path.write_text(json.dumps(spec), "utf-8")
    return path


def _argv(tmp_path: Path, cid: str, *extra: str) -> list[str]:
    return [
        "credentials",
        "generate",
        "--consultation-id",
        cid,
        "--base-url",
        BASE_URL,
        "--no-pdf",
        "--out",
        str(tmp_path / "codes"),
        *extra,
    ]


def test_count_over_a_spec_with_segments_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: Any
) -> None:
    spec = _spec_file(tmp_path, "ecoles-s16")
    assert cli_main(_argv(tmp_path, "ecoles-s16", "--count", "3", "--spec", str(spec))) == 2
    err = capsys.readouterr().err
    assert "--count : la consultation ecoles-s16 répartit ses codes par segment" in err
    assert "(A1, A2, A3, A4)" in err
    # The ready-to-use replacement, with the spec's electorates.
    assert "--segments A1=640,A2=520,A3=760,A4=380" in err
    assert not (tmp_path / "codes").exists()


def test_segments_over_the_same_spec_make_keys_the_import_takes(tmp_path: Path) -> None:
    spec = _spec_file(tmp_path, "ecoles-s16")
    argv = _argv(tmp_path, "ecoles-s16", "--segments", "A1=2,A3=1", "--spec", str(spec))
    assert cli_main(argv) == 0
    keys = credentials.read_public_jsonl(
        (tmp_path / "codes" / "cles-publiques.jsonl").read_text("utf-8")
    )
    assert sorted(k.segment or "" for k in keys) == ["A1", "A1", "A3"]


def test_count_over_a_spec_without_segments_still_works(tmp_path: Path) -> None:
    spec = _spec_file(tmp_path, "mairie-s16", segments=False)
    assert cli_main(_argv(tmp_path, "mairie-s16", "--count", "2", "--spec", str(spec))) == 0
    keys = credentials.read_public_jsonl(
        (tmp_path / "codes" / "cles-publiques.jsonl").read_text("utf-8")
    )
    assert [k.segment for k in keys] == [None, None]


def test_a_reissue_over_a_spec_with_segments_needs_no_segment(tmp_path: Path) -> None:
    """The app gives the new key the lost one's segment: a reissue is not refused."""
    spec = _spec_file(tmp_path, "ecoles-s16")
    old = "ab" * 32
    argv = _argv(tmp_path, "ecoles-s16", "--replace", old, "--reason", "lettre perdue")
    assert cli_main([*argv, "--spec", str(spec)]) == 0


@pytest.mark.usesdb
def test_the_import_says_what_to_do_with_keys_without_a_segment(org: Any) -> None:
    c, _ = setup_consultation(org, cid="ecoles-imp-s16", access="credentialed", open_it=False)
    before = c.credentials.count()
    _, public = credentials.generate(2, None, c.cid, BASE_URL)
    text = "".join(json.dumps(p.to_dict()) + "\n" for p in public)
    with pytest.raises(ActionError) as caught:
        actions.import_credentials(c, text, actor=None)
    said = str(caught.value)
    assert "Clé n° 1 : sans segment" in said
    assert "(A1, A2, A3, A4)" in said
    assert "Rien n'a été importé" in said and "--segments" in said
    assert c.credentials.count() == before


@pytest.mark.usesdb
def test_a_consultation_closes_once(org: Any) -> None:
    c, _ = setup_consultation(org, cid="une-fois-s16", access="mixed")
    actions.close_consultation(c, actor=None)
    with pytest.raises(ActionError, match="Seule une consultation ouverte peut être close"):
        actions.close_consultation(c, actor=None)
    assert c.events.filter(kind="closed").count() == 1
    # Nor does anything else the verifier refuses after the close get journaled.
    _, public = credentials.generate(None, {"A1": 1}, c.cid, BASE_URL)
    with pytest.raises(ActionError, match="plus d'import"):
        actions.import_credentials(c, json.dumps(public[0].to_dict()) + "\n", actor=None)
    with pytest.raises(ActionError):
        actions.open_consultation(c, actor=None)
    assert c.events.filter(kind__in=("opened", "credentials_imported")).count() == 2


def test_count_over_segments_without_electorates_suggests_n_not_zero(
    tmp_path: Path, capsys: Any
) -> None:
    """Electorate 0 means « not declared »: A1=0 would make no letter, so the
    suggestion says N and what N is."""
    spec = example_spec_dict("ecoles-n-s16", access="credentialed", closes=CLOSES)
    for seg in spec["segments"]:
        seg["electorate"] = 0
    spec["segments"][0]["electorate"] = 640
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), "utf-8")
    assert cli_main(_argv(tmp_path, "ecoles-n-s16", "--count", "3", "--spec", str(path))) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--segments A1=640,A2=N,A3=N,A4=N" in err
    assert "=0" not in err
    assert "N : nombre de lettres à imprimer pour ce segment" in err
    assert "les autres nombres sont les effectifs qu'elle déclare" in err
    assert not (tmp_path / "codes").exists()
