"""A feed's body is data, never a name feedparser may open on the worker's disk.

``feedparser.parse`` takes a URL, a file name or the document itself, and tries
``open()`` on bytes before reading them as a document: a feed server answering
``/etc/…`` (or ``/dev/zero``, which never ends) would have the worker read its own
files into the room."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from beffroi.watch.sources.base import SourceError
from beffroi.watch.sources.rss import RssConfig, RssSource

LOCAL = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>disque du serveur</title>
<item><title>contenu local secret</title><link>https://ex.invalid/s</link><guid>s1</guid>
</item></channel></rss>"""


def test_a_body_naming_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(LOCAL)
    source = RssSource(
        "f",
        RssConfig(url="https://ex.invalid/rss"),
        pseudonymise=lambda h: h,
        clock=lambda: datetime(2026, 11, 23, tzinfo=UTC),
    )
    # The body is the file's name: it is not a feed, so nothing comes out of it.
    with pytest.raises(SourceError) as caught:
        source.parse(str(secret).encode(), {"content-type": "application/rss+xml"}, {})
    assert caught.value.message.startswith("Flux illisible")
