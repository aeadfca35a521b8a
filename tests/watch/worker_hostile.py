"""A stand-in for the pipeline's child processes that never answers for a hostile post,
and the room the set-aside tests share: one activation whose children have worked once,
then a batch holding a hostile post."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

POISON = "POISON"
# A batch whose second post is hostile, between two good ones.
HOSTILE_SECOND = ((1, "Route coupée à Luçon"), (2, f"{POISON} très long"), (3, "Eau à Niort"))


class _Result:
    """An AsyncResult stand-in: prepares in this thread, or never answers for POISON
    (a timeout at once, the wait it was given noted)."""

    def __init__(self, light, config):
        self.light, self.config = light, config

    def get(self, timeout=None):
        from beffroi.watch.pipeline.pipeline import _prepare

        hostile = any(POISON in text for text, *_rest in self.light)
        Preparer.waits.append((len(self.light), timeout, hostile))
        if hostile:
            raise multiprocessing.TimeoutError
        return _prepare(self.light, self.config)


class Preparer:
    """``pipeline.Preparer`` in this process; records the sizes it was handed."""

    workers = 1
    submitted: list[int] = []
    # (posts in the batch, timeout asked, whether it timed out), in order.
    waits: list[tuple[int, float | None, bool]] = []

    def __init__(self, classifier=None, *, workers=1):
        pass

    def submit(self, batch, config):
        from beffroi.watch.pipeline.pipeline import PreparedResult

        Preparer.submitted.append(len(batch))
        light = [(p.text, p.lang, p.coordinates, p.repost_of, p.author_kinds) for p in batch]
        return PreparedResult(_Result(light, config), batch)

    def close(self):
        pass


@dataclass
class Room:
    activation: Any
    source: Any
    worker: Any
    when: datetime = field(default_factory=lambda: datetime(2024, 3, 1, 12, tzinfo=UTC))
    deliveries: int = 0

    def post(self, i: int, text: str) -> Any:
        from beffroi.watch.sources.base import RawPost

        return RawPost("file", str(self.source.pk), f"p{i}", text, self.when)

    def receive(self, *texts: tuple[int, str]) -> None:
        from beffroi.watch import actions

        self.deliveries += 1
        posts = [self.post(i, t) for i, t in texts]
        actions.receive_posts(self.source.pk, posts, {"v": self.deliveries})

    def run(self, steps: int = 12, check: Callable[[Any], None] | None = None) -> None:
        """Step the worker until nothing is pending (or ``steps`` steps), calling
        ``check(worker)`` after each step."""
        from beffroi.watch.models import Post

        for _ in range(steps):
            self.worker.step()
            if check is not None:
                check(self.worker)
            if not Post.objects.filter(processed=False).exists():
                return


def hostile_room(members, monkeypatch, *texts: tuple[int, str]) -> Room:
    """A room whose pipeline children (``Preparer``) have prepared one batch, then
    received ``texts`` (``(n, text)``: post ``pn``) as one batch, not yet enriched."""
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions, pipeline, worker
    from beffroi.watch.models import Source

    monkeypatch.setattr(pipeline, "Preparer", Preparer)
    monkeypatch.setattr(Preparer, "submitted", [])
    monkeypatch.setattr(Preparer, "waits", [])
    org = core_actions.create_organisation("VOST K1", "vostk1")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    room = Room(activation, source, worker.Worker(threading.Event(), processes=1))
    room.receive((0, "Digue rompue à Luçon"))
    assert room.worker.step() == 1  # the children work
    room.receive(*texts)
    return room
