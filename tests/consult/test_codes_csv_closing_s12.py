"""``codes.csv`` carries the closing date the letters print (column ``cloture``, RFC 3339
in the letters' zone, empty without ``--closes``), as its last column so that mail-merge
templates reading the first four keep working (docs/formats/codes-csv.md)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beffroi.cli import main as cli_main
from beffroi.consult.credentials import CSV_COLUMNS, closing_value, letter_zone


def _generate(out: Path, *extra: str) -> list[list[str]]:
    argv = ["credentials", "generate", "--segments", "A1=2,B1=1", "--consultation-id", "c-12"]
    argv += ["--base-url", "https://ex.org", "--out", str(out), "--no-pdf", *extra]
    assert cli_main(argv) == 0
    with (out / "codes.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize(
    ("closes", "zone", "written"),
    [
        # Winter and summer in Paris: the offset is the zone's at that date.
        ("2099-12-14T18:00", None, "2099-12-14T18:00:00+01:00"),
        ("2099-06-15T18:30", None, "2099-06-15T18:30:00+02:00"),
        # Given in UTC: written in the letters' zone, the same instant.
        ("2099-12-14T17:00Z", None, "2099-12-14T18:00:00+01:00"),
        ("2099-12-14T13:00", "America/Martinique", "2099-12-14T13:00:00-04:00"),
    ],
)
def test_every_line_says_when_the_consultation_closes(tmp_path, closes, zone, written) -> None:
    extra = ["--closes", closes] + (["--timezone", zone] if zone else [])
    header, *lines = _generate(tmp_path, *extra)
    assert header == ["numero", "segment", "code", "lien", "cloture"]
    assert len(lines) == 3
    assert {line[4] for line in lines} == {written}
    at = datetime.fromisoformat(lines[0][4])
    assert at.utcoffset() is not None  # an offset, never a naive local time
    expected = datetime.fromisoformat(closes.replace("Z", "+00:00"))
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=letter_zone(zone or "Europe/Paris"))
    assert at == expected


def test_without_a_closing_date_the_column_is_empty(tmp_path) -> None:
    header, *lines = _generate(tmp_path)
    assert header[-1] == "cloture"
    assert [line[4] for line in lines] == ["", "", ""]


def test_old_readers_of_the_first_four_columns_read_the_same(tmp_path) -> None:
    # By name (a mail-merge template, csv.DictReader) and by place (a script).
    _generate(tmp_path, "--closes", "2099-12-14T18:00")
    with (tmp_path / "codes.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["numero"] for r in rows] == ["1", "2", "3"]
    assert [r["segment"] for r in rows] == ["A1", "A1", "B1"]
    assert all(r["lien"].startswith("https://ex.org/c/c-12/#") for r in rows)
    assert all(r["code"].count("-") >= 2 for r in rows)
    assert CSV_COLUMNS[:4] == ("numero", "segment", "code", "lien")


def test_the_value_is_rfc_3339_in_the_given_zone() -> None:
    at = datetime(2099, 12, 14, 17, 0, tzinfo=UTC)
    assert closing_value(None) == ""
    assert closing_value(at) == "2099-12-14T17:00:00+00:00"
    assert closing_value(at, letter_zone("Indian/Reunion")) == "2099-12-14T21:00:00+04:00"
