"""A Mastodon instance's answers are read within bounds: a REST reply at most 10 MB
decoded and within the request's timeout in all, a streamed event at most 4 MB without
a line end. Before, requests read a reply whole (a gzip bomb decoded into memory, a
trickle for good) and Mastodon.py's event reader grew one line without end."""

from __future__ import annotations

import contextlib
import gzip
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from mastodon import StreamListener
from mastodon.errors import MastodonNetworkError

from beffroi.watch.sources.mastodon import (
    MAX_EVENT_LINE,
    MAX_REPLY,
    MastodonConfig,
    MastodonSource,
)
from beffroi.watch.sources.netclients import guarded_session
from loopback_servers import EndlessBodies, QuietHandler, call_in_thread

BOMB_SIZE = 200 << 20
SLACK = 16 << 20  # what may sit in the sockets' buffers when the reader hangs up


class HostileInstance(EndlessBodies):
    """``…/ok``: a short reply; ``…/bomb``: a gzip body that decodes to ``BOMB_SIZE``;
    ``…/big``: a reply that never ends; ``…/slow``: one that sends a byte every 50 ms;
    ``…/stream``: an event stream whose event never ends its line."""

    def __init__(self, bomb: bytes) -> None:
        super().__init__()
        instance = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                tag = self.path.split("?")[0].rsplit("/", 1)[-1]
                self.send_response(200)
                if tag == "stream":
                    self.send_header("Content-Type", "text/event-stream")
                else:
                    self.send_header("Content-Type", "application/json")
                if tag == "bomb":
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(bomb)))
                if tag == "ok":
                    self.send_header("Content-Length", "2")
                self.end_headers()
                if tag in ("bomb", "ok"):
                    with contextlib.suppress(OSError):  # the reader may hang up
                        self.wfile.write(bomb if tag == "bomb" else b"[]")
                    return
                head, piece, pause = {
                    "big": (b"[", b" " * 65536, 0.0),
                    "slow": (b"[", b" ", 0.05),
                    "stream": (b":)\n\nevent: update\ndata: ", b"a" * 65536, 0.0),
                }[tag]
                instance.endless(self.wfile, head, piece, pause)

        self.start_http(Handler)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip.compress(b"[" + b" " * BOMB_SIZE + b"]", 9)


@pytest.fixture
def instance(bomb: bytes, allow_loopback: None) -> Iterator[HostileInstance]:
    server = HostileInstance(bomb)
    yield server
    server.close()


def _api(instance: HostileInstance, pseudonymise: Any, timeout: float = 5) -> Any:
    config = MastodonConfig(instance_url=instance.url, hashtags=("crue",), timeout=timeout)
    source = MastodonSource("masto", config, pseudonymise=pseudonymise)
    return source._default_api(config)


def test_a_reply_within_bounds_is_read(instance: HostileInstance, pseudonymise) -> None:
    assert _api(instance, pseudonymise).timeline_hashtag("ok") == []


def test_a_reply_that_never_ends_stops_at_the_cap(instance: HostileInstance, pseudonymise) -> None:
    error, _ = call_in_thread(lambda: _api(instance, pseudonymise).timeline_hashtag("big"))
    assert isinstance(error, MastodonNetworkError)
    assert "réponse de plus de 10 Mo" in str(error)
    assert MAX_REPLY < instance.sent < MAX_REPLY + SLACK


def test_a_gzip_bomb_is_counted_decoded(instance: HostileInstance, pseudonymise) -> None:
    api = _api(instance, pseudonymise)
    tracemalloc.start()
    try:
        error, _ = call_in_thread(lambda: api.timeline_hashtag("bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, MastodonNetworkError)
    assert "réponse de plus de 10 Mo" in str(error)
    assert peak < 40 << 20, f"peak {peak / 2**20:.0f} MiB"


def test_a_trickling_reply_times_out_in_all(instance: HostileInstance, pseudonymise) -> None:
    api = _api(instance, pseudonymise, timeout=1)
    error, took = call_in_thread(lambda: api.timeline_hashtag("slow"))
    assert isinstance(error, MastodonNetworkError)
    assert "réponse non reçue en entier dans le délai" in str(error)
    assert 1 <= took < 3


def test_a_streamed_event_without_end_is_a_cut_stream(instance: HostileInstance) -> None:
    from beffroi.watch.sources.bounded import bound_replies
    from beffroi.watch.sources.netguard import current_policy

    # Mastodon.py reads a stream a byte at a time (some 10 s of CPU for 4 MB): the
    # bound is tried smaller here, the source's own checked against a status's size.
    assert MAX_EVENT_LINE > 1_000_000
    line_limit = 256 << 10
    session = guarded_session(current_policy())
    bound_replies(session, limit=MAX_REPLY, line_limit=line_limit)

    def read() -> None:
        with session.get(instance.url + "/stream", stream=True, timeout=(5, 5)) as reply:
            StreamListener().handle_stream(reply)

    error, _ = call_in_thread(read)
    # Mastodon.py's own word for a cut stream: the source reconnects with backoff.
    assert isinstance(error, MastodonNetworkError)
    assert str(error) == "Server ceased communication."
    assert line_limit < instance.sent < line_limit + SLACK
