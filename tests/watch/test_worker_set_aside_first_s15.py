"""A hostile post first in its batch is set aside without the children being given up on
(review R14 finding 1): its batch's first timeout and its own first timeout alone counted
the children "stuck" twice, and the worker went on enriching in its own thread, with no
timeout, for ever."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from watch.test_worker_set_aside_s15 import POISON, _Preparer


def test_a_hostile_post_first_in_its_batch_is_set_aside(transactional_db, members, monkeypatch):
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions, pipeline, worker
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.sources.base import RawPost

    monkeypatch.setattr(pipeline, "Preparer", _Preparer)
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
    assert w.step() == 1  # the children work
    actions.receive_posts(
        source.pk,
        [post(2, f"{POISON} très long"), post(1, "Route coupée à Luçon"), post(3, "Eau à Niort")],
        {"v": 2},
    )
    for _ in range(12):
        w.step()
        assert w.processes == 1, "children given up on: enriching with no timeout"
        if not Post.objects.filter(processed=False).exists():
            break
    assert not Post.objects.filter(processed=False).exists()
    assert w.stuck == 0
    bad = Card.objects.get(external_id="p2")
    assert bad.explanation == [worker.SET_ASIDE_LINE]
    assert set(Card.objects.exclude(pk=bad.pk).values_list("external_id", flat=True)) == {
        "p0",
        "p1",
        "p3",
    }
