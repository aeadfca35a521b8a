"""A post whose analysis times out twice is set aside; the others go on (review R11
finding 3). Children that never worked are still bypassed as before
(test_web_worker.py::test_stuck_pipeline_processes_are_restarted_then_bypassed)."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime

POISON = "POISON"


class _Result:
    """An AsyncResult stand-in: prepares in this thread, or never answers for POISON."""

    def __init__(self, light, config):
        self.light, self.config = light, config

    def get(self, timeout=None):
        from beffroi.watch.pipeline.pipeline import _prepare

        if any(POISON in text for text, *_rest in self.light):
            raise multiprocessing.TimeoutError
        return _prepare(self.light, self.config)


class _Preparer:
    workers = 1
    submitted: list[int] = []

    def __init__(self, classifier=None, *, workers=1):
        pass

    def submit(self, batch, config):
        from beffroi.watch.pipeline.pipeline import PreparedResult

        _Preparer.submitted.append(len(batch))
        light = [(p.text, p.lang, p.coordinates, p.repost_of, p.author_kinds) for p in batch]
        return PreparedResult(_Result(light, config), batch)

    def close(self):
        pass


def test_a_post_that_times_out_twice_is_set_aside(transactional_db, members, monkeypatch):
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
        [post(1, "Route coupée à Luçon"), post(2, f"{POISON} très long"), post(3, "Eau à Niort")],
        {"v": 2},
    )
    for _ in range(12):
        w.step()
        if not Post.objects.filter(processed=False).exists():
            break
    assert not Post.objects.filter(processed=False).exists()
    assert w.processes == 1  # the children were not given up on for one post
    bad = Card.objects.get(external_id="p2")
    assert bad.explanation == [worker.SET_ASIDE_LINE]
    assert bad.posts_count == 1
    others = Card.objects.exclude(external_id="p2")
    assert set(others.values_list("external_id", flat=True)) == {"p0", "p1", "p3"}
    assert all(worker.SET_ASIDE_LINE not in c.explanation for c in others)
    assert sum(Card.objects.values_list("posts_count", flat=True)) == 4
