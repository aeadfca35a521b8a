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

An endless stream holds a connection, a task and a database poll a second for as long
as its browser keeps it, so streams running at once are capped per holder (a member's
account, a partner link) in this process: ``take`` before the response, the stream gives
its slot back however it ends.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
WSGI_MAX = 20.0
RETRY_MS = 1500


# How often a stream asks again whether its reader may still follow it.
RECHECK_SECONDS = 10.0


# Defaults of the caps on streams running at once. A volunteer on shift keeps the triage
# room and the main courante open in a few tabs over two screens; a partner link may be
# shared by a whole operations room (a COD: wall screens, each desk).
MAX_STREAMS_PER_ACCOUNT = 8
MAX_STREAMS_PER_LINK = 32
# What a refused browser is told to wait: no slot frees at a known time.
REFUSED_RETRY_SECONDS = 30


def _setting(name: str, default: int) -> int:
    """A cap from the settings, else from the environment (like the other limits), else
    ``default``; at least 1 (0 would refuse every stream for good)."""
    value = getattr(settings, name, None)
    if value is None:
        raw = os.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if int(value) < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1, not {value!r}")
    return int(value)


def max_streams_per_account() -> int:
    """Streams one account may hold open at once in this process (every activation,
    triage and main courante together): ``BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT``."""
    return _setting("BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT", MAX_STREAMS_PER_ACCOUNT)


def max_streams_per_link() -> int:
    """Streams one partner link may hold open at once in this process:
    ``BEFFROI_PARTNER_LINK_MAX_STREAMS``."""
    return _setting("BEFFROI_PARTNER_LINK_MAX_STREAMS", MAX_STREAMS_PER_LINK)


class Slot:
    """One running stream's place in its holder's count. ``release`` is idempotent and
    also runs when the slot is garbage-collected: a response that was built but never
    streamed (the client left while the view ran) cannot keep its place for ever."""

    def __init__(self, slots: Slots, holder: str) -> None:
        self.holder = holder
        self._release = weakref.finalize(self, slots._give, holder)

    def release(self) -> None:
        self._release()


class Slots:
    """Streams running at once per holder. In-process: the stream lives in this process
    and so does its end; several processes each keep their own count."""

    def __init__(self) -> None:
        # A thread lock, not an asyncio one: slots are taken in the view's thread and
        # given back from the event loop (ASGI) or the server's thread (WSGI).
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()

    def take(self, holder: str, limit: int) -> Slot | None:
        with self._lock:
            if self._held[holder] >= limit:
                return None
            self._held[holder] += 1
        return Slot(self, holder)

    def running(self, holder: str) -> int:
        with self._lock:
            return self._held[holder]

    def _give(self, holder: str) -> None:
        with self._lock:
            self._held[holder] -= 1
            if self._held[holder] <= 0:
                del self._held[holder]


SLOTS = Slots()


def take(holder: str, limit: int) -> Slot | None:
    """A place for one more stream of ``holder``, or None when it already holds ``limit``."""
    return SLOTS.take(holder, limit)


def refused(text: str) -> HttpResponse:
    """The answer to a stream over its holder's cap: 429 with ``text`` (the page's script
    shows it) and when to try again. An EventSource does not reconnect after a 429 by
    itself; the page's script waits at least ``Retry-After``, longer each time."""
    response = HttpResponse(text, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(REFUSED_RETRY_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


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


class _EventStream(StreamingHttpResponse):
    """Gives its slot back when the server closes the response, even one never read (a
    generator closed before its first step skips its ``finally``)."""

    slot: Slot | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.slot is not None:
                self.slot.release()


def sse_response(
    request: HttpRequest,
    version: Callable[[], str],
    *,
    poll: float | None = None,
    wsgi_max: float | None = None,
    slot: Slot | None = None,
) -> StreamingHttpResponse:
    """A text/event-stream that emits ``change`` whenever ``version()`` changes.

    The first event is sent at once so a client that reconnects catches up. ``slot`` (from
    ``take``) is given back when the stream ends, whichever way it ends.
    """
    content: AsyncIterator[str] | Iterator[str]
    poll = POLL_SECONDS if poll is None else poll
    wsgi_max = WSGI_MAX if wsgi_max is None else wsgi_max
    if isinstance(request, ASGIRequest):
        content = _async_stream(version, poll, slot)
    else:
        content = _sync_stream(version, poll, wsgi_max, slot)
    response = _EventStream(content, content_type="text/event-stream")
    response.slot = slot
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def _async_stream(
    version: Callable[[], str], poll: float, slot: Slot | None = None
) -> AsyncIterator[str]:
    read = sync_to_async(version)
    last: str | None = None
    quiet = 0.0
    try:
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
    finally:
        # The client left (Django cancels the task: CancelledError here, or aclose()),
        # the reader lost access, or the version raised: the place is free again.
        if slot is not None:
            slot.release()


def _sync_stream(
    version: Callable[[], str], poll: float, wsgi_max: float, slot: Slot | None = None
) -> Iterator[str]:
    deadline = time.monotonic() + wsgi_max
    last: str | None = None
    try:
        yield f"retry: {RETRY_MS}\n\n"
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
        if slot is not None:
            slot.release()
        # This thread's connection is closed here, not by Django's
        # request_finished handler: that handler opens a connection to check an
        # unusable one, which fails once the server (or a test) is shutting down.
        # Inside an atomic block (a test client in the test's own transaction)
        # the connection is not ours to close.
        if not connection.in_atomic_block:
            connection.close()
