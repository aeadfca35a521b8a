"""Reading an HTTP answer within bounds: so many decoded bytes, so many seconds in all.

httpx's ``timeout`` bounds each read, not the whole answer, so a server that sends
a byte now and then is read for good; and ``response.content`` holds whatever comes,
a gzip body decoded whole (100 KiB on the wire are 100 MiB in memory). Sources that
fetch over HTTP (RSS, the Bluesky AppView) stream the body through ``read_capped``
instead, which counts the bytes *after* decoding and stops at the first piece past
either bound.

Decoding is done here, not by httpx: httpx decodes each network read (up to 64 KiB)
whole before anyone can count it, and 64 KiB of deflate make some 64 MB (brotli, far
more). Here gzip and deflate are inflated ``STEP`` bytes at a time, so what is held
is the cap plus one step. The requests ask for those two codings only
(``ACCEPT_ENCODING``); a server that sends another anyway is refused
(``BodyNotDecodable``), as a coding we did not ask for may not be understood.

The deadline is checked between reads: one silent read may last up to httpx's
per-read timeout past it, so an answer takes at most about twice the timeout.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator

import httpx

ACCEPT_ENCODING = "gzip, deflate"
# How many decoded bytes one call to the inflater may make.
STEP = 1 << 20


class BodyTooLarge(ValueError):
    """The answer says, or turns out, to be over the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer over {limit} bytes")
        self.limit = limit


class BodyTooSlow(TimeoutError):
    """The answer was not read in full before the deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"answer not read within {seconds:g} s")
        self.seconds = seconds


class BodyNotDecodable(httpx.DecodingError):
    """A content coding that was not asked for, or a compressed body that is damaged."""


class _Inflater:
    """gzip or deflate, ``STEP`` decoded bytes at a time. "deflate" is meant to be
    zlib-wrapped, and some servers send it raw: the first piece tells (as httpx does)."""

    def __init__(self, coding: str) -> None:
        self.gzip = coding == "gzip"
        self.first = True
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        first, self.first = self.first, False
        try:
            out = self.inflater.decompress(data, STEP)
        except zlib.error as exc:
            if not first or self.gzip:
                raise BodyNotDecodable(f"corps compressé illisible ({exc})") from exc
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            yield from self.pieces(data)
            return
        yield out
        while self.inflater.unconsumed_tail:
            yield self.inflater.decompress(self.inflater.unconsumed_tail, STEP)


def _coding(response: httpx.Response) -> str:
    codings = [
        c.strip().lower()
        for c in response.headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    if not codings:
        return "identity"
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if len(codings) > 1 or coding not in ("gzip", "deflate"):
        raise BodyNotDecodable(f"encodage « {response.headers['content-encoding']} » non demandé")
    return coding


def read_capped(response: httpx.Response, *, limit: int, deadline: float, seconds: float) -> bytes:
    """The decoded body of a streamed ``response``: at most ``limit`` bytes, read before
    ``deadline`` (a ``time.monotonic()`` value; ``seconds`` only says it in errors).

    A ``Content-Length`` above the limit is refused before reading: it counts the
    bytes on the wire, which decode to as many or more (but for a few bytes of framing
    on a body that does not compress)."""
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    coding = _coding(response)
    inflater = None if coding == "identity" else _Inflater(coding)
    body = bytearray()
    for chunk in response.iter_raw():
        for piece in (chunk,) if inflater is None else inflater.pieces(chunk):
            body += piece
            if len(body) > limit:
                raise BodyTooLarge(limit)
        if time.monotonic() > deadline:
            raise BodyTooSlow(seconds)
    return bytes(body)
