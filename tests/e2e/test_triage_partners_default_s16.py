"""The triage panel's « Transmettre aux partenaires » follows the verification select (ticked
for « Vérifié » alone) until the volunteer touches the box; from then on their choice
stands, and the next card starts unticked and following again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_sessions import logged_in
from watch_rooms import triage_room


@pytest.fixture
def room(org, members):
    return triage_room(
        org, members["coordinator"], ["Famille coincée sur le toit à Luçon", "Digue fissurée"]
    )


def test_the_partners_box_follows_the_verification_until_touched(browser, live_server, org, room):
    from beffroi.watch.models import LogEntry

    context, page = logged_in(browser, live_server.url, "volunteer")
    box = page.locator("#for-partners")
    verification = page.locator("#verification")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
        expect(page.locator("#queue li")).to_have_count(2)
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        expect(box).not_to_be_checked()
        verification.select_option("verified")
        expect(box).to_be_checked()
        for other in ("to_verify", "rumour", "false", "relevant", ""):
            verification.select_option(other)
            expect(box).not_to_be_checked()
        verification.select_option("verified")
        expect(box).to_be_checked()
        # Unticked by hand on a verified card: the select no longer moves it.
        box.uncheck()
        verification.select_option("to_verify")
        verification.select_option("verified")
        expect(box).not_to_be_checked()
        # Ticked by hand on an unverified one: sent as chosen.
        box.check()
        verification.select_option("rumour")
        expect(box).to_be_checked()
        page.locator("#escalate").click()
        expect(page.locator("#live")).to_have_text("Envoyée en main courante (ligne 1).")
        # The next card: unticked, and the box follows its select again.
        expect(page.locator("#queue li")).to_have_count(1)
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        expect(page.locator("#panel-text")).to_have_text("Digue fissurée")
        expect(verification).to_have_value("")
        expect(box).not_to_be_checked()
        verification.select_option("verified")
        expect(box).to_be_checked()
        verification.select_option("to_verify")
        expect(box).not_to_be_checked()
        page.locator("#escalate").click()
        expect(page.locator("#live")).to_have_text("Envoyée en main courante (ligne 2).")
    finally:
        context.close()
    first, second = LogEntry.objects.order_by("number")
    assert (first.verification, first.for_partners) == ("rumour", True)
    assert (second.verification, second.for_partners) == ("to_verify", False)
