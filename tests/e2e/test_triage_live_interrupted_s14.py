"""The triage room when something between the browser and the server answers instead of it
(a proxy's error page for the live stream, a captive portal or maintenance page for the
queue): the page says the live updates wait and tries again later each time; it never
stops in silence, and « session expirée » is kept for the real log-in page.

The browser's clock is Playwright's (``page.clock``): the retries are seconds away, the
test moves time on instead of waiting for it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser_sessions import logged_in
from watch_rooms import triage_room

INTERRUPTED = re.compile(r"^Mises à jour en direct interrompues : nouvel essai dans \d+ s\.$")
UNEXPECTED = re.compile(r"^Réponse inattendue du serveur : nouvel essai dans 10 s\.$")
EXPIRED = "Votre session a expiré : reconnectez-vous. La file n’est plus mise à jour."
PORTAL = "<!doctype html><html><body><h1>Wi-Fi de la mairie</h1><form></form></body></html>"


@pytest.fixture
def room(org, members):
    return triage_room(
        org, members["coordinator"], ["Famille coincée sur le toit à Luçon", "Route coupée"]
    )


@pytest.fixture
def volunteer(browser, live_server):
    context, page = logged_in(browser, live_server.url, "volunteer")
    try:
        page.clock.install()
        yield page
    finally:
        context.close()


def triage_url(live_server, org, room):
    return f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/"


def test_a_stream_refused_by_a_proxy_is_said_and_tried_again(live_server, org, room, volunteer):
    page = volunteer
    asked = []

    def proxy(route):
        asked.append(route.request.url)
        route.fulfill(status=403, content_type="text/html", body="<h1>Forbidden by proxy</h1>")

    page.route("**/tri/flux/", proxy)
    page.goto(triage_url(live_server, org, room))
    # The queue itself answers: the session did not end, the stream alone is refused.
    expect(page.locator("#queue li")).to_have_count(2)
    expect(page.locator("#live")).to_have_text(INTERRUPTED)
    expect(page.locator("#triage")).to_have_attribute("data-live", "off")
    expect(page.locator("#triage")).to_have_class("triage")  # nothing greyed: the queue is true
    seconds = int(re.search(r"\d+", page.locator("#live").inner_text()).group())
    assert 24 <= seconds <= 36  # 30 s, jittered
    # Still refused at the next try: said again, with a longer wait.
    tries, first = len(asked), page.locator("#live").inner_text()
    page.clock.run_for((seconds + 1) * 1000)
    expect(page.locator("#live")).not_to_have_text(first)
    expect(page.locator("#live")).to_have_text(INTERRUPTED)
    assert len(asked) > tries
    later = int(re.search(r"\d+", page.locator("#live").inner_text()).group())
    assert later >= 48  # 60 s, jittered
    # The proxy lets it through again: live at the next try, and the sentence goes.
    page.unroute("**/tri/flux/")
    page.clock.run_for((later + 1) * 1000)
    expect(page.locator("#triage")).to_have_attribute("data-live", "on")
    expect(page.locator("#live")).to_have_text("")


def test_a_portal_page_for_the_queue_is_not_a_session_expired(live_server, org, room, volunteer):
    page = volunteer
    page.goto(triage_url(live_server, org, room))
    expect(page.locator("#queue li")).to_have_count(2)
    page.route(
        "**/tri/file.json*",
        lambda route: route.fulfill(status=200, content_type="text/html", body=PORTAL),
    )
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
    page.route(
        "**/tri/file.json*",
        lambda route: route.fulfill(status=302, headers={"Location": "/maintenance/"}),
    )
    page.locator("#filters input[name=commune]").press("Enter")
    expect(page.locator("#live")).to_have_text(UNEXPECTED)


def test_a_portal_page_for_a_claim_says_it_may_not_be_recorded(live_server, org, room, volunteer):
    page = volunteer
    page.goto(triage_url(live_server, org, room))
    expect(page.locator("#queue li")).to_have_count(2)
    page.route(
        "**/prendre/",
        lambda route: route.fulfill(status=200, content_type="text/html", body=PORTAL),
    )
    page.keyboard.press("Enter")
    expect(page.locator("#live")).to_have_text(
        "Réponse inattendue du serveur : l’action n’a peut-être pas été enregistrée. "
        "Voyez la file avant de recommencer."
    )
    expect(page.locator("#panel")).to_be_hidden()


def test_a_stream_failing_with_a_5xx_says_when_it_tries_again(live_server, org, room, volunteer):
    """Retried already (Retry-After), it used to wait in silence too."""
    page = volunteer
    page.route(
        "**/tri/flux/",
        lambda route: route.fulfill(
            status=503, headers={"Retry-After": "4"}, content_type="text/html", body="<h1>503</h1>"
        ),
    )
    page.goto(triage_url(live_server, org, room))
    expect(page.locator("#queue li")).to_have_count(2)
    # 4 s, jittered by a fifth either way, rounded up.
    expect(page.locator("#live")).to_have_text(
        re.compile(r"^Mises à jour en direct interrompues : nouvel essai dans [45] s\.$")
    )
    page.unroute("**/tri/flux/")
    page.clock.run_for(6_000)
    expect(page.locator("#triage")).to_have_attribute("data-live", "on")
    expect(page.locator("#live")).to_have_text("")
