"""The shared cache holds security state: login and open-mode rate counters and the
single-use markers of proof-of-work challenges. Django's database cache culls a third
of its *live* entries once it holds more than MAX_ENTRIES (300 by default), so a few
hundred open-mode answers in half an hour would silently forget which challenges were
already used and reset counters."""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from beffroi.core import throttle


def test_live_security_entries_survive_a_busy_cache(db):
    for _ in range(3):
        throttle.hit("login-account", "handle:victim", limit=5, window=900)
    # What the ballot box writes for each open-mode answer (api._open_mode_checks).
    markers = [f"consult-pow:{hashlib.sha256(str(i).encode()).hexdigest()}" for i in range(1200)]
    for name in markers:
        assert cache.add(name, 1, timeout=1860)
    assert throttle.peek("login-account", "handle:victim", limit=5, window=900).count == 3
    kept = cache.get_many(markers)
    assert len(kept) == len(markers)
    # A used challenge stays used: replaying it is refused.
    assert not cache.add(markers[0], 1, timeout=1860)
