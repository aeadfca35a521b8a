from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from beffroi.watch.sources.base import ConfigError, RawPost
from beffroi.watch.sources.replay import ReplayConfig, ReplaySource
from beffroi.watch.sources.runner import run_source

START = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CRISISLEX = Path(__file__).resolve().parents[3].parent / "shared/data/crisislex/CrisisLexT26"


class FakeClock:
    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def dataset(tmp_path: Path, offsets: list[int]) -> Path:
    """Posts at the given dataset offsets (seconds), written out of order."""
    base = datetime(2013, 6, 20, tzinfo=UTC)
    path = tmp_path / "d.jsonl"
    rows = [
        {
            "id": f"p{o}",
            "text": f"post {o}",
            "created_at": (base + timedelta(seconds=o)).isoformat(),
        }
        for o in offsets
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in reversed(rows)) + "{broken\n")
    return path


def arrivals(recorder) -> list[float]:
    return [(p.created_at - START).total_seconds() for p in recorder.posts]


def test_replay_keeps_original_rhythm_times_speed(tmp_path, pseudonymise, recorder) -> None:
    clock = FakeClock()
    path = dataset(tmp_path, [0, 60, 120, 3600])
    source = ReplaySource(
        "demo",
        ReplayConfig(str(path), speed=60),
        pseudonymise=pseudonymise,
        clock=clock,
        sleep=clock.sleep,
    )
    final = run_source(
        source,
        None,
        recorder.sink,
        stop_event=threading.Event(),
        sleep=clock.sleep,
        clock=clock,
        on_status=recorder.status,
        on_skip=recorder.skip,
    )
    assert recorder.ids == ["p0", "p60", "p120", "p3600"]
    assert arrivals(recorder) == [0, 1, 2, 60]
    # Each post was emitted when the fake clock reached its due time.
    assert sum(clock.slept) == pytest.approx(60)
    assert recorder.posts[1].raw["original_created_at"] == "2013-06-20T00:01:00+00:00"
    assert [s.where for s in recorder.skips] == ["ligne 5"]
    assert final["state"] == {"index": 4} and recorder.statuses[-1].state == "done"


def test_replay_caps_gaps_and_can_keep_original_dates(tmp_path, pseudonymise, recorder) -> None:
    clock = FakeClock()
    path = dataset(tmp_path, [0, 10, 86400])
    config = ReplayConfig(str(path), speed=10, max_gap=600, shift_to_now=False)
    source = ReplaySource("demo", config, pseudonymise=pseudonymise, clock=clock, sleep=clock.sleep)
    run_source(source, None, recorder.sink, stop_event=threading.Event(), sleep=clock.sleep)
    assert sum(clock.slept) == pytest.approx((10 + 600) / 10)
    assert recorder.posts[2].created_at == datetime(2013, 6, 21, tzinfo=UTC)


def test_stop_midway_then_resume(tmp_path, pseudonymise, recorder) -> None:
    clock = FakeClock()
    path = dataset(tmp_path, [0, 100, 200, 300, 400])
    stop = threading.Event()

    def sink(posts: list[RawPost], checkpoint) -> None:
        recorder.sink(posts, checkpoint)
        if len(recorder.posts) == 2:
            stop.set()

    def make() -> ReplaySource:
        return ReplaySource(
            "demo",
            ReplayConfig(str(path), speed=100),
            pseudonymise=pseudonymise,
            clock=clock,
            sleep=clock.sleep,
        )

    run_source(make(), None, sink, stop_event=stop, sleep=clock.sleep)
    assert recorder.ids == ["p0", "p100"]
    run_source(
        make(),
        recorder.checkpoints[-1],
        recorder.sink,
        stop_event=threading.Event(),
        sleep=clock.sleep,
    )
    assert recorder.ids == ["p0", "p100", "p200", "p300", "p400"]


def test_stop_is_seen_during_a_long_wait(tmp_path, pseudonymise, recorder) -> None:
    clock = FakeClock()
    path = dataset(tmp_path, [0, 10_000])
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now - START > timedelta(seconds=5):
            stop.set()

    source = ReplaySource(
        "demo",
        ReplayConfig(str(path), speed=1),
        pseudonymise=pseudonymise,
        clock=clock,
        sleep=sleep,
    )
    run_source(source, None, recorder.sink, stop_event=stop, sleep=sleep, on_status=recorder.status)
    assert recorder.ids == ["p0"]
    assert recorder.statuses[-1].state == "stopped"
    assert (clock.now - START).total_seconds() < 7


def test_config_form(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        ReplayConfig.from_form({"path": str(tmp_path / "x.csv"), "speed": "0"})
    assert "au moins 0.01" in err.value.errors["speed"]
    path = dataset(tmp_path, [0])
    config = ReplayConfig.from_form({"path": str(path), "speed": "60", "max_gap": "600"})
    assert config.speed == 60 and config.max_gap == 600 and config.shift_to_now


def test_replay_of_a_real_crisislex_flood(pseudonymise) -> None:
    path = CRISISLEX / "2013_Alberta_floods/2013_Alberta_floods-tweets_labeled.csv"
    if not path.is_file():
        pytest.skip("shared CrisisLexT26 data not present next to the checkout")
    clock = FakeClock()
    source = ReplaySource(
        "demo",
        ReplayConfig(str(path), speed=60, max_gap=3600),
        pseudonymise=pseudonymise,
        clock=clock,
        sleep=clock.sleep,
    )
    posts = [item for item, _ in source.stream({}) if isinstance(item, RawPost)]
    assert len(posts) == 1000
    created = [p.created_at for p in posts]
    assert created == sorted(created)


def test_a_file_gone_missing_is_reported_not_raised(tmp_path, pseudonymise, recorder) -> None:
    path = dataset(tmp_path, [0])
    source = ReplaySource("demo", ReplayConfig(str(path)), pseudonymise=pseudonymise)
    path.unlink()
    run_source(source, None, recorder.sink, stop_event=threading.Event(), on_status=recorder.status)
    assert recorder.statuses[-1].state == "failed"
    assert recorder.statuses[-1].message.startswith("Fichier introuvable")
