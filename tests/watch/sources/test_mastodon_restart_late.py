"""Statuses the instance shows through REST with an id older than the last one the
worker saw, found again after a restart.

Mastodon numbers a status when it stores it, and a remote status by its publication
time (``Mastodon::Snowflake`` for a ``created_at`` in the past). So the REST catch-up
from the last id seen (``min_id``) misses:

- a status its streaming server sent after a newer one (two posts distributed by
  separate jobs), with the worker stopped in between;
- a remote status federated late, stored while the worker was stopped;
- after a coverage gap (fill pages 0), the status the source resumed from, posted after
  the streams opened, when the worker stopped before the stream sent it.

Each "life" runs the real runner over the real source against the loopback instance,
commits batches as the worker's sink does, and stops once a chosen status is committed;
the next life starts from the last committed checkpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import CoverageGap, RawPost
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.runner import Backoff, start_source_thread

TAG = "tag:inondation"

Batch = tuple[list[Any], dict[str, Any]]


def life(
    fake: Any,
    pseudonymise: Any,
    checkpoint: dict[str, Any] | None,
    *,
    stop_at: str,
    until: Callable[..., None],
    live: list[dict[str, Any]] = (),  # type: ignore[assignment]
    rest_only: list[dict[str, Any]] = (),  # type: ignore[assignment]
    **options: Any,
) -> list[Batch]:
    """One run of the worker, stopped once status ``stop_at`` is committed. Once the
    stream is open, ``rest_only`` statuses are stored (the REST API serves them, the
    stream has not sent them yet) and ``live`` ones stored and streamed."""
    committed: list[Batch] = []
    stop = threading.Event()

    def sink(items: list[Any], state: dict[str, Any]) -> None:
        committed.append((list(items), state))
        if any(getattr(i, "external_id", "") == stop_at for i in items):
            stop.set()

    config = MastodonConfig(instance_url=fake.url, hashtags=("inondation",), timeout=5, **options)
    connections = fake.connections.get(TAG, 0)
    asked = len(fake.requests)
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        checkpoint,
        sink,
        stop_event=stop,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
        batch_max=10,
    )
    if live or rest_only:
        fake.wait_connections(TAG, connections + 1)
        # After the catch-up's first page was served: what follows is live.
        until(lambda: any("min_id" in r for r in fake.requests[asked:]))
        time.sleep(0.3)
        fake.timelines[TAG].extend(rest_only)
        for status in live:
            fake.timelines[TAG].append(status)
            fake.update(TAG, status)
    until(stop.is_set)
    thread.join(timeout=5)
    assert not thread.is_alive()
    return committed


def received(*lives: list[Batch]) -> list[str]:
    return [
        item.external_id
        for batches in lives
        for items, _ in batches
        for item in items
        if isinstance(item, RawPost)
    ]


def last_state(batches: list[Batch]) -> dict[str, Any]:
    return batches[-1][1]


def start(last_id: int, ids: range | list[int]) -> dict[str, Any]:
    """A checkpoint after statuses ``ids`` were received, ``last_id`` the newest."""
    return {"v": 1, "state": {"last_ids": {TAG: str(last_id)}}, "seen": [str(i) for i in ids]}


def test_a_status_streamed_after_a_newer_one_is_not_lost_across_a_restart(
    fake_mastodon, pseudonymise, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 6)]
    # 6 and 7 are posted; the streaming server sends 7 first, and the worker is
    # stopped once 7 is committed, before 6 comes.
    first = life(
        fake_mastodon,
        pseudonymise,
        start(5, range(1, 6)),
        stop_at="7",
        until=until,
        rest_only=[status(6)],
        live=[status(7)],
    )
    assert last_state(first)["state"]["last_ids"][TAG] == "7"
    second = life(
        fake_mastodon,
        pseudonymise,
        last_state(first),
        stop_at="8",
        until=until,
        live=[status(8)],
    )
    assert sorted(received(first, second), key=int) == ["6", "7", "8"]


def test_a_status_federated_late_is_found_within_the_lookback_window(
    fake_mastodon, pseudonymise, status, until
) -> None:
    # A remote status's id is its publication time: one published a minute before
    # the last status seen, stored while the worker was stopped, gets an older id.
    ids = [i for i in range(2000, 2011) if i != 1940]
    fake_mastodon.timelines[TAG] = [status(i) for i in ids]
    fake_mastodon.timelines[TAG].append(status(1940, "Publié avant, reçu tard"))
    # Published 20 minutes before: past the window of 15, left for good (the bound).
    fake_mastodon.timelines[TAG].append(status(800, "Reçu bien trop tard"))
    fake_mastodon.requests.clear()
    batches = life(
        fake_mastodon,
        pseudonymise,
        start(2010, ids),
        stop_at="2011",
        until=until,
        live=[status(2011)],
    )
    assert received(batches) == ["1940", "2011"]
    # The lookback asked back from the last id, one page: the window ended in it.
    back = [r for r in fake_mastodon.requests if "max_id" in r]
    assert len(back) == 1 and "max_id=2010" in back[0]


def test_the_lookback_reads_at_most_its_pages(fake_mastodon, pseudonymise, status, until) -> None:
    # 400 statuses in the minute before the last one: 10 pages of 40. The lookback
    # stops after its 5 pages, whatever the window would allow.
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 402)]
    fake_mastodon.requests.clear()
    life(
        fake_mastodon,
        pseudonymise,
        start(401, range(1, 402)),
        stop_at="402",
        until=until,
        live=[status(402)],
    )
    assert sum("max_id" in r for r in fake_mastodon.requests) == 5


def test_no_lookback_when_the_window_is_zero(fake_mastodon, pseudonymise, status, until) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in (1, 2, 4)]
    fake_mastodon.timelines[TAG].append(status(3))
    fake_mastodon.requests.clear()
    batches = life(
        fake_mastodon,
        pseudonymise,
        start(4, [1, 2, 4]),
        stop_at="5",
        until=until,
        live=[status(5)],
        lookback_minutes=0,
    )
    assert received(batches) == ["5"]
    assert not any("max_id" in r for r in fake_mastodon.requests)


def now_status(status: Callable[..., dict[str, Any]], status_id: int) -> dict[str, Any]:
    """A status posted now (the gap's end is the moment the streams opened)."""
    moment = datetime.now(UTC) + timedelta(seconds=1)
    return status(status_id, created_at=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def test_after_a_gap_without_fill_the_status_resumed_from_is_not_lost(
    fake_mastodon, pseudonymise, status, until
) -> None:
    """Fill pages 0: the span lost stays lost, but a status posted after the streams
    opened, which the REST API served as the newest before the stream sent it, is
    received even though the worker stopped right after the gap was committed."""
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    posted: list[str] = []

    def post_once(key: str, query: dict[str, str]) -> int:
        # The first catch-up request comes once the stream is open: 1001 is posted
        # then, and its stream event is never sent in this life.
        if not posted:
            posted.append("1001")
            fake_mastodon.timelines[TAG].append(now_status(status, 1001))
        return 0

    fake_mastodon.timeline_error = post_once
    options = {"catch_up_pages": 2, "fill_pages": 0}
    first: list[Batch] = []
    stop = threading.Event()

    def sink(items: list[Any], state: dict[str, Any]) -> None:
        first.append((list(items), state))
        if any(isinstance(i, CoverageGap) for i in items):
            stop.set()

    config = MastodonConfig(
        instance_url=fake_mastodon.url, hashtags=("inondation",), timeout=5, **options
    )
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        start(1, [1]),
        sink,
        stop_event=stop,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
        batch_max=10,
    )
    until(stop.is_set)
    thread.join(timeout=5)
    assert last_state(first)["state"]["last_ids"][TAG] == "1001"
    second = life(
        fake_mastodon,
        pseudonymise,
        last_state(first),
        stop_at="1002",
        until=until,
        live=[now_status(status, 1002)],
        **options,
    )
    got = received(first, second)
    assert len(got) == len(set(got))
    # 2 to 81 caught up, 82 to 300 the journaled gap, 1001 and 1002 after it.
    assert sorted(got, key=int) == [str(i) for i in range(2, 82)] + ["1001", "1002"]
    gaps = [i for batches in (first, second) for items, _ in batches for i in items]
    assert sum(isinstance(i, CoverageGap) for i in gaps) == 1


def test_the_lookback_window_is_a_form_field() -> None:
    from beffroi.watch.sources.base import ConfigError

    url = {"instance_url": "https://piaille.fr", "hashtags": "crue"}
    assert MastodonConfig.from_form(url).lookback_minutes == 15
    assert MastodonConfig.from_form({**url, "lookback_minutes": "0"}).lookback_minutes == 0
    for value, message in (("-1", "Doit être au moins 0 min."), ("1441", "au plus 1440 min.")):
        try:
            MastodonConfig.from_form({**url, "lookback_minutes": value})
        except ConfigError as exc:
            assert message in exc.errors["lookback_minutes"]
        else:
            raise AssertionError(f"{value} accepted")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    horizons=JSON
    | st.dictionaries(
        st.sampled_from([TAG, "public", "tag:autre"]),
        JSON | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    )
)
def test_any_horizons_in_a_checkpoint_are_read_or_dropped(horizons: Any) -> None:
    from beffroi.watch.sources.mastodon import _Connection

    config = MastodonConfig(instance_url="https://piaille.fr", hashtags=("inondation",))
    conn = _Connection.load({"last_ids": {TAG: "5"}, "horizons": horizons}, config)
    kept = conn.state().get("horizons", {})
    assert set(kept) <= {TAG}
    for value in kept.values():
        assert datetime.fromisoformat(value).tzinfo is not None


def test_statuses_read_again_are_not_stored_twice(
    fake_mastodon, pseudonymise, status, until, source_room
) -> None:
    """Past the runner's window of delivered ids (here: none kept), the statuses the
    lookback reads again reach the ingest door, which stores each once; the late one
    is the only new post."""
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    _, source = source_room("mastodon")
    ids = [i for i in range(1, 11) if i != 7]
    fake_mastodon.timelines[TAG] = [status(i) for i in ids]

    def commit(batches: list[Batch]) -> list[int]:
        return [actions.receive_items(source.pk, items, state).new for items, state in batches]

    commit(life(fake_mastodon, pseudonymise, start(0, []), stop_at="10", until=until))
    assert Post.objects.filter(source=source).count() == 9
    fake_mastodon.timelines[TAG].append(status(7, "Arrivé en retard"))
    source.refresh_from_db()
    checkpoint = {**source.checkpoint, "seen": []}
    new = commit(
        life(fake_mastodon, pseudonymise, checkpoint, stop_at="11", until=until, live=[status(11)])
    )
    assert sum(new) == 2  # 7 and 11
    stored = sorted(Post.objects.filter(source=source).values_list("external_id", flat=True))
    assert sorted(stored, key=int) == [str(i) for i in range(1, 12)]
