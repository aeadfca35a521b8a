"""Two windows: a volunteer adds lines to the main courante while a partner reads an
older page through a partner link. The partner's page does not move, but it says, live
and politely, how many lines arrived at the top (« 2 nouvelles lignes — voir les plus
récentes »), counting only the lines shared with the partners: an internal line is not
news to them (the valve)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from beffroi.watch import live


@pytest.fixture
def shared(org, members, monkeypatch):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.5)
    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Nuit longue", event_type="inondation", actor=coord
    )
    now = timezone.now()
    # 150 lines, one a minute; every fifth is internal: 120 for the partners.
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=activation,
            number=n,
            at=now - timezone.timedelta(minutes=200 - n),
            channel="telephone",
            category="routes",
            text=f"Appel numéro {n}" + (" (interne)" if n % 5 == 0 else ""),
            for_partners=n % 5 != 0,
        )
        for n in range(1, 151)
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return activation, token


def _add_line(page, text: str, *, for_partners: bool) -> None:
    page.locator("#id_text").fill(text)
    page.locator("#id_channel").select_option("autre")
    page.locator("#id_category").select_option("routes")
    box = page.locator("#id_for_partners")
    if box.is_checked() != for_partners:
        box.click()
    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("#courante-rows")).to_contain_text(text)


def test_a_partner_on_an_older_page_hears_of_shared_lines_only(
    browser, live_server, shared, login, page
):
    activation, token = shared
    # The volunteer's window (the ``page`` fixture, logged in).
    login("volunteer")
    page.goto(
        f"{live_server.url}/o/{activation.organisation.slug}/veille/{activation.pk}/main-courante/"
    )
    expect(page.locator("#courante[data-live=on]")).to_have_count(1)
    # The partner's window.
    context = browser.new_context(locale="fr-FR")
    partner = context.new_page()
    partner.set_default_timeout(15_000)
    try:
        partner.goto(f"{live_server.url}/partenaire/{token}/")
        expect(partner.locator("#courante[data-live=on]")).to_have_count(1)
        partner.get_by_test_id("courante-older").click()
        partner.wait_for_url(re.compile(r"\?depuis=\d+&lu=\d+_\d+$"))
        expect(partner.locator("#courante[data-live=on]")).to_have_count(1)
        first = partner.locator("#courante-rows tr[data-entry]").first.get_attribute("data-entry")
        expect(partner.get_by_test_id("courante-news")).to_have_count(0)

        _add_line(page, "Note interne : rappeler le maire", for_partners=False)
        _add_line(page, "Digue rompue à l'Aiguillon", for_partners=True)
        # Wait until the partner's page has heard of the first shared line, then add a
        # second internal one and a second shared one.
        expect(partner.get_by_test_id("courante-news")).to_have_text(
            re.compile(r"^\s*1 nouvelle ligne — voir les plus récentes\s*$")
        )
        _add_line(page, "Autre note interne", for_partners=False)
        _add_line(page, "Pont de la Tranche fermé", for_partners=True)

        notice = partner.get_by_test_id("courante-news")
        expect(notice).to_have_text(
            re.compile(r"^\s*2 nouvelles lignes — voir les plus récentes\s*$")
        )
        # Said politely (the page's status region), once per change.
        expect(partner.locator("#live[role=status][aria-live=polite]")).to_have_text(
            re.compile(r"2 nouvelles lignes — voir les plus récentes")
        )
        # The page being read did not move.
        expect(partner.locator("#courante-rows tr[data-entry]").first).to_have_attribute(
            "data-entry", first or ""
        )
        expect(partner.locator("#courante-rows")).not_to_contain_text("interne")
        # The link leads to the newest lines, which start with the two that arrived.
        partner.get_by_test_id("courante-newest").click()
        expect(partner.locator("#courante-rows tr[data-entry]").first).to_contain_text(
            "Pont de la Tranche fermé"
        )
        expect(partner.locator("#courante-rows tr[data-entry]").nth(1)).to_contain_text(
            "Digue rompue"
        )
        expect(partner.get_by_test_id("courante-news")).to_have_count(0)
        expect(partner.locator("#courante-rows")).not_to_contain_text("interne")
    finally:
        context.close()
