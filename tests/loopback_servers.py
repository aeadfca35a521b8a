"""The fake servers of the source tests listen on a loopback address, on a port the
system picks, each request in its own thread. ``EndlessBodies`` serves answers that
never end, for the tests of a reader's bounds; ``call_in_thread`` runs the reader
under test so that one that reads for good fails its test instead of hanging it."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO


class LoopbackHTTP:
    """Base of a fake HTTP server: ``start_http(Handler)`` once its state is ready."""

    httpd: ThreadingHTTPServer
    scheme = "http"

    def start_http(
        self,
        handler: type[BaseHTTPRequestHandler],
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls``: a server context, to serve HTTPS instead."""
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        # A test that ends with a request still open must not wait for it.
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test's output clean."""

    def log_message(self, *args: Any) -> None:
        pass


class EndlessBodies(LoopbackHTTP):
    """A fake server whose handlers (written by each test: the status, the headers, the
    routes) send a body that never ends with ``endless``. ``sent`` counts the bytes
    written, which is what a test of a reader's bound checks: a reader that stops at its
    bound leaves it a little past the bound (what the sockets' buffers took), one that
    reads on takes it to ``CAP``. ``close()`` ends every body still being sent."""

    # Then silence: a reader that reads on must fail its test, not take the machine's
    # memory.
    CAP = 64 << 20

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.sent = 0

    def endless(
        self, out: BinaryIO, head: bytes, piece: bytes, pause: float = 0.0, cap: int = CAP
    ) -> None:
        """Writes ``head``, then ``piece`` again and again, ``pause`` seconds apart, until
        ``cap`` bytes were sent or the server is closed, and keeps the connection open
        until then. A reader that hangs up ends it: that is what the tests look for."""
        try:
            out.write(head)
            while not self.stop.is_set() and self.sent < cap:
                out.write(piece)
                out.flush()
                self.sent += len(piece)
                if pause:
                    time.sleep(pause)
            self.stop.wait()
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        super().close()


def call_in_thread(call: Callable[[], Any], within: float = 15) -> tuple[Any, float]:
    """What ``call`` returned or raised, and how long it took. Still running after
    ``within`` seconds fails the test (the reader read for good) instead of hanging the
    run: the thread is a daemon, left to the server's ``close()``."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # the test looks at which
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=within)
    assert not thread.is_alive(), "still reading the answer"
    return outcome[0], time.monotonic() - started
