"""A worker that lost the watch lease stores no batch and moves no checkpoint (review R14
finding 8): its source threads went on delivering until the loop noticed, and a batch
committed late could move a checkpoint back under the worker that took over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from beffroi.watch.sources.base import Batch, RawPost


class _Feed:
    """A file giving one new post per poll, its checkpoint the poll count; three posts."""

    kind = "file"
    poll_interval = 0.0

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id

    def poll(self, checkpoint):
        n = int(checkpoint.get("n", 0)) + 1
        when = datetime(2024, 3, 1, 12, tzinfo=UTC)
        post = RawPost("file", self.source_id, f"p{n}", f"Crue {n}", when)
        return Batch([post], {"n": n}, exhausted=n >= 3)


@pytest.fixture
def room(transactional_db, members):
    from django.core.cache import cache

    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.worker import LEASE_KEY

    cache.delete(LEASE_KEY)
    org = core_actions.create_organisation("VOST K4", "vostk4")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    yield Source.objects.create(activation=activation, kind="file", name="f", config={})
    cache.delete(LEASE_KEY)


def _run_once(source, sink):
    """One poll through the runner; the checkpoint it ends with."""
    from beffroi.watch.sources.runner import run_source

    return run_source(
        _Feed(str(source.pk)),
        source.checkpoint or None,
        sink,
        stop_event=threading.Event(),
        max_failures=1,
        sleep=lambda _s: None,
    )


@pytest.mark.parametrize("how", ["lost", "taken"])
def test_a_batch_is_refused_once_the_lease_is_lost(room, how):
    from django.core.cache import cache

    from beffroi.watch import worker
    from beffroi.watch.models import Post

    w = worker.Worker(threading.Event(), processes=0)
    assert w.lease.acquire()
    lost = threading.Event()
    sink = worker._sink(room.pk, lambda: not lost.is_set() and w.lease.holds())
    delivered: list[object] = []

    def counting(items, checkpoint):
        delivered.append(checkpoint["state"])
        return sink(items, checkpoint)

    # While held, the first post and its checkpoint are stored.
    first = worker._sink(room.pk, lambda: True)
    first([_Feed(str(room.pk)).poll({}).posts[0]], {"v": 1, "state": {"n": 1}, "seen": []})
    room.refresh_from_db()
    assert room.checkpoint["state"] == {"n": 1}
    if how == "lost":
        lost.set()  # the renewer found the loop wedged, or another holder
    else:
        cache.set(worker.LEASE_KEY, "autre worker-b", 60)  # the standby took over
    ended = _run_once(room, counting)
    assert ended["state"] == {"n": 1}, "the batch was committed without the lease"
    assert delivered == [{"n": 2}]
    room.refresh_from_db()
    assert room.checkpoint["state"] == {"n": 1}
    assert list(Post.objects.values_list("external_id", flat=True)) == ["p1"]


def test_a_batch_is_stored_while_the_lease_is_held(room):
    from beffroi.watch import worker
    from beffroi.watch.models import Post

    w = worker.Worker(threading.Event(), processes=0)
    assert w.lease.acquire()
    ended = _run_once(room, worker._sink(room.pk, w.lease.holds))
    assert ended["state"] == {"n": 3}
    room.refresh_from_db()
    assert room.checkpoint["state"] == {"n": 3}
    assert sorted(Post.objects.values_list("external_id", flat=True)) == ["p1", "p2", "p3"]
    w.lease.release()


def test_a_lost_workers_source_thread_stores_nothing_and_reports_nothing(room, monkeypatch):
    from beffroi.watch import sources, worker
    from beffroi.watch.models import Post, Source

    monkeypatch.setattr(
        sources, "build_source", lambda _kind, source_id, *_a, **_k: _Feed(source_id)
    )
    before = Source.objects.values("status", "status_message", "checkpoint").get(pk=room.pk)
    worker._run_one(
        room.pk,
        threading.Event(),
        threading.Event(),
        {},
        {"max_failures": 1, "sleep": lambda _s: None},
        lambda: False,
    )
    assert not Post.objects.exists()
    # The worker that holds the lease now says how the source is, not this one.
    assert Source.objects.values("status", "status_message", "checkpoint").get(pk=room.pk) == before
