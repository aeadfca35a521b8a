"""A Mastodon coverage gap fetched afterwards, in the background.

The catch-up stops after ``catch_up_pages`` pages and the span beyond is journaled
lost (``test_mastodon_gap.py``); the instance usually still holds it, so the source
pages over it later (``fill_pages`` per cycle), through the same sink as live posts,
and journals once that the gap was filled, or that the instance no longer serves it.

Each "life" of the worker runs the real runner over the real source against the
loopback instance and commits every batch through the worker's sink
(``actions.receive_items``: posts, gaps and checkpoint in one transaction); the next
life starts from the checkpoint the database holds, as a restarted worker does."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.watch.sources.base import CoverageGap, GapFilled, RawPost
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource, _pending_fill
from beffroi.watch.sources.runner import Backoff, start_source_thread
from english_catalogue import english

TAG = "tag:inondation"


def life(
    fake: Any,
    pseudonymise: Any,
    source: Any,
    until: Callable[..., None],
    *,
    stop_when: Callable[[list[Any]], bool],
    live: dict[str, Any] | None = None,
    pushed: tuple[dict[str, Any], ...] = (),
    **config: Any,
) -> list[Any]:
    """One run of the worker from the source's stored checkpoint, stopped once
    ``stop_when`` accepts what this life handed over (``live`` is posted then streamed,
    ``pushed`` only streamed: statuses the timeline already holds); then each batch goes through the
    worker's sink in order, one transaction each (in this thread: the test database's
    transaction is not shared with the runner's). Returns the items committed."""
    from beffroi.watch import actions

    source.refresh_from_db()
    batches: list[tuple[list[Any], dict[str, Any]]] = []
    stop = threading.Event()

    def sink(items: list[Any], state: dict[str, Any]) -> None:
        batches.append((list(items), state))
        if stop_when([i for b, _ in batches for i in b]):
            stop.set()

    settings = {
        "hashtags": ("inondation",),
        "catch_up_pages": 2,
        "fill_pages": 2,
        "fill_interval": 0.0,
        **config,
    }
    mastodon = MastodonConfig(instance_url=fake.url, timeout=5, **settings)
    connections = fake.connections.get(TAG, 0)
    thread = start_source_thread(
        MastodonSource("masto", mastodon, pseudonymise=pseudonymise, idle_tick=0.05),
        source.checkpoint or None,
        sink,
        stop_event=stop,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
        batch_max=10,
    )
    if live is not None or pushed:
        fake.wait_connections(TAG, connections + 1)
    if live is not None:
        fake.timelines[TAG].append(live)
        fake.update(TAG, live)
    for status in pushed:
        fake.update(TAG, status)
    until(stop.is_set)
    thread.join(timeout=5)
    assert not thread.is_alive()
    for items, state in batches:
        actions.receive_items(source.pk, items, state)
    source.refresh_from_db()
    return [i for items, _ in batches for i in items]


def posts(items: list[Any]) -> list[str]:
    return [i.external_id for i in items if isinstance(i, RawPost)]


def of(kind: type, items: list[Any]) -> list[Any]:
    return [i for i in items if isinstance(i, kind)]


def save_checkpoint(source: Any, last_id: str) -> None:
    source.checkpoint = {"v": 1, "state": {"last_ids": {TAG: last_id}}, "seen": []}
    source.save()


def gap_line(client: Any, org: Any, activation: Any, language: str) -> str:
    from django.urls import reverse

    url = reverse("watch-sources-status", args=[org.slug, activation.pk])
    return str(client.get(url, HTTP_ACCEPT_LANGUAGE=language).json()["sources"][0]["gap"])


def gap_lines(client: Any, coordinator: Any, org: Any, activation: Any) -> tuple[str, str]:
    """The source's gap line as the coordinator reads it, in French then in English."""
    client.force_login(coordinator)
    french = gap_line(client, org, activation, "fr")
    with english():
        return french, gap_line(client, org, activation, "en")


@pytest.fixture
def lives(fake_mastodon: Any, pseudonymise: Any, until: Any) -> Callable[..., list[Any]]:
    """``life`` against the loopback instance: ``lives(source, stop_when=…, **config)``."""
    return functools.partial(life, fake_mastodon, pseudonymise, until=until)


def test_a_gap_is_filled_once_across_restarts_with_every_status_received_once(
    lives, fake_mastodon, pseudonymise, status, until, source_room, client, members, org
) -> None:
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Post

    activation, source = source_room("mastodon")
    # 300 statuses since the checkpoint; the catch-up fetches 2 pages of 40 (2 to 81).
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    save_checkpoint(source, "1")

    # Life 1: the gap is committed, then stopped once the first filled page is.
    first = lives(
        source,
        stop_when=lambda items: any(int(i) > 81 for i in posts(items)),
    )
    assert len(of(CoverageGap, first)) == 1
    assert not of(GapFilled, first)
    source.refresh_from_db()
    (fill,) = source.checkpoint["state"]["fills"]
    assert fill["until"] == "300" and int(fill["after"]) > 81

    # Life 2 (a restart): goes on from the committed page, to the end of the span.
    second = lives(source, stop_when=lambda items: of(GapFilled, items))
    assert not of(CoverageGap, second)
    (filled,) = of(GapFilled, second)
    assert filled.served and filled.skipped == 0
    assert filled.returned == 219  # 82 to 300, counted across both lives
    (gap,) = of(CoverageGap, first)
    assert (filled.where, filled.end, filled.start) == (gap.where, gap.end, gap.start)
    # Pages of 40 from the committed cursor, each fetched once in this life.
    pages = [r for r in fake_mastodon.requests if "limit=40" in r and "min_id=" in r]
    assert len(pages) == len(set(pages))

    # Life 3: one live post, and nothing of the span again.
    fake_mastodon.requests.clear()
    live = status(1001, "En direct")
    third = lives(
        source,
        stop_when=lambda items: "1001" in posts(items),
        live=live,
    )
    assert posts(third) == ["1001"]
    assert not of(GapFilled, third) and not of(CoverageGap, third)
    assert "fills" not in source.__class__.objects.get(pk=source.pk).checkpoint["state"]

    # Every status received once, through the same door as live posts.
    received = posts(first) + posts(second) + posts(third)
    assert sorted(set(received), key=int) == [str(i) for i in range(2, 301)] + ["1001"]
    stored = Post.objects.filter(source=source).values_list("external_id", flat=True)
    assert sorted(stored, key=int) == [str(i) for i in range(2, 301)] + ["1001"]
    # Journaled once each: the gap, and its filling.
    assert JournalEntry.objects.filter(action="watch.source.gap").count() == 1
    entry = JournalEntry.objects.get(action="watch.source.gap.filled")
    assert entry.subject == f"source:{source.pk}"
    assert entry.data["received"] == entry.data["returned"] == 219
    assert entry.data["served"] is True and entry.data["outcome"] == "filled"
    assert entry.data["where"] == TAG

    french, said = gap_lines(client, members["coordinator"], org, activation)
    # 03:01:21 UTC (status 81, the last fetched) is 04:01 in Paris.
    assert french.startswith("Trou de couverture comblé après coup : 219 messages du 23/11/2026")
    assert french.endswith(" récupérés.")
    assert said.startswith("Coverage gap filled afterwards: 219 posts from ")
    assert said.endswith(" retrieved.")


def test_a_gap_the_instance_no_longer_serves_is_journaled_so(
    lives, fake_mastodon, pseudonymise, status, until, source_room, client, members, org
) -> None:
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Post

    activation, source = source_room("mastodon")
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    save_checkpoint(source, "1")
    # No fill in this life: the first cycle is an hour away.
    lives(
        source,
        stop_when=lambda items: bool(of(CoverageGap, items)),
        fill_interval=3600.0,
    )
    # Then the instance drops the span (its author deleted them, the admin purged
    # remote statuses…); a newer status is still there.
    fake_mastodon.timelines[TAG] = [
        s for s in fake_mastodon.timelines[TAG] if not 81 < int(s["id"]) <= 300
    ] + [status(400)]
    second = lives(source, stop_when=lambda items: of(GapFilled, items))
    (filled,) = of(GapFilled, second)
    assert not filled.served and filled.returned == 0
    # 400 lies past the span: the catch-up brings it, the fill leaves it.
    assert posts(second) == ["400"]
    assert Post.objects.filter(source=source).count() == 81
    entry = JournalEntry.objects.get(action="watch.source.gap.filled")
    assert entry.data["served"] is False
    french, said = gap_lines(client, members["coordinator"], org, activation)
    assert french.startswith("Trou de couverture : messages du 23/11/2026 04:01 au ")
    assert french.endswith(
        " non reçus, que l'instance ne sert plus "
        "(Rattrapage limité à 80 messages sur le fil #inondation)."
    )
    assert said.endswith(
        " not received, which the instance no longer serves "
        "(Catch-up limited to 80 posts on the #inondation feed)."
    )


class RefusingApi:
    """Mastodon.py's client as the fill sees it when the instance refuses a timeline
    (what ``api.timeline_hashtag`` raises on a 4xx or 5xx answer)."""

    ratelimit_remaining, ratelimit_limit, ratelimit_reset = 300, 300, 0.0

    def __init__(self, code: int) -> None:
        self.code = code
        self.calls = 0

    def timeline_hashtag(self, tag: str, **params: Any) -> list[Any]:
        from mastodon.errors import MastodonAPIError, MastodonInternalServerError

        self.calls += 1
        kind = MastodonInternalServerError if self.code >= 500 else MastodonAPIError
        raise kind("Mastodon API returned error", self.code, "Refused", "Not allowed")


def step(source: Any, api: Any, fills: list[Any]) -> tuple[list[Any], float | None]:
    """One fill step run to its end: the items, and the wait it asks for."""
    steps = source._fill_step(api, fills)
    items = []
    while True:
        try:
            items.append(next(steps))
        except StopIteration as end:
            return items, end.value


def test_a_timeline_refused_for_good_ends_the_fill_a_server_error_does_not(
    pseudonymise,
) -> None:
    config = MastodonConfig(instance_url="https://mastodon.invalid", hashtags=("inondation",))
    source = MastodonSource("masto", config, pseudonymise=pseudonymise)
    fill = {
        "where": TAG,
        "after": "81",
        "until": "300",
        "start": "2026-11-23T03:01:21+00:00",
        "end": "2026-11-23T21:00:00+00:00",
        "returned": 40,
        "skipped": 0,
        "failures": 0,
    }
    fills = [dict(fill)]
    # A 503: the next cycle asks again; the span stays where it was, one failure on.
    assert step(source, RefusingApi(503), fills) == ([], config.fill_interval)
    assert fills == [dict(fill, failures=1)]
    # Timelines shut to anonymous readers (422), a hashtag gone (404): for good.
    for code in (422, 404):
        fills = [dict(fill)]
        items, wait = step(source, RefusingApi(code), fills)
        assert wait is None
        (filled,) = items
        assert isinstance(filled, GapFilled) and not filled.served
        assert filled.returned == 40 and filled.where == TAG
        assert filled.detail.startswith("Erreur de l'instance mastodon.invalid") or (
            "introuvable" in filled.detail
        )
        assert fills == []


def test_the_fill_waits_while_the_instance_says_half_its_budget_is_spent(
    fake_mastodon, pseudonymise, status, until, recorder
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    reset = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake_mastodon.headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "120",
        "X-RateLimit-Reset": reset,
    }
    config = MastodonConfig(
        instance_url=fake_mastodon.url,
        hashtags=("inondation",),
        timeout=5,
        catch_up_pages=2,
        fill_pages=2,
        fill_interval=0.0,
    )
    stop = threading.Event()
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        {"v": 1, "state": {"last_ids": {TAG: "1"}}, "seen": []},
        recorder.sink,
        stop_event=stop,
        checkpoint_every=0,
    )
    until(lambda: any(isinstance(p, CoverageGap) for p in recorder.posts))
    fake_mastodon.wait_connections(TAG, 1)
    fake_mastodon.update(TAG, status(1001))
    # The fill's turn comes at the first idle moment after the gap, before the
    # generator reads the stream again: by the time 1001 is received, it has had it.
    until(lambda: "1001" in posts(recorder.posts))
    stop.set()
    thread.join(timeout=5)
    assert not any("min_id=81" in r and "limit=40" in r for r in fake_mastodon.requests)
    assert not of(GapFilled, recorder.posts)
    # The span stays to fetch once the window resets.
    assert recorder.checkpoints[-1]["state"]["fills"][0]["after"] == "81"


def test_a_live_post_waits_for_one_page_of_the_fill_at_most(
    fake_mastodon, pseudonymise, status, until, recorder
) -> None:
    # A span of 10 pages on a slow instance: the fill takes a while, page by page.
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 482)]
    config = MastodonConfig(
        instance_url=fake_mastodon.url,
        hashtags=("inondation",),
        timeout=5,
        catch_up_pages=2,
        fill_pages=100,
        fill_interval=0.0,
    )
    stop = threading.Event()
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        {"v": 1, "state": {"last_ids": {TAG: "1"}}, "seen": []},
        recorder.sink,
        stop_event=stop,
        checkpoint_every=0,
    )
    until(lambda: any(int(i) > 81 for i in posts(recorder.posts)))
    fake_mastodon.timeline_delay = 0.1
    with recorder.lock:
        before = len(recorder.posts)
    fake_mastodon.update(TAG, status(5000, "En direct"))
    until(lambda: bool(of(GapFilled, recorder.posts)), timeout=30)
    stop.set()
    thread.join(timeout=5)
    ids = [getattr(p, "external_id", "") for p in recorder.posts]
    live = ids.index("5000")
    # Between the push and the live post: the page in flight and the one being handed
    # over, never the rest of the span.
    assert live - before <= 2 * 40
    assert ids.count("5000") == 1
    (filled,) = of(GapFilled, recorder.posts)
    assert live < recorder.posts.index(filled)
    assert filled.returned == 481 - 81
    assert sorted(set(posts(recorder.posts)), key=int) == [
        *(str(i) for i in range(2, 482)),
        "5000",
    ]


class ThrottledApi(RefusingApi):
    """A 429: Mastodon.py has read the answer's reset time before raising."""

    def timeline_hashtag(self, tag: str, **params: Any) -> list[Any]:
        import time

        from mastodon.errors import MastodonRatelimitError

        self.calls += 1
        self.ratelimit_reset = time.time() + 600
        raise MastodonRatelimitError("Hit rate limit.")


def test_a_429_during_the_fill_waits_for_the_reset_and_keeps_the_span(pseudonymise) -> None:
    config = MastodonConfig(instance_url="https://mastodon.invalid", hashtags=("inondation",))
    source = MastodonSource("masto", config, pseudonymise=pseudonymise)
    fill = {"where": TAG, "after": "81", "until": "300", "end": "2026-11-23T21:00:00+00:00"}
    fills = [dict(fill, returned=0, skipped=0, failures=0)]
    api = ThrottledApi(429)
    items, wait = step(source, api, fills)
    assert items == [] and api.calls == 1
    assert wait is not None and 590 < wait <= 600
    # Asked to wait is no failure: the span is not nearer being given up.
    assert fills == [dict(fill, returned=0, skipped=0, failures=0)]


# -- spans that end without being filled (session 8) ------------------------------------


def committed_gap(fake: Any, pseudonymise: Any, status: Any, until: Any, source: Any) -> Any:
    """A life that journals the gap and puts its span in the checkpoint, without
    filling any of it (the first cycle is an hour away)."""
    fake.timelines[TAG] = [status(i) for i in range(1, 301)]
    save_checkpoint(source, "1")
    (gap,) = of(
        CoverageGap,
        life(
            fake,
            pseudonymise,
            source,
            until,
            stop_when=lambda items: bool(of(CoverageGap, items)),
            fill_interval=3600.0,
        ),
    )
    assert len(source.checkpoint["state"]["fills"]) == 1
    return gap


def fill_pages_asked(fake: Any) -> list[str]:
    return [r for r in fake.requests if "limit=40" in r and "min_id=81" in r]


def test_turning_filling_off_ends_the_pending_span_once_as_not_filled(
    lives, fake_mastodon, pseudonymise, status, until, source_room, client, members, org
) -> None:
    from beffroi.core.models import JournalEntry

    activation, source = source_room("mastodon")
    gap = committed_gap(fake_mastodon, pseudonymise, status, until, source)
    fake_mastodon.requests.clear()

    # The organiser sets the fill pages to 0: the span is said ended at the restart.
    second = lives(
        source,
        stop_when=lambda items: bool(of(GapFilled, items)),
        fill_pages=0,
    )
    (ended,) = of(GapFilled, second)
    assert (ended.outcome, ended.where, ended.end) == ("fill-off", TAG, gap.end)
    assert not ended.served and ended.returned == 0
    assert "fills" not in source.checkpoint["state"]
    assert not fill_pages_asked(fake_mastodon)

    # A third life has nothing more to say about it.
    third = lives(
        source,
        stop_when=lambda items: "1001" in posts(items),
        live=status(1001, "En direct"),
        fill_pages=0,
    )
    assert not of(GapFilled, third) and not of(CoverageGap, third)
    (entry,) = JournalEntry.objects.filter(action="watch.source.gap.filled")
    assert entry.data["outcome"] == "fill-off" and entry.data["served"] is False
    assert entry.data["received"] == 0

    french, said = gap_lines(client, members["coordinator"], org, activation)
    assert french.startswith("Trou de couverture : messages du 23/11/2026 04:01 au ")
    assert french.endswith(
        " non reçus ; la récupération après coup a été désactivée dans la source "
        "(Rattrapage limité à 80 messages sur le fil #inondation)."
    )
    assert said.endswith(
        " not received; fetching them afterwards was turned off in the source "
        "(Catch-up limited to 80 posts on the #inondation feed)."
    )


def test_a_span_of_a_hashtag_removed_from_the_form_is_ended_not_filled(
    lives, fake_mastodon, pseudonymise, status, until, source_room, client, members, org
) -> None:
    from beffroi.core.models import JournalEntry

    activation, source = source_room("mastodon")
    gap = committed_gap(fake_mastodon, pseudonymise, status, until, source)
    fake_mastodon.requests.clear()
    # #inondation is replaced by #crue in the source's form.
    fake_mastodon.timelines["tag:crue"] = [status(5000, "Crue")]
    second = lives(
        source,
        stop_when=lambda items: bool(of(GapFilled, items)),
        hashtags=("crue",),
    )
    (ended,) = of(GapFilled, second)
    assert (ended.outcome, ended.where, ended.end) == ("unwatched", TAG, gap.end)
    assert "fills" not in source.checkpoint["state"]
    assert not fill_pages_asked(fake_mastodon)
    assert not [r for r in fake_mastodon.requests if "/tag/inondation" in r]
    (entry,) = JournalEntry.objects.filter(action="watch.source.gap.filled")
    assert entry.data["outcome"] == "unwatched"

    french, said = gap_lines(client, members["coordinator"], org, activation)
    assert french.endswith(
        " non reçus ; ce fil n'est plus suivi par la source "
        "(Rattrapage limité à 80 messages sur le fil #inondation)."
    )
    assert said.endswith(
        " not received; the source no longer follows this feed "
        "(Catch-up limited to 80 posts on the #inondation feed)."
    )


def test_an_instance_failing_for_good_has_the_span_given_up_once_with_the_reason(
    lives, fake_mastodon, pseudonymise, status, until, source_room, client, members, org
) -> None:
    from beffroi.core.models import JournalEntry

    activation, source = source_room("mastodon")
    committed_gap(fake_mastodon, pseudonymise, status, until, source)
    fake_mastodon.requests.clear()
    # The span's pages answer 503 for ever; the live catch-up still works.
    fake_mastodon.timeline_error = lambda key, query: (
        503 if query.get("min_id") == "81" and query.get("limit") == "40" else 0
    )
    second = lives(
        source,
        stop_when=lambda items: bool(of(GapFilled, items)),
        fill_attempts=3,
    )
    (ended,) = of(GapFilled, second)
    assert ended.outcome == "abandoned" and ended.failures == 3
    assert "503" in ended.detail and "127.0.0.1" in ended.detail
    # One request per cycle, three cycles, then no more.
    assert len(fill_pages_asked(fake_mastodon)) == 3
    assert "fills" not in source.checkpoint["state"]
    (entry,) = JournalEntry.objects.filter(action="watch.source.gap.filled")
    assert entry.data["outcome"] == "abandoned" and entry.data["failures"] == 3
    assert "503" in entry.data["detail"]

    french, said = gap_lines(client, members["coordinator"], org, activation)
    assert french.endswith(
        " non reçus ; récupération après coup abandonnée après 3 échecs de suite de "
        "l'instance (Rattrapage limité à 80 messages sur le fil #inondation)."
    )
    assert said.endswith(
        " not received; fetching them afterwards was given up after 3 failures of the "
        "instance in a row (Catch-up limited to 80 posts on the #inondation feed)."
    )


class UnreachableApi(RefusingApi):
    """No answer in time: what Mastodon.py raises when the request times out."""

    def timeline_hashtag(self, tag: str, **params: Any) -> list[Any]:
        from mastodon.errors import MastodonNetworkError

        self.calls += 1
        raise MastodonNetworkError("Could not complete request: Read timed out.")


def test_failures_count_in_a_row_and_a_page_served_starts_the_count_again(
    pseudonymise, status
) -> None:
    config = MastodonConfig(
        instance_url="https://mastodon.invalid", hashtags=("inondation",), fill_attempts=3
    )
    source = MastodonSource("masto", config, pseudonymise=pseudonymise)
    fills = [
        {
            "where": TAG,
            "after": "81",
            "until": "300",
            "end": "2026-11-23T21:00:00+00:00",
            # As session 7 kept it: "received" for the statuses returned.
            "received": 40,
            "skipped": 0,
        }
    ]
    # Read as this version keeps it.
    fills = [f for f in map(_pending_fill, fills) if f is not None]
    assert fills[0]["returned"] == 40 and fills[0]["failures"] == 0
    for _ in range(2):
        assert step(source, UnreachableApi(0), fills)[0] == []
    assert fills[0]["failures"] == 2

    class OnePage(RefusingApi):
        def timeline_hashtag(self, tag: str, **params: Any) -> list[Any]:
            return [status(i) for i in range(121, 81, -1)]

    items, _ = step(source, OnePage(0), fills)
    assert len(posts(items)) == 40 and fills[0]["failures"] == 0
    for _ in range(2):
        step(source, UnreachableApi(0), fills)
    assert fills and fills[0]["failures"] == 2
    (ended,), wait = step(source, UnreachableApi(0), fills)
    assert wait is None and fills == []
    assert ended.outcome == "abandoned" and ended.returned == 80
    assert ended.detail.startswith("Instance injoignable (mastodon.invalid)")


def test_received_counts_the_posts_of_the_span_new_to_the_room(
    lives, fake_mastodon, pseudonymise, status, until, source_room, client, members, org
) -> None:
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Post

    activation, source = source_room("mastodon")
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 301)]
    save_checkpoint(source, "1")
    # The stream brings two statuses of the span (a federated post reaching the
    # instance late, a boost): they are in the room before the fill asks for them.
    lives(
        source,
        stop_when=lambda items: (
            bool(of(CoverageGap, items)) and {"200", "250"} <= set(posts(items))
        ),
        pushed=(status(200), status(250)),
        fill_interval=3600.0,
    )
    assert Post.objects.filter(source=source).count() == 80 + 2  # 2 to 81, 200, 250
    second = lives(source, stop_when=lambda items: of(GapFilled, items))
    (filled,) = of(GapFilled, second)
    assert filled.served and filled.returned == 219  # what the instance returned
    assert Post.objects.filter(source=source).count() == 300 - 1
    entry = JournalEntry.objects.get(action="watch.source.gap.filled")
    # New to the room: 82 to 300 but the two the stream had brought.
    assert (entry.data["received"], entry.data["returned"]) == (217, 219)
    client.force_login(members["coordinator"])
    assert gap_line(client, org, activation, "fr").startswith(
        "Trou de couverture comblé après coup : 217 messages du "
    )
