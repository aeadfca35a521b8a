"""A worker whose lease-renewal thread died stops as if it had lost the lease (review R14
finding 3): nobody renewed, the lease lapsed, a standby worker took it, and this one went
on running its sources and enrichment."""

from __future__ import annotations

import logging
import threading

import pytest


@pytest.fixture
def no_lease(transactional_db):
    from django.core.cache import cache

    from beffroi.watch.worker import LEASE_KEY

    cache.delete(LEASE_KEY)
    yield
    cache.delete(LEASE_KEY)


# The renewer's death is the point: its exception is expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_renewer_is_a_lost_lease(no_lease, monkeypatch, caplog):
    from beffroi.watch.worker import Worker

    stop = threading.Event()
    w = Worker(stop, processes=0)
    assert w.lease.acquire()

    def dies(lost, done):
        raise RuntimeError("renewer broken")

    monkeypatch.setattr(w, "_renew", dies)
    steps: list[int] = []
    monkeypatch.setattr(w, "step", lambda: steps.append(1) or 0)
    monkeypatch.setattr(w.supervisor, "sync", lambda: None)
    stopped: list[int] = []
    monkeypatch.setattr(w.supervisor, "shutdown", lambda: stopped.append(1))
    caplog.set_level(logging.ERROR, logger="beffroi.watch.worker")
    thread = threading.Thread(target=w._run_holding, daemon=True)
    thread.start()
    thread.join(10)
    try:
        assert not thread.is_alive(), "the loop ran on with nobody renewing its lease"
        assert stopped == [1]
        assert "renewal thread died" in caplog.text
    finally:
        stop.set()
        thread.join(5)
        w.lease.release()
