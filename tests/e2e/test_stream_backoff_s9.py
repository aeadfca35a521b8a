"""A page whose live stream is refused (too many open with this account) says so, tries
again later and later rather than hammering the server, and is live again once a place
frees (session 9 security review: a cap on streams per account; a bare EventSource gives
up for good after a 429, and a page that retried at once would hammer)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from beffroi.watch import live


@pytest.fixture
def room(org, members, settings, monkeypatch):
    from beffroi.watch import actions

    settings.BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT = 1
    monkeypatch.setattr(live, "SLOTS", live.Slots())
    # A refused page waits 1 s, then 2, 4…. Under the test server (WSGI) a stream ends
    # after WSGI_MAX and its page reconnects 1.5 s later: long enough for the first page
    # to hold its place through the checks, short enough to free it soon once closed.
    monkeypatch.setattr(live, "REFUSED_RETRY_SECONDS", 1)
    monkeypatch.setattr(live, "WSGI_MAX", 7.0)
    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text="Route D746 coupée", channel="autre", category="routes"
    )
    return activation


def test_a_refused_page_backs_off_then_follows_again(page, login, live_server, org, room):
    login("volunteer")
    url = f"{live_server.url}/o/{org.slug}/veille/{room.pk}/main-courante/"
    page.goto(url)
    expect(page.locator("#courante[data-live=on]")).to_have_count(1)

    second = page.context.new_page()
    second.set_default_timeout(20_000)
    asked: list[float] = []
    second.on(
        "request", lambda r: asked.append(time.monotonic()) if r.url.endswith("/flux/") else None
    )
    second.goto(url)
    status = second.locator("#live")
    expect(status).to_contain_text("Trop de pages en direct sont ouvertes avec ce compte")
    expect(status).to_contain_text("(1 au plus)")
    # While the first page holds the place: a few tries, further apart each time (1 s,
    # 2 s, 4 s… each an EventSource and one probe), not one every retry interval.
    second.wait_for_timeout(4000)  # (time.sleep would hold back the page's events)
    tries = len(asked)
    assert 4 <= tries <= 8, asked

    page.close()  # its stream ends (within WSGI_MAX here) and the place frees
    # The place frees up to WSGI_MAX + a poll after the close, and the refused page comes
    # back at its next try: 8 s then 16 s after the last (±20 %), so up to ~30 s from
    # here, far past expect's 5-s default.
    expect(second.locator("#courante[data-live=on]")).to_have_count(1, timeout=45_000)
    expect(status).to_have_text("")
    second.close()
