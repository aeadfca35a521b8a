"""The triage room when something between the browser and the server answers instead of it
(a proxy's error page for the live stream, a captive portal or maintenance page for the
queue): the page says the live updates wait and tries again later each time; it never
stops in silence, and « session expirée » is kept for the real log-in page.

The browser's clock is Playwright's (``page.clock``): the retries are seconds away, the
test moves time on instead of waiting for it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from live_answers import answer, clocked, refused_then_back, unavailable_then_back, unexpected
from watch_rooms import triage_room

UNEXPECTED = unexpected(10)
EXPIRED = "Votre session a expiré : reconnectez-vous. La file n’est plus mise à jour."


@pytest.fixture
def room(org, members):
    return triage_room(
        org, members["coordinator"], ["Famille coincée sur le toit à Luçon", "Route coupée"]
    )


@pytest.fixture
def volunteer(browser, live_server):
    with clocked(browser, live_server.url, "volunteer") as page:
        yield page


def triage_url(live_server, org, room):
    return f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/"


def test_a_stream_refused_by_a_proxy_is_said_and_tried_again(live_server, org, room, volunteer):
    # The queue itself answers: the session did not end, the stream alone is refused.
    refused_then_back(volunteer, triage_url(live_server, org, room), "**/tri/flux/", "#triage")
    expect(volunteer.locator("#queue li")).to_have_count(2)


def test_a_portal_page_for_the_queue_is_not_a_session_expired(live_server, org, room, volunteer):
    page = volunteer
    page.goto(triage_url(live_server, org, room))
    expect(page.locator("#queue li")).to_have_count(2)
    answer(page, "**/tri/file.json*")
    page.locator("#filters input[name=commune]").press("Enter")
    expect(page.locator("#live")).to_have_text(UNEXPECTED)
    expect(page.locator("#live")).not_to_have_text(EXPIRED)
    expect(page.locator("#queue li")).to_have_count(2)  # what was read stays, greyed
    expect(page.locator("#triage")).to_have_class("triage stale")
    # The portal is gone: the queue's own retry brings it back, without a keystroke.
    page.unroute("**/tri/file.json*")
    page.clock.run_for(11_000)
    expect(page.locator("#live")).to_have_text("")
    expect(page.locator("#triage")).to_have_class("triage")


def test_a_redirect_elsewhere_is_not_a_session_expired(live_server, org, room, volunteer):
    """A same-site redirect that is not to the log-in page (a maintenance page)."""
    page = volunteer
    page.goto(triage_url(live_server, org, room))
    expect(page.locator("#queue li")).to_have_count(2)
    answer(page, "**/tri/file.json*", status=302, body="", headers={"Location": "/maintenance/"})
    page.locator("#filters input[name=commune]").press("Enter")
    expect(page.locator("#live")).to_have_text(UNEXPECTED)


def test_a_portal_page_for_a_claim_says_it_may_not_be_recorded(live_server, org, room, volunteer):
    page = volunteer
    # Routed before the page opens (nothing claims on opening): once, under load, a claim
    # routed after the queue had shown reached the server ("Carte prise.").
    asked = answer(page, "**/cartes/*/prendre/")
    page.goto(triage_url(live_server, org, room))
    expect(page.locator("#queue li")).to_have_count(2)
    page.keyboard.press("Enter")
    expect(page.locator("#live")).to_have_text(
        "Réponse inattendue du serveur : l’action n’a peut-être pas été enregistrée. "
        "Voyez la file avant de recommencer."
    )
    assert len(asked) == 1 and asked[0].endswith("/prendre/")
    expect(page.locator("#panel")).to_be_hidden()


def test_a_stream_failing_with_a_5xx_says_when_it_tries_again(live_server, org, room, volunteer):
    """Retried already (Retry-After), it used to wait in silence too."""
    unavailable_then_back(volunteer, triage_url(live_server, org, room), "**/tri/flux/", "#triage")
