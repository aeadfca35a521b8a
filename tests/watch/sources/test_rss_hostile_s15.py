"""Hostile or broken feeds: too many entries, empty answers, impossible dates, and
guids that name an account (review R11, findings 4b, 5, 7 and 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beffroi.watch.sources.base import (
    EARLIEST_POST,
    SourceError,
    handle_pseudonymiser,
    plausible_time,
)
from beffroi.watch.sources.rss import MAX_ENTRIES, RssConfig, RssSource, newest_entries
from rss_feeds import rss_document

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def _source(pseudonymise=None) -> RssSource:
    return RssSource(
        "1",
        RssConfig(url="https://pref.invalid/flux.xml"),
        pseudonymise=pseudonymise or handle_pseudonymiser(KEY),
        clock=lambda: NOW,
    )


def _rss(items: list[str]) -> bytes:
    return rss_document(items)


def _item(i: int, date: str = "Mon, 23 Nov 2026 10:00:00 +0000") -> str:
    return f"<item><guid>n{i}</guid><title>crue {i}</title><pubDate>{date}</pubDate></item>"


def test_a_huge_feed_is_cut_to_its_newest_entries_and_says_so() -> None:
    body = _rss([_item(i) for i in range(MAX_ENTRIES + 250)])
    batch = _source().parse(body, {}, {})
    ids = {p.external_id for p in batch.posts}
    assert len(batch.posts) == MAX_ENTRIES
    # Feeds list newest first: the first MAX_ENTRIES are kept.
    assert "n0" in ids and f"n{MAX_ENTRIES - 1}" in ids and f"n{MAX_ENTRIES}" not in ids
    reasons = [s.reason for s in batch.skipped]
    assert reasons == [f"Flux tronqué aux {MAX_ENTRIES} entrées les plus récentes."]


def test_the_cut_keeps_the_document_whole() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        + b"".join(b"<entry><id>%d</id><title>x</title></entry>" % i for i in range(5))
        + b"</feed>"
    )
    cut, total = newest_entries(atom, 2)
    assert total == 5
    assert cut.endswith(b"</entry></feed>") and cut.count(b"<entry>") == 2
    same, total = newest_entries(atom, 5)
    assert same is atom and total == 5


def test_an_empty_answer_is_not_a_healthy_feed() -> None:
    with pytest.raises(SourceError, match="Flux vide ou illisible"):
        _source().parse(b"", {}, {})
    with pytest.raises(SourceError, match="Flux vide ou illisible"):
        _source().parse(b'<?xml version="1.0"?><root/>', {}, {})


def test_a_valid_feed_without_entries_is_ok_and_one_that_emptied_says_so() -> None:
    # An alert feed (CAP, vigilance) is empty whenever no alert is active: not an error.
    empty = _rss([])
    batch = _source().parse(empty, {}, {})
    assert batch.posts == [] and batch.skipped == [] and not batch.emptied
    emptied = _source().parse(empty, {}, {"seen": ["n1"]})
    assert emptied.posts == [] and emptied.skipped == []
    assert emptied.emptied
    assert emptied.checkpoint["seen"] == ["n1"]  # the entries seen are not forgotten


def test_future_and_ancient_dates_are_clamped_to_reception() -> None:
    body = _rss(
        [
            _item(1, "Fri, 31 Dec 9999 23:00:00 +0000"),
            _item(2, "Mon, 01 Jan 1900 00:00:00 +0000"),
            _item(3, "Mon, 23 Nov 2026 10:00:00 +0000"),
        ]
    )
    dates = {p.external_id: p.created_at for p in _source().parse(body, {}, {}).posts}
    assert dates == {"n1": NOW, "n2": NOW, "n3": datetime(2026, 11, 23, 10, tzinfo=UTC)}


def test_plausible_time_is_one_rule() -> None:
    assert plausible_time(NOW + timedelta(minutes=4), NOW) == NOW + timedelta(minutes=4)
    assert plausible_time(NOW + timedelta(minutes=6), NOW) == NOW
    assert plausible_time(EARLIEST_POST - timedelta(days=1), NOW) == NOW
    assert plausible_time(None, NOW) == NOW


def test_a_guid_naming_an_account_is_remembered_as_a_pseudonym() -> None:
    guid = "https://piaille.fr/@alicesecret/111222333"
    body = _rss([f"<item><guid>{guid}</guid><title>crue</title></item>"])
    source = _source()
    # A checkpoint written before the rule holds the raw guid: it is recognised
    # (no second announce) and rewritten.
    old = {"seen": [guid], "versions": {guid: ["2026-11-23T10:00:00+00:00", "x"]}}
    batch = source.parse(body, {}, old)
    assert batch.posts == []
    assert "alicesecret" not in str(batch.checkpoint)
    fresh = source.parse(body, {}, {})
    (post,) = fresh.posts
    assert "alicesecret" not in post.external_id
    assert post.external_id.startswith("https://piaille.fr/@h_")
    assert "alicesecret" not in str(fresh.checkpoint)
    # Same guid, same pseudonym: a restart still recognises it.
    assert source.parse(body, {}, fresh.checkpoint).posts == []


def test_keep_handles_keeps_the_guid() -> None:
    guid = "https://piaille.fr/@alice/1"
    body = _rss([f"<item><guid>{guid}</guid><title>crue</title></item>"])
    source = _source(handle_pseudonymiser(KEY, keep_handles=True))
    (post,) = source.parse(body, {}, {}).posts
    assert post.external_id == guid
