"""`beffroi credentials generate --replace` promised a new credential « in its
segment », which the tool cannot know: without --segments the new key's segment is
null in cles-publiques.jsonl. The help now says what happens: the app gives the new
key the revoked one's segment, and --segments SEG=1 writes it in the file too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from beffroi.cli import main as cli_main
from beffroi.consult.credentials import read_public_jsonl

OLD = "cd" * 32


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        cli_main(["credentials", "generate", "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_the_help_says_where_the_new_key_s_segment_comes_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    said = _help(capsys)
    assert "in its segment" not in said
    assert re.search(r"the app gives it the revoked key's segment \(add --segments SEG=1", said)
    assert "else it is null there" in said


def test_what_the_help_says_of_the_file_is_true(tmp_path: Path) -> None:
    base = ["credentials", "generate", "--consultation-id", "c-9", "--base-url", "https://e.org"]
    base += ["--no-pdf", "--replace", OLD, "--reason", "lettre perdue"]
    assert cli_main([*base, "--out", str(tmp_path / "a")]) == 0
    assert cli_main([*base, "--out", str(tmp_path / "b"), "--segments", "A2=1"]) == 0
    (plain,) = read_public_jsonl((tmp_path / "a" / "cles-publiques.jsonl").read_text("utf-8"))
    (given,) = read_public_jsonl((tmp_path / "b" / "cles-publiques.jsonl").read_text("utf-8"))
    assert plain.segment is None and given.segment == "A2"


def test_the_app_gives_the_new_key_the_revoked_key_s_segment(db, org) -> None:  # type: ignore[no-untyped-def]
    from beffroi.consult import actions
    from beffroi.consult.cli_example_bundle import setup_consultation
    from beffroi.consult.credentials import public_key_hex

    c, private = setup_consultation(org, cid="remplace", access="credentialed", per_segment=1)
    lost = private[-1]
    assert lost.segment is not None
    new = "ef" * 32
    actions.revoke_credential(
        c, public_key_hex(lost.code, c.cid), "perdu", actor=None, replacement=new
    )
    assert c.credentials.get(public_key=new).segment == lost.segment
