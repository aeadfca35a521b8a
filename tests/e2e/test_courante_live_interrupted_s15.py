"""The main courante (a member's page) and a partner link's page when something between the
browser and the server answers in its place: like the triage room, they say the live
updates wait and try again later each time, instead of stopping in silence. « Session
expirée » is said for the real log-in page only, « lien expiré ou révoqué » for the
server's own answer to a dead link only; a portal's page never takes the table's place."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from browser_sessions import log_in
from live_answers import (
    INTERRUPTED,
    answer,
    clocked,
    refused_then_back,
    shared_courante,
    unavailable_then_back,
    unexpected,
)

EXPIRED = "Votre session a expiré : reconnectez-vous. La main courante n’est plus mise à jour."
GONE = "Ce lien n'est plus valable (expiré ou révoqué)"
STREAM, ROWS = "**/flux/", "**/lignes/*"


@pytest.fixture(autouse=True)
def _quick_recheck(monkeypatch):
    # The live server runs in this process: its streams recheck their reader every half
    # second instead of ten, so a test waits for the page's reaction, not the clock.
    from beffroi.watch import live

    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.5)


@pytest.fixture
def shared(org, members):
    return shared_courante(org, members["coordinator"])


def add_line(activation, coordinator, text: str) -> None:
    from beffroi.watch import actions

    actions.add_log_entry(
        activation, actor=coordinator, text=text, channel="officiel", category="officiel"
    )


@pytest.fixture(params=["team", "partner"])
def reader(request, browser, live_server, org, shared):
    """(page, url): the main courante of a volunteer, or the partner link's page (nobody
    logged in), on Playwright's clock, not opened yet."""
    activation, _link, token = shared
    if request.param == "team":
        url, user = (
            f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/",
            "volunteer",
        )
    else:
        url, user = f"{live_server.url}/partenaire/{token}/", None
    with clocked(browser, live_server.url, user) as page:
        yield page, url


def test_a_stream_refused_by_a_proxy_is_said_and_tried_again(reader):
    page, url = reader
    refused_then_back(page, url, STREAM, "#courante")
    expect(page.locator("#courante-rows tr[data-entry]")).to_have_count(1)


def test_a_stream_failing_with_a_5xx_says_when_it_tries_again(reader):
    page, url = reader
    unavailable_then_back(page, url, STREAM, "#courante")


def test_a_portal_page_never_takes_the_tables_place(reader, shared, members):
    activation, _link, _token = shared
    page, url = reader
    page.goto(url)
    expect(page.locator("#courante")).to_have_attribute("data-live", "on")
    asked = answer(page, ROWS)
    # A line arrives: the stream says so, and the rows' request meets the portal.
    add_line(activation, members["coordinator"], "Gymnase de Luçon ouvert")
    expect(page.locator("#live")).to_have_text(unexpected(10))
    assert asked
    # What was read stays, greyed; nothing of the portal's page is shown.
    expect(page.locator("#courante.stale #courante-rows tr[data-entry]")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("Wi-Fi de la mairie")
    expect(page.locator("#live")).not_to_have_text(re.compile("session|lien", re.I))
    # Still the portal at the next try: said again, twice as long.
    page.clock.run_for(11_000)
    expect(page.locator("#live")).to_have_text(unexpected(20))
    # The portal is gone: the page's own retry brings the new line, without a keystroke.
    page.unroute(ROWS)
    page.clock.run_for(21_000)
    expect(page.locator("#courante-rows")).to_contain_text("Gymnase de Luçon ouvert")
    expect(page.locator("#courante")).not_to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#live")).not_to_have_text(unexpected(20))


def test_a_proxys_404_is_not_a_dead_link(browser, live_server, shared):
    """Only the server's own answer says the link died: a proxy's 404 for the stream is
    waited out like any other refusal (partners were sent to ask for a new link)."""
    _activation, _link, token = shared
    with clocked(browser, live_server.url) as page:
        answer(page, STREAM, status=404, body="<h1>Not Found</h1>")
        page.goto(f"{live_server.url}/partenaire/{token}/")
        expect(page.locator("#live")).to_have_text(INTERRUPTED)
        expect(page.locator("#live")).not_to_have_class(re.compile("link-gone"))
        expect(page.locator("#courante")).not_to_have_class(re.compile(r"\bstale\b"))


def test_a_logout_in_another_tab_is_said_on_the_courante(browser, live_server, org, shared):
    activation, _link, _token = shared
    url = f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/"
    with clocked(browser, live_server.url, "volunteer") as page:
        page.goto(url)
        expect(page.locator("#courante")).to_have_attribute("data-live", "on")
        other = page.context.new_page()
        other.goto(f"{live_server.url}/")
        other.get_by_role("button", name="Se déconnecter").click()
        other.wait_for_load_state()
        # Nobody touches the page: it finds out from its own live stream.
        expect(page.locator("#live")).to_have_text(EXPIRED, timeout=20_000)
        expect(page.locator("#live")).to_have_class(re.compile(r"\bended\b"))
        expect(page.locator("#courante")).to_have_attribute("data-live", "off")
        # What was read stays, greyed; the log-in page is not shown in its place.
        expect(page.locator("#courante.stale #courante-rows tr[data-entry]")).to_have_count(1)
        # Logged in again (the other tab): the page's slow revive brings it back, stream too.
        log_in(other, live_server.url, "volunteer")
        page.clock.run_for(31_000)
        expect(page.locator("#live")).to_have_text("")
        expect(page.locator("#courante")).to_have_attribute("data-live", "on")
        expect(page.locator("#courante")).not_to_have_class(re.compile(r"\bstale\b"))


def test_a_link_expiring_while_open_shows_nothing_after(browser, live_server, shared, members):
    """The stream ends once the link expired (rechecked while it runs) and the page says
    so; a line shared afterwards reaches neither the page nor the journal of uses."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import PartnerLink

    activation, link, token = shared
    with clocked(browser, live_server.url) as page:
        page.goto(f"{live_server.url}/partenaire/{token}/")
        expect(page.locator("#courante")).to_have_attribute("data-live", "on")
        PartnerLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        add_line(activation, members["coordinator"], "Pont de Luçon fermé")
        expect(page.locator("#live")).to_contain_text(GONE)
        expect(page.locator("#live")).to_have_class(re.compile("link-gone"))
        expect(page.locator("#courante")).to_have_attribute("data-live", "off")
        page.clock.run_for(120_000)  # nothing comes back later either
        expect(page.locator("#courante.stale #courante-rows tr[data-entry]")).to_have_count(1)
        expect(page.locator("main")).not_to_contain_text("Pont de Luçon fermé")
    uses = JournalEntry.objects.filter(action="watch.partner_link.view")
    assert list(uses.values_list("data__what", flat=True)) == ["page"]
