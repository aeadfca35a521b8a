"""A wedged watch loop lets its lease lapse (review R14 finding 3): the renewal thread
renewed whatever the loop did, so a loop stuck in a database call or waiting for a child
for ever kept the standby worker out exactly when it was needed. The bounds are made
small here; the wedge is an Event the loop waits on."""

from __future__ import annotations

import logging
import threading
import time

import pytest


@pytest.fixture
def quick_lease(transactional_db, monkeypatch):
    from django.core.cache import cache

    from beffroi.watch import worker

    monkeypatch.setattr(worker, "LEASE_SECONDS", 3.0)
    monkeypatch.setattr(worker, "LEASE_RENEW_SECONDS", 0.1)
    monkeypatch.setattr(worker, "WEDGED_SECONDS", 1.5)
    cache.delete(worker.LEASE_KEY)
    yield worker
    cache.delete(worker.LEASE_KEY)


def _holding(w, monkeypatch, step):
    """Run ``w``'s loop (lease already taken) in a thread, its sources left out."""
    monkeypatch.setattr(w, "step", step)
    monkeypatch.setattr(w.supervisor, "sync", lambda: None)
    monkeypatch.setattr(w.supervisor, "shutdown", lambda: None)
    thread = threading.Thread(target=w._run_holding, daemon=True)
    thread.start()
    return thread


def test_a_wedged_loop_lets_the_standby_take_over(quick_lease, monkeypatch, caplog):
    worker = quick_lease
    caplog.set_level(logging.ERROR, logger="beffroi.watch.worker")
    stop, wedge, wedged = threading.Event(), threading.Event(), threading.Event()
    w = worker.Worker(stop, processes=0)
    assert w.lease.acquire()
    steps: list[int] = []

    def step():
        steps.append(1)
        if len(steps) == 3:
            wedged.set()
            wedge.wait(60)  # a database call that does not come back
        return 0

    thread = _holding(w, monkeypatch, step)
    spare = worker.Lease("spare")
    try:
        assert wedged.wait(10)
        deadline = time.monotonic() + 20
        while not spare.acquire():
            assert time.monotonic() < deadline, "the wedged loop's lease was still renewed"
            time.sleep(0.1)
        assert "the watch loop has not moved for" in caplog.text
        assert "a standby worker takes over" in caplog.text
        assert thread.is_alive()  # still wedged when the standby took over
        assert not w.supervisor.lease_ok(), "its sources would still store batches"
        wedge.set()
        thread.join(10)
        assert not thread.is_alive(), "the loop went on after its lease lapsed"
        assert len(steps) == 3
        assert "moves again after" in caplog.text
        assert spare.holds()
    finally:
        wedge.set()
        stop.set()
        thread.join(5)
        spare.release()


def test_a_slow_but_moving_loop_keeps_its_lease(quick_lease, monkeypatch):
    worker = quick_lease
    stop = threading.Event()
    w = worker.Worker(stop, processes=0)
    assert w.lease.acquire()
    steps: list[int] = []

    def step():
        # Each step lasts a third of the bound: slow, never wedged.
        steps.append(1)
        stop.wait(worker.WEDGED_SECONDS / 3)
        return 1

    thread = _holding(w, monkeypatch, step)
    spare = worker.Lease("spare")
    try:
        # Past both the lease's expiry and the wedge bound, twice over.
        end = time.monotonic() + 2 * worker.LEASE_SECONDS
        while time.monotonic() < end:
            assert not spare.acquire(), "a moving loop lost its lease"
            time.sleep(0.2)
        assert thread.is_alive()
        assert not w.wedged
        assert len(steps) >= 6
    finally:
        stop.set()
        thread.join(10)
        w.lease.release()
    assert not thread.is_alive()
