"""ballot.js under Node 20: same seed, same canonical bytes, signatures Python accepts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from beffroi.consult.ballot import KeyInfo, check_ballot, receipt, verify_signature
from beffroi.consult.board import Board
from beffroi.consult.canonical import canonical_bytes
from beffroi.consult.credentials import derive_seed, format_code, new_code, public_key_hex
from beffroi.consult.examples import all_kinds_spec
from beffroi.consult.spec import spec_hash

NODE = shutil.which("node")
HERE = Path(__file__).parent
BALLOT_JS = Path(__file__).parents[2] / "src/beffroi/consult/static/consult/ballot.js"

TRICKY: list[Any] = [
    {"b": 1, "a": 2, "A": 3, "_": 4, "10": 5, "9": 6, "é": 7, "e\u0301": 8},
    {"\ufb01": "ligature", "\U0001f600": "emoji above the BMP", "\uffff": "last BMP"},
    ['quote " backslash \\ slash / tab \t newline \n cr \r', "\u0000\u0001\u001f\u007f"],
    ["\u2028\u2029 line separators", "\u00e9t\u00e9 \U0001f3eb \u200b zero-width", ""],
    [0, -1, 1, 2**53 - 1, -(2**53 - 1), 10**15, True, False, None],
    {"nested": {"z": [], "y": {}, "x": [{"b": None, "a": [1, [2, [3]]]}]}},
]


@pytest.mark.skipif(NODE is None, reason="node is not installed (ballot.js needs Node >= 20)")
def test_ballot_js_matches_python(tmp_path: Path) -> None:
    assert NODE is not None
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout
    if int(version.strip().lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"node {version.strip()} lacks WebCrypto Ed25519 (needs >= 20)")
    spec = all_kinds_spec(access="credentialed")
    code = format_code(new_code())
    ballots = [
        {
            "answers": {"satisfaction": 4, "commentaire": "Très bien 👍 « merci »\n"},
            "rows": [{"semaine": "4j", "mercredi": ["famille", "ecole"]}, {}],
            "seq": 1,
        },
        {
            "answers": {},
            "rows": [{"semaine": "sans_avis"}, {"semaine": "4j5"}],
            "seq": 1_764_000_000_000,
        },
    ]
    cases = {
        "code": code,
        "consultation_id": spec.id,
        "spec_hash": spec_hash(spec),
        "values": TRICKY,
        "ballots": ballots,
    }
    (tmp_path / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    out = tmp_path / "out.json"
    env = dict(
        os.environ,
        BEFFROI_BALLOT_JS=BALLOT_JS.as_uri(),
        BEFFROI_JS_CASES=str(tmp_path / "cases.json"),
        BEFFROI_JS_OUT=str(out),
    )
    proc = subprocess.run(
        [NODE, "--test", str(HERE / "test_core_ballot_js.test.mjs")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = json.loads(out.read_text(encoding="utf-8"))

    for value, js_text in zip(TRICKY, got["canonical"], strict=True):
        assert js_text.encode("utf-8") == canonical_bytes(value)
    assert got["seed"] == derive_seed(code, spec.id).hex()
    assert got["unsigned_receipt"] == receipt(TRICKY[0], None)  # type: ignore[arg-type]

    pk = public_key_hex(code, spec.id)
    board = Board(spec, {pk: KeyInfo("A1")})
    for i, signed in enumerate(got["signed"]):
        ballot = signed["ballot"]
        assert signed["public_key"] == pk == ballot["public_key"]
        verify_signature(ballot, signed["signature"])
        assert signed["receipt"] == receipt(ballot, signed["signature"])
        check_ballot(
            spec,
            ballot,
            signed["signature"],
            keys=board.keys,
            received_at=spec.opens,
            last_seq=None,
        )
        entry = board.submit(ballot, signed["signature"], spec.opens).entry
        assert entry["receipt"] == signed["receipt"] and entry["n"] == i + 1
