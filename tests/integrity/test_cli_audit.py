"""The `beffroi audit` and `beffroi simulate consultation` commands, end to end in-process."""

import json
from pathlib import Path
from typing import Any

import pytest

from beffroi.cli import main
from beffroi.integrity.audit import run_audit
from beffroi.integrity.simulate import simulate


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate(out, attack="seedlike", forms=600, fakes=120, seed=11)
    return out


def _check_schema(data: dict[str, Any]) -> None:
    """The documented shape of docs/formats/audit-json.md."""
    assert data["schema"] == "beffroi-audit" and data["version"] == 1
    assert isinstance(data["threshold"], float)
    for key in ("summary", "robustness", "timeline", "detectors"):
        assert isinstance(data[key], dict), key
    for key in ("responses", "scenarios", "checks_skipped", "clusters", "disabled"):
        assert isinstance(data[key], list), key
    for r in data["responses"]:
        assert set(r) == {"id", "score", "flagged", "reasons", "cluster"}
        assert isinstance(r["id"], str)
        assert 0.0 <= r["score"] <= 1.0
        assert isinstance(r["flagged"], bool) and r["flagged"] == (r["score"] >= data["threshold"])
        assert all(isinstance(x, str) for x in r["reasons"])
        assert r["cluster"] is None or isinstance(r["cluster"], int)
        if r["flagged"]:
            assert r["reasons"]
    for s in data["scenarios"]:
        assert {"scenario", "label", "forms", "excluded", "questions"} <= set(s)
        for q in s["questions"]:
            assert {"question", "label", "answers", "counts", "shares", "rows", "segments"} <= set(
                q
            )
    for c in data["checks_skipped"]:
        assert set(c) == {"check", "reason"}
    rob = data["robustness"]
    assert {"k_values", "questions", "participation"} <= set(rob)
    for q in rob["questions"]["beffroi"]:
        assert {"flip_by_removal", "flip_by_addition", "fragile", "ranges", "statement"} <= set(q)
    for c in data["clusters"]:
        assert {"cluster", "start", "end", "size", "flagged", "evidence", "checks"} <= set(c)


def test_simulate_command(tmp_path: Path) -> None:
    code = main(["simulate", "consultation", "--out", str(tmp_path), "--attack", "drip"])
    assert code == 0
    assert (tmp_path / "export.csv").exists() and (tmp_path / "truth.csv").exists()
    truth = (tmp_path / "truth.csv").read_text().splitlines()
    assert truth[0] == "id,fake" and len(truth) == 1 + 1500 + 250


def test_audit_writes_json_and_report(sim: Path, tmp_path: Path) -> None:
    js, page = tmp_path / "a.json", tmp_path / "a.html"
    code = main(
        [
            *("audit", str(sim / "export.csv"), "--electorate", "A1=640,A2=520,A3=760,A4=380"),
            *("--json", str(js), "--report", str(page), "--claimed-participation", "62"),
        ]
    )
    assert code == 0
    data = json.loads(js.read_text(encoding="utf-8"))
    _check_schema(data)
    truth = dict(line.split(",") for line in (sim / "truth.csv").read_text().splitlines()[1:])
    assert [r["id"] for r in data["responses"]] == list(truth)
    flagged = {r["id"] for r in data["responses"] if r["flagged"]}
    fakes = {k for k, v in truth.items() if v == "1"}
    assert len(flagged & fakes) >= 0.9 * len(fakes)
    assert len(flagged - fakes) <= 0.02 * (len(truth) - len(fakes))
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    # Self-contained: nothing fetched from elsewhere.
    assert 'src="http' not in text and 'href="http' not in text and "@import" not in text
    assert "Une réponse par adresse IP" in text


def test_to_json_matches_streamed_json(sim: Path, tmp_path: Path) -> None:
    res = run_audit(sim / "export.csv")
    js = tmp_path / "b.json"
    with js.open("w", encoding="utf-8") as fh:
        res.write_json(fh)
    assert json.loads(js.read_text(encoding="utf-8")) == json.loads(json.dumps(res.to_json()))


def test_ids_kept_exactly(tmp_path: Path) -> None:
    src = tmp_path / "e.csv"
    sent = "2026-03-02 18:00:00"
    src.write_text(
        f"id;submitdate;Q1\n007;{sent};A\n 8 ;{sent};B\nx-9;{sent};A\n", encoding="utf-8"
    )
    js = tmp_path / "e.json"
    assert main(["audit", str(src), "--json", str(js)]) == 0
    # Surrounding blanks are not part of an id; leading zeros are.
    assert [r["id"] for r in json.loads(js.read_text())["responses"]] == ["007", "8", "x-9"]


@pytest.mark.parametrize(
    "content,needle",
    [
        ("", "vide"),
        ("Q1,Q2\nA,B\n", "« id »"),
        # Session 7 accepted this and reported empty sections.
        ("id,foo\n1,a\n2,b\n", "Colonne « submitdate » absente"),
        ("id,submitdate,Q1\n1,,A\n2,,B\n", "Aucune réponse complète"),
        ("id,submitdate,Q1\n1,,A\n1,,B\n", "lignes 2 et 3"),
        ("id,submitdate,Q1\n1,2026-13-45 10:00:00,A\n", "ligne 2, colonne « submitdate »"),
        ('id,Q1\n1,"A\n', "ligne"),
    ],
)
def test_bad_input_exit_2_and_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    code = main(["audit", str(src), "--json", str(out / "a.json"), "--report", str(out / "a.html")])
    assert code == 2
    assert needle in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,submitdate,Q\n1,2026-03-02 18:00:00,A\n", encoding="utf-8")
    assert main(["audit", str(src), "--format", "csv"]) == 2
    assert main(["audit", str(src), "--electorate", "A1=deux"]) == 2
    assert main(["audit"]) == 2
    assert main(["audit", str(src), "--disable", "inconnu"]) == 2
    err = capsys.readouterr().err
    assert "--mapping" in err and "deux" in err and "inconnu" in err


@pytest.mark.slow
def test_pdf(sim: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    assert main(["audit", str(sim / "export.csv"), "--pdf", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_ids_with_json_special_characters(tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text(
        'id,submitdate,Q1\n"a""b",2026-03-02 18:00,A\n"c\\\\d",2026-03-02 18:01,B\n'
        "é,2026-03-02 18:02,A\n",
        encoding="utf-8",
    )
    js = tmp_path / "q.json"
    assert main(["audit", str(src), "--json", str(js)]) == 0
    assert [r["id"] for r in json.loads(js.read_text(encoding="utf-8"))["responses"]] == [
        'a"b',
        "c\\\\d",
        "é",
    ]


def test_pure_modules_do_not_import_django() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import beffroi.integrity.audit, beffroi.integrity.report, beffroi.integrity.remote\n"
        "import beffroi.integrity.cli_audit, beffroi.integrity.cli_simulate\n"
        "assert not [m for m in sys.modules if m.startswith('django')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_csv_with_mapping(tmp_path: Path) -> None:
    src = tmp_path / "g.csv"
    src.write_text(
        "ref;quand;ecole;p1;p2\na;02/03/2026 18:00:00;X;oui;non\nb;02/03/2026 18:01:00;Y;oui;oui\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "g.toml"
    mapping.write_text(
        '[columns]\nid = "ref"\ntime = "quand"\nsegment = "ecole"\n'
        '[repeated]\nBLOUSE = ["p1", "p2"]\n',
        encoding="utf-8",
    )
    js = tmp_path / "g.json"
    args = ["audit", str(src), "--format", "csv", "--mapping", str(mapping), "--json", str(js)]
    assert main([*args, "--electorate", "X=1,Y=1"]) == 0
    data = json.loads(js.read_text(encoding="utf-8"))
    q = data["scenarios"][0]["questions"][0]
    assert q["counts"] == {"oui": 3, "non": 1}
    assert {c["check"] for c in data["checks_skipped"]} >= {"concentration réseau"}
