"""Sliding-window limits in the shared cache, for login throttling and rate limits.

Each limited key keeps the times of the attempts it let through during the last
``window`` seconds (at most ``limit`` of them): an attempt passes while fewer than
``limit`` remain, so no stretch of ``window`` seconds ever lets more than ``limit``
through. Fixed windows (counters that restart at times aligned to the clock) let twice
the limit through when a salvo straddles a restart: 30 answers at 10:59:55 and 30 more
at 11:00:05 all passed a "30 per 10 minutes" limit.

Keys are pseudonyms (never raw addresses).  A counter that is over its limit
makes the caller slow down or refuse with a clear message; it never drops
anything silently.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from beffroi.core.locks import one_at_a_time


@dataclass(frozen=True)
class Window:
    count: int
    limit: int
    retry_after: int  # seconds until an attempt would pass again

    @property
    def exceeded(self) -> bool:
        """Over the limit once this attempt is counted (``hit`` counts first)."""
        return self.count > self.limit


def retry_minutes(seconds: float) -> int:
    """Whole minutes to tell someone who must wait `seconds`: rounded up, at least 1.

    Rounded up so that whoever retries after the minutes said is let through: rounding to
    nearest told someone with 89 s to wait "1 minute", and a retry then was refused again.
    """
    return max(1, math.ceil(seconds / 60))


def _name(scope: str, key: str) -> str:
    return f"throttle:{scope}:{key}"


def _live(stored: Any, now: float, window: int) -> tuple[list[float], int]:
    """The let-through times still inside the window, and how many attempts were refused
    since the last one let through. Anything else in the entry (an older format, a value
    written by hand) counts as an empty log rather than an error."""
    if not (isinstance(stored, tuple) and len(stored) == 2):
        return [], 0
    times, refused = stored
    if not isinstance(times, list) or not isinstance(refused, int):
        return [], 0
    # No upper bound: another app server whose clock is a few milliseconds ahead logs times
    # after this one's now, and they are recent passes, not to be forgotten (dropping them
    # let twice the limit through two servers 5 ms apart). Sorted, since servers append
    # out of order: the oldest first for ``retry_after``, the latest last for ``undo``.
    return sorted(t for t in times if isinstance(t, float) and t > now - window), refused


def _window(times: list[float], refused: int, limit: int, now: float, window: int) -> Window:
    # Until the oldest time let through leaves the window: the first moment an attempt
    # refused now would pass (and, below the limit, when the log starts emptying).
    retry = math.ceil(times[0] + window - now) if times else window
    return Window(len(times) + refused, limit, max(1, retry))


def peek(scope: str, key: str, *, limit: int, window: int) -> Window:
    now = time.time()
    return _window(*_live(cache.get(_name(scope, key)), now, window), limit, now, window)


def count_up(name: str, *, timeout: int, by: int = 1) -> int:
    """Add ``by`` to the counter ``name`` in the shared cache and return it, as one step
    across processes; the counter lives ``timeout`` seconds from now.

    Not ``cache.incr``: on the database cache it is a get then a set, so two requests at
    once both read the same count (a limit let one more through), and its set gives the
    entry the cache's default timeout (5 min), so a counter meant for an hour or a day
    started again after 5 quiet minutes."""
    with one_at_a_time(name):
        count = max(int(cache.get(name, 0)) + by, 0)
        cache.set(name, count, timeout=timeout)
    return count


def hit(scope: str, key: str, *, limit: int, window: int) -> Window:
    """Count one attempt: let through (its time logged) while fewer than ``limit`` were let
    through in the last ``window`` seconds, refused otherwise. Refused attempts are not
    logged, so sending faster never pushes the moment of the next pass further away; the
    count tells the first refusal of a run (``limit + 1``) from the next ones."""
    name = _name(scope, key)
    with one_at_a_time(name):
        now = time.time()
        times, refused = _live(cache.get(name), now, window)
        if len(times) < limit:
            times.append(now)
            refused = 0
        else:
            refused += 1
        cache.set(name, (times, refused), timeout=window + 1)
    return _window(times, refused, limit, now, window)


def hit_all(counters: Iterable[tuple[str, str, int]], *, window: int) -> Window | None:
    """Count one attempt on each ``(scope, key, limit)`` counter, before the attempt is
    let through (counted afterwards, attempts sent in parallel would all pass); the
    exceeded window that frees last, or None."""
    over = [w for w in (hit(s, k, limit=n, window=window) for s, k, n in counters) if w.exceeded]
    return max(over, key=lambda w: w.retry_after, default=None)


def hit_in_turn(counters: Iterable[tuple[str, str, int]], *, window: int) -> list[Window]:
    """Count one attempt on each ``(scope, key, limit)`` counter in turn, stopping at the
    first that refuses it; the windows of the counters hit (the last one refused, if any).

    For nested limits (an account from one network, then the account from anywhere): an
    attempt refused by the narrow counter must not use up the wide one, or one network
    hammering a name it may no longer try would fill the account's ceiling for everyone.
    And the other way round, an attempt a later counter refuses is given back to the earlier
    ones: its owner, refused by the ceiling that distributed guessing filled, would otherwise
    fill their own pair's counter and stay locked out a whole window after the ceiling
    frees, and a crisis room behind one address would spend its shared budget on refusals."""
    windows: list[Window] = []
    passed: list[tuple[str, str]] = []
    for scope, key, limit in counters:
        windows.append(hit(scope, key, limit=limit, window=window))
        if windows[-1].exceeded:
            for earlier_scope, earlier_key in passed:
                undo(earlier_scope, earlier_key, window=window)
            break
        passed.append((scope, key))
    return windows


def reset(scope: str, key: str, *, window: int) -> None:
    cache.delete(_name(scope, key))


def undo(scope: str, key: str, *, window: int) -> None:
    """Take back the latest attempt let through (one counted up front that turned out to
    be allowed: a successful login)."""
    name = _name(scope, key)
    with one_at_a_time(name):
        now = time.time()
        times, refused = _live(cache.get(name), now, window)
        if times:
            times.pop()
        cache.set(name, (times, refused), timeout=window + 1)
