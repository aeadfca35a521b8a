"""Background exports and the shared task queue, session 8 security review.

Every POST of an export page queued a new job, with no limit: anyone holding a partner
link (forwarded, leaked) could queue hundreds of PDF exports an hour, each up to minutes
of CPU, and keep the crisis cell's own exports, the audits and the live audits waiting.
Now the same export already waiting is reused, and an activation has at most
``BEFFROI_WATCH_MAX_PENDING_EXPORTS`` exports waiting or running per view (the team's,
the partners'), so partners can never hold up the team."""

from __future__ import annotations

import contextlib

import pytest
from django.urls import reverse

from english_catalogue import english


@pytest.fixture
def room(export_room, settings):
    settings.BEFFROI_WATCH_MAX_PENDING_EXPORTS = 2
    activation, _link, token = export_room
    return activation, token


def _pending():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()


def test_the_same_export_asked_again_is_the_same_job(client, room):
    _activation, token = room
    url = reverse("watch-partner-export", args=[token, "pdf"])
    first = client.post(url, {"q": "route"})
    again = client.post(url, {"q": "route"})
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert _pending() == 1


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_partner_link_cannot_fill_the_queue(client, members, org, room, settings, language):
    activation, token = room
    url = reverse("watch-partner-export", args=[token, "pdf"])
    for n in range(2):
        assert client.post(url, {"q": f"mot-{n}"}).status_code == 302
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with english() if language == "en" else contextlib.nullcontext():
        refused = client.post(url, {"q": "mot-3"})
    assert refused.status_code == 429
    expected = {
        "fr": "2 exports de cette activation sont déjà en préparation",
        "en": "2 exports of this activation are already being prepared",
    }[language]
    assert expected in refused.content.decode()
    assert _pending() == 2
    # The team's exports have their own room.
    client.force_login(members["volunteer"])
    team = reverse("watch-courante-export", args=[org.slug, activation.pk, "pdf"])
    assert client.post(team, {"q": "digue"}).status_code == 302
    assert _pending() == 3
