"""Triage, two volunteers (session-8 walkthrough, #13b): after a refused claim,
« Cette carte est déjà prise par une autre personne. » stayed on screen once the
card was released.  The line now follows the card."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from browser_sessions import logged_in
from watch_rooms import triage_room

PHONE = {"width": 390, "height": 844}


def _login(browser, live_server, username: str):
    return logged_in(browser, live_server.url, username, viewport=PHONE)


@pytest.fixture
def room(org, members, second_volunteer, live_server):
    activation = triage_room(
        org, members["coordinator"], ["Route D746 coupée à Chasnais", "Digue fragile à Triaize"]
    )
    return f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/tri/"


def _refused(browser, live_server, room):
    """A holds the first card; B's double tap on it is refused."""
    ctx_a, a = _login(browser, live_server, "volunteer")
    ctx_b, b = _login(browser, live_server, "veilleuse")
    a.goto(room)
    expect(a.locator("#queue li")).to_have_count(2)
    a.keyboard.press("Enter")
    expect(a.locator("#panel")).to_be_visible()
    b.goto(room)
    taken = b.locator("#queue li.taken")
    expect(taken).to_have_count(1)
    taken.dblclick()
    expect(b.locator("#live")).to_have_text("Cette carte est déjà prise par une autre personne.")
    return ctx_a, a, ctx_b, b


def test_the_refusal_gives_way_once_the_card_is_released(browser, live_server, room) -> None:
    ctx_a, a, ctx_b, b = _refused(browser, live_server, room)
    try:
        a.locator("#release").click()
        expect(b.locator("#queue li.taken")).to_have_count(0)
        expect(b.locator("#live")).to_have_text("La carte qui était prise est de nouveau libre.")
    finally:
        ctx_a.close()
        ctx_b.close()


def test_the_refusal_goes_once_the_card_is_settled(browser, live_server, room) -> None:
    ctx_a, a, ctx_b, b = _refused(browser, live_server, room)
    try:
        a.locator("#panel [data-decision]").first.click()
        expect(b.locator("#queue li")).to_have_count(1)
        expect(b.locator("#live")).to_have_text("")
    finally:
        ctx_a.close()
        ctx_b.close()


# B's claims leave two seconds late: time for a queue refresh to land in between.
SLOW_CLAIMS = """
const sendNow = window.fetch;
window.fetch = (target, init) => {
  const claim = String(target).endsWith("/prendre/") && init && init.method === "POST";
  if (!claim) return sendNow(target, init);
  return new Promise((ok) => setTimeout(ok, 2000)).then(() => sendNow(target, init));
};
"""


def test_a_queue_refresh_during_the_claim_leaves_the_refusal_on_its_card(
    browser, live_server, room
) -> None:
    """The race behind this file's flakiness under load: a refresh applied while the
    claim was on its way moved the cursor to the free card, and the refusal was pinned
    on that card; settling the held one then left « déjà prise » on screen for good."""
    ctx_a, a = _login(browser, live_server, "volunteer")
    ctx_b, b = _login(browser, live_server, "veilleuse")
    try:
        b.add_init_script(SLOW_CLAIMS)
        a.goto(room)
        expect(a.locator("#queue li")).to_have_count(2)
        a.keyboard.press("Enter")
        expect(a.locator("#panel")).to_be_visible()
        b.goto(room)
        taken = b.locator("#queue li.taken")
        expect(taken).to_have_count(1)
        taken.dblclick()
        # A live change does the same: the queue asked again, the cursor off the held card.
        b.locator("#filters input[name=commune]").press("Enter")
        expect(b.locator("#live")).to_have_text(
            "Cette carte est déjà prise par une autre personne.", timeout=10_000
        )
        a.locator("#panel [data-decision]").first.click()
        expect(b.locator("#queue li")).to_have_count(1)
        expect(b.locator("#live")).to_have_text("")
    finally:
        ctx_a.close()
        ctx_b.close()


@pytest.mark.parametrize("status", [403, 500])
def test_a_claim_failing_for_another_reason_keeps_its_message(
    browser, live_server, room, status
) -> None:
    """An expired session or a server error on a free card is no « déjà prise »: its
    message stays when the queue next shows the card free (it read « de nouveau libre »)."""
    ctx, page = _login(browser, live_server, "veilleuse")
    try:
        page.route(
            "**/prendre/",
            lambda r: r.fulfill(
                status=status,
                content_type="application/json",
                body=json.dumps({"ok": False, "error": "Session expirée."}),
            ),
        )
        page.goto(room)
        expect(page.locator("#queue li")).to_have_count(2)
        page.keyboard.press("Enter")
        expect(page.locator("#live")).to_have_text("Session expirée.")
        # The queue is loaded again after the claim (and on every live change): the
        # message must outlive those loads.
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for_timeout(1500)
        expect(page.locator("#live")).to_have_text("Session expirée.")
    finally:
        ctx.close()
