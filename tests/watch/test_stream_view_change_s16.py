"""A main courante stream is built for one view of the room, the team's or the
partners'. When the reader's role moves them to the other view, the stream ends, and the
page's reconnection gets a stream for their new view (review R16, informational note:
« a volunteer demoted to partner keeps the team's stream until they reload »)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from beffroi.core import actions as core_actions
from beffroi.watch import live
from beffroi.watch.models import LogEntry

TEAM_VERSION = re.compile(rb"data: \d+-[\d.]+-\d+\n")  # count, last stamp, journal head
PARTNER_VERSION = re.compile(rb"data: [0-9a-f]{32}\n")  # an HMAC, nothing countable


_opened: list = []


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    yield
    # Closed here, as the server would, rather than left to the garbage collector in
    # some later test (its slot is given back, its generator ends in this thread).
    while _opened:
        _opened.pop().close()


def _first_event(client, org, activation):
    response = client.get(reverse("watch-courante-stream", args=[org.slug, activation.pk]))
    assert response.status_code == 200
    _opened.append(response)
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    return next(chunks), chunks


def _across_role_change(client, org, members, activation, who: str, role: str):
    """The first event of ``who``'s stream, and the stream, once their role is ``role``."""
    user = members[who]
    client.force_login(user)
    event, chunks = _first_event(client, org, activation)
    core_actions.set_role(user, org, role, actor=members["coordinator"])
    return event, chunks


@pytest.mark.usesdb
@pytest.mark.django_db
def test_a_volunteer_made_partner_gets_the_partner_stream_on_reconnecting(
    client, org, members, night
):
    event, chunks = _across_role_change(client, org, members, night, "volunteer", "partner")
    assert TEAM_VERSION.search(event)
    # Nothing changes in the room: a stream still running would wait, not end.
    assert next(chunks, None) is None
    event, _ = _first_event(client, org, night)
    assert PARTNER_VERSION.search(event) and not TEAM_VERSION.search(event)
    rows = client.get(reverse("watch-courante-rows", args=[org.slug, night.pk]))
    assert "Ligne numéro 249" in rows.text and "interne" not in rows.text


@pytest.mark.usesdb
@pytest.mark.django_db
def test_a_partner_made_volunteer_gets_the_team_stream_on_reconnecting(client, org, members, night):
    event, chunks = _across_role_change(client, org, members, night, "partner", "volunteer")
    assert PARTNER_VERSION.search(event)
    # A line shared with partners: a partner stream still running would announce it.
    LogEntry.objects.create(
        activation=night, number=251, channel="telephone", category="routes", text="Pont fermé"
    )
    assert next(chunks, None) is None
    event, _ = _first_event(client, org, night)
    assert TEAM_VERSION.search(event)


@pytest.mark.usesdb
@pytest.mark.django_db
def test_a_change_within_the_team_keeps_the_stream(client, org, members, night):
    _, chunks = _across_role_change(client, org, members, night, "volunteer", "coordinator")
    # The role change is journaled, which moves the team's version: an event, not an end.
    assert TEAM_VERSION.search(next(chunks))
