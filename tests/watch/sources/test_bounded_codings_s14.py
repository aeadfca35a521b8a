"""Brotli and Zstandard bodies a feed server sends though not asked for (a CDN in front
of it may) are decoded within the same bound as gzip: at most the cap plus one step held,
a bomb refused at the cap, a damaged body an error, the deadline kept even while the
decoder pulls bytes that decode to nothing. (Another coding is still refused:
test_rss_bounds_s13.py.)"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import brotli
import httpx
import pytest
import zstandard

from beffroi.watch.sources.bounded import (
    STEP,
    BodyNotDecodable,
    BodyTooLarge,
    BodyTooSlow,
    read_capped,
)
from beffroi.watch.sources.rss import RssConfig, RssSource

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Crue</title>'
    b"<item><guid>a1</guid><title>Digue sous surveillance</title></item></channel></rss>"
)
LIMIT = 20 << 20
BOMB = b"\0" * (200 << 20)  # ten times the cap; a few hundred bytes to a few KB on the wire


class _Chunked(httpx.SyncByteStream):
    """A body arriving in network-sized chunks, ``pause`` seconds apart."""

    def __init__(self, body: bytes, size: int = 65536, pause: float = 0.0) -> None:
        self.body, self.size, self.pause = body, size, pause

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self.body), self.size):
            if self.pause:
                time.sleep(self.pause)
            yield self.body[i : i + self.size]


def _read(coding: str, body: bytes, *, seconds: float = 30, **chunks) -> bytes:
    response = httpx.Response(
        200, headers={"Content-Encoding": coding}, stream=_Chunked(body, **chunks)
    )
    return read_capped(response, limit=LIMIT, deadline=time.monotonic() + seconds, seconds=seconds)


def _zstd_frames(*parts: bytes) -> bytes:
    return b"".join(zstandard.ZstdCompressor().compress(p) for p in parts)


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        pytest.param("br", brotli.compress(FEED), id="br"),
        pytest.param("zstd", _zstd_frames(FEED), id="zstd"),
        pytest.param("zstd", _zstd_frames(FEED[:40], FEED[40:]), id="zstd-two-frames"),
    ],
)
def test_brotli_and_zstd_bodies_are_decoded(coding: str, body: bytes) -> None:
    assert _read(coding, body, size=7) == FEED  # however the network cuts it


@pytest.mark.parametrize(
    ("coding", "bomb"),
    [
        pytest.param("br", brotli.compress(BOMB, quality=5), id="br"),
        pytest.param("zstd", zstandard.ZstdCompressor().compress(BOMB), id="zstd"),
    ],
)
def test_a_bomb_is_refused_at_the_cap_without_being_held(coding: str, bomb: bytes) -> None:
    assert len(bomb) < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            _read(coding, bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The cap and a step or two; decoded whole the bomb is 200 MiB (twice, joined).
    assert peak < LIMIT + 8 * STEP, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_a_damaged_body_is_an_error(coding: str) -> None:
    with pytest.raises(BodyNotDecodable, match="corps compressé illisible"):
        _read(coding, b"this is not compressed at all" * 10)


def test_zstd_frames_that_decode_to_nothing_still_meet_the_deadline() -> None:
    # Skippable frames (magic 0x184D2A50, 4-byte length, payload) decode to no byte: the
    # decoder keeps pulling, and the deadline is checked at each pull.
    skippable = b"\x50\x2a\x4d\x18" + (8).to_bytes(4, "little") + b"\0" * 8
    started = time.monotonic()
    with pytest.raises(BodyTooSlow):
        _read("zstd", skippable * 200, seconds=0.5, size=len(skippable), pause=0.02)
    assert time.monotonic() - started < 1.5


def test_a_feed_sent_in_brotli_reads_end_to_end(feed_server, pseudonymise) -> None:
    url = feed_server.serve("/f.xml", brotli.compress(FEED), headers={"Content-Encoding": "br"})
    batch = RssSource("pref", RssConfig(url=url), pseudonymise=pseudonymise).poll({})
    assert [p.text for p in batch.posts] == ["Digue sous surveillance"]
    # Not asked for: gzip and deflate are what every feed server has.
    assert feed_server.requests[-1][1]["Accept-Encoding"] == "gzip, deflate"
