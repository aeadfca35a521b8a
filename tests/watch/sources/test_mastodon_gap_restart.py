"""A worker restarted around a Mastodon coverage gap: one gap per lost span, and no
span called lost whose posts were in fact received.

Each "life" of the worker runs the real runner over the real source against the
loopback instance, commits batches as the worker's sink does (posts, gaps and the
checkpoint together), and is stopped at a chosen moment: mid catch-up, right after
the commit that carries the gap, or killed while that commit was being written. The
next life starts from the last committed checkpoint, as the worker does."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from beffroi.watch.sources.base import CoverageGap, RawPost
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.runner import Backoff, start_source_thread

TAG = "tag:inondation"

Batch = tuple[list[Any], dict[str, Any]]


class Killed(Exception):
    """The worker died while a commit was being written: that commit never happened."""


def life(
    fake: Any,
    pseudonymise: Any,
    checkpoint: dict[str, Any] | None,
    *,
    last_batch: Callable[[list[Any]], bool],
    killed: bool = False,
    live: dict[str, Any] | None = None,
    until: Callable[..., None],
) -> list[Batch]:
    """One run of the worker, stopped once ``last_batch`` accepts everything committed
    so far (or, ``killed``, when the batch that would make it so fails to commit);
    ``live``: a status posted once the stream is open. Returns the committed batches,
    in order."""
    committed: list[Batch] = []
    stop = threading.Event()

    def sink(items: list[Any], state: dict[str, Any]) -> None:
        if last_batch(items_of([*committed, (items, state)])):
            stop.set()
            if killed:
                raise Killed
        committed.append((list(items), state))

    config = MastodonConfig(
        instance_url=fake.url, hashtags=("inondation",), timeout=5, catch_up_pages=2
    )
    connections = fake.connections.get(TAG, 0)
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        checkpoint,
        sink,
        stop_event=stop,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
        batch_max=10,
    )
    if live is not None:
        fake.wait_connections(TAG, connections + 1)
        fake.timelines[TAG].append(live)
        fake.update(TAG, live)
    until(stop.is_set)
    thread.join(timeout=5)
    assert not thread.is_alive()
    return committed


def items_of(*lives: list[Batch]) -> list[Any]:
    return [item for batches in lives for items, _ in batches for item in items]


def with_post(items: list[Any]) -> bool:
    return any(isinstance(i, RawPost) for i in items)


def with_gap(items: list[Any]) -> bool:
    return any(isinstance(i, CoverageGap) for i in items)


def created(status: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(status["created_at"].replace("Z", "+00:00"))


def check_coverage(timeline: list[dict[str, Any]], items: list[Any]) -> None:
    """Every status is received once or lies in a journaled gap, never both."""
    received = [i.external_id for i in items if isinstance(i, RawPost)]
    assert len(received) == len(set(received)), "a status received twice"
    gaps = [i for i in items if isinstance(i, CoverageGap)]
    assert len(gaps) == 1, f"one outage, {len(gaps)} gaps journaled"
    (gap,) = gaps
    assert gap.start is not None
    for status in timeline:
        inside = gap.start < created(status) < gap.end
        if status["id"] in received:
            assert not inside, f"status {status['id']} received yet reported lost"
        else:
            assert inside, f"status {status['id']} neither received nor in the gap"


def stopped_after_live(live: dict[str, Any], *, gap: bool) -> Callable[[list[Any]], bool]:
    """Stop once the live status is committed, and the gap this life must report."""
    return lambda items: (
        any(getattr(i, "external_id", "") == live["id"] for i in items)
        and (not gap or with_gap(items))
    )


@pytest.mark.parametrize(
    ("moment", "killed", "gap_after_restart"),
    [(with_post, False, True), (with_gap, False, False), (with_gap, True, True)],
    ids=["mid-catch-up", "right-after-the-gap", "killed-while-committing-the-gap"],
)
def test_a_restart_around_the_gap_reports_the_lost_span_once(
    fake_mastodon, pseudonymise, status, until, moment, killed, gap_after_restart
) -> None:
    # 300 statuses since the checkpoint; two pages of 40 per connection.
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    start = {"v": 1, "state": {"last_ids": {TAG: "1"}}, "seen": []}
    first = life(fake_mastodon, pseudonymise, start, last_batch=moment, killed=killed, until=until)
    checkpoint = first[-1][1] if first else start
    live = status(1001, "En direct")
    second = life(
        fake_mastodon,
        pseudonymise,
        checkpoint,
        last_batch=stopped_after_live(live, gap=gap_after_restart),
        live=live,
        until=until,
    )
    # Status 1 was received before the outage; 1001 is the live one.
    check_coverage(fake_mastodon.timelines[TAG][1:-1], items_of(first, second))
    assert live["id"] in {getattr(i, "external_id", "") for i in items_of(second)}


def test_a_quiet_stream_restarted_after_its_gap_does_not_fetch_the_lost_span_again(
    fake_mastodon, pseudonymise, status, until
) -> None:
    """No live post came to move the checkpoint past the gap before the restart."""
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    start = {"v": 1, "state": {"last_ids": {TAG: "1"}}, "seen": []}
    first = life(fake_mastodon, pseudonymise, start, last_batch=with_gap, until=until)
    fake_mastodon.requests.clear()
    live = status(1001)
    second = life(
        fake_mastodon,
        pseudonymise,
        first[-1][1],
        last_batch=stopped_after_live(live, gap=False),
        until=until,
        live=live,
    )
    assert [i.external_id for i in items_of(second)] == ["1001"]
    # The catch-up of the second life starts where the gap ended, not inside it.
    assert not any("min_id=81" in r for r in fake_mastodon.requests)


def test_the_gap_is_journaled_once_across_a_restart(
    fake_mastodon, pseudonymise, status, until, source_room
) -> None:
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source

    _, source = source_room("mastodon")
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    source.checkpoint = {"v": 1, "state": {"last_ids": {TAG: "1"}}, "seen": []}
    source.save()

    def commit(batches: list[Batch]) -> None:
        # The worker's sink, one transaction per batch, in the order they came.
        for items, state in batches:
            actions.receive_items(source.pk, items, state)

    commit(life(fake_mastodon, pseudonymise, source.checkpoint, last_batch=with_gap, until=until))
    source.refresh_from_db()
    live = status(1001)
    commit(
        life(
            fake_mastodon,
            pseudonymise,
            source.checkpoint,
            last_batch=stopped_after_live(live, gap=False),
            live=live,
            until=until,
        )
    )
    assert JournalEntry.objects.filter(action="watch.source.gap").count() == 1
    # 2 to 81 caught up, 1001 live; 82 to 300 are the journaled gap.
    assert Post.objects.filter(source=source).count() == 81
    assert Source.objects.get(pk=source.pk).checkpoint["state"]["last_ids"][TAG] == "1001"
