"""A live source run in the real runner until it has reported errors: for the tests of
what a source says when it cannot reach its server (refused, unreachable, proxied)."""

from __future__ import annotations

import threading
import time
from typing import Any

from beffroi.watch.sources.runner import Backoff, start_source_thread

# The smallest RSS feed a source accepts: one item.
FEED = (
    b"<rss version='2.0'><channel><title>t</title><item>"
    b"<guid>a</guid><title>Crue</title></item></channel></rss>"
)


def error_statuses(source: Any, until_errors: int = 1) -> list[Any]:
    """Run ``source`` (no checkpoint, its posts dropped, retries 10-20 ms apart) until it
    reported ``until_errors`` errors or 10 s went by; the error statuses, in order."""
    statuses: list[Any] = []
    stop = threading.Event()
    thread = start_source_thread(
        source,
        None,
        lambda posts, checkpoint: None,
        stop_event=stop,
        on_status=statuses.append,
        backoff=Backoff(base=0.01, maximum=0.02),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(s.state == "error" for s in statuses) < until_errors:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=5)
    return [s for s in statuses if s.state == "error"]


def closed_port() -> int:
    """A loopback port nobody listens on any more: a connection there is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(predicate: Any, timeout: float = 30.0) -> bool:
    """Whether ``predicate()`` came true within ``timeout`` seconds, asked every 0.1 s
    while the worker's threads write to the same database."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:
            pass  # in-memory test database: tables lock across threads; try again
        time.sleep(0.1)
    return False


def first_item(source: Any) -> Any:
    """The first item ``source`` streams from no checkpoint (None: the stream ended
    first); the stream is closed either way."""
    stream = source.stream({})
    try:
        for item, _state in stream:
            if item is not None:
                return item
    finally:
        stream.close()
    return None
