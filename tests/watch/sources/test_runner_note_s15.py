"""A polling source's note (an alert feed empty for now) shows in its « ok » status, and
goes when the source has entries again (review R14 finding 10)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, ClassVar

from beffroi.watch.sources.base import Batch, RawPost
from beffroi.watch.sources.runner import run_source

NOTE = "Le flux est vide pour l'instant (il a publié des entrées auparavant)."


class EmptiedFeed:
    """One entry, then two empty polls, then a new entry, then stops the run."""

    kind: ClassVar[str] = "fake"
    poll_interval = 0.0

    def __init__(self, stop: threading.Event) -> None:
        self.source_id = "s1"
        self.stop, self.calls = stop, 0

    def poll(self, checkpoint: dict[str, Any]) -> Batch:
        self.calls += 1
        when = datetime(2026, 11, 23, tzinfo=UTC)
        if self.calls == 1:
            return Batch([RawPost("fake", "s1", "a", "alerte", when)], {"n": 1})
        if self.calls in (2, 3):
            return Batch([], {"n": 1}, emptied=True)
        self.stop.set()
        return Batch([RawPost("fake", "s1", "b", "alerte 2", when)], {"n": 2})


def test_an_emptied_feed_stays_ok_and_says_so(recorder) -> None:
    stop = threading.Event()
    run_source(
        EmptiedFeed(stop),
        None,
        recorder.sink,
        stop_event=stop,
        sleep=lambda s: None,
        on_status=recorder.status,
    )
    oks = [s.message for s in recorder.statuses if s.state == "ok"]
    assert "error" not in recorder.states()
    assert oks == [
        "1 message reçu depuis le démarrage du worker.",
        f"{NOTE} 1 message reçu depuis le démarrage du worker.",
        "2 messages reçus depuis le démarrage du worker.",
    ]


def test_the_emptied_status_has_a_template() -> None:
    from beffroi.watch.views_i18n import SOURCE_STATUS

    for count in ("1 message reçu", "3 messages reçus"):
        assert SOURCE_STATUS.match(f"{NOTE} {count} depuis le démarrage du worker.") is not None
