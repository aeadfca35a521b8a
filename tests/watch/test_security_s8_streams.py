"""Live streams of the watch room, session 8 security review (the valve).

A stream was role-checked when it opened and then ran for as long as the browser kept
it: a volunteer removed from the organisation, made a partner, or logged out still
received the internal room's changes (how many cards and lines, when). A stream now asks
again every ``live.RECHECK_SECONDS`` and ends once its reader may no longer follow it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.core import actions as core_actions
from beffroi.core import journal
from beffroi.watch import live


@pytest.fixture
def room(org, members, monkeypatch):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = actions.add_source(
        activation,
        kind="rss",
        name="Préfecture",
        data={"url": "https://example.org/rss.xml"},
        actor=members["coordinator"],
    )
    Card.objects.create(
        activation=activation,
        group_id="g",
        source=source,
        source_kind="rss",
        external_id="x",
        text="L'eau monte",
        posted_at=timezone.now(),
    )
    return activation


def _open(client, name, org, activation):
    response = client.get(reverse(name, args=[org.slug, activation.pk]))
    assert response.status_code == 200
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    assert next(chunks).startswith(b"event: change")
    return chunks


def _ends(chunks) -> bool:
    # Nothing changes in the room: a stream still running would only wait (until its
    # WSGI bound, 20 s); one that ended stops at once.
    return next(chunks, None) is None


@pytest.mark.parametrize("name", ["watch-triage-stream", "watch-courante-stream"])
def test_a_removed_volunteer_stops_receiving(client, org, members, room, name):
    client.force_login(members["volunteer"])
    chunks = _open(client, name, org, room)
    membership = members["volunteer"].memberships.get(organisation=org)
    core_actions.remove_member(membership, actor=members["coordinator"])
    assert _ends(chunks)


def test_a_volunteer_made_partner_stops_receiving_the_internal_log(client, org, members, room):
    client.force_login(members["volunteer"])
    chunks = _open(client, "watch-courante-stream", org, room)
    core_actions.set_role(members["volunteer"], org, "partner", actor=members["coordinator"])
    assert _ends(chunks)


def test_a_logged_out_member_stops_receiving(client, org, members, room):
    from django.contrib.sessions.models import Session

    client.force_login(members["volunteer"])
    chunks = _open(client, "watch-triage-stream", org, room)
    Session.objects.all().delete()  # what logging out elsewhere does to this session
    # A change in the room: a stream still running would announce it.
    journal.append("test.event", organisation=org, subject="x")
    assert _ends(chunks)


def test_a_password_changed_elsewhere_ends_the_stream(client, org, members, room):
    client.force_login(members["volunteer"])
    chunks = _open(client, "watch-triage-stream", org, room)
    user = members["volunteer"]
    user.set_password("another-pw-456789")
    user.save()
    journal.append("test.event", organisation=org, subject="x")
    assert _ends(chunks)


def test_a_member_still_allowed_keeps_the_stream(client, org, members, room, monkeypatch):
    from beffroi.watch.models import LogEntry

    client.force_login(members["partner"])
    chunks = _open(client, "watch-courante-stream", org, room)
    LogEntry.objects.create(
        activation=room, number=1, channel="telephone", category="routes", text="Route coupée"
    )
    assert next(chunks).startswith(b"event: change")


def test_the_asgi_stream_ends_too(monkeypatch):
    import asyncio

    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    answers = iter([True, False])
    version = live.rechecked(lambda: "v1", lambda: next(answers))

    async def read_all() -> list[str]:
        return [chunk async for chunk in live._async_stream(version, 0.0)]

    chunks = asyncio.run(asyncio.wait_for(read_all(), timeout=5))
    assert chunks[0].startswith("retry:") and chunks[1] == "event: change\ndata: v1\n\n"
    assert len(chunks) == 2
