"""`time_format`, written under [columns] as the format doc shows, was read only at the
top of the mapping: there it was ignored, and a month-first date (03/02/2026 = 2 March)
was read day-first (3 February) without a word."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from beffroi.integrity.errors import InputError
from beffroi.integrity.load import check_header, load_mapped

EXPORT = "ref,quand,q1\na,03/02/2026 18:00,oui\nb,03/02/2026 18:05,non\n"
MARCH_2 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "mapping",
    [
        '[columns]\nid = "ref"\ntime = "quand"\ntime_format = "%m/%d/%Y %H:%M"\n',
        'time_format = "%m/%d/%Y %H:%M"\n[columns]\nid = "ref"\ntime = "quand"\n',
    ],
    ids=["under-columns", "at-the-top"],
)
def test_the_time_format_is_followed_wherever_it_is_written(tmp_path: Path, mapping: str) -> None:
    export, conf = tmp_path / "e.csv", tmp_path / "m.toml"
    export.write_text(EXPORT, encoding="utf-8")
    conf.write_text(mapping, encoding="utf-8")
    ds = load_mapped(export, conf)
    assert ds.table.column("submitted").to_pylist()[0] == MARCH_2


def test_a_time_format_that_is_not_text_is_refused_at_the_header() -> None:
    mapping = b'[columns]\nid = "ref"\ntime = "quand"\ntime_format = 12\n'
    with pytest.raises(InputError, match=r"^La correspondance doit donner `time_format`"):
        check_header(EXPORT.encode(), "csv", mapping, "m.toml")
