"""Browser-test helpers for a live watch page (triage room, main courante, a partner link's
page) meeting answers that are not its server's: a proxy's error page for its stream, a
captive portal's page, a maintenance redirect. The browser's clock is Playwright's
(``page.clock``): the retries are seconds away, a test moves time on instead of waiting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import expect

from browser_sessions import browser_page, logged_in

INTERRUPTED = re.compile(r"^Mises à jour en direct interrompues : nouvel essai dans \d+ s\.$")
PORTAL = "<!doctype html><html><body><h1>Wi-Fi de la mairie</h1><form></form></body></html>"


def shared_courante(org, coordinator, lines=("Route D746 coupée",)):
    """(activation, link, token): « Crue du Lay » with one line per text of ``lines``, all
    shared with partners, and a partner link « COD 85 » valid one day."""
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coordinator
    )
    for text in lines:
        actions.add_log_entry(
            activation, actor=coordinator, text=text, channel="autre", category="routes"
        )
    link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coordinator)
    return activation, link, token


@contextmanager
def clocked(browser, base_url: str, username: str | None = None) -> Iterator:
    """A page logged in as ``username`` (nobody: None), on Playwright's clock."""
    if username is None:
        context, page = browser_page(browser, base_url)
    else:
        context, page = logged_in(browser, base_url, username)
    try:
        page.clock.install()
        yield page
    finally:
        context.close()


def unexpected(seconds: int = 10) -> re.Pattern[str]:
    return re.compile(rf"^Réponse inattendue du serveur : nouvel essai dans {seconds} s\.$")


def answer(page, glob: str, status: int = 200, body: str = PORTAL, **options) -> list[str]:
    """Requests matching ``glob`` get this answer instead of the server's, until
    ``page.unroute(glob)``; returns the list of the addresses asked, filled as they come."""
    asked: list[str] = []

    def fulfil(route):
        asked.append(route.request.url)
        route.fulfill(status=status, body=body, **{"content_type": "text/html", **options})

    page.route(glob, fulfil)
    return asked


def waited(page) -> int:
    """The seconds the status line says the page waits."""
    return int(re.search(r"\d+", page.locator("#live").inner_text()).group())


def refused_then_back(page, url: str, stream: str, root: str) -> None:
    """Opens ``url`` with its stream (``stream``, a glob) refused by a proxy's 403 page: the
    page says the live updates wait and tries again later each time, and follows again
    once the proxy lets the stream through. ``root``: the page's live element."""
    asked = answer(page, stream, status=403, body="<h1>Forbidden by proxy</h1>")
    page.goto(url)
    expect(page.locator("#live")).to_have_text(INTERRUPTED)
    expect(page.locator(root)).to_have_attribute("data-live", "off")
    expect(page.locator(root)).not_to_have_class(re.compile(r"\bstale\b"))  # what it shows holds
    seconds = waited(page)
    assert 24 <= seconds <= 36  # 30 s, jittered
    # Still refused at the next try: said again, with a longer wait.
    tries, first = len(asked), page.locator("#live").inner_text()
    page.clock.run_for((seconds + 1) * 1000)
    expect(page.locator("#live")).not_to_have_text(first)
    expect(page.locator("#live")).to_have_text(INTERRUPTED)
    assert len(asked) > tries
    later = waited(page)
    assert later >= 48  # 60 s, jittered
    # The proxy lets it through again: live at the next try, and the sentence goes.
    page.unroute(stream)
    page.clock.run_for((later + 1) * 1000)
    expect(page.locator(root)).to_have_attribute("data-live", "on")
    expect(page.locator("#live")).to_have_text("")


def unavailable_then_back(page, url: str, stream: str, root: str) -> None:
    """Opens ``url`` with its stream failing with a 503 and ``Retry-After: 4``: the page
    says when it tries again (it used to wait in silence), and follows again after."""
    answer(page, stream, status=503, body="<h1>503</h1>", headers={"Retry-After": "4"})
    page.goto(url)
    # 4 s, jittered by a fifth either way, rounded up.
    expect(page.locator("#live")).to_have_text(
        re.compile(r"^Mises à jour en direct interrompues : nouvel essai dans [45] s\.$")
    )
    page.unroute(stream)
    page.clock.run_for(6_000)
    expect(page.locator(root)).to_have_attribute("data-live", "on")
    expect(page.locator("#live")).to_have_text("")
