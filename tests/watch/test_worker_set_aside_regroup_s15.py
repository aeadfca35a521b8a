"""A set-aside post is not grouped again when the worker rebuilds an activation's state
(review R14 finding 4): ``_catch_up`` ran the normaliser and the grouping on its text in
the worker's own thread, with no timeout, at every rebuild."""

from __future__ import annotations

import threading

from watch.worker_hostile import HOSTILE_SECOND, POISON, hostile_room


def test_a_set_aside_post_is_not_grouped_again(transactional_db, members, monkeypatch):
    from beffroi.watch import worker
    from beffroi.watch.models import Card
    from beffroi.watch.pipeline.pipeline import Pipeline

    regrouped: list[str] = []
    regroup = Pipeline.regroup

    def spy(self, batch):
        regrouped.extend(p.text for p in batch)
        return regroup(self, batch)

    monkeypatch.setattr(Pipeline, "regroup", spy)
    room = hostile_room(members, monkeypatch, *HOSTILE_SECOND)
    room.run()
    assert Card.objects.get(external_id="p2").explanation == [worker.SET_ASIDE_LINE]
    # A fresh worker rebuilds the state from the last save and groups the rest again.
    worker.Worker(threading.Event(), processes=1).processor(room.activation)
    assert regrouped, "nothing was grouped again: the test proves nothing"
    assert not any(POISON in text for text in regrouped)
