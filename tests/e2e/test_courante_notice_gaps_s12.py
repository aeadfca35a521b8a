"""A partner reading the newest page through a partner link, live: a line the team
sends them after the fact, whose time puts it far below, is said on the page and in its
polite status region (« 1 ligne ajoutée plus bas — la voir »), and its link leads to it.
A line of the past kept internal is not news to them (the valve)."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import expect

from e2e import test_courante_news_s11 as news

# The same night and partner link as there: 150 lines, one a minute, every fifth internal
# (120 for the partners); a partner's newest page holds 149 down to 26.
shared = news.shared


def test_a_line_shared_later_below_the_page_is_said_and_reached(
    browser, live_server, shared, members
):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation, token = shared
    coord = members["coordinator"]
    context = browser.new_context(locale="fr-FR")
    partner = context.new_page()
    partner.set_default_timeout(15_000)
    try:
        partner.goto(f"{live_server.url}/partenaire/{token}/")
        expect(partner.locator("#courante[data-live=on]")).to_have_count(1)
        expect(partner.locator("#courante-rows tr[data-entry]").last).to_have_attribute(
            "data-entry", "26"
        )
        # A call of the past logged now, kept internal: nothing for the partner.
        actions.add_log_entry(
            activation, actor=coord, text="Appel ancien interne", channel="telephone",
            category="routes", at=timezone.now() - timezone.timedelta(minutes=190),
            for_partners=False,
        )  # fmt: skip
        # Line 10, internal so far, is sent to the partners.
        line = LogEntry.objects.get(activation=activation, number=10)
        actions.set_entry_sharing(line, True, actor=coord)
        notice = partner.get_by_test_id("courante-news")
        expect(notice).to_have_text(re.compile(r"^\s*1 ligne ajoutée plus bas — la voir\s*$"))
        expect(partner.locator("#live[role=status][aria-live=polite]")).to_have_text(
            re.compile(r"1 ligne ajoutée plus bas")
        )
        expect(partner.locator("#courante-rows")).not_to_contain_text("Appel ancien")
        partner.get_by_test_id("courante-below").click()
        partner.wait_for_url(re.compile(r"\?depuis=10&lu=149_\d+#ligne-10$"))
        expect(partner.locator("#courante-rows tr[data-entry]").first).to_have_attribute(
            "data-entry", "10"
        )
        expect(partner.get_by_test_id("courante-news")).to_have_count(0)
        expect(partner.locator("#courante-rows")).not_to_contain_text("Appel ancien")
    finally:
        context.close()
