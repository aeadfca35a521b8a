"""The triage room's queue when the session ends under it (a logout in another tab, a role
taken away): the page says so by itself, in words, and keeps the cards it showed, greyed,
instead of a queue that silently stops moving. Logged in again, the queue comes back."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from browser_sessions import log_in, logged_in
from watch_rooms import triage_room

EXPIRED = "Votre session a expiré : reconnectez-vous. La file n’est plus mise à jour."
FORBIDDEN = (
    "Accès refusé (rôle changé ou session expirée) : rechargez la page. "
    "La file n’est plus mise à jour."
)


@pytest.fixture
def room(org, members):
    return triage_room(
        org, members["coordinator"], ["Famille coincée sur le toit à Luçon", "Route coupée"]
    )


@pytest.fixture(autouse=True)
def _quick_recheck(monkeypatch):
    # The live server runs in this process: its streams recheck their reader every half
    # second instead of ten, so the test waits for the page's reaction, not the clock.
    from beffroi.watch import live

    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.5)


@pytest.fixture
def triage(browser, live_server, org, room):
    """(context, page): a volunteer's triage room, its queue shown and live."""
    context, page = logged_in(browser, live_server.url, "volunteer")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
        expect(page.locator("#queue li")).to_have_count(2)
        expect(page.locator("#triage")).to_have_attribute("data-live", "on")
        yield context, page
    finally:
        context.close()


def test_a_logout_in_another_tab_is_said_on_the_queue(live_server, triage):
    from beffroi.watch.models import Card

    context, page = triage
    other = context.new_page()
    other.goto(f"{live_server.url}/")
    other.get_by_role("button", name="Se déconnecter").click()
    other.wait_for_load_state()
    # Nobody touches the triage page: it finds out from its own live stream.
    expect(page.locator("#live")).to_have_text(EXPIRED, timeout=20_000)
    expect(page.locator("#triage")).to_have_class("triage stale")
    expect(page.locator("#queue li")).to_have_count(2)  # what was read stays
    expect(page.locator("#triage")).to_have_attribute("data-live", "off")
    # Logged in again (the other tab), the next refresh lifts it.
    log_in(other, live_server.url, "volunteer")
    page.locator("#filters input[name=commune]").press("Enter")
    expect(page.locator("#live")).to_have_text("")
    expect(page.locator("#triage")).to_have_class("triage")
    expect(page.locator("#queue li")).to_have_count(2)
    # …and so does the live stream: a card decided elsewhere leaves this queue.
    expect(page.locator("#triage")).to_have_attribute("data-live", "on")
    Card.objects.filter(text="Route coupée").update(
        state="decided", decision="irrelevant", updated_at=timezone.now()
    )
    expect(page.locator("#queue li")).to_have_count(1)


def test_a_role_taken_away_is_said_too(org, members, triage):
    from beffroi.core import actions
    from beffroi.core.models import Role

    _context, page = triage
    actions.set_role(members["volunteer"], org, Role.PARTNER, actor=members["coordinator"])
    expect(page.locator("#live")).to_have_text(FORBIDDEN, timeout=20_000)
    expect(page.locator("#queue li")).to_have_count(2)


def test_a_filter_changed_after_the_logout_says_it_at_once(triage):
    """Without waiting for the stream (whose session is still stored: it goes on): the
    queue's own request meets the login page."""
    context, page = triage
    context.clear_cookies(name="sessionid")
    page.locator("#filters input[name=commune]").press("Enter")
    expect(page.locator("#live")).to_have_text(EXPIRED)
    expect(page.locator("#queue li")).to_have_count(2)
