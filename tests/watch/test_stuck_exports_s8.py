"""An export whose worker died mid-run stays RUNNING in django-tasks' table for ever (the
database worker never takes a job up again). Counted as waiting, such jobs refused every
later export of that view (three of them), and the same export asked again was sent to
the dead job's page, which never ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def room(export_room, settings):
    settings.BEFFROI_WATCH_MAX_PENDING_EXPORTS = 1
    activation, _link, token = export_room
    return activation, token


def _die(location: str, started_ago: timedelta) -> str:
    """The job behind a status page's URL, as a worker killed mid-run leaves it."""
    from django_tasks_db.models import DBTaskResult

    job_id = location.rstrip("/").split("/")[-1]
    DBTaskResult.objects.filter(pk=job_id).update(
        status="RUNNING", started_at=timezone.now() - started_ago
    )
    return job_id


def test_an_export_left_running_by_a_dead_worker_neither_blocks_nor_is_reused(client, room):
    from beffroi.watch import tasks

    _activation, token = room
    url = reverse("watch-partner-export", args=[token, "pdf"])
    first = client.post(url, {"q": "route"})
    dead = _die(first["Location"], tasks.STUCK_AFTER + timedelta(minutes=1))
    again = client.post(url, {"q": "route"})
    assert again.status_code == 302
    assert dead not in again["Location"]
    other = client.post(url, {"q": "digue"})
    assert other.status_code == 429  # the new job counts; the dead one does not


def test_an_export_running_for_a_while_still_counts(client, room):
    from beffroi.watch import tasks

    _activation, token = room
    url = reverse("watch-partner-export", args=[token, "pdf"])
    first = client.post(url, {"q": "route"})
    alive = _die(first["Location"], tasks.STUCK_AFTER - timedelta(minutes=5))
    again = client.post(url, {"q": "route"})
    assert alive in again["Location"]
    assert client.post(url, {"q": "digue"}).status_code == 429


def test_the_dead_jobs_page_says_it_failed_and_stops_polling(client, room):
    from beffroi.watch import tasks

    _activation, token = room
    first = client.post(reverse("watch-partner-export", args=[token, "pdf"]), {"q": "route"})
    _die(first["Location"], tasks.STUCK_AFTER + timedelta(minutes=1))
    page = client.get(first["Location"]).content.decode()
    assert 'data-status="running"' in page
    assert "hx-trigger" not in page  # no longer polled every second
    assert "Relancez-le depuis la main courante" in page
