"""File imports against hostile files (session 9 security review).

- A JSON line of arrays nested a thousand deep raised RecursionError: the source failed on
  that line at every retry and never read the lines after it. Now a skipped line.
- A line is read whole by a file iterator: a file of gigabytes without a newline took the
  worker's memory. Lines are now read at most ``MAX_LINE`` characters at a time; a longer
  one is skipped (JSON Lines) or stops a CSV where it starts, as a broken quote does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.watch.sources import fileimport
from beffroi.watch.sources.base import RawPost, Skipped, SourceError
from beffroi.watch.sources.fileimport import FileImportConfig, FileReader


def reader(path: Path, pseudonymise, **kw) -> FileReader:
    return FileReader(FileImportConfig(str(path), **kw), source_id="imp", pseudonymise=pseudonymise)


def post(i: int) -> str:
    return json.dumps({"id": f"p{i}", "text": f"message {i}", "created_at": 1795402800 + i})


def test_a_deeply_nested_line_is_skipped_and_the_rest_read(tmp_path, pseudonymise) -> None:
    path = tmp_path / "posts.jsonl"
    deep = '{"id": "x", "text": "t", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text("\n".join([post(1), deep, post(2)]) + "\n")
    items = list(reader(path, pseudonymise).records())
    assert [i.external_id for i in items if isinstance(i, RawPost)] == ["p1", "p2"]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [(s.where, s.reason) for s in skipped] == [
        ("ligne 2", "JSON mal formé (colonne 1) : imbrication trop profonde.")
    ]


def test_a_line_too_long_is_skipped_without_being_held(tmp_path, pseudonymise, monkeypatch):
    monkeypatch.setattr(fileimport, "MAX_LINE", 200)
    path = tmp_path / "posts.jsonl"
    long_line = '{"id": "big", "text": "' + "x" * 5000 + '"}'
    path.write_text("\n".join([post(1), long_line, post(2), "{" * 201]) + "\r\n")
    # Every read the reader makes is bounded: no call returns more than the limit + 1.
    reads: list[int] = []
    real_open = Path.open

    class Counting:
        def __init__(self, handle):
            self.handle = handle

        def readline(self, size=-1):
            assert size is not None and 0 < size <= 201
            line = self.handle.readline(size)
            reads.append(len(line))
            return line

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: Counting(real_open(self, *a, **k)))
    items = list(reader(path, pseudonymise, format="jsonl").records())
    assert max(reads) <= 201
    assert [i.external_id for i in items if isinstance(i, RawPost)] == ["p1", "p2"]
    assert [(s.where, s.reason) for s in items if isinstance(s, Skipped)] == [
        ("ligne 2", fileimport.TOO_LONG),
        ("ligne 4", fileimport.TOO_LONG),
    ]


def test_a_csv_line_too_long_stops_where_it_starts(tmp_path, pseudonymise, monkeypatch):
    monkeypatch.setattr(fileimport, "MAX_LINE", 100)
    path = tmp_path / "posts.csv"
    path.write_text(
        "id,text,created_at\n1,ok,2026-01-01\n2," + "x" * 500 + ",2026-01-01\n3,ok,2026-01-01\n"
    )
    with pytest.raises(SourceError, match="CSV illisible à partir de la ligne 3 : ligne de plus"):
        list(reader(path, pseudonymise).records())
    path.write_text("id,text," + "c" * 500 + "\n1,ok,2026-01-01\n")
    with pytest.raises(SourceError, match=r"En-tête CSV illisible \(ligne 1\) : ligne trop longue"):
        list(reader(path, pseudonymise, format="csv").records())


def test_the_format_is_detected_from_a_bounded_first_line(tmp_path, monkeypatch):
    monkeypatch.setattr(fileimport, "MAX_LINE", 50)
    path = tmp_path / "posts.txt"
    path.write_text('{"id": 1, "text": "' + "y" * 10_000 + '"}\n')
    assert fileimport.detect_format(path) == "jsonl"


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=400).map(lambda n: post(n)),
            st.integers(min_value=1, max_value=3000).map(lambda n: "x" * n),
            st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
        ),
        max_size=12,
    ),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_fuzz_one_item_per_line_whatever_its_length(
    tmp_path_factory, pseudonymise, monkeypatch, lines, ending
) -> None:
    monkeypatch.setattr(fileimport, "MAX_LINE", 500)
    path = tmp_path_factory.mktemp("lines") / "f.jsonl"
    path.write_text(ending.join(lines) + ending, newline="")
    items = list(reader(path, pseudonymise, format="jsonl").records())
    assert len(items) == len(lines)
    for n, (line, item) in enumerate(zip(lines, items, strict=True), 1):
        if line.startswith("{"):
            assert isinstance(item, RawPost)
        else:
            assert isinstance(item, Skipped) and item.where == f"ligne {n}"
            if len(line) > 500:
                assert item.reason == fileimport.TOO_LONG


def test_the_skip_reason_reads_in_english_on_the_sources_page() -> None:
    from beffroi.watch.views_i18n import SKIP_REASONS

    assert fileimport.TOO_LONG in [t.msgid for t in SKIP_REASONS.templates]
