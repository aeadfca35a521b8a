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
account, a partner link) across every web process: ``take`` before the response, the
stream renews its lease while it runs and gives its slot back however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import secrets
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from beffroi.core.locks import one_at_a_time

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
    """Streams one account may hold open at once (every activation, triage and main
    courante together, every web process): ``BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT``."""
    return _setting("BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT", MAX_STREAMS_PER_ACCOUNT)


def max_streams_per_link() -> int:
    """Streams one partner link may hold open at once (every web process):
    ``BEFFROI_PARTNER_LINK_MAX_STREAMS``."""
    return _setting("BEFFROI_PARTNER_LINK_MAX_STREAMS", MAX_STREAMS_PER_LINK)


# A place is a lease in the shared (database) cache: every web process sees the same
# count, and a process that dies without giving its places back (killed, power cut) loses
# them once their leases run out. A running stream renews its lease well before then.
LEASE_SECONDS = 60.0
RENEW_SECONDS = 20.0


@contextmanager
def _leases(key: str) -> Iterator[dict[str, float]]:
    """The unexpired leases under ``key`` ({token: expiry}), to read and change as one
    step across processes (two must not both read room for one more stream): written
    back when the block ends."""
    with one_at_a_time(key):
        now = time.time()
        stored = cache.get(key)
        leases = {
            token: expiry
            for token, expiry in (stored.items() if isinstance(stored, dict) else ())
            if expiry > now
        }
        yield leases
        if leases:
            # The entry outlives its last lease by a little; each lease says its own end.
            cache.set(key, leases, timeout=math.ceil(max(leases.values()) - now) + 1)
        elif stored is not None:
            cache.delete(key)


# Whether the cyclic garbage collector is running: what it finalises (a response the test
# client never read, a generator left behind) may be closed in the middle of any code of
# the thread, another transaction or the compiler's; no database work there.
_collecting = False


def _gc_phase(phase: str, _info: dict[str, int]) -> None:
    global _collecting
    _collecting = phase == "start"


gc.callbacks.append(_gc_phase)


def _may_use_database() -> bool:
    """Whether a slot may be given back here and now: not from the event loop's thread
    (Django refuses it), not inside a collection, nor inside someone else's transaction
    (the release would be rolled back with it). Otherwise it is set aside for this
    process's next step that may, and at worst its lease runs out."""
    if _collecting or connection.in_atomic_block:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


class Slot:
    """One running stream's place in its holder's count: a lease in the shared cache,
    renewed by the stream (``renew``). ``release`` is idempotent; a slot dropped without
    it (a response that was built but never streamed: the client left while the view
    ran) is given back by the next step of this process that may use the database, and
    in any case once its lease runs out."""

    def __init__(self, slots: Slots, holder: str, limit: int, token: str, expires: float) -> None:
        self.holder = holder
        self.limit = limit
        self.token = token
        self._slots = slots
        self._renew_at = expires - LEASE_SECONDS + RENEW_SECONDS
        self._dropped = weakref.finalize(self, slots._drop, holder, token)

    def renew(self) -> None:
        """Extend the lease when due (a database write every ``RENEW_SECONDS``, not every
        poll). ``StreamClosed`` when the lease ran out meanwhile (this process was stalled
        for a minute) and the holder's places have been taken since: the stream ends and
        its browser's reconnection meets the cap like any other."""
        if time.time() < self._renew_at:
            return
        if not self._slots._renew(self.holder, self.limit, self.token):
            self._dropped.detach()
            raise StreamClosed
        self._renew_at = time.time() + RENEW_SECONDS

    def release(self) -> None:
        if not self._dropped.alive:
            return
        self._dropped.detach()
        if not _may_use_database():
            self._slots._drop(self.holder, self.token)
            return
        try:
            self._slots._give(self.holder, self.token)
        except Exception:  # the database is away: set aside, the lease runs out anyway
            self._slots._drop(self.holder, self.token)


class Slots:
    """Streams running at once per holder, counted across every process of the
    deployment in the shared database cache (``core/throttle.py``'s counters live there
    too), as leases of ``LEASE_SECONDS`` that running streams renew."""

    def __init__(self, prefix: str = "live-streams") -> None:
        self.prefix = prefix
        # Slots given back where the database may not be used (garbage collection, the
        # event loop): given back for good by this process's next step that may.
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str]] = []

    def _key(self, holder: str) -> str:
        return f"{self.prefix}:{holder}"

    def take(self, holder: str, limit: int) -> Slot | None:
        self._flush()
        token = secrets.token_hex(8)
        with _leases(self._key(holder)) as leases:
            if len(leases) >= limit:
                return None
            expires = leases[token] = time.time() + LEASE_SECONDS
        return Slot(self, holder, limit, token, expires)

    def running(self, holder: str) -> int:
        """Streams of ``holder`` running now, in every process."""
        self._flush()
        stored = cache.get(self._key(holder))
        now = time.time()
        return sum(1 for e in (stored or {}).values() if e > now)

    def _renew(self, holder: str, limit: int, token: str) -> bool:
        self._flush()
        with _leases(self._key(holder)) as leases:
            if token not in leases and len(leases) >= limit:
                return False
            leases[token] = time.time() + LEASE_SECONDS
        return True

    def _give(self, holder: str, token: str) -> None:
        with _leases(self._key(holder)) as leases:
            leases.pop(token, None)

    def _drop(self, holder: str, token: str) -> None:
        with self._lock:
            self._pending.append((holder, token))

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for done, (holder, token) in enumerate(pending):
            try:
                self._give(holder, token)
            except BaseException:
                with self._lock:  # kept for the next try (or the leases' end)
                    self._pending.extend(pending[done:])
                raise


SLOTS = Slots()


def take(holder: str, limit: int) -> Slot | None:
    """A place for one more stream of ``holder``, or None when it already holds ``limit``
    (in all processes together)."""
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
                # Servers close a response from a thread (ASGI: sync_to_async), where
                # the slots the event loop could only set aside are given back too.
                if _may_use_database():
                    with contextlib.suppress(Exception):
                        self.slot._slots._flush()


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
    if slot is not None:
        version = _renewing(version, slot)
    if isinstance(request, ASGIRequest):
        content = _async_stream(version, poll, slot)
    else:
        content = _sync_stream(version, poll, wsgi_max, slot)
    response = _EventStream(content, content_type="text/event-stream")
    response.slot = slot
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


def _renewing(version: Callable[[], str], slot: Slot) -> Callable[[], str]:
    """``version``, renewing the stream's lease when due: one call into the database's
    thread per poll, as before."""

    def renewed() -> str:
        slot.renew()
        return version()

    return renewed


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
        # the reader lost access, or the version raised: the place is free again. The
        # database is used from a thread; cut short (cancelled again), the release is
        # only set aside, and the server's close of the response completes it.
        if slot is not None:
            try:
                await sync_to_async(slot.release)()
            finally:
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
