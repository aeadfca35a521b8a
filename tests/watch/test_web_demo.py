"""The demo activation: idempotent, and its replay fills the queue through the worker."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError


class FakeClock:
    """Replay time that jumps forward whenever the source sleeps."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += timedelta(seconds=seconds)


@pytest.mark.slow
def test_demo_replay_fills_the_queue(transactional_db, members):
    from beffroi.core import actions as core_actions
    from beffroi.watch import demo
    from beffroi.watch.models import Activation, Card, Source
    from beffroi.watch.worker import Worker

    if not demo.dataset_path().is_file():
        pytest.fail(f"CrisisLex data missing at {demo.dataset_path()}")
    org = core_actions.create_organisation("Démo", "demo-test")
    core_actions.set_role(members["coordinator"], org, "coordinator", actor=None)
    first = list(demo.load(org))
    again = list(demo.load(org))
    assert "replaying" in first[0] and "already there" in again[0]
    activation = Activation.objects.get(organisation=org)
    source = Source.objects.get(activation=activation)
    assert (source.kind, source.config["speed"]) == ("replay", 60.0)
    assert activation.log.count() == 1

    clock = FakeClock()
    stop = threading.Event()
    worker = Worker(stop, source_options={"replay": {"clock": clock, "sleep": clock.sleep}})
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                source.refresh_from_db()
                if (
                    source.status == "done"
                    and not activation.posts.filter(processed=False).exists()
                ):
                    break
            except OperationalError:
                # The in-memory test database locks whole tables across threads
                # (no busy timeout there); the worker retries, so does this loop.
                continue
    finally:
        stop.set()
        thread.join(15)
        # Source threads must not outlive the test (their DB access would be refused).
        assert worker.join_sources(15), "source threads still running"
    source.refresh_from_db()
    assert source.status == "done", source.status_message
    assert source.posts_count > 500
    cards = Card.objects.filter(activation=activation)
    # Retweets and copies are grouped: fewer cards than posts, each counting its copies.
    assert 0 < cards.count() < source.posts_count
    assert sum(cards.values_list("posts_count", flat=True)) == source.posts_count
    top = cards.order_by("-priority").first()
    assert top.explanation  # every priority comes with its reasons
