"""An AppView's answer is read within bounds: a body that never ends, quickly or a
byte at a time, is a failed lookup (the posts go on without kinds), never a worker
that reads for good while Jetstream's queue grows behind it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from beffroi.watch.sources.bluesky_profiles import MAX_REPLY, ProfileKinds
from beffroi.watch.sources.netguard import current_policy
from loopback_servers import LoopbackHTTP

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
LIMIT = 64 << 20


class EndlessAppView(LoopbackHTTP):
    """Answers 200 with a JSON body that never ends: ``pause`` seconds between pieces."""

    def __init__(self, piece: bytes, pause: float) -> None:
        self.stop = threading.Event()
        self.sent = 0
        view = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    self.wfile.write(b'{"profiles": [')
                    # Up to 64 MB, then silence: a test of the reader that read on
                    # must fail, not take the machine's memory.
                    while not view.stop.is_set() and view.sent < LIMIT:
                        self.wfile.write(piece)
                        self.wfile.flush()
                        view.sent += len(piece)
                        if pause:
                            time.sleep(pause)
                    view.stop.wait()
                except OSError:
                    pass  # the client gave up: what is tested

        self.start_http(Handler)

    def close(self) -> None:
        self.stop.set()
        super().close()


@pytest.fixture
def endless(request: pytest.FixtureRequest, allow_loopback: None) -> Iterator[EndlessAppView]:
    piece, pause = request.param
    view = EndlessAppView(piece, pause)
    yield view
    view.close()


def _lookup_in_thread(lookup: ProfileKinds) -> tuple[threading.Thread, list[Any]]:
    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(lookup.lookup([DID])), daemon=True)
    thread.start()
    return thread, found


@pytest.mark.parametrize(
    "endless",
    [
        pytest.param(((b'{"did": "x"},' * 4096), 0.0), id="fast-and-endless"),
        pytest.param((b" ", 0.05), id="a-byte-at-a-time"),
    ],
    indirect=True,
)
def test_an_answer_that_never_ends_is_a_failed_lookup(endless: EndlessAppView) -> None:
    lookup = ProfileKinds(endless.url, current_policy(), min_interval=0, timeout=1.0)
    thread, found = _lookup_in_thread(lookup)
    thread.join(timeout=8)
    alive = thread.is_alive()
    endless.close()  # frees a reader that would not stop by itself
    assert not alive, "the lookup was still reading the answer"
    assert found == [{}] and lookup.failures == 1
    # Read no further than the bound: past it the reader hung up, and the server's
    # writes failed once the sockets' buffers (tens of MB at most on loopback) were full.
    assert endless.sent < MAX_REPLY + (47 << 20)
