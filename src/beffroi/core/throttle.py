"""Fixed-window counters in the shared cache, for login throttling and rate limits.

Keys are pseudonyms (never raw addresses).  A counter that is over its limit
makes the caller slow down or refuse with a clear message; it never drops
anything silently.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache

from beffroi.core.locks import one_at_a_time


@dataclass(frozen=True)
class Window:
    count: int
    limit: int
    retry_after: int  # seconds until the window resets

    @property
    def exceeded(self) -> bool:
        """Over the limit once this window's hit is counted (``hit`` counts first)."""
        return self.count > self.limit


def retry_minutes(seconds: float) -> int:
    """Whole minutes to tell someone who must wait `seconds`: rounded up, at least 1.

    Rounded up so that whoever retries after the minutes said is let through: rounding to
    nearest told someone with 89 s to wait "1 minute", and a retry then was refused again.
    """
    return max(1, math.ceil(seconds / 60))


def _key(scope: str, key: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    start = now - now % window
    return f"throttle:{scope}:{key}:{start}", start + window - now


def peek(scope: str, key: str, *, limit: int, window: int) -> Window:
    name, retry = _key(scope, key, window)
    return Window(int(cache.get(name, 0)), limit, retry)


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
    name, retry = _key(scope, key, window)
    return Window(count_up(name, timeout=retry + 1), limit, retry)


def hit_all(counters: Iterable[tuple[str, str, int]], *, window: int) -> Window | None:
    """Count one attempt on each ``(scope, key, limit)`` counter, before the attempt is
    let through (counted afterwards, attempts sent in parallel would all pass); the
    exceeded window that frees last, or None."""
    over = [w for w in (hit(s, k, limit=n, window=window) for s, k, n in counters) if w.exceeded]
    return max(over, key=lambda w: w.retry_after, default=None)


def reset(scope: str, key: str, *, window: int) -> None:
    cache.delete(_key(scope, key, window)[0])


def undo(scope: str, key: str, *, window: int) -> None:
    """Take back one hit of the current window (an attempt counted up front that
    turned out to be allowed: a successful login)."""
    name, retry = _key(scope, key, window)
    count_up(name, timeout=retry + 1, by=-1)
