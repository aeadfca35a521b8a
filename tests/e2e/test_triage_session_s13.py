"""The triage room when the session ends under a volunteer's hands: a decision sent then
is refused in words (not « Erreur 200. »), nothing is recorded, and what was typed stays
in the panel to be sent again after logging in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_sessions import logged_in
from watch_rooms import triage_room

EXPIRED = "Votre session a expiré : reconnectez-vous. La décision n’a pas été enregistrée."
FORBIDDEN = (
    "Action refusée (session expirée ou page trop ancienne) : rechargez la page. "
    "Rien n’a été enregistré."
)


@pytest.fixture
def room(org, members):
    return triage_room(org, members["coordinator"], ["Famille coincée sur le toit à Luçon"])


@pytest.mark.parametrize(
    ("cookies", "said"),
    [
        # The session alone ends (expiry, logout in another tab): the login redirect.
        ("sessionid", EXPIRED),
        # Every cookie gone (the CSRF one too): Django's CSRF refusal, a 403 in HTML.
        (None, FORBIDDEN),
    ],
)
def test_a_decision_after_the_session_ended_is_refused_in_words(
    browser, live_server, org, room, cookies, said
):
    from beffroi.watch.models import Card, CardDecision

    context, page = logged_in(browser, live_server.url, "volunteer")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
        expect(page.locator("#queue li")).to_have_count(1)
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        page.keyboard.press("n")
        page.keyboard.type("rappelé la mairie")
        page.keyboard.press("Escape")
        if cookies:
            context.clear_cookies(name=cookies)
        else:
            context.clear_cookies()
        page.keyboard.press("4")
        expect(page.locator("#panel-error")).to_have_text(said)
        expect(page.locator("#panel")).to_be_visible()
        expect(page.locator("#notes")).to_have_value("rappelé la mairie")
    finally:
        context.close()
    assert not CardDecision.objects.exists()
    assert Card.objects.get().state == "queued"


def test_the_note_and_the_line_text_are_typed_apart_from_the_keyboard(
    browser, live_server, org, room
):
    from beffroi.watch.models import Card, LogEntry

    context, page = logged_in(browser, live_server.url, "volunteer")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
        expect(page.locator("#queue li")).to_have_count(1)
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        page.keyboard.press("n")
        page.keyboard.type("rappelé l'occupante au 06 12 34 56 78")
        page.keyboard.press("Escape")
        page.keyboard.press("l")
        page.keyboard.type("Famille sur le toit, secours prévenus")
        page.keyboard.press("Escape")
        page.keyboard.press("e")
        expect(page.locator("#live")).to_have_text("Envoyée en main courante (ligne 1).")
    finally:
        context.close()
    line = LogEntry.objects.get()
    # Sent with no verification: the partners' box starts unticked (it was ticked by
    # default before the valve followed the verification, test_triage_partners_default_s16).
    assert line.text == "Famille sur le toit, secours prévenus" and not line.for_partners
    assert Card.objects.get().notes == "rappelé l'occupante au 06 12 34 56 78"
