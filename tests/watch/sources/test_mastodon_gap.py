"""Back after an outage longer than Mastodon's catch-up: the span it did not fetch.

The catch-up pages forward from the last status seen (``min_id``, oldest first) for
at most ``catch_up_pages`` pages of 40; what lies beyond is the newest part of the
outage, up to the moment the stream was open. Against the loopback Mastodon
instance, that span arrives as a ``CoverageGap`` (journaled, shown on the Sources
page) and no longer as a skipped post."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from beffroi.watch.sources.base import CoverageGap, RawPost
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.runner import Backoff, start_source_thread
from beffroi.watch.views_i18n import GAP_REASONS
from english_catalogue import english

TAG = "tag:inondation"
CRUE = "tag:crue"
# make_status(n) was posted at 03:00 UTC + n seconds.
LAST_FETCHED = datetime(2026, 11, 23, 3, 1, 21, tzinfo=UTC)  # status 81


def run(
    fake: Any,
    pseudonymise: Any,
    recorder: Any,
    until: Any,
    status: Any,
    last_ids: dict[str, str],
    *,
    hashtags: tuple[str, ...] = ("inondation",),
    pages: int = 2,
) -> tuple[datetime, datetime]:
    """Resume from ``last_ids``, then take one live status per stream; returns the
    moments before the start and after the live statuses arrived."""
    config = MastodonConfig(
        instance_url=fake.url, hashtags=hashtags, timeout=5, catch_up_pages=pages
    )
    stop = threading.Event()
    before = datetime.now(UTC)
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        {"v": 1, "state": {"last_ids": last_ids}, "seen": []},
        recorder.sink,
        stop_event=stop,
        on_status=recorder.status,
        on_skip=recorder.skip,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
    )
    live = []
    for number, tag in enumerate(hashtags):
        key = f"tag:{tag}"
        fake.wait_connections(key, 1)
        live.append(status(1000 + number, "En direct", tags=(tag,)))
        # The catch-up may still be running: the live status comes after it anyway.
        until(lambda: any(isinstance(p, CoverageGap) for p in recorder.posts) or pages == 0)
        fake.update(key, live[-1])
    until(
        lambda: {s["id"] for s in live} <= {getattr(p, "external_id", "") for p in recorder.posts}
    )
    after = datetime.now(UTC)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    return before, after


def test_a_catch_up_cut_short_reports_the_newest_span_as_a_gap(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 101)]
    before, after = run(fake_mastodon, pseudonymise, recorder, until, status, {TAG: "1"})

    posts = [p for p in recorder.posts if isinstance(p, RawPost)]
    gaps = [p for p in recorder.posts if isinstance(p, CoverageGap)]
    # Two pages of 40, oldest first; 82 to 100 were never fetched.
    assert [p.external_id for p in posts] == [str(i) for i in range(2, 82)] + ["1000"]
    (gap,) = gaps
    assert recorder.posts.index(gap) == 80  # after what was fetched, before the live post
    assert gap.start == LAST_FETCHED
    assert before <= gap.end <= after
    assert gap.reason == "Rattrapage limité à 80 messages sur le fil #inondation"
    with english():
        assert GAP_REASONS.say(gap.reason) == "Catch-up limited to 80 posts on the #inondation feed"
    assert gap.where == TAG
    assert gap.detail == "2 pages de 40 après le statut 81"
    # Said once, as a gap: not a skipped post, not an error.
    assert recorder.skips == []
    assert "error" not in recorder.states()
    assert any("min_id=81" in r and "limit=1" in r for r in fake_mastodon.requests)
    assert recorder.checkpoints[-1]["state"]["last_ids"] == {TAG: "1000"}


def test_a_last_page_that_happens_to_be_full_is_no_gap(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 82)]
    config = MastodonConfig(
        instance_url=fake_mastodon.url, hashtags=("inondation",), timeout=5, catch_up_pages=2
    )
    stop = threading.Event()
    thread = start_source_thread(
        MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05),
        {"v": 1, "state": {"last_ids": {TAG: "1"}}, "seen": []},
        recorder.sink,
        stop_event=stop,
        on_skip=recorder.skip,
        checkpoint_every=0,
    )
    until(lambda: len(recorder.posts) == 80)
    # The probe past status 81 found nothing: the catch-up was complete.
    until(lambda: any("min_id=81" in r for r in fake_mastodon.requests))
    fake_mastodon.wait_connections(TAG, 1)
    fake_mastodon.update(TAG, status(82))
    until(lambda: any(getattr(p, "external_id", "") == "82" for p in recorder.posts))
    stop.set()
    thread.join(timeout=5)
    assert not any(isinstance(p, CoverageGap) for p in recorder.posts)
    assert recorder.skips == []


def test_no_catch_up_at_all_reports_the_whole_outage_from_the_first_status_missing(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 11)]
    before, after = run(fake_mastodon, pseudonymise, recorder, until, status, {TAG: "4"}, pages=0)
    # The gap is handed over once the stream's queue is drained: the live status
    # may come before it or after it.
    (gap,) = [p for p in recorder.posts if isinstance(p, CoverageGap)]
    assert [p.external_id for p in recorder.posts if isinstance(p, RawPost)] == ["1000"]
    assert gap.start == datetime(2026, 11, 23, 3, 0, 5, tzinfo=UTC)  # status 5
    assert before <= gap.end <= after
    assert gap.reason == "Rattrapage désactivé sur le fil #inondation"
    with english():
        assert GAP_REASONS.say(gap.reason) == "Catch-up turned off on the #inondation feed"


def test_two_streams_cut_short_at_the_same_connection_are_two_gaps(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 61)]
    fake_mastodon.timelines[CRUE] = [status(i, tags=("crue",)) for i in range(101, 161)]
    run(
        fake_mastodon,
        pseudonymise,
        recorder,
        until,
        status,
        {TAG: "1", CRUE: "101"},
        hashtags=("inondation", "crue"),
        pages=1,
    )
    gaps = [p for p in recorder.posts if isinstance(p, CoverageGap)]
    # Same end (the connection), yet the runner's window keeps both.
    assert [(g.where, g.reason) for g in gaps] == [
        (TAG, "Rattrapage limité à 40 messages sur le fil #inondation"),
        (CRUE, "Rattrapage limité à 40 messages sur le fil #crue"),
    ]
    assert gaps[0].end == gaps[1].end and gaps[0].key != gaps[1].key


def test_the_gap_is_journaled_and_shown_not_counted_as_a_skip(
    fake_mastodon, pseudonymise, recorder, status, until, source_room, client, members, org
) -> None:
    from django.urls import reverse

    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation, source = source_room("mastodon")
    fake_mastodon.timelines[TAG] = [status(i) for i in range(1, 101)]
    run(fake_mastodon, pseudonymise, recorder, until, status, {TAG: "1"})
    actions.receive_items(source.pk, recorder.posts, recorder.checkpoints[-1])
    assert Post.objects.filter(source=source).count() == 81
    entry = JournalEntry.objects.get(action="watch.source.gap")
    assert entry.subject == f"source:{source.pk}"
    assert entry.data["from"] == "2026-11-23T03:01:21+00:00"
    assert entry.data["reason"] == "Rattrapage limité à 80 messages sur le fil #inondation"
    assert entry.data["detail"] == "2 pages de 40 après le statut 81"
    # Nothing went to the skips, whose last reason a later skip would replace.
    assert recorder.skips == []

    client.force_login(members["coordinator"])
    page = reverse("watch-sources", args=[org.slug, activation.pk])
    status_url = reverse("watch-sources-status", args=[org.slug, activation.pk])
    # Paris time, the room's: 03:01 UTC is 04:01 in November.
    french = client.get(status_url, HTTP_ACCEPT_LANGUAGE="fr").json()["sources"][0]["gap"]
    assert french.startswith("Trou de couverture : messages du 23/11/2026 04:01 au ")
    assert french.endswith(" non reçus (Rattrapage limité à 80 messages sur le fil #inondation).")
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Rattrapage limité à 80 messages sur le fil #inondation" in html
    with english():
        said = client.get(status_url, HTTP_ACCEPT_LANGUAGE="en").json()["sources"][0]["gap"]
    assert said.startswith("Coverage gap: posts from ") and said.endswith(
        " not received (Catch-up limited to 80 posts on the #inondation feed)."
    )
    assert "Rattrapage" not in said
