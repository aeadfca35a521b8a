"""The rate limits hold over any stretch of their window, not per clock-aligned window.

Fixed windows restarted at multiples of their length: a salvo of 30 answers at 10:59:55
and another at 11:00:05 both passed "30 per 10 minutes" (a red CI run met it by chance).
Each test drives the throttle's clock by hand and uses the real shared cache.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.core import throttle

pytestmark = pytest.mark.usesdb


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    cache.clear()
    fake = Clock(1_800_000_000.0)  # a multiple of 600: a fixed window started here
    monkeypatch.setattr(throttle.time, "time", fake.time)
    yield fake
    cache.clear()


def _passes(n: int, *, limit: int = 30, window: int = 600) -> int:
    return sum(not throttle.hit("t", "net", limit=limit, window=window).exceeded for _ in range(n))


def test_two_salvos_straddling_a_round_time_pass_the_limit_once(clock: Clock) -> None:
    clock.now -= 5  # 10:59:55
    assert _passes(25) == 25
    clock.now += 10  # 11:00:05, a fixed window would start again
    assert _passes(25) == 5


def test_a_refused_sender_is_told_when_the_oldest_pass_leaves_the_window(clock: Clock) -> None:
    assert _passes(10, limit=10) == 10
    clock.now += 100
    refused = throttle.hit("t", "net", limit=10, window=600)
    assert refused.exceeded and refused.retry_after == 500
    clock.now += 499
    assert throttle.hit("t", "net", limit=10, window=600).exceeded
    clock.now += 1
    assert not throttle.hit("t", "net", limit=10, window=600).exceeded


def test_sending_faster_does_not_push_the_next_pass_away(clock: Clock) -> None:
    assert _passes(3, limit=3) == 3
    for _ in range(50):
        clock.now += 10
        assert throttle.hit("t", "net", limit=3, window=600).exceeded
    clock.now += 100  # 600 s after the passes
    assert not throttle.hit("t", "net", limit=3, window=600).exceeded


def test_the_first_refusal_of_a_run_is_told_apart(clock: Clock) -> None:
    """The login journals a refusal once a run of refusals starts (count == limit + 1)."""
    assert _passes(2, limit=2) == 2
    counts = [throttle.hit("t", "net", limit=2, window=60).count for _ in range(3)]
    assert counts == [3, 4, 5]
    clock.now += 61
    assert throttle.hit("t", "net", limit=2, window=60).count == 1


def test_undo_gives_back_the_latest_pass(clock: Clock) -> None:
    assert _passes(5, limit=5) == 5
    throttle.undo("t", "net", window=600)
    assert not throttle.hit("t", "net", limit=5, window=600).exceeded
    assert throttle.hit("t", "net", limit=5, window=600).exceeded


def test_an_entry_of_the_old_format_counts_as_empty(clock: Clock) -> None:
    cache.set("throttle:t:net", 7, timeout=60)
    assert throttle.peek("t", "net", limit=5, window=60).count == 0
    assert throttle.hit("t", "net", limit=5, window=60).count == 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=40, allow_nan=False), max_size=60),
    limit=st.integers(min_value=1, max_value=6),
    window=st.integers(min_value=1, max_value=120),
)
def test_no_stretch_of_the_window_lets_more_than_the_limit_through(
    clock: Clock, gaps: list[float], limit: int, window: int
) -> None:
    """Safety and liveness against a plain reference: an attempt passes exactly when fewer
    than ``limit`` attempts passed in the ``window`` seconds before it."""
    cache.clear()
    passed: list[float] = []
    for gap in gaps:
        clock.now += gap
        expected = sum(clock.now - window < t for t in passed) < limit
        got = not throttle.hit("t", "p", limit=limit, window=window).exceeded
        assert got == expected
        if got:
            passed.append(clock.now)


@pytest.mark.parametrize("skew", [0.005, -0.005, 2.0])
def test_two_app_servers_whose_clocks_differ_share_one_limit(clock: Clock, skew: float) -> None:
    """Requests alternate between a server ahead by ``skew`` and one on time: the one
    behind must not forget the other's passes as "from the future"."""
    passed = 0
    for k in range(200):
        clock.now += 0.0001
        server_time = clock.now + (skew if k % 2 == 0 else 0.0)
        saved, clock.now = clock.now, server_time
        passed += not throttle.hit("t", "net", limit=30, window=600).exceeded
        clock.now = saved
    assert passed == 30
