"""A partner link's stream ends after PARTNER_STREAM_MAX_SECONDS even while the link is
valid. Under ASGI a stream runs for as long as its browser keeps it, so the hourly count
of openings bounded how fast streams were opened, never how many ran at once: a leaked
link could open its limit's worth every hour, for ever, each polling the database every
second. With an end, the streams running at once are at most the openings of one span;
the page's browser reconnects by itself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.watch import live, views


@pytest.fixture
def link(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    actions.add_log_entry(
        activation, actor=coord, text="Route coupée", channel="telephone", category="routes"
    )
    _link, token = actions.create_partner_link(activation, label="COD", days=1, actor=coord)
    return token


def _stream_version(client, token, monkeypatch):
    """The version function the view hands to the stream (the ASGI loop calls it once a
    second for as long as it returns)."""
    seen = []

    def capture(request, version, **kwargs):
        seen.append(version)
        return live.StreamingHttpResponse(iter(()), content_type="text/event-stream")

    monkeypatch.setattr(live, "sse_response", capture)
    assert client.get(reverse("watch-partner-stream", args=[token])).status_code == 200
    return seen[0]


def test_a_valid_links_stream_ends_after_its_span(client, link, monkeypatch):
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(views, "PARTNER_STREAM_MAX_SECONDS", 0.0)
    version = _stream_version(client, link, monkeypatch)
    with pytest.raises(live.StreamClosed):
        version()


def test_within_its_span_the_stream_runs_on(client, link, monkeypatch):
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    version = _stream_version(client, link, monkeypatch)
    assert version() == version()  # rechecked each call, still allowed
