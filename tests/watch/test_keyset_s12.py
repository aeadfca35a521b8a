"""The keyset pager's pure parts (watch/keyset.py): cursors and marks read back what they
wrote, and anything else in an address is refused (the newest page), never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.watch import keyset

_TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(4000, 1, 1), timezones=st.just(UTC)
)


@given(_TIMES, st.integers(min_value=0, max_value=10**12 - 1))
def test_a_cursor_reads_back_its_key(at, number):
    assert keyset.parse_cursor(keyset.cursor((at, number))) == (at, number)


@pytest.mark.parametrize(
    "text", ["", None, "12", "12_", "_3", "1_2_3", "a_1", "１_2", "1" * 18 + "_1", "1_" + "9" * 13]
)
def test_anything_else_is_no_cursor(text):
    assert keyset.parse_cursor(text) is None


@given(st.integers(0, 10**9 - 1), st.none() | st.integers(0, 10**12 - 1))
def test_a_mark_reads_back(number, second):
    mark = keyset.Mark(number, second)
    assert keyset.Mark.parse(str(mark)) == mark


@pytest.mark.parametrize("text", ["", "x", "-1", "²", "1_", "1_x", "1" * 10, "1_" + "1" * 13])
def test_anything_else_is_no_mark(text):
    assert keyset.Mark.parse(text) is None


def test_a_mark_counts_from_the_start_of_its_second():
    drawn = datetime(2026, 11, 24, 13, 5, 42, 900_000, tzinfo=UTC)
    mark = keyset.Mark.now(257, drawn)
    assert str(mark) == f"257_{int(drawn.timestamp())}"
    assert mark.since == drawn.replace(microsecond=0)
    assert keyset.Mark.now(257, None).since is None and str(keyset.Mark(257)) == "257"


@pytest.mark.parametrize(
    ("params", "old"),
    [
        ({"page": "3"}, True),
        ({"page": ""}, True),
        ({"page": "3", "depuis": "150"}, False),
        ({"depuis": "150"}, False),
        ({}, False),
    ],
)
def test_an_old_numbered_link_is_told_apart(params, old):
    assert keyset.numbered_page_link(params, "depuis") is old
