"""The credential authority anchors reissued codes too (review R3, findings 1, 10, 8, 11).

The organiser alone could revoke a parent's code, type a key of its own as the
« replacement » and vote with it: verify left reissued keys out of the fingerprint,
so the authority's figure still matched.  Now the fingerprint verify compares covers
every key, reissued ones included, and the authority republishes it after each
reissue (`credentials generate --replace … --previous …`, or
`credentials fingerprint`).
"""

from __future__ import annotations

import argparse
import csv
import json
import stat
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from beffroi.cli import main as cli_main
from beffroi.consult import actions, cli_keys_fingerprint, live
from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.credentials import key_list_fingerprint, public_key_hex, read_public_jsonl
from beffroi.consult.verify import verify_bundle

BASE = ["credentials", "generate", "--consultation-id", "subst", "--base-url", "https://e.org"]


def _first_list(private, cid: str, path: Path) -> str:  # type: ignore[no-untyped-def]
    """The cles-publiques.jsonl the authority handed over, and the figure it published."""
    rows = [(public_key_hex(p.code, cid), p.segment) for p in private]
    path.write_text(
        "".join(json.dumps({"public_key": k, "segment": s}) + "\n" for k, s in rows), "utf-8"
    )
    return key_list_fingerprint(rows)


def _rows(c):  # type: ignore[no-untyped-def]
    spec = c.get_spec()
    return [{q.code: "oui" for q in spec.questions if q.per_row}, {}]


def _vote(c, code: str, seq: int = 1) -> None:  # type: ignore[no-untyped-def]
    p = signed_payload(c, code, {}, _rows(c), seq)
    out = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], p["signature"])])
    assert out[0].error is None, out[0].error


def _verify(tmp_path: Path, c, fingerprint: str, capsys) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    path = tmp_path / "dossier.zip"
    path.write_bytes(live.bundle(c))
    capsys.readouterr()
    rc = cli_main(["verify", "--quiet", "--keys-fingerprint", fingerprint, str(path)])
    return rc, " ".join(capsys.readouterr().out.split())


@pytest.mark.usesdb
def test_a_key_the_organiser_slips_in_as_a_replacement_fails_the_authority_s_figure(
    org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    c, private = setup_consultation(org, cid="subst", access="credentialed", per_segment=2)
    published = _first_list(private, c.cid, tmp_path / "cles-publiques.jsonl")
    victim = private[0]
    _vote(c, victim.code)
    seed = bytes(32)
    mine = bytes(SigningKey(seed).verify_key).hex()
    actions.revoke_credential(
        c, public_key_hex(victim.code, c.cid), "lettre perdue", actor=None, replacement=mine
    )
    spec = c.get_spec()
    b = make_ballot(spec, {}, _rows(c), public_key=mine, seq=1)
    assert actions.submit_ballots(c.cid, [actions.Incoming(b, sign(b, seed))])[0].error is None
    actions.close_consultation(c, actor=None)
    report = verify_bundle(live.bundle(c))
    assert report.stats["keys_fingerprint"] != published
    assert report.stats["revoked_used"] == 1 and report.stats["reissued"] == 1
    rc, said = _verify(tmp_path, c, published, capsys)
    assert rc == 1
    assert f"{published} est l'empreinte des clés importées, sans 1 code réémis depuis" in said
    assert "répondrait à la place d'un parent" in said


@pytest.mark.usesdb
def test_an_authority_reissue_is_covered_by_its_republished_figure(
    org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    c, private = setup_consultation(org, cid="subst", access="credentialed", per_segment=2)
    first = tmp_path / "cles-publiques.jsonl"
    _first_list(private, c.cid, first)
    lost = private[0]
    _vote(c, lost.code)
    old_key = public_key_hex(lost.code, c.cid)
    out = tmp_path / "reissue"
    argv = [*BASE, "--no-pdf", "--replace", old_key, "--reason", "lettre perdue"]
    capsys.readouterr()
    assert cli_main([*argv, "--previous", str(first), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "codes.csv est PRIVÉ" in printed and "lettres.pdf" not in printed.split("PRIVÉ")[0]
    republished = printed.rsplit(" : ", 1)[1].strip()
    assert "à publier vous-même" in printed and len(republished) == 64
    (new,) = read_public_jsonl((out / "cles-publiques.jsonl").read_text("utf-8"))
    # The new key carries the replaced key's segment, as the app will give it.
    assert new.segment == lost.segment
    with (out / "codes.csv").open(encoding="utf-8") as f:
        (letter,) = list(csv.DictReader(f))
    actions.revoke_credential(c, old_key, "lettre perdue", actor=None, replacement=new.public_key)
    _vote(c, letter["code"])
    actions.close_consultation(c, actor=None)
    rc, said = _verify(tmp_path, c, republished, capsys)
    assert rc == 0, said
    assert "1 code révoqué, dont 1 après avoir servi (ses réponses ne comptent plus) ; " in said
    assert "1 code réémis à leur place." in said
    assert "codes réémis compris" in said and f"{republished}, celle publiée par" in said
    # The fingerprint command over both lists gives the same figure.
    capsys.readouterr()
    args = argparse.Namespace(files=[first, out / "cles-publiques.jsonl"])
    assert cli_keys_fingerprint.run(args) == 0
    assert capsys.readouterr().out.strip().endswith(republished)


def test_replace_with_previous_refuses_a_key_of_no_list(tmp_path: Path) -> None:
    first = tmp_path / "cles.jsonl"
    first.write_text(json.dumps({"public_key": "ab" * 32, "segment": "A1"}) + "\n", "utf-8")
    argv = [*BASE, "--no-pdf", "--replace", "cd" * 32, "--reason", "perdue"]
    assert cli_main([*argv, "--previous", str(first), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_replace_without_previous_warns_that_no_figure_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*BASE, "--no-pdf", "--replace", "cd" * 32, "--reason", "perdue"]
    assert cli_main([*argv, "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "à publier vous-même" not in captured.out
    assert "beffroi credentials fingerprint" in " ".join(captured.err.split())


def test_fingerprint_command_refuses_a_key_in_two_lists_and_a_missing_segment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    a.write_text(json.dumps({"public_key": "ab" * 32, "segment": "A1"}) + "\n", "utf-8")
    b.write_text(json.dumps({"public_key": "ab" * 32, "segment": "A1"}) + "\n", "utf-8")
    c.write_text(json.dumps({"public_key": "cd" * 32, "segment": None}) + "\n", "utf-8")
    assert cli_keys_fingerprint.run(argparse.Namespace(files=[a, b])) == 2
    assert "déjà dans" in capsys.readouterr().err
    assert cli_keys_fingerprint.run(argparse.Namespace(files=[a, c])) == 2
    assert "sans segment" in capsys.readouterr().err
    assert cli_keys_fingerprint.run(argparse.Namespace(files=[a])) == 0
    expected = key_list_fingerprint([("ab" * 32, "A1")])
    assert capsys.readouterr().out.strip().endswith(expected)
    # The authority types it as the guide says: through the beffroi command.
    assert cli_main(["credentials", "fingerprint", str(a)]) == 0
    assert capsys.readouterr().out.strip().endswith(expected)


def test_the_private_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert cli_main([*BASE, "--count", "2", "--out", str(out)]) == 0
    assert stat.S_IMODE((out / "codes.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "lettres.pdf").stat().st_mode) == 0o600
    # The public list stays readable: it is meant to be handed over.
    assert stat.S_IMODE((out / "cles-publiques.jsonl").stat().st_mode) != 0o600
