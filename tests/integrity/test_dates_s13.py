"""Dates are never read wrongly without a word.

A two-digit year (« 02/03/26 ») was read as the year 26, and the audit went on; a
month-first export whose days were all 12 or less was read day first, silently.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.cli import main
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import DATE_ORDER_CHECK, load_limesurvey, load_mapped

HEAD = "id,submitdate,ECOLE,Q1"


def _text(dates: list[str]) -> str:
    rows = [f"{i + 1},{d},A{i % 2 + 1},{'YN'[i % 2]}" for i, d in enumerate(dates)]
    return "\n".join([HEAD, *rows]) + "\n"


def _order_note(ds) -> list[str]:  # type: ignore[no-untyped-def]
    return [c["reason"] for c in ds.checks_skipped if c["check"] == DATE_ORDER_CHECK]


@pytest.mark.parametrize("value", ["02/03/26 16:33:04", "02.03.26 16:33", "26-03-02 16:33:04"])
def test_two_digit_year_refused(value: str) -> None:
    with pytest.raises(InputError) as err:
        load_limesurvey(text=_text(["02/03/2026 10:00:00", value]))
    msg = str(err.value)
    assert "Année sur deux chiffres à la ligne 3" in msg and "« submitdate »" in msg
    assert value in msg and "quatre chiffres" in msg
    assert err.value.line == 3 and err.value.column == "submitdate"


def test_two_digit_year_cli_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "yy.csv"
    src.write_text(_text(["02/03/26 16:33:04"] * 3), encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["audit", str(src), "--no-progress", "--json", str(out)]) == 2
    assert "Année sur deux chiffres" in capsys.readouterr().err and not out.exists()


def test_two_digit_year_accepted_when_the_mapping_says_so(tmp_path: Path) -> None:
    src = tmp_path / "e.csv"
    src.write_text("ref,quand,q\n1,02/03/26 10:00,a\n2,02/03/26 10:05,b\n", encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nid = "ref"\ntime = "quand"\ntime_format = "%d/%m/%y %H:%M"\n')
    ds = load_mapped(src, mapping)
    first = dt.datetime.fromtimestamp(ds.table.column("submitted")[0].as_py(), dt.UTC)
    assert first.year == 2026 and first.month == 3 and first.day == 2
    assert _order_note(ds) == []


def test_ambiguous_slash_dates_are_noted() -> None:
    ds = load_limesurvey(text=_text(["03/02/2026 10:00:00", "12/02/2026 11:00:00"]))
    (note,) = _order_note(ds)
    assert "le jour d'abord" in note and "« submitdate »" in note
    first = dt.datetime.fromtimestamp(ds.table.column("submitted")[0].as_py(), dt.UTC)
    assert (first.day, first.month) == (3, 2)  # still read the French way


@pytest.mark.parametrize(
    "dates", [["13/02/2026 10:00:00", "03/02/2026 11:00:00"], ["2026-02-03 10:00:00"] * 2]
)
def test_proven_order_has_no_note(dates: list[str]) -> None:
    assert _order_note(load_limesurvey(text=_text(dates))) == []


def test_month_first_date_refused_with_a_hint() -> None:
    with pytest.raises(InputError) as err:
        load_limesurvey(text=_text(["03/02/2026 10:00:00", "03/25/2026 10:00:00"]))
    assert "mois d'abord" in str(err.value) and "ligne 3" in str(err.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)), min_size=1, max_size=20
    )
)
def test_french_slash_dates_fuzzed(stamps: list[dt.datetime]) -> None:
    """Read day first, exactly; noted as ambiguous exactly when no day is above 12."""
    stamps = [s.replace(microsecond=0) for s in stamps]
    ds = load_limesurvey(text=_text([s.strftime("%d/%m/%Y %H:%M:%S") for s in stamps]))
    got = ds.table.column("submitted").to_pylist()
    assert got == [s.replace(tzinfo=dt.UTC).timestamp() for s in stamps]
    assert bool(_order_note(ds)) == all(s.day <= 12 for s in stamps)
