"""Taking over a lapsed lease is exclusive (review R14 finding 2): on PostgreSQL Django's
database cache replaced an expired row with a plain SELECT then UPDATE, so two workers
taking over a killed worker's lease both got it."""

from __future__ import annotations

import threading
import time

import pytest


@pytest.fixture
def no_lease(transactional_db):
    from django.core.cache import cache

    from beffroi.watch.worker import LEASE_KEY

    cache.delete(LEASE_KEY)
    yield
    cache.delete(LEASE_KEY)


def test_two_takers_of_a_lapsed_lease_one_wins(no_lease, monkeypatch):
    from django.db import connection, transaction

    from beffroi.watch import worker
    from beffroi.watch.worker import Lease

    monkeypatch.setattr(worker, "LEASE_SECONDS", 1.0)
    killed, first, second = Lease("tué"), Lease("premier"), Lease("second")
    assert killed.acquire()
    time.sleep(2.2)  # killed: its row stays, expired (the cache counts whole seconds)
    monkeypatch.setattr(worker, "LEASE_SECONDS", 60.0)
    got: list[bool] = []

    def take() -> None:
        try:
            got.append(second.acquire())
        finally:
            connection.close()

    with transaction.atomic():
        # The first taker is in the middle of its takeover, not yet committed.
        assert first.acquire()
        racer = threading.Thread(target=take, daemon=True)
        racer.start()
        time.sleep(1.0)  # the second taker reads the lease meanwhile
    racer.join(20)
    assert got == [False], "both workers took the lapsed lease"
    assert Lease("x").holder() == "premier"
