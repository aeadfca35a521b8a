"""Server-sent events for the triage room and the main courante.

Clients are told *that* something changed (a version string), then fetch the
data through the ordinary role-checked endpoints: the stream itself carries
nothing restricted, and a missed event costs one extra fetch, not a lost card.

Django 5.2 streams an *async* iterator natively under ASGI (uvicorn), but
under WSGI it must consume it whole before sending — an endless stream would
never reach the browser.  Conversely a sync iterator under ASGI is pulled
through a thread per chunk.  So the view picks the iterator that matches the
handler: async and endless under ASGI; sync and bounded (``WSGI_MAX``
seconds) under WSGI — pytest-django's live_server, ``manage runserver`` —
where the browser's EventSource simply reconnects after ``retry``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import OperationalError, connection
from django.http import HttpRequest, StreamingHttpResponse

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
WSGI_MAX = 20.0
RETRY_MS = 1500


# How often a stream asks again whether its reader may still follow it.
RECHECK_SECONDS = 10.0


class StreamClosed(Exception):
    """Raised by a stream's version function when its reader may no longer follow it."""


def rechecked(version: Callable[[], str], allowed: Callable[[], bool]) -> Callable[[], str]:
    """``version``, asking ``allowed()`` again every ``RECHECK_SECONDS``: once it says no
    (the member was removed, their role changed, they logged out) the stream ends instead
    of running on for as long as the browser keeps it open. The browser then reconnects
    and meets the ordinary role checks."""
    checked = time.monotonic()

    def wrapped() -> str:
        nonlocal checked
        now = time.monotonic()
        if now - checked >= RECHECK_SECONDS:
            checked = now
            if not allowed():
                raise StreamClosed
        return version()

    return wrapped


def _event(version: str) -> str:
    return f"event: change\ndata: {version}\n\n"


def sse_response(
    request: HttpRequest,
    version: Callable[[], str],
    *,
    poll: float | None = None,
    wsgi_max: float | None = None,
) -> StreamingHttpResponse:
    """A text/event-stream that emits ``change`` whenever ``version()`` changes.

    The first event is sent at once so a client that reconnects catches up.
    """
    content: AsyncIterator[str] | Iterator[str]
    poll = POLL_SECONDS if poll is None else poll
    wsgi_max = WSGI_MAX if wsgi_max is None else wsgi_max
    if isinstance(request, ASGIRequest):
        content = _async_stream(version, poll)
    else:
        content = _sync_stream(version, poll, wsgi_max)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def _async_stream(version: Callable[[], str], poll: float) -> AsyncIterator[str]:
    read = sync_to_async(version)
    last: str | None = None
    quiet = 0.0
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        try:
            current = await read()
        except StreamClosed:
            return
        if current != last:
            last, quiet = current, 0.0
            yield _event(current)
        elif quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(poll)
        quiet += poll


def _sync_stream(version: Callable[[], str], poll: float, wsgi_max: float) -> Iterator[str]:
    deadline = time.monotonic() + wsgi_max
    last: str | None = None
    yield f"retry: {RETRY_MS}\n\n"
    try:
        while time.monotonic() < deadline:
            try:
                current = version()
            except StreamClosed:
                return
            except OperationalError:
                # A locked SQLite table (no busy timeout on in-memory test
                # databases): skip this poll, the next one will tell.
                time.sleep(poll)
                continue
            except Exception:
                return  # the server is shutting down: the browser reconnects later
            if current != last:
                last = current
                yield _event(current)
            time.sleep(poll)
    finally:
        # This thread's connection is closed here, not by Django's
        # request_finished handler: that handler opens a connection to check an
        # unusable one, which fails once the server (or a test) is shutting down.
        # Inside an atomic block (a test client in the test's own transaction)
        # the connection is not ours to close.
        if not connection.in_atomic_block:
            connection.close()
