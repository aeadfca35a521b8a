"""A feed's body is read within bounds: at most 20 MB once decoded, within the source's
timeout in all. A body too big (said or not), a gzip bomb and a server that trickles
are each this poll's error, in French, retried as any other; before, the worker read
them whole, decoded the bomb into memory, or waited for good."""

from __future__ import annotations

import contextlib
import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from beffroi.watch.sources.base import SourceError
from beffroi.watch.sources.rss import MAX_FEED_BYTES, RssConfig, RssSource
from loopback_servers import EndlessBodies, QuietHandler, call_in_thread

HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Crue</title>'
# What a bomb decodes to: ten times the cap, from some 200 KB on the wire.
BOMB_SIZE = 200 << 20
# Past the cap, what the server may still have pushed into the sockets' buffers
# before the reader hung up (a few MB on loopback).
SLACK = 16 << 20


class HostileFeeds(EndlessBodies):
    """``/big``: a feed that never ends (no length); ``/declared``: one that says it
    weighs 30 MB; ``/bomb``: a gzip body that decodes to ``BOMB_SIZE``; ``/trickle``: a
    feed that sends a byte every 50 ms; ``/slow-headers``: headers that never end."""

    def __init__(self, bomb: bytes) -> None:
        super().__init__()
        feeds = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.path == "/slow-headers":
                    # The status line, then a header a byte every 50 ms: h11 waits for
                    # the headers' end, each read well within httpx's timeout.
                    feeds.endless(self.wfile, b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a", 0.05, 8000)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                if self.path == "/declared":
                    self.send_header("Content-Length", str(30_000_000))
                if self.path == "/bomb":
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(bomb)))
                self.end_headers()
                if self.path == "/bomb":
                    with contextlib.suppress(OSError):  # the reader may hang up
                        self.wfile.write(bomb)
                elif self.path == "/trickle":
                    feeds.endless(self.wfile, HEAD, b" ", 0.05)
                else:
                    feeds.endless(self.wfile, HEAD, b" " * 65536)

        self.start_http(Handler)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip.compress(HEAD + b"\0" * BOMB_SIZE, 9)


@pytest.fixture
def feeds(bomb: bytes, allow_loopback: None) -> Iterator[HostileFeeds]:
    server = HostileFeeds(bomb)
    yield server
    server.close()


def _poll_in_thread(url: str, pseudonymise: Any, timeout: float = 20) -> tuple[Any, float]:
    """What the poll raised (or returned) and how long it took (15 s at most)."""
    source = RssSource("pref", RssConfig(url=url, timeout=timeout), pseudonymise=pseudonymise)
    return call_in_thread(lambda: source.poll({}))


def test_a_feed_that_never_ends_is_refused_at_the_cap(feeds: HostileFeeds, pseudonymise) -> None:
    error, _ = _poll_in_thread(feeds.url + "/big", pseudonymise)
    assert isinstance(error, SourceError)
    assert str(error) == "Flux trop volumineux (plus de 20 Mo)."
    assert error.retryable  # the runner tries again later, with backoff
    assert MAX_FEED_BYTES < feeds.sent < MAX_FEED_BYTES + SLACK


def test_a_declared_length_over_the_cap_is_refused_unread(
    feeds: HostileFeeds, pseudonymise
) -> None:
    error, _ = _poll_in_thread(feeds.url + "/declared", pseudonymise)
    assert str(error) == "Flux trop volumineux (plus de 20 Mo)."
    # Hung up on at once: what was written sat in the sockets' buffers.
    assert feeds.sent < SLACK


def test_a_gzip_bomb_is_counted_decoded_and_never_held_whole(
    feeds: HostileFeeds, bomb: bytes, pseudonymise
) -> None:
    assert len(bomb) < 1 << 20  # small on the wire: a Content-Length check alone passes it
    tracemalloc.start()
    try:
        error, _ = _poll_in_thread(feeds.url + "/bomb", pseudonymise)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(error) == "Flux trop volumineux (plus de 20 Mo)."
    # The cap and one inflated step (1 MiB); httpx decoded each 64 KiB read whole, some
    # 64 MB at once (142 MiB at the peak), and read whole the bomb is 200 MiB twice.
    assert peak < 40 << 20, f"peak {peak / 2**20:.0f} MiB"


def test_a_feed_that_trickles_times_out_in_all(feeds: HostileFeeds, pseudonymise) -> None:
    error, took = _poll_in_thread(feeds.url + "/trickle", pseudonymise, timeout=1)
    assert isinstance(error, SourceError) and error.retryable
    assert str(error) == f"Flux injoignable ({feeds.url}/trickle) : flux non reçu en entier en 1 s."
    # Each read came within httpx's per-read timeout: only the overall deadline stops it.
    assert 1 <= took < 3
    assert feeds.sent < 100  # about 20 bytes at 50 ms each


FEED = HEAD + b"<item><guid>a1</guid><title>Digue sous surveillance</title></item></channel></rss>"


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        pytest.param("gzip", gzip.compress(FEED), id="gzip"),
        pytest.param("x-gzip", gzip.compress(FEED), id="x-gzip"),
        pytest.param("deflate", zlib.compress(FEED), id="deflate-zlib"),
        pytest.param("deflate", zlib.compress(FEED, wbits=-15), id="deflate-raw"),
        pytest.param("identity", FEED, id="identity"),
    ],
)
def test_compressed_feeds_still_read(feed_server, pseudonymise, coding: str, body: bytes) -> None:
    url = feed_server.serve("/f.xml", body, headers={"Content-Encoding": coding})
    batch = RssSource("pref", RssConfig(url=url), pseudonymise=pseudonymise).poll({})
    assert [p.text for p in batch.posts] == ["Digue sous surveillance"]
    # Only the codings inflated within the bound are offered.
    assert feed_server.requests[-1][1]["Accept-Encoding"] == "gzip, deflate"


def test_a_coding_not_asked_for_is_refused(feed_server, pseudonymise) -> None:
    # (Brotli and Zstandard are decoded though not asked for: test_bounded_codings_s14.py.)
    url = feed_server.serve("/f.xml", b"\x1f\x9d\x90", headers={"Content-Encoding": "compress"})
    with pytest.raises(SourceError) as err:
        RssSource("pref", RssConfig(url=url), pseudonymise=pseudonymise).poll({})
    assert str(err.value) == f"Flux injoignable ({url}) : encodage « compress » non demandé."


def test_a_damaged_gzip_body_is_an_error(feed_server, pseudonymise) -> None:
    url = feed_server.serve("/f.xml", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(SourceError) as err:
        RssSource("pref", RssConfig(url=url), pseudonymise=pseudonymise).poll({})
    assert str(err.value).startswith(f"Flux injoignable ({url}) : corps compressé illisible (")


def test_a_feed_that_trickles_its_headers_times_out_in_all(
    feeds: HostileFeeds, pseudonymise
) -> None:
    error, took = _poll_in_thread(feeds.url + "/slow-headers", pseudonymise, timeout=1)
    assert isinstance(error, SourceError) and error.retryable
    assert str(error) == (
        f"Flux injoignable ({feeds.url}/slow-headers) : flux non reçu en entier en 1 s."
    )
    # Cut at the deadline by the watchdog, not after h11's 16 KiB of headers.
    assert 1 <= took < 2


def _proxy_tests() -> Any:
    """The proxy tests' module, for its throwaway loopback certificate."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("test_sources_proxy.py")
    spec = importlib.util.spec_from_file_location("_proxy_tests_s13", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_over_tls_the_watchdog_cuts_a_trickle_too(
    tmp_path, allow_loopback: None, monkeypatch: pytest.MonkeyPatch, pseudonymise
) -> None:
    """The socket shut down under a TLS read: the read ends, as a plain one does."""
    import ssl

    from beffroi.watch.sources.netguard import CA_FILE_ENV

    cert_file, key_file = _proxy_tests().certificate_for_loopback(tmp_path)
    monkeypatch.setenv(CA_FILE_ENV, cert_file)
    server = EndlessBodies()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            server.endless(self.wfile, b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a", 0.05, 400)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.start_http(Handler, tls=context)
    url = f"{server.url}/rss.xml"
    try:
        error, took = _poll_in_thread(url, pseudonymise, timeout=1)
    finally:
        server.close()
    assert str(error) == f"Flux injoignable ({url}) : flux non reçu en entier en 1 s."
    assert 1 <= took < 2
