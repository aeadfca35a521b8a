from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import Batch, RawPost, Skipped, SourceError
from beffroi.watch.sources.runner import Backoff, run_source, start_source_thread

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def post(i: int) -> RawPost:
    return RawPost("fake", "s1", str(i), f"message {i}", T0)


class ListPoller:
    """Serves a fixed list in pages; the checkpoint is the next offset."""

    kind: ClassVar[str] = "fake"
    poll_interval = 0.0

    def __init__(self, n: int, page: int = 3, fail_at: set[int] | None = None) -> None:
        self.source_id = "s1"
        self.n, self.page, self.fail_at = n, page, set(fail_at or ())
        self.calls = 0

    def poll(self, checkpoint: dict[str, Any]) -> Batch:
        self.calls += 1
        if self.calls in self.fail_at:
            raise SourceError("Panne simulée.")
        start = checkpoint.get("offset", 0)
        # Overlap of one post with the previous page, as a feed fetched again would.
        begin = max(0, start - 1)
        end = min(self.n, start + self.page)
        return Batch([post(i) for i in range(begin, end)], {"offset": end}, exhausted=end >= self.n)


class FlakyStream:
    kind: ClassVar[str] = "fakestream"

    def __init__(self, n: int, drop_after: int) -> None:
        self.source_id = "st"
        self.n, self.drop_after = n, drop_after
        self.connections = 0

    def stream(self, checkpoint: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        self.connections += 1
        start = checkpoint.get("next", 0)
        sent = 0
        yield None, checkpoint  # idle tick: connected
        for i in range(start, self.n):
            if self.connections == 1 and sent == self.drop_after:
                raise SourceError("Connexion perdue.")
            if i == 4:
                yield Skipped("JSON mal formé", where=str(i)), {"next": i + 1}
                continue
            sent += 1
            yield post(i), {"next": i + 1}
        while True:
            yield None, {"next": self.n}


def test_poller_delivers_everything_once_despite_failures(recorder) -> None:
    source = ListPoller(10, fail_at={2, 3})
    final = run_source(
        source,
        None,
        recorder.sink,
        stop_event=threading.Event(),
        sleep=lambda s: None,
        on_status=recorder.status,
        backoff=Backoff(rng=lambda: 0.0),
    )
    assert recorder.ids == [str(i) for i in range(10)]
    assert final["state"] == {"offset": 10}
    assert recorder.states()[-1] == "done"
    assert [s.retry_in for s in recorder.statuses if s.state == "error"] == [0.5, 1.0]
    json.dumps(recorder.checkpoints)  # every persisted checkpoint is JSON


def test_restart_from_checkpoint_neither_loses_nor_duplicates(recorder) -> None:
    stop = threading.Event()
    seen_checkpoints: list[dict[str, Any]] = []

    def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
        recorder.sink(posts, checkpoint)
        seen_checkpoints.append(checkpoint)
        if len(recorder.posts) >= 4:
            stop.set()  # the worker is killed after persisting this batch

    run_source(ListPoller(10), None, sink, stop_event=stop, sleep=lambda s: None)
    first_run = list(recorder.ids)
    run_source(
        ListPoller(10),
        seen_checkpoints[-1],
        recorder.sink,
        stop_event=threading.Event(),
        sleep=lambda s: None,
    )
    assert recorder.ids == [str(i) for i in range(10)]
    assert first_run == ["0", "1", "2", "3", "4", "5"]


def test_sink_failure_replays_instead_of_losing(recorder) -> None:
    failures = {"left": 1}

    def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
        if posts and posts[0].external_id == "3" and failures["left"]:
            failures["left"] -= 1
            raise OSError("disque plein")
        recorder.sink(posts, checkpoint)

    run_source(
        ListPoller(6),
        None,
        sink,
        stop_event=threading.Event(),
        sleep=lambda s: None,
        on_status=recorder.status,
    )
    assert recorder.ids == [str(i) for i in range(6)]
    assert any("disque plein" in s.message for s in recorder.statuses)


def test_stream_reconnects_and_counts_skips(recorder) -> None:
    source = FlakyStream(8, drop_after=2)
    stop = threading.Event()

    def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
        recorder.sink(posts, checkpoint)
        if len(recorder.posts) == 7:
            stop.set()

    run_source(
        source,
        None,
        sink,
        stop_event=stop,
        sleep=lambda s: None,
        on_status=recorder.status,
        on_skip=recorder.skip,
    )
    assert recorder.ids == ["0", "1", "2", "3", "5", "6", "7"]
    assert source.connections == 2
    assert [s.reason for s in recorder.skips] == ["JSON mal formé"]
    assert recorder.statuses[-1].skipped == 1
    assert "Connexion perdue. Nouvel essai" in next(
        s.message for s in recorder.statuses if s.state == "error"
    )


def test_non_retryable_error_fails_without_retry(recorder) -> None:
    class Broken(ListPoller):
        def poll(self, checkpoint: dict[str, Any]) -> Batch:
            raise SourceError("Fichier introuvable.", retryable=False)

    run_source(
        Broken(1),
        None,
        recorder.sink,
        stop_event=threading.Event(),
        sleep=lambda s: None,
        on_status=recorder.status,
    )
    assert recorder.states() == ["connecting", "failed"]


def test_one_failing_source_does_not_stop_another(recorder) -> None:
    class Dead(ListPoller):
        def poll(self, checkpoint: dict[str, Any]) -> Batch:
            raise RuntimeError("boom")

    stop = threading.Event()
    dead_statuses: list[Any] = []
    dead = start_source_thread(
        Dead(1),
        None,
        lambda p, c: None,
        stop_event=stop,
        on_status=dead_statuses.append,
        backoff=Backoff(base=0.001, maximum=0.002),
    )
    alive = start_source_thread(
        ListPoller(50), None, recorder.sink, stop_event=threading.Event(), on_status=recorder.status
    )
    alive.join(timeout=10)
    stop.set()
    dead.join(timeout=10)
    assert recorder.ids == [str(i) for i in range(50)]
    assert not dead.is_alive()
    assert any("Erreur inattendue (RuntimeError) : boom" in s.message for s in dead_statuses)
    assert dead_statuses[-1].state == "stopped"


def test_idle_stream_persists_its_cursor_now_and_then(recorder) -> None:
    class Quiet:
        """A filtered stream: the cursor moves, no post matches."""

        kind: ClassVar[str] = "quiet"
        source_id = "q"

        def stream(self, checkpoint: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
            for cursor in range(checkpoint.get("cursor", 0) + 1, 1000):
                yield None, {"cursor": cursor}

    ticks = iter(range(10_000))
    stop = threading.Event()

    def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
        recorder.sink(posts, checkpoint)
        if len(recorder.checkpoints) == 3:
            stop.set()

    # Each clock reading is one second later than the previous one.
    run_source(
        Quiet(),
        None,
        sink,
        stop_event=stop,
        sleep=lambda s: None,
        clock=lambda: datetime.fromtimestamp(next(ticks), UTC),
        checkpoint_every=10,
    )
    assert recorder.posts == []
    cursors = [c["state"]["cursor"] for c in recorder.checkpoints]
    assert len(cursors) == 3 and cursors == sorted(cursors)
    assert 5 <= cursors[1] - cursors[0] <= 15


def test_stream_posts_are_batched_until_the_source_is_drained(recorder) -> None:
    class Bursty:
        kind: ClassVar[str] = "bursty"
        source_id = "b"
        finite = True

        def stream(self, checkpoint: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
            for i in range(7):
                yield post(i), {"next": i + 1}
            yield None, {"next": 7}  # drained
            yield post(7), {"next": 8}
            raise SourceError("coupure")  # the buffered post must not wait for a reconnect

    batches: list[list[str]] = []

    def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
        batches.append([p.external_id for p in posts])
        recorder.sink(posts, checkpoint)

    stop = threading.Event()
    run_source(
        Bursty(),
        None,
        sink,
        stop_event=stop,
        sleep=lambda s: stop.set(),
        batch_max=3,
        batch_wait=60,
    )
    assert batches[:4] == [["0", "1", "2"], ["3", "4", "5"], ["6"], ["7"]]
    assert recorder.checkpoints[3]["state"] == {"next": 8}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=40),
    page=st.integers(min_value=1, max_value=7),
    kills=st.lists(st.integers(min_value=1, max_value=12), max_size=5),
    sink_failures=st.sets(st.integers(min_value=1, max_value=15), max_size=4),
)
def test_property_any_crash_schedule_delivers_each_post_exactly_once(
    n, page, kills, sink_failures
) -> None:
    """Kill the worker after any number of sink calls, make any sink call fail:
    every post still arrives exactly once, in order."""
    delivered: list[str] = []
    persisted: dict[str, Any] = {"checkpoint": None}
    calls = {"n": 0}

    def make_sink(kill_after: int | None, stop: threading.Event) -> Any:
        done_here = {"n": 0}

        def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
            calls["n"] += 1
            if calls["n"] in sink_failures:
                raise OSError("base indisponible")
            delivered.extend(p.external_id for p in posts)
            persisted["checkpoint"] = json.loads(json.dumps(checkpoint))
            done_here["n"] += 1
            if kill_after is not None and done_here["n"] >= kill_after:
                stop.set()  # the worker dies right after this commit

        return sink

    for kill_after in [*kills, None]:
        stop = threading.Event()
        run_source(
            ListPoller(n, page=page),
            persisted["checkpoint"],
            make_sink(kill_after, stop),
            stop_event=stop,
            sleep=lambda s: None,
            seen_window=50,
        )
    assert delivered == [str(i) for i in range(n)]


def test_stream_reports_progress_periodically(recorder) -> None:
    class Steady:
        kind: ClassVar[str] = "steady"
        source_id = "s"
        finite = True

        def stream(self, checkpoint: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
            for i in range(20):
                yield post(i), {"next": i + 1}
                yield None, {"next": i + 1}

    ticks = iter(range(10_000))
    run_source(
        Steady(),
        None,
        recorder.sink,
        stop_event=threading.Event(),
        clock=lambda: datetime.fromtimestamp(next(ticks), UTC),
        status_every=10,
        on_status=recorder.status,
    )
    progress = [s for s in recorder.statuses if s.message.startswith("En écoute")]
    assert 2 <= len(progress) <= 20
    counts = [s.posts for s in progress]
    assert (
        counts == sorted(counts)
        and progress[-1].message
        == f"En écoute : {counts[-1]} messages reçus depuis le démarrage du worker."
    )
    assert recorder.statuses[-1].state == "done" and recorder.statuses[-1].posts == 20


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=30),
    drops=st.lists(st.integers(min_value=0, max_value=8), max_size=6),
    kills=st.lists(st.integers(min_value=1, max_value=10), max_size=3),
    batch_max=st.integers(min_value=1, max_value=5),
)
def test_property_streams_survive_drops_and_restarts_exactly_once(
    n, drops, kills, batch_max
) -> None:
    """A stream that drops after any number of items, resumes inclusively (the
    last item comes again, like Jetstream's cursor), and a worker killed at
    any commit: each post still arrives once, in order."""
    schedule = list(drops)

    class Cursor:
        kind: ClassVar[str] = "cursor"
        source_id = "c"
        finite = True

        def stream(self, checkpoint: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
            start = max(0, checkpoint.get("next", 0) - 1)  # inclusive resume
            drop_after = schedule.pop(0) if schedule else None
            yield None, checkpoint
            for sent, i in enumerate(range(start, n)):
                if drop_after is not None and sent == drop_after:
                    raise SourceError("coupure")
                yield post(i), {"next": i + 1}
                if i % 3 == 0:
                    yield None, {"next": i + 1}

    delivered: list[str] = []
    persisted: dict[str, Any] = {"checkpoint": None}

    def make_sink(kill_after: int | None, stop: threading.Event) -> Any:
        commits = {"n": 0}

        def sink(posts: list[RawPost], checkpoint: dict[str, Any]) -> None:
            delivered.extend(p.external_id for p in posts)
            persisted["checkpoint"] = json.loads(json.dumps(checkpoint))
            commits["n"] += 1
            if kill_after is not None and commits["n"] >= kill_after:
                stop.set()

        return sink

    for kill_after in [*kills, None]:
        stop = threading.Event()
        run_source(
            Cursor(),
            persisted["checkpoint"],
            make_sink(kill_after, stop),
            stop_event=stop,
            sleep=lambda s: None,
            batch_max=batch_max,
            batch_wait=60,
        )
    assert delivered == [str(i) for i in range(n)]
