from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.classify.crisislex import (
    CrisisLexFormatError,
    parse_crisislex,
    read_crisislex,
)
from beffroi.watch.classify.labels import INFO_TYPE_VALUES, INFORMATIVENESS_VALUES, SOURCE_VALUES

GOOD_HEADER = "Tweet ID, Tweet Text, Information Source, Information Type, Informativeness\n"


def _file(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    buf.write(GOOD_HEADER)
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue().encode()


def test_reads_fixture_in_file_order(fixture_csv):
    posts = read_crisislex(fixture_csv)
    assert [p.id for p in posts][:2] == ["100000000000000001", "100000000000000002"]
    assert len(posts) == 10
    assert posts[3].informativeness == "Not related"
    assert posts[0].line == 2


def test_multiline_tweet_keeps_start_line():
    data = _file(
        [
            ["1", "first\nsecond line", "Media", "Caution and advice", "Related and informative"],
            ["2", "x", "Bogus", "Caution and advice", "Related and informative"],
        ]
    )
    with pytest.raises(CrisisLexFormatError) as err:
        parse_crisislex(data, "f.csv")
    assert err.value.line == 4 and err.value.column == 3
    assert "f.csv:4, column 3 ('Information Source')" in str(err.value)
    assert "Bogus" in str(err.value)


@pytest.mark.parametrize(
    ("content", "line", "column", "fragment"),
    [
        (b"", 1, None, "empty file"),
        (b"id,text\n", 1, None, "expected header"),
        (GOOD_HEADER.encode() + b'"12","t",Media,Caution and advice\n', 2, None, "5 fields"),
        (
            GOOD_HEADER.encode() + b'"12a","t",Media,Caution and advice,Not related\n',
            2,
            1,
            "digits",
        ),
        (
            GOOD_HEADER.encode() + b'"1","t",Media,Weather,Not related\n',
            2,
            4,
            "unknown label 'Weather'",
        ),
        (
            GOOD_HEADER.encode()
            + b'"1","t",Media,Not labeled,Not related\n"1","u",Media,Not labeled,Not related\n',
            3,
            1,
            "already used on line 2",
        ),
        (GOOD_HEADER.encode() + b'"1","caf\xe9",Media,Not labeled,Not related\n', 2, None, "UTF-8"),
        (GOOD_HEADER.encode() + b'"1","a\x00b",Media,Not labeled,Not related\n', 2, None, "NUL"),
    ],
)
def test_bad_input_names_line_and_column(content, line, column, fragment):
    with pytest.raises(CrisisLexFormatError) as err:
        parse_crisislex(content, "in.csv")
    assert err.value.line == line
    assert err.value.column == column
    assert fragment in str(err.value)


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(CrisisLexFormatError, match="cannot read"):
        read_crisislex(tmp_path / "nope.csv")


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)
_row = st.tuples(
    st.integers(min_value=0, max_value=10**19),
    _text,
    st.sampled_from(SOURCE_VALUES),
    st.sampled_from(INFO_TYPE_VALUES),
    st.sampled_from(INFORMATIVENESS_VALUES),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_row, max_size=8, unique_by=lambda r: r[0]))
def test_roundtrip_of_valid_files(rows):
    data = _file([[str(r[0]), r[1], r[2], r[3], r[4]] for r in rows])
    posts = parse_crisislex(data)
    assert [p.id for p in posts] == [str(r[0]) for r in rows]
    assert [p.text for p in posts] == [r[1] for r in rows]
    assert [p.informativeness for p in posts] == [r[4] for r in rows]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_format_error(blob):
    data = GOOD_HEADER.encode() + blob
    try:
        posts = parse_crisislex(data)
    except CrisisLexFormatError as exc:
        assert exc.line >= 1
    else:
        assert all(p.id.isdigit() for p in posts)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_after_header(text):
    try:
        posts = parse_crisislex((GOOD_HEADER + text).encode("utf-8", "surrogatepass"))
    except CrisisLexFormatError as exc:
        assert exc.path == "<input>" and exc.line >= 1
    else:
        assert all(p.id.isdigit() and p.line >= 2 for p in posts)
