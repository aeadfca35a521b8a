"""The watch room in a real browser: two volunteers, one queue; a partner's
main courante updated live; an export downloaded and parsed."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from browser_sessions import logged_in
from watch_rooms import triage_room


@pytest.fixture
def room(org, members, second_volunteer):
    texts = [
        "Famille coincée sur le toit, rue des Halles à Luçon",
        "Route D746 coupée à Chasnais",
        "L'eau monte au camping de Saint-Denis-du-Payré",
        "Courage à tous les Vendéens",
        "Gymnase de Luçon ouvert pour l'hébergement",
        "Photo impressionnante de la digue",
    ]
    return triage_room(org, members["coordinator"], texts), second_volunteer


def _login(browser, live_server, username):
    return logged_in(browser, live_server.url, username, accept_downloads=True)


def _take(page):
    """Enter on the card under the cursor; if someone was faster, the refusal is
    shown, the queue refreshes (the cursor leaves their card) and we go again."""
    for _attempt in range(3):
        page.keyboard.press("Enter")
        try:
            expect(page.locator("#panel")).to_be_visible(timeout=3000)
            return
        except AssertionError:
            expect(page.locator("#live")).to_contain_text(re.compile("déjà (prise|été traitée)"))
            page.wait_for_timeout(500)
    raise AssertionError("could not take a card")


def test_two_volunteers_triage_one_queue_without_collisions(browser, live_server, org, room):
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Card, CardDecision

    activation, _other = room
    url = f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/tri/"
    ctx_a, a = _login(browser, live_server, "volunteer")
    ctx_b, b = _login(browser, live_server, "veilleuse")
    try:
        for page in (a, b):
            page.goto(url)
            expect(page.locator("#queue li")).to_have_count(6)
        # Both have the top card under the cursor; both press Enter.
        a.keyboard.press("Enter")
        expect(a.locator("#panel")).to_be_visible()
        _take(b)
        expect(b.locator("#queue li.taken")).to_have_count(1)
        a_text = a.locator("#panel-text").inner_text()
        b_text = b.locator("#panel-text").inner_text()
        assert a_text != b_text
        # One-key decisions, with a note typed from the keyboard.
        a.keyboard.press("n")
        a.keyboard.type("appel au 18 conseillé")
        a.keyboard.press("Escape")  # leaves the notes field
        a.keyboard.press("4")
        b.keyboard.press("1")
        expect(a.locator("#live")).to_have_text("Décision enregistrée.")
        expect(b.locator("#live")).to_have_text("Décision enregistrée.")
        expect(a.locator("#queue li")).to_have_count(4)
        expect(b.locator("#queue li")).to_have_count(4)
        # Then they go on: j moves, Enter claims, 2 decides.
        for page in (a, b):
            _take(page)
            page.keyboard.press("2")
            expect(page.locator("#live")).to_have_text("Décision enregistrée.")
    finally:
        ctx_a.close()
        ctx_b.close()
    decided = Card.objects.filter(activation=activation, state="decided")
    assert decided.count() == 4
    # No card was decided twice, no card was claimed by both.
    assert CardDecision.objects.count() == 4
    assert len({d.card_id for d in CardDecision.objects.all()}) == 4
    claims = list(
        JournalEntry.objects.filter(action="watch.card.claim").values_list("subject", flat=True)
    )
    assert len(claims) == len(set(claims)) == 4
    top = Card.objects.get(text__startswith="Famille coincée")
    assert top.decision in ("verified", "irrelevant")
    if top.decision == "verified":
        assert top.notes == "appel au 18 conseillé"


def test_escalated_card_appears_live_in_the_partners_main_courante(browser, live_server, org, room):
    activation, _other = room
    ctx_p, partner = _login(browser, live_server, "partner")
    ctx_v, volunteer = _login(browser, live_server, "volunteer")
    try:
        partner.goto(f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/")
        expect(partner.locator("#courante[data-live=on]")).to_have_count(1)
        expect(partner.locator("#courante-rows")).not_to_contain_text("coincée")
        volunteer.goto(f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/tri/")
        expect(volunteer.locator("#queue li")).to_have_count(6)
        volunteer.keyboard.press("Enter")
        expect(volunteer.locator("#panel")).to_be_visible()
        volunteer.locator("#category").select_option("personnes")
        volunteer.locator("#verification").select_option("verified")
        volunteer.keyboard.press("e")
        expect(volunteer.locator("#live")).to_contain_text("ligne 1")
        # No reload on the partner's side: the event stream brings the line.
        row = partner.locator("#courante-rows tr[data-entry='1']")
        expect(row).to_contain_text("Famille coincée sur le toit", timeout=20_000)
        expect(row).to_contain_text("Personnes en danger")
        expect(row).to_contain_text("Vérifié")  # the verdict sent with the card
    finally:
        ctx_p.close()
        ctx_v.close()


def test_export_downloads_and_parses(browser, live_server, org, members, room):
    from openpyxl import load_workbook

    from beffroi.watch import actions

    activation, _other = room
    actions.add_log_entry(
        activation,
        actor=members["coordinator"],
        text="Pont de Mareuil submergé",
        channel="observation",
        category="routes",
    )
    ctx, page = _login(browser, live_server, "partner")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/")
        with page.expect_download() as info:
            page.locator("a[data-format=csv]").click()
        download = info.value
        assert re.fullmatch(
            r"main-courante-crue-du-lay-\d{8}-\d{4}\.csv", download.suggested_filename
        )
        with open(download.path(), encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0][:2] == ["N°", "Heure"] and rows[1][6] == "Pont de Mareuil submergé"
        with page.expect_download() as info:
            page.locator("a[data-format=xlsx]").click()
        assert info.value.suggested_filename.endswith(".xlsx")
        with open(info.value.path(), "rb") as f:
            sheet = load_workbook(io.BytesIO(f.read())).active
        assert sheet.cell(row=3, column=7).value == "Pont de Mareuil submergé"
    finally:
        ctx.close()
