from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from beffroi.watch.classify import SOURCES
from beffroi.watch.classify import cli as classify_cli
from beffroi.watch.classify.crisislex import default_data_dir, read_crisislex
from beffroi.watch.classify.labels import INFO_TYPES


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    classify_cli.add_arguments(parser)
    return classify_cli.run(parser.parse_args(argv))


def test_classifies_every_row_with_ids_as_in_file(fixture_csv, tmp_path):
    out = tmp_path / "out.json"
    assert _run([str(fixture_csv), "--format", "crisislex", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    ids = [p.id for p in read_crisislex(fixture_csv)]
    assert [item["id"] for item in doc["items"]] == ids
    for item in doc["items"]:
        assert set(item) == {"id", "informative", "info_type", "source"}
        assert isinstance(item["informative"], bool)
        assert item["info_type"] in INFO_TYPES and item["source"] in SOURCES
    by_id = {item["id"]: item for item in doc["items"]}
    assert by_id["100000000000000004"]["informative"] is False  # the beach sunset


def test_learn_first_predicts_only_the_rest(fixture_csv, tmp_path):
    out = tmp_path / "out.json"
    assert _run([str(fixture_csv), "--learn-first", "4", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["learned"] == 4
    ids = [p.id for p in read_crisislex(fixture_csv)]
    assert [item["id"] for item in doc["items"]] == ids[4:]
    # Teaching more rows than the file has leaves nothing to predict, not an error.
    assert _run([str(fixture_csv), "--learn-first", "50", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["items"] == []


def test_bad_file_exits_2_naming_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Tweet ID, Tweet Text, Information Source, Information Type, Informativeness\n"
        '"1","ok",Media,Caution and advice,Related and informative\n'
        '"2","ko",Journalist,Caution and advice,Related and informative\n'
    )
    out = tmp_path / "out.json"
    assert _run([str(bad), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:3, column 3" in err and "Journalist" in err
    assert not out.exists()


def test_missing_file_and_negative_k_exit_2(tmp_path, capsys, fixture_csv):
    out = tmp_path / "out.json"
    assert _run([str(tmp_path / "absent.csv"), "--json", str(out)]) == 2
    assert "absent.csv" in capsys.readouterr().err
    assert _run([str(fixture_csv), "--learn-first", "-1", "--json", str(out)]) == 2
    assert not out.exists()


def test_unwritable_output_exits_2_and_leaves_nothing(fixture_csv, tmp_path, capsys):
    out = tmp_path / "no-such-dir" / "out.json"
    assert _run([str(fixture_csv), "--json", str(out)]) == 2
    assert "cannot write" in capsys.readouterr().err


def _real_file() -> Path | None:
    root = default_data_dir() / "CrisisLexT26" / "2013_Colorado_floods"
    files = sorted(root.glob("*-tweets_labeled.csv"))
    return files[0] if files else None


@pytest.mark.skipif(_real_file() is None, reason="shared CrisisLex data not present")
def test_real_shared_file_with_learning(tmp_path):
    src = _real_file()
    assert src is not None
    # Bounded: the first 300 rows of a real event file.
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    small = tmp_path / "real.csv"
    small.write_text("".join(lines[:301]), encoding="utf-8")
    out = tmp_path / "out.json"
    assert _run([str(small), "--learn-first", "100", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    posts = read_crisislex(small)
    assert [i["id"] for i in doc["items"]] == [p.id for p in posts[100:]]
    gold = [p.informativeness == "Related and informative" for p in posts[100:]]
    pred = [i["informative"] for i in doc["items"]]
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    assert accuracy > 0.7


def test_routed_by_the_beffroi_cli(fixture_csv, tmp_path):
    from beffroi import cli

    out = tmp_path / "o.json"
    code = cli.main(
        ["watch", "classify", str(fixture_csv), "--format", "crisislex", "--json", str(out)]
    )
    assert code == 0
    assert len(json.loads(out.read_text())["items"]) == 10


def test_json_dash_writes_to_stdout(fixture_csv, capsys):
    assert _run([str(fixture_csv), "--learn-first", "8", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in doc["items"]] == ["100000000000000009", "100000000000000010"]
