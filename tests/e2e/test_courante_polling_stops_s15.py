"""The main courante and a partner link's page without EventSource (an old browser, a
proxy that breaks streams: the page polls its rows instead) stop asking once nothing
more can come: a dead link is never asked again, and a member's page whose session ended
leaves the asking to the slow revive. A partner page's 5xx is not asked again at once
(each fetch of its rows is a journaled use of the link)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from live_answers import answer, clocked, shared_courante, unexpected

pytestmark = pytest.mark.usesdb

GONE = "Ce lien n'est plus valable (expiré ou révoqué)"
EXPIRED = "Votre session a expiré : reconnectez-vous. La main courante n’est plus mise à jour."
ROWS = "**/lignes/*"
NO_STREAM = "delete window.EventSource; window.EventSource = undefined;"


def _asked(page) -> list[str]:
    """The rows' requests the page makes, filled as they go."""
    asked: list[str] = []

    # By path: the redirect to the log-in page names the rows in its query.
    def seen(request) -> None:
        if "/lignes/" in urlsplit(request.url).path:
            asked.append(request.url)

    page.on("request", seen)
    return asked


def test_a_partner_page_without_eventsource_stops_polling_a_dead_link(
    browser, live_server, org, members
):
    from beffroi.watch import actions

    _activation, link, token = shared_courante(org, members["coordinator"])
    with clocked(browser, live_server.url) as page:
        page.add_init_script(NO_STREAM)
        asked = _asked(page)
        page.goto(f"{live_server.url}/partenaire/{token}/")
        expect(page.locator("#courante-rows tr[data-entry]")).to_have_count(1)
        actions.revoke_partner_link(link, actor=members["coordinator"])
        page.clock.run_for(61_000)  # the minute's poll meets the dead link
        expect(page.locator("#live")).to_contain_text(GONE)
        expect(page.locator("#live")).to_have_class(re.compile("link-gone"))
        after = len(asked)
        assert after >= 1
        page.clock.run_for(10 * 60_000)
        page.wait_for_timeout(200)  # any request started by the timers is seen
        assert len(asked) == after, asked[after:]


def test_a_partner_pages_5xx_is_not_asked_again_at_once(browser, live_server, org, members):
    from beffroi.watch import actions

    activation, _link, token = shared_courante(org, members["coordinator"])
    with clocked(browser, live_server.url) as page:
        page.goto(f"{live_server.url}/partenaire/{token}/")
        expect(page.locator("#courante")).to_have_attribute("data-live", "on")
        asked = answer(page, ROWS, status=502, body="<h1>Bad gateway</h1>")
        actions.add_log_entry(
            activation, actor=members["coordinator"], text="Pont fermé", channel="officiel",
            category="officiel",
        )  # fmt: skip
        expect(page.locator("#live")).to_have_text(unexpected(10))
        page.clock.run_for(2_000)
        assert len(asked) == 1, asked
        # Asked again later, like any unexpected answer.
        page.unroute(ROWS)
        page.clock.run_for(10_000)
        expect(page.locator("#courante-rows")).to_contain_text("Pont fermé")


def test_a_member_page_without_eventsource_stops_polling_once_the_session_ended(
    browser, live_server, org, members
):
    activation, _link, _token = shared_courante(org, members["coordinator"])
    url = f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/"
    with clocked(browser, live_server.url, "volunteer") as page:
        page.add_init_script(NO_STREAM)
        asked = _asked(page)
        page.goto(url)
        expect(page.locator("#courante-rows tr[data-entry]")).to_have_count(1)
        page.context.clear_cookies()  # the session ends
        page.clock.run_for(6_000)  # the next 5 s poll meets the log-in page
        expect(page.locator("#live")).to_have_text(EXPIRED)
        after = len(asked)
        # The 5 s poll stops; the revive asks every 30 s only.
        page.clock.run_for(25_000)
        page.wait_for_timeout(200)
        assert len(asked) == after, asked[after:]
        page.clock.run_for(6_000)
        page.wait_for_timeout(200)
        assert len(asked) == after + 1, asked[after:]
