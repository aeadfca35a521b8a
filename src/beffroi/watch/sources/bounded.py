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
(``ACCEPT_ENCODING``: every feed server has them). Brotli and Zstandard bodies sent
anyway (a CDN in front of a feed may) are decoded too, within the same bound: Brotli
with an output limit per call, Zstandard through a reader that gives ``STEP`` bytes at
a time (their libraries come with the app: ``servestatic[brotli]`` and atproto's
``zstandard``). Any other coding is refused (``BodyNotDecodable``).

The deadline is checked between reads: one silent read may last up to httpx's
per-read timeout past it, so an answer takes at most about twice the timeout. RSS
also runs a ``Watchdog``, which cuts the connection at the deadline itself, headers
included.

Mastodon goes through requests (under Mastodon.py): ``bound_replies`` puts the same
bounds on a requests session, and a bound on the line of a stream of server-sent
events; there urllib3 inflates within each read's size.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from typing import IO, Any, cast

import httpx
import requests
from urllib3.exceptions import ProtocolError

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


class _Brotli:
    """Brotli, about ``STEP`` decoded bytes at a time: the library's output limit stops a
    call there, and further calls with no input give the rest."""

    def __init__(self) -> None:
        import brotli

        self.error = brotli.error
        self.decompressor = brotli.Decompressor()

    def pieces(self, data: bytes) -> Iterator[bytes]:
        try:
            yield self.decompressor.process(data, output_buffer_limit=STEP)
            while not self.decompressor.can_accept_more_data():
                yield self.decompressor.process(b"", output_buffer_limit=STEP)
        except self.error as exc:
            raise BodyNotDecodable(f"corps compressé illisible ({exc})") from exc


class _Chunks:
    """The raw body as a file for a pulling decoder (Zstandard's reader): one network
    chunk at a time, the deadline checked before each (a decoder may pull many chunks
    that decode to nothing, e.g. skippable frames)."""

    def __init__(self, chunks: Iterator[bytes], deadline: float, seconds: float) -> None:
        self.chunks = chunks
        self.deadline = deadline
        self.seconds = seconds
        self.held = b""

    def read(self, size: int = -1) -> bytes:
        if not self.held:
            if time.monotonic() > self.deadline:
                raise BodyTooSlow(self.seconds)
            self.held = next(self.chunks, b"")
        size = len(self.held) if size < 0 else size
        out, self.held = self.held[:size], self.held[size:]
        return out


def _zstd_pieces(chunks: _Chunks) -> Iterator[bytes]:
    import zstandard

    # A pulling reader: each read gives at most STEP decoded bytes, whatever one network
    # chunk holds. A body may hold several frames (RFC 8878).
    # The reader calls read() only, which is all _Chunks has of a file.
    source = cast(IO[bytes], chunks)
    reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    try:
        while piece := reader.read(STEP):
            yield piece
    except zstandard.ZstdError as exc:
        raise BodyNotDecodable(f"corps compressé illisible ({exc})") from exc


class Watchdog:
    """Shuts the sockets of a request down when ``seconds`` have passed: the deadline
    checked between reads cannot stop a server that trickles its status line and
    headers (h11 reads up to 16 KiB of them, each read within httpx's timeout: hours).
    Given as httpx's ``trace`` extension, it learns each connection's socket as it is
    made (redirects included); a connection taken from the pool is not seen, and is
    bounded between reads only. ``fired`` says the deadline cut the request."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        sock = info["return_value"].get_extra_info("socket")
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)
                if self.fired:
                    _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    # shutdown, not close: it wakes the read blocked on the socket in the other thread,
    # and the descriptor stays its owner's until httpcore closes it. The plain socket's
    # method: SSLSocket's own would drop its TLS state under the reader's feet.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _coding(response: httpx.Response) -> str:
    codings = [
        c.strip().lower()
        for c in response.headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    if not codings:
        return "identity"
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if len(codings) > 1 or coding not in ("gzip", "deflate", "br", "zstd"):
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
    body = bytearray()
    for piece in _decoded(response, coding, deadline, seconds):
        body += piece
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def _decoded(
    response: httpx.Response, coding: str, deadline: float, seconds: float
) -> Iterator[bytes]:
    """The body's decoded pieces, each about ``STEP`` bytes at most (or a network chunk,
    not encoded); past the deadline, ``BodyTooSlow``."""
    if coding == "zstd":
        yield from _zstd_pieces(_Chunks(response.iter_raw(), deadline, seconds))
        if time.monotonic() > deadline:
            raise BodyTooSlow(seconds)
        return
    decoder = None if coding == "identity" else _Brotli() if coding == "br" else _Inflater(coding)
    for chunk in response.iter_raw():
        yield from (chunk,) if decoder is None else decoder.pieces(chunk)
        if time.monotonic() > deadline:
            raise BodyTooSlow(seconds)


class _BoundedRaw:
    """urllib3's response under a requests ``Response``, read through ``stream`` (what
    ``iter_content`` uses) within bounds: ``limit`` decoded bytes in all and
    ``deadline`` for an answer; ``line_limit`` bytes between two line ends for a stream
    of server-sent events, which may last for hours but whose events are a few KB.

    A bound passed is urllib3's ``ProtocolError``, which requests reports as a broken
    answer (``ChunkedEncodingError``): Mastodon.py then gives up the request or the
    stream as for a connection cut, and the source reconnects with backoff."""

    def __init__(
        self, raw: Any, *, limit: int | None, line_limit: int | None, deadline: float | None
    ) -> None:
        self._raw = raw
        self._limit = limit
        self._line_limit = line_limit
        self._deadline = deadline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def _pieces(self, amt: int | None, decode_content: bool | None) -> Iterator[bytes]:
        # urllib3's own ``stream`` waits for ``amt`` bytes (10 KiB from requests), which a
        # trickle takes hours to send: ``read1`` gives what has come. Decoded pieces are
        # at most ``amt`` bytes (urllib3 inflates within it).
        raw = self._raw
        if raw.chunked and raw.supports_chunked_reads():
            yield from raw.read_chunked(amt, decode_content=decode_content)
            return
        while data := raw.read1(amt, decode_content=decode_content):
            yield data

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        total = line = 0
        for chunk in self._pieces(amt, decode_content):
            total += len(chunk)
            if self._limit is not None and total > self._limit:
                raise ProtocolError(f"réponse de plus de {self._limit // 1_000_000} Mo")
            if self._line_limit is not None:
                end = chunk.rfind(b"\n")
                line = len(chunk) - end - 1 if end >= 0 else line + len(chunk)
                if line > self._line_limit:
                    raise ProtocolError(
                        f"événement de plus de {self._line_limit // 1_000_000} Mo sans fin de ligne"
                    )
            if self._deadline is not None and time.monotonic() > self._deadline:
                raise ProtocolError("réponse non reçue en entier dans le délai")
            yield chunk


def bound_replies(session: requests.Session, *, limit: int, line_limit: int) -> None:
    """Have every answer of ``session`` read within bounds: an answer read whole at most
    ``limit`` decoded bytes and within its request's read timeout in all; a streamed
    one (``stream=True``) at most ``line_limit`` bytes a line. Installed as a response
    hook, which requests runs before it reads the body."""

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("stream"):
            response.raw = _BoundedRaw(
                response.raw, limit=None, line_limit=line_limit, deadline=None
            )
            return response
        timeout = kwargs.get("timeout")
        seconds = timeout[-1] if isinstance(timeout, tuple) else timeout
        deadline = time.monotonic() + seconds if isinstance(seconds, int | float) else None
        response.raw = _BoundedRaw(response.raw, limit=limit, line_limit=None, deadline=deadline)
        return response

    session.hooks["response"].append(hook)
