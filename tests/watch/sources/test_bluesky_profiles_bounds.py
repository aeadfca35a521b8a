"""An AppView's answer is read within bounds: a body that never ends, quickly or a
byte at a time, is a failed lookup (the posts go on without kinds), never a worker
that reads for good while Jetstream's queue grows behind it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from beffroi.watch.sources.bluesky_profiles import MAX_REPLY, ProfileKinds
from beffroi.watch.sources.netguard import current_policy
from loopback_servers import EndlessBodies, QuietHandler, call_in_thread

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


class EndlessAppView(EndlessBodies):
    """Answers 200 with a JSON body that never ends: ``pause`` seconds between pieces."""

    def __init__(self, piece: bytes, pause: float) -> None:
        super().__init__()
        view = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                view.endless(self.wfile, b'{"profiles": [', piece, pause)

        self.start_http(Handler)


@pytest.fixture
def endless(request: pytest.FixtureRequest, allow_loopback: None) -> Iterator[EndlessAppView]:
    piece, pause = request.param
    view = EndlessAppView(piece, pause)
    yield view
    view.close()


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
    # A reader that would not stop by itself is freed by the fixture's close().
    found, _took = call_in_thread(lambda: lookup.lookup([DID]), within=8)
    assert found == {} and lookup.failures == 1
    # Read no further than the bound: past it the reader hung up, and the server's
    # writes failed once the sockets' buffers (tens of MB at most on loopback) were full.
    assert endless.sent < MAX_REPLY + (47 << 20)
