"""Back after a long outage: Jetstream no longer holds the checkpoint's position.

The loopback Jetstream starts its window (``floor``) later than the checkpoint's
cursor, as a real one does after its 36 hours of replay: the seq cursor is refused
(``CursorTooOld``), the source resumes from the checkpoint's time, which the server
clamps with an ``#info OutdatedCursor`` notice, and the span in between arrives as
a ``CoverageGap`` before the posts that follow it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from beffroi.watch.sources.base import CoverageGap
from beffroi.watch.sources.bluesky import (
    REPLAY_WINDOW,
    TIME_CURSOR_MIN,
    BlueskyConfig,
    BlueskySource,
)
from beffroi.watch.sources.runner import Backoff, start_source_thread

A = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
B = "did:plc:z72i7hdynmk6r22z27h6tvur"
C = "did:web:mairie-ales.invalid"
# Seq 1002 was witnessed at 03:42, seq 1006 (the new floor) at 03:46.
LAST_SEEN = datetime(2026, 11, 23, 3, 42, tzinfo=UTC)
FIRST_HELD = datetime(2026, 11, 23, 3, 46, tzinfo=UTC)
SEEN_AT = LAST_SEEN.isoformat()


def make(endpoint: str, pseudonymise) -> BlueskySource:
    config = BlueskyConfig(
        keywords=("#inondation", "crue", "Point de situation"), endpoint=endpoint, recv_timeout=5
    )
    return BlueskySource("bsky", config, pseudonymise=pseudonymise, idle_tick=0.05)


def run(fake, pseudonymise, recorder, until, state: dict) -> None:
    stop = threading.Event()
    thread = start_source_thread(
        make(fake.endpoint, pseudonymise),
        {"v": 1, "state": state, "seen": []},
        recorder.sink,
        stop_event=stop,
        on_status=recorder.status,
        on_skip=recorder.skip,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
    )
    until(lambda: recorder.checkpoints and recorder.checkpoints[-1]["state"]["cursor"] == 1010)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_cursor_older_than_the_window_resumes_by_time_and_reports_the_gap(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    fake_jetstream.floor = 1006
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": 1002, "time": SEEN_AT})

    refused, resumed = fake_jetstream.paths[:2]
    assert "cursor=1002" in refused
    micros = int(LAST_SEEN.timestamp()) * 1_000_000
    assert f"cursor={micros}" in resumed

    gap, *posts = recorder.posts
    assert isinstance(gap, CoverageGap)
    assert (gap.start, gap.end) == (LAST_SEEN, FIRST_HELD)
    assert gap.reason == REPLAY_WINDOW
    assert gap.detail == "cursor clamped to seq 1006"
    # What the server still held comes after the gap, as usual.
    assert [p.external_id for p in posts] == [
        f"at://{B}/app.bsky.feed.post/3lbzxa2bcd22d",
        f"at://{C}/app.bsky.feed.post/3lbzxa2bcd22f",
        f"at://{C}/app.bsky.feed.post/3lbzxa2bcd22g",
    ]
    # The refusal is handled, not shown as an error; the checkpoint now has a time.
    assert "error" not in recorder.states()
    assert recorder.checkpoints[-1]["state"]["time"] == "2026-11-23T03:50:00+00:00"
    assert recorder.skips == []


def test_a_checkpoint_without_a_time_resumes_from_the_oldest_held(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    # Checkpoints written before the time was kept: the gap's start is unknown.
    fake_jetstream.floor = 1006
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": 1002})
    assert f"cursor={TIME_CURSOR_MIN}" in fake_jetstream.paths[1]
    gap = recorder.posts[0]
    assert isinstance(gap, CoverageGap)
    assert gap.start is None and gap.end == FIRST_HELD


def test_a_cursor_inside_the_window_resumes_without_a_gap(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    fake_jetstream.floor = 1002
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": 1002, "time": SEEN_AT})
    assert len(fake_jetstream.paths) == 1
    assert not any(isinstance(p, CoverageGap) for p in recorder.posts)


# A seq from another archive: beyond anything this server ever assigned.
FOREIGN = 5_000_000


def test_a_cursor_from_another_archive_resumes_by_time_without_losing_posts(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    # The server was reset (or another one answers at this address): it starts at
    # its live tip after #info FutureCursor; the source asks again by time.
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": FOREIGN, "time": SEEN_AT})

    tip, resumed = fake_jetstream.paths[:2]
    assert f"cursor={FOREIGN}" in tip
    assert f"cursor={int(LAST_SEEN.timestamp()) * 1_000_000}" in resumed
    # This server's seqs are all below the foreign cursor, yet none is taken for
    # one handled before the restart; the window held the whole span: no gap.
    assert [p.external_id for p in recorder.posts] == [
        f"at://{B}/app.bsky.feed.post/3lbzxa2bcd22d",
        f"at://{C}/app.bsky.feed.post/3lbzxa2bcd22f",
        f"at://{C}/app.bsky.feed.post/3lbzxa2bcd22g",
    ]
    assert "error" not in recorder.states()
    assert not any("FutureCursor" in s.reason for s in recorder.skips)
    assert recorder.checkpoints[-1]["state"]["cursor"] == 1010


def test_a_cursor_from_another_archive_older_than_its_window_reports_the_gap(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    fake_jetstream.floor = 1006
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": FOREIGN, "time": SEEN_AT})
    assert len(fake_jetstream.paths) == 2  # the tip, then by time: never a third try
    gap, *posts = recorder.posts
    assert isinstance(gap, CoverageGap)
    assert (gap.start, gap.end) == (LAST_SEEN, FIRST_HELD)
    assert gap.detail == "cursor clamped to seq 1006"
    assert len(posts) == 3 and not any(isinstance(p, CoverageGap) for p in posts)


def test_a_cursor_from_another_archive_without_a_time_resumes_from_the_oldest_held(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    fake_jetstream.floor = 1006
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": FOREIGN})
    assert f"cursor={TIME_CURSOR_MIN}" in fake_jetstream.paths[1]
    gap = recorder.posts[0]
    assert isinstance(gap, CoverageGap) and gap.start is None and gap.end == FIRST_HELD


def test_the_next_seq_to_be_assigned_is_no_foreign_cursor(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    # 1011 is where this server goes on: an ordinary resume at its tip.
    stop = threading.Event()
    thread = start_source_thread(
        make(fake_jetstream.endpoint, pseudonymise),
        {"v": 1, "state": {"cursor": 1011, "time": SEEN_AT}, "seen": []},
        recorder.sink,
        stop_event=stop,
        on_status=recorder.status,
        on_skip=recorder.skip,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
    )
    # The broken frame the server holds goes out after any notice would have.
    until(lambda: any(s.reason.startswith("Trame Jetstream") for s in recorder.skips))
    stop.set()
    thread.join(timeout=5)
    assert len(fake_jetstream.paths) == 1 and recorder.posts == []


def test_a_gap_must_be_aware_and_in_order() -> None:
    with pytest.raises(ValueError, match="aware"):
        CoverageGap("bluesky", "1", end=datetime(2026, 11, 23), reason="r")
    with pytest.raises(ValueError, match="after its end"):
        CoverageGap("bluesky", "1", end=LAST_SEEN, reason="r", start=FIRST_HELD)
    with pytest.raises(ValueError, match="why"):
        CoverageGap("bluesky", "1", end=LAST_SEEN, reason="")


def test_the_gap_reaches_the_journal_and_the_sources_page(
    fake_jetstream, pseudonymise, recorder, until, source_room, client, members, org
) -> None:
    from django.urls import reverse

    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Post
    from english_catalogue import english

    activation, source = source_room("bluesky")
    fake_jetstream.floor = 1006
    run(fake_jetstream, pseudonymise, recorder, until, {"cursor": 1002, "time": SEEN_AT})
    # What the worker's sink does with each batch, here with everything at once.
    actions.receive_items(source.pk, recorder.posts, recorder.checkpoints[-1])
    assert Post.objects.filter(source=source).count() == 3
    entry = JournalEntry.objects.get(action="watch.source.gap")
    assert entry.subject == f"source:{source.pk}"
    assert entry.data == {
        "from": "2026-11-23T03:42:00+00:00",
        "to": "2026-11-23T03:46:00+00:00",
        "reason": REPLAY_WINDOW,
        "detail": "cursor clamped to seq 1006",
        "where": "",  # Jetstream is one stream
    }

    client.force_login(members["coordinator"])
    page = reverse("watch-sources", args=[org.slug, activation.pk])
    status = reverse("watch-sources-status", args=[org.slug, activation.pk])
    # Paris time, the room's: 03:42 UTC is 04:42 in November.
    french = (
        "Trou de couverture : messages du 23/11/2026 04:42 au 23/11/2026 04:46 non reçus "
        "(Jetstream ne rejoue que les dernières heures : 36 h par défaut)."
    )
    assert french in client.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert client.get(status, HTTP_ACCEPT_LANGUAGE="fr").json()["sources"][0]["gap"] == french
    with english():
        said = client.get(status, HTTP_ACCEPT_LANGUAGE="en").json()["sources"][0]["gap"]
    assert said.startswith("Coverage gap: posts from ") and said.endswith(
        " not received (Jetstream replays only its last hours: 36 h by default)."
    )
    assert "Trou" not in said


def test_a_gap_without_its_start_is_said_from_its_end(source_room, client, members, org) -> None:
    from django.urls import reverse

    from beffroi.watch import actions

    activation, source = source_room("bluesky")
    gap = CoverageGap("bluesky", str(source.pk), end=FIRST_HELD, reason=REPLAY_WINDOW)
    actions.receive_items(source.pk, [gap], {"v": 1, "state": {"cursor": 1006}, "seen": []})
    source.refresh_from_db()
    assert source.checkpoint["state"] == {"cursor": 1006}
    client.force_login(members["coordinator"])
    html = client.get(reverse("watch-sources", args=[org.slug, activation.pk])).content.decode()
    assert "Trou de couverture : messages d&#x27;avant le 23/11/2026 04:46 non reçus" in html


def test_each_source_shows_its_latest_gap_only(source_room, client, members, org) -> None:
    from datetime import timedelta

    from django.urls import reverse

    from beffroi.watch import actions

    activation, source = source_room("bluesky")
    for days in (2, 1):  # an older gap, then a newer one
        gap = CoverageGap(
            "bluesky",
            f"{source.pk}-{days}",
            end=FIRST_HELD - timedelta(days=days),
            reason=REPLAY_WINDOW,
        )
        actions.receive_items(source.pk, [gap], {"v": 1, "state": {"cursor": 1006}, "seen": []})
    client.force_login(members["coordinator"])
    status = reverse("watch-sources-status", args=[org.slug, activation.pk])
    said = client.get(status, HTTP_ACCEPT_LANGUAGE="fr").json()["sources"][0]["gap"]
    assert "d'avant le 22/11/2026 04:46 non reçus" in said


def test_a_restart_right_after_the_gap_does_not_report_the_same_span_again(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    """The worker stops right after committing the gap, before the posts that follow
    it; meanwhile Jetstream's window moves on. The next gap starts where the first
    ended: the span it covers is new, and none of it is reported twice."""
    fake_jetstream.floor = 1006
    stop = threading.Event()

    def sink(items: list, checkpoint: dict) -> None:
        recorder.sink(items, checkpoint)
        if any(isinstance(i, CoverageGap) for i in items):
            stop.set()

    thread = start_source_thread(
        make(fake_jetstream.endpoint, pseudonymise),
        {"v": 1, "state": {"cursor": 1002, "time": SEEN_AT}, "seen": []},
        sink,
        stop_event=stop,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
        batch_max=1,
    )
    until(stop.is_set)
    thread.join(timeout=5)
    assert [type(p) for p in recorder.posts] == [CoverageGap]
    (first,) = recorder.posts

    fake_jetstream.floor = 1009  # three hours later, say: 1006 has left the window
    run(fake_jetstream, pseudonymise, recorder, until, recorder.checkpoints[-1]["state"])
    gaps = [p for p in recorder.posts if isinstance(p, CoverageGap)]
    assert len(gaps) == 2
    second = gaps[1]
    assert second.start == first.end == FIRST_HELD
    assert second.end == datetime(2026, 11, 23, 3, 49, tzinfo=UTC)  # seq 1009
