"""Rate counters under true concurrency (threads, one connection each, real
transactions) and over a whole window.

A hit read the count and wrote it back (Django's ``cache.incr`` on the database cache is
a get then a set): two requests at once both read the same count, so the limit let one
more through each time (31 answers against a limit of 30, seen in a salvo). And the set
gave the counter the cache's default timeout of 5 minutes, so a sender slower than one
try per 5 minutes was never counted past 1, whatever the window.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection, connections

from beffroi.core import throttle

pytestmark = pytest.mark.usesdb


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> Iterator[None]:
    """Real transactions: each thread's connection must see what the others commit."""
    cache.clear()
    yield
    cache.clear()


def _in_thread(target, name: str, out: list, errors: list) -> threading.Thread:
    def work() -> None:
        try:
            out.append(target())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name=name)
    thread.start()
    return thread


def test_two_hits_at_once_are_both_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first hit is held after reading the count; the second, sent meanwhile, must
    not read the same count (it waits for the first to be written)."""
    reached, go = threading.Event(), threading.Event()

    class Held:
        """The shared cache, the first thread held right after it read the count (each
        thread has its own cache object: patch what throttle calls, not one of them)."""

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(cache, name)

        def get(self, key, default=None, version=None):  # type: ignore[no-untyped-def]
            value = cache.get(key, default, version)
            if threading.current_thread().name == "first":
                reached.set()
                go.wait(timeout=30)
            return value

    monkeypatch.setattr(throttle, "cache", Held())
    counts: list[int] = []
    errors: list[BaseException] = []
    hit = lambda: throttle.hit("t", "net", limit=1, window=3600).count  # noqa: E731
    first = _in_thread(hit, "first", counts, errors)
    assert reached.wait(timeout=30)
    second = _in_thread(hit, "second", counts, errors)
    second.join(timeout=1.0)  # it waits for the first, or (unserialised) reads 0 now
    go.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert not errors, errors
    assert sorted(counts) == [1, 2]
    assert throttle.peek("t", "net", limit=1, window=3600).count == 2


def test_many_hits_at_once_lose_none() -> None:
    counts: list[int] = []
    errors: list[BaseException] = []

    def burst() -> list[int]:
        return [throttle.hit("t", "salvo", limit=30, window=3600).count for _ in range(10)]

    threads = [_in_thread(burst, f"t{i}", counts, errors) for i in range(6)]
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    seen = sorted(c for batch in counts for c in batch)  # type: ignore[attr-defined]
    assert seen == list(range(1, 61))  # each hit got its own count: none passed twice
    assert sum(c <= 30 for c in seen) == 30


def _expiry(scope: str) -> float:
    table = connection.ops.quote_name("beffroi_cache")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT expires FROM {table} WHERE cache_key LIKE %s", [f"%:{scope}:%"])
        (expires,) = cursor.fetchone()
    if expires.tzinfo is None:  # SQLite gives the stored UTC time without its zone
        expires = expires.replace(tzinfo=datetime.UTC)
    return expires.timestamp()


def test_a_counter_lives_to_the_end_of_its_window_not_five_minutes() -> None:
    window = 24 * 3600  # a day: the window's end is hours away whatever the time
    for _ in range(3):
        counted = throttle.hit("slow", "sender", limit=5, window=window)
    left = counted.retry_after
    assert left > 10 * 60 or time.time() % window < window - 10 * 60
    assert _expiry("slow") >= time.time() + left - 2
    throttle.undo("slow", "sender", window=window)
    assert throttle.peek("slow", "sender", limit=5, window=window).count == 2
    assert _expiry("slow") >= time.time() + left - 2
