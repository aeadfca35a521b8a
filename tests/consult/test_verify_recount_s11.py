"""`beffroi verify` prints the recount it made, question by question: it said « tout
concorde » without a single figure, and the scrutineer had to open results.json to
learn what had been recounted (walkthrough: a scrutineer recounting a school poll)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from beffroi.cli import main as cli_main
from beffroi.consult.examples import all_kinds_spec, example_board


def _published(bundle: bytes) -> dict[str, Any]:
    import io

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return json.loads(zf.read("results.json"))


def test_the_recount_is_printed_with_the_published_figures(tmp_path: Path, capsys) -> None:
    example = example_board(30, seed=11, spec=all_kinds_spec())
    bundle = example.bundle()
    path = tmp_path / "dossier.zip"
    path.write_bytes(bundle)
    assert cli_main(["verify", "--quiet", str(path)]) == 0
    out = capsys.readouterr().out
    published = _published(bundle)["results"]
    spec = example.spec
    counted = published["all"]["ballots"]
    assert f"Recomptage, toutes les réponses comptées ({counted}) :" in out
    single = next(q for q in spec.questions if q.kind == "single" and q.per_row)
    counts = published["all"]["questions"][single.code]["counts"]
    tallied = ", ".join(f"{o.label} {counts.get(o.code, 0)}" for o in single.options)
    assert f"  {single.label} — {tallied}" in out
    # The repeated rows each get their line, under the question.
    first_row = published["all"]["rows"][0][single.code]["counts"]
    row_tally = ", ".join(f"{o.label} {first_row.get(o.code, 0)}" for o in single.options)
    assert f"    {spec.rows.labels[0]} — {row_tally}" in out
    text = next(q for q in spec.questions if q.kind == "text")
    assert f"  {text.label} — " in out
    scale = next(q for q in spec.questions if q.kind == "scale")
    assert "moyenne" in out.split(f"  {scale.label} — ", 1)[1].splitlines()[0]
    # A mixed consultation: verified and unverified answers recounted apart too.
    assert spec.access == "mixed"
    assert "Recomptage, vérifiées (avec code)" in out
    assert "Recomptage, non vérifiées (sans code)" in out


def test_no_recount_is_printed_when_the_board_fails(tmp_path: Path, capsys) -> None:
    example = example_board(10, seed=11)
    bundle = bytearray(example.bundle())
    path = tmp_path / "dossier.zip"
    path.write_bytes(bytes(bundle[: len(bundle) // 2]))
    assert cli_main(["verify", "--quiet", str(path)]) == 1
    assert "Recomptage" not in capsys.readouterr().out
