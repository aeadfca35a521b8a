"""A partner reads an older page of the main courante through a partner link while lines
keep arriving: the page refreshes live without its lines moving, and « plus anciennes »
goes on from its last line, nothing skipped, nothing read twice."""

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
    # 250 lines, one a minute; every fifth is internal: 200 for the partners.
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=activation,
            number=n,
            at=now - timezone.timedelta(minutes=300 - n),
            channel="telephone",
            category="routes",
            text=f"Appel numéro {n}" + (" (interne)" if n % 5 == 0 else ""),
            for_partners=n % 5 != 0,
        )
        for n in range(1, 251)
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return activation, token, coord


def _numbers(page) -> list[int]:
    return [int(n) for n in page.locator("#courante-rows tr[data-entry]").evaluate_all(
        "rows => rows.map(r => r.dataset.entry)"
    )]  # fmt: skip


def test_an_older_page_stays_put_while_lines_arrive(browser, live_server, shared):
    from beffroi.watch import actions

    activation, token, coord = shared
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/partenaire/{token}/")
        expect(page.locator("#courante[data-live=on]")).to_have_count(1)
        first = _numbers(page)
        assert len(first) == 100 and first[0] == 249
        page.get_by_test_id("courante-older").click()
        # The link carries the partner's mark (« lu »: the newest line and the second).
        page.wait_for_url(re.compile(r"\?depuis=124&lu=249_\d+$"))
        expect(page.locator("#courante[data-live=on]")).to_have_count(1)
        second = _numbers(page)
        assert second[0] == 124 and len(second) == 100
        # Three lines for the partners and one internal arrive while page 2 is read.
        for text, shared_line in [("Digue rompue", True), ("Note interne", False)] + [
            (f"Pont {i} fermé", True) for i in range(2)
        ]:
            actions.add_log_entry(
                activation,
                actor=coord,
                text=text,
                channel="autre",
                category="routes",
                for_partners=shared_line,
            )
        # The live refresh: the page's place in the whole moved, its lines did not.
        expect(page.get_by_test_id("courante-range")).to_contain_text("Lignes 104 à 203 sur 203")
        assert _numbers(page) == second
        expect(page.locator("#courante-rows")).not_to_contain_text("interne")
        page.get_by_test_id("courante-newer").click()
        expect(page.locator("#courante-rows tr[data-entry]").first).to_have_attribute(
            "data-entry", "249"
        )
        assert _numbers(page) == first
        page.get_by_test_id("courante-newer").click()
        expect(page.locator("#courante-rows tr[data-entry]").first).to_contain_text("Pont 1")
        # Every partner line once, down the pages from the newest.
        seen = _numbers(page)
        while page.get_by_test_id("courante-older").count():
            older = page.get_by_test_id("courante-older")
            href = older.get_attribute("href") or ""
            older.click()
            page.wait_for_url(re.compile(re.escape(href) + "$"))
            seen += _numbers(page)
        assert seen == [254, 253, 251] + [n for n in range(250, 0, -1) if n % 5]
    finally:
        context.close()
