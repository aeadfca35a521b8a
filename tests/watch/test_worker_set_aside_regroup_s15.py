"""A set-aside post is not grouped again when the worker rebuilds an activation's state
(review R14 finding 4): ``_catch_up`` ran the normaliser and the grouping on its text in
the worker's own thread, with no timeout, at every rebuild."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from watch.test_worker_set_aside_s15 import POISON, _Preparer


def test_a_set_aside_post_is_not_grouped_again(transactional_db, members, monkeypatch):
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions, pipeline, worker
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.pipeline.pipeline import Pipeline
    from beffroi.watch.sources.base import RawPost

    monkeypatch.setattr(pipeline, "Preparer", _Preparer)
    regrouped: list[str] = []
    regroup = Pipeline.regroup

    def spy(self, batch):
        regrouped.extend(p.text for p in batch)
        return regroup(self, batch)

    monkeypatch.setattr(Pipeline, "regroup", spy)
    org = core_actions.create_organisation("VOST K1", "vostk1")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    when = datetime(2024, 3, 1, 12, tzinfo=UTC)

    def post(i, text):
        return RawPost("file", str(source.pk), f"p{i}", text, when)

    actions.receive_posts(source.pk, [post(0, "Digue rompue à Luçon")], {"v": 1})
    w = worker.Worker(threading.Event(), processes=1)
    assert w.step() == 1
    actions.receive_posts(
        source.pk,
        [post(1, "Route coupée à Luçon"), post(2, f"{POISON} très long"), post(3, "Eau à Niort")],
        {"v": 2},
    )
    for _ in range(12):
        w.step()
        if not Post.objects.filter(processed=False).exists():
            break
    assert Card.objects.get(external_id="p2").explanation == [worker.SET_ASIDE_LINE]
    # A fresh worker rebuilds the state from the last save and groups the rest again.
    worker.Worker(threading.Event(), processes=1).processor(activation)
    assert regrouped, "nothing was grouped again: the test proves nothing"
    assert not any(POISON in text for text in regrouped)
