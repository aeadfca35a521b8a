"""The Sources page's two counts agree on what they count, and each says it.

The status line counts the posts received since the worker started (the runner's
counters start with each run); the column counts every post the source ever brought
(``Source.posts_count``). Until session 8 the status counted what the runner handed
to the sink, new or not, and both were called « messages reçus »: 729 beside 787 with
nothing to tell why. Now the status counts what the sink stored as new, so it is
exactly what the column gained since the start, and each is labelled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.urls import reverse

from beffroi.watch.sources.base import RawPost
from beffroi.watch.sources.runner import run_source
from english_catalogue import english


def _post(i: int) -> RawPost:
    return RawPost("script", "s", str(i), f"Message {i}", datetime(2026, 11, 23, tzinfo=UTC))


class Steady:
    """Posts 1 to ``n``, a tick after each; ends when done."""

    kind: ClassVar[str] = "script"
    source_id = "s"
    finite = True

    def __init__(self, n: int) -> None:
        self.n = n

    def stream(self, checkpoint: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        for i in range(1, self.n + 1):
            yield _post(i), {"next": i + 1}
            yield None, {"next": i + 1}


def test_the_status_counts_what_the_sources_total_gained_since_the_start(
    source_room, client, members, org
) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    activation, source = source_room("rss")
    # A worker before this one stored 1 to 5, and its last checkpoint was lost: this
    # run hands them to the sink again, which keeps them once.
    actions.receive_items(source.pk, [_post(i) for i in range(1, 6)], {})
    statuses: list[Any] = []
    ticks = iter(range(10_000))
    run_source(
        Steady(12),
        None,
        lambda items, state: actions.receive_items(source.pk, items, state),
        stop_event=threading.Event(),
        clock=lambda: datetime(2026, 11, 23, tzinfo=UTC) + timedelta(seconds=next(ticks)),
        status_every=3,
        on_status=statuses.append,
    )
    source.refresh_from_db()
    assert source.posts_count == 12
    listening = [s for s in statuses if s.message.startswith("En écoute")]
    assert listening and listening[-1].message == (
        f"En écoute : {listening[-1].posts} messages reçus depuis le démarrage du worker."
    )
    # 7 new since this start (6 to 12); the 5 handed over again are not counted.
    assert statuses[-1].posts == 7

    last = listening[-1]
    actions.record_source_status(source.pk, state="ok", message=last.message, at=last.at)
    Source.objects.filter(pk=source.pk).update(posts_count=12)
    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    page = client.get(url).content.decode()
    assert "<th>Messages reçus (total)</th>" in page
    assert "messages reçus depuis le démarrage du worker." in page
    status = reverse("watch-sources-status", args=[org.slug, activation.pk])
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        (said,) = client.get(status, HTTP_ACCEPT_LANGUAGE="en").json()["sources"]
    assert "<th>Posts received (total)</th>" in page
    assert said["message"] == (f"Listening: {last.posts} posts received since the worker started.")
    assert said["posts"] == 12


def test_a_status_stored_by_an_older_worker_is_still_translated(
    source_room, client, members, org
) -> None:
    from beffroi.watch import actions

    activation, source = source_room("rss")
    actions.record_source_status(
        source.pk, state="ok", message="En écoute : 729 messages reçus.", at=datetime.now(UTC)
    )
    client.force_login(members["coordinator"])
    status = reverse("watch-sources-status", args=[org.slug, activation.pk])
    with english():
        (said,) = client.get(status, HTTP_ACCEPT_LANGUAGE="en").json()["sources"]
    assert said["message"] == "Listening: 729 posts received."
