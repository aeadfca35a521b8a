"""Turning a post's or a profile's HTML into text costs time in proportion to its
length: RSS summaries, Mastodon statuses and (since session 7) Mastodon bios and
profile fields are written by anyone and read on the source's worker thread."""

from __future__ import annotations

import time

import pytest

from beffroi.watch.sources.mastodon import _profile, _profile_text
from beffroi.watch.sources.rss import html_to_text

SIZE = 50_000


@pytest.mark.parametrize(
    "html",
    [
        "<" * SIZE,  # about 1.8 s of CPU when a tag could hold "<"
        "<br" * (SIZE // 3),  # a block tag never closed: about 1 s
        "<a href='" * (SIZE // 9),
    ],
    ids=["lt", "br", "href"],
)
def test_unclosed_tags_are_read_at_once(html: str) -> None:
    started = time.process_time()
    html_to_text(html)
    assert time.process_time() - started < 0.3


def test_a_hostile_mastodon_bio_is_read_at_once() -> None:
    _profile_text.cache_clear()
    account = {"note": "<" * SIZE, "fields": [{"name": "<p" * 1000, "value": "<br" * 1000}]}
    started = time.process_time()
    _profile(account)
    assert time.process_time() - started < 0.3


def test_tags_still_go_and_escaped_text_stays() -> None:
    html = "<p>Journaliste <b>à</b> Midi Libre</p><p>a &lt; b</p><br/>x <a href='u'>#crue</a>"
    assert html_to_text(html) == "Journaliste à Midi Libre\na < b\nx #crue"
    assert html_to_text("a < b > c") == "a c"
