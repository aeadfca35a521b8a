"""Digits that str.isdigit() accepts and int()/float() refuse (« ² », « ³ »): an HTTP
Retry-After or a CrisisLex tweet id written so gets the clear answer any other bad value
gets, not an exception from deep inside."""

from __future__ import annotations

from datetime import UTC, datetime

from beffroi.watch.sources.base import Skipped
from beffroi.watch.sources.fileimport import FileImportConfig, FileReader
from beffroi.watch.sources.rss import retry_after


def test_a_retry_after_in_superscript_digits_is_no_delay() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("²", now) is None
    assert retry_after("1²0", now) is None


def test_a_crisislex_id_in_superscript_digits_is_skipped_with_its_reason(
    tmp_path, pseudonymise
) -> None:
    labelled = tmp_path / "2013_Alberta_floods-tweets_labeled.csv"
    labelled.write_text(
        "Tweet ID, Tweet Text, Information Source, Information Type, Informativeness\n"
        '"³47686624563429378","Canmore declares state of emergency",Media,'
        "Affected individuals,Related and informative\n",
        encoding="utf-8",
    )
    source = FileReader(FileImportConfig(str(labelled)), source_id="imp", pseudonymise=pseudonymise)
    (item,) = list(source.records())
    assert isinstance(item, Skipped)
    assert "identifiant de tweet non numérique" in str(item.reason).lower()
