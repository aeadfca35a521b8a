"""One watch loop at a time: a second worker waits, says so, and takes over when the first
stops or its lease lapses (review R11 finding 1)."""

from __future__ import annotations

import logging
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


def test_second_lease_is_refused_until_the_first_is_released(no_lease):
    from beffroi.watch.worker import Lease, watch_workers

    a, b = Lease("hôte-a (pid 1)"), Lease("hôte-b (pid 2)")
    assert a.acquire()
    assert not b.acquire()
    assert b.holder() == "hôte-a (pid 1)"
    assert watch_workers() == {"running": "hôte-a (pid 1)"}
    assert a.renew() and not b.renew()
    a.release()
    assert b.acquire()
    assert not a.renew()  # a lost it: it must stop its loop


def test_a_lapsed_lease_is_taken_over(no_lease, monkeypatch):
    from beffroi.watch import worker
    from beffroi.watch.worker import Lease

    monkeypatch.setattr(worker, "LEASE_SECONDS", 1.0)
    a, b = Lease("a"), Lease("b")
    assert a.acquire()
    time.sleep(2.2)  # a was killed: no renewal (the cache counts whole seconds)
    assert b.acquire()
    assert not a.renew()


def test_second_worker_waits_and_says_so(no_lease, monkeypatch, caplog):
    from beffroi.watch import worker
    from beffroi.watch.worker import Lease, Worker

    monkeypatch.setattr(worker, "LEASE_RENEW_SECONDS", 0.2)
    first = Lease("premier (pid 1)")
    assert first.acquire()
    stop = threading.Event()
    second = Worker(stop, processes=0)
    stepped: list[int] = []
    monkeypatch.setattr(second, "step", lambda: stepped.append(1) or 0)
    caplog.set_level(logging.WARNING, logger="beffroi.watch.worker")
    thread = threading.Thread(target=second.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        assert not stepped, "a second worker ran the watch loop"
        assert "watch loop already run by worker premier (pid 1)" in caplog.text
        first.release()
        deadline = time.monotonic() + 10
        while not stepped and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stepped, "the waiting worker did not take over"
        assert Lease("x").holder() == second.lease.name
    finally:
        stop.set()
        thread.join(15)
    assert Lease("x").holder() is None  # released on a clean stop
