"""A partner link's page, open in a browser without an account, follows the main
courante live, and says so when its link is revoked (session 8 walkthrough: the link's
page had no stream, a COD read stale lines with nothing saying so)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from beffroi.watch import live


@pytest.fixture
def shared(org, members, monkeypatch):
    from beffroi.watch import actions

    # The stream asks whether its link still holds every half second, not every 10 s.
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.5)
    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text="Route D746 coupée", channel="autre", category="routes"
    )
    link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return activation, link, token, coord


def _open(browser, url):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    referers: list[str] = []
    page.on("request", lambda r: referers.append(r.headers.get("referer") or ""))
    page.goto(url)
    expect(page.locator("#courante[data-live=on]")).to_have_count(1)
    return context, page, referers


def test_a_shared_line_appears_on_an_open_partner_link_page(browser, live_server, shared):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    activation, _link, token, coord = shared
    context, page, referers = _open(browser, f"{live_server.url}/partenaire/{token}/")
    try:
        rows = page.locator("#courante-rows tr[data-entry]")
        expect(rows).to_have_count(1)
        actions.add_log_entry(
            activation,
            actor=coord,
            text="Note interne : ne pas diffuser",
            channel="autre",
            category="autre",
            for_partners=False,
        )
        actions.add_log_entry(
            activation,
            actor=coord,
            text="Gymnase de Luçon ouvert",
            channel="officiel",
            category="officiel",
        )
        # No reload: the stream announces the change and the page fetches its rows.
        expect(page.locator("#courante-rows")).to_contain_text("Gymnase de Luçon ouvert")
        expect(rows).to_have_count(2)
        expect(page.locator("#courante-rows")).not_to_contain_text("Note interne")
        # The status line says what arrived (session 9: one polite sentence for screen
        # readers), nothing alarming about the link.
        assert page.locator("#live").inner_text() == "1 nouvelle ligne en main courante"
        expect(page.locator("#live")).not_to_have_class("link-gone")
    finally:
        context.close()
    whats = list(
        JournalEntry.objects.filter(action="watch.partner_link.view")
        .order_by("seq")
        .values_list("data__what", flat=True)
    )
    # The page, then one fetch per change that partners see: none when the page opened
    # (it already showed the current lines), none for the internal line.
    assert whats == ["page", "rows"]
    assert referers and all(token not in r for r in referers)


def test_a_revoked_links_open_page_says_so(browser, live_server, shared):
    from beffroi.watch import actions

    _activation, link, token, coord = shared
    context, page, _referers = _open(browser, f"{live_server.url}/partenaire/{token}/")
    try:
        actions.revoke_partner_link(link, actor=coord)
        status = page.locator("#live")
        expect(status).to_contain_text("Ce lien n'est plus valable (expiré ou révoqué)")
        expect(status).to_have_class("link-gone")
        expect(page.locator("#courante")).to_have_attribute("data-live", "off")
        # The lines read until then stay on the page, marked stale.
        expect(page.locator("#courante.stale #courante-rows")).to_contain_text("Route D746")
    finally:
        context.close()


def test_the_page_is_live_again_after_back_and_forth(browser, live_server, shared):
    from beffroi.watch import actions

    activation, _link, token, coord = shared
    context, page, _referers = _open(browser, f"{live_server.url}/partenaire/{token}/")
    try:
        # Back from the export page: reloaded, or restored from the browser's page cache
        # (whose closed stream the script opens again), the page follows the log again.
        page.locator("a[data-format=pdf]").click()
        page.wait_for_load_state()
        page.go_back()
        expect(page.locator("#courante[data-live=on]")).to_have_count(1)
        actions.add_log_entry(
            activation, actor=coord, text="Pont de Luçon fermé", channel="autre", category="routes"
        )
        expect(page.locator("#courante-rows")).to_contain_text("Pont de Luçon fermé")
    finally:
        context.close()
