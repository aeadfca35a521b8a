"""Regressions found by the session-6 walkthrough (English and French, desktop and
phone), in a real browser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import setup_consultation
from browser_sessions import browser_page, logged_in
from english_catalogue import english

PHONE = {"width": 390, "height": 844}


pytestmark = pytest.mark.usefixtures("live_consult")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_empty_household_form_names_its_rows_before_anything_is_sent(
    browser, live_server, org, lang
):
    # It used to be sent, refused with 400 (an error in the console) and answered
    # « lignes : au moins 1 ligne(s) à remplir », which names no row on the page.
    c, _ = setup_consultation(org, cid=f"s6-vide-{lang}", access="mixed", per_segment=1)
    labels = ", ".join(c.get_spec().rows.labels)
    context, page = browser_page(
        browser, live_server.url, lang=lang, viewport=PHONE, is_mobile=True, has_touch=True
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    with english():
        page.goto(f"{live_server.url}/c/{c.cid}/")
        page.locator("#segment").select_option(index=1)
        page.locator("#ballot-form button[type=submit]").click()
        expected = (
            f"Répondez aux questions d'au moins une ligne ({labels})."
            if lang == "fr"
            else f"Answer the questions of at least one row ({labels})."
        )
        expect(page.get_by_role("alert")).to_have_text(expected)
    assert posts == [] and errors == [], (posts, errors)
    context.close()


@pytest.mark.parametrize("lang,shown", [("en", "11/23/26, 19:05"), ("fr", "23/11/2026 19:05")])
def test_a_taken_card_says_when_on_the_24_hour_clock(
    browser, live_server, org, members, lang, shown
):
    # The main courante's lines say "Nov 23, 19:05"; the card said "7:05 PM".
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    Card.objects.create(
        activation=activation,
        group_id="g0",
        source_kind="mastodon",
        external_id="0",
        text="L'eau monte rue des Halles à Luçon",
        posted_at=datetime(2026, 11, 23, 18, 5, tzinfo=UTC),
        priority=0.9,
    )
    context, page = logged_in(
        browser, live_server.url, "volunteer", lang=lang, timezone_id="Europe/Paris"
    )
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/tri/")
    page.locator("#queue li").first.dblclick()
    expect(page.locator("#panel-meta")).to_contain_text(shown)
    expect(page.locator("#panel-meta")).not_to_contain_text("PM")
    context.close()
