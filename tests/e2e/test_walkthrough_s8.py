"""Regressions found by the session-8 walkthrough (every role, French and English,
desktop and phone), in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import BASE_URL, setup_consultation
from beffroi.consult.models import BoardEntry
from browser_sessions import browser_page, logged_in
from english_catalogue import english
from watch_rooms import triage_room

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


pytestmark = pytest.mark.usefixtures("live_consult")


def _login(browser, live_server, username: str, lang: str = "fr", viewport=None):
    return logged_in(browser, live_server.url, username, lang=lang, viewport=viewport or DESKTOP)


@pytest.fixture
def queue(org, members):
    return triage_room(
        org, members["coordinator"], ["Route D746 coupée à Chasnais", "Digue fragile à Triaize"]
    )


def test_enter_on_a_focused_link_or_button_is_not_taken_as_a_claim(
    browser, live_server, org, members, queue
) -> None:
    # The room's Enter shortcut took a card wherever the focus was: a keyboard user who
    # tabbed to a tab link or to « Relâcher » got « Carte prise. » and stayed put.
    from beffroi.watch.models import Card

    context, page = _login(browser, live_server, "volunteer")
    try:
        room = f"{live_server.url}/o/{org.slug}/veille/{queue.pk}/tri/"
        page.goto(room)
        expect(page.locator("#queue li")).to_have_count(2)
        # Enter with the focus on the page still takes the card under the cursor.
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        # Enter on the focused « Relâcher » button releases (the button's own action).
        page.locator("#release").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_hidden()
        expect(page.locator("#live")).to_have_text("Carte relâchée.")
        assert not Card.objects.filter(activation=queue, claimed_by__isnull=False).exists()
        # Enter on the focused « Main courante » tab follows the link; no card is taken.
        page.locator("nav.watch-tabs a", has_text="Main courante").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/veille/{queue.pk}/main-courante/")
        assert not Card.objects.filter(activation=queue, claimed_by__isnull=False).exists()
    finally:
        context.close()


def _answer_first_row(page) -> None:
    row1 = page.locator("fieldset.row-block").first
    row1.locator("fieldset.question[data-code=blouse] input[type=radio]").first.check()
    row1.locator("fieldset.question[data-code=drapeau] input[type=radio]").first.check()
    row1.locator("fieldset.question[data-code=aide] input[type=radio]").first.check()
    page.locator("#send").click()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_unsigned_answer_cannot_be_sent_twice_from_the_same_page(
    browser, live_server, org, lang: str
) -> None:
    # The page said « n'envoyez votre réponse qu'une fois » under a send button still
    # active: a second tap recorded a second, distinct, unverified response.
    c, _ = setup_consultation(org, cid=f"s8-once-{lang}", access="open", per_segment=1)
    context, page = browser_page(browser, live_server.url, lang=lang, viewport=PHONE)
    try:
        page.goto(f"{live_server.url}/c/{c.cid}/")
        page.locator("#segment").select_option(index=1)
        _answer_first_row(page)
        expect(page.get_by_test_id("receipt")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        expect(page.locator("#again-unsigned")).to_be_visible()
        expect(page.locator("#send")).to_be_disabled()
        # Even a submit forced past the disabled button sends nothing more.
        page.evaluate("document.getElementById('ballot-form').requestSubmit()")
        page.wait_for_timeout(1500)
        assert BoardEntry.objects.filter(consultation=c).count() == 1
    finally:
        context.close()


def test_a_signed_answer_can_still_be_sent_again(browser, live_server, org) -> None:
    # With a code, a later answer replaces the earlier one: the button stays usable.
    c, private = setup_consultation(org, cid="s8-again", access="credentialed", per_segment=1)
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(private[0].link.replace(BASE_URL, live_server.url))
        _answer_first_row(page)
        receipt = page.get_by_test_id("receipt")
        expect(receipt).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        first = receipt.inner_text()
        expect(page.locator("#again-signed")).to_be_visible()
        expect(page.locator("#send")).to_be_enabled()
        row1 = page.locator("fieldset.row-block").first
        row1.locator("fieldset.question[data-code=blouse] input[type=radio]").last.check()
        page.locator("#send").click()
        expect(receipt).not_to_have_text(first)
        assert BoardEntry.objects.filter(consultation=c).count() == 2
    finally:
        context.close()


def test_irreversible_actions_ask_first(browser, live_server, org, members) -> None:
    # « Retirer » (oneself included), « Clore la consultation » and the like acted on
    # one click: the walkthrough removed its own coordinator account that way.
    from beffroi.core import actions as core_actions
    from beffroi.core.models import Role

    second = core_actions.create_account("coord2", "pw-test-123456")
    core_actions.set_role(second, org, Role.COORDINATOR, actor=members["coordinator"])
    c, _ = setup_consultation(org, cid="s8-confirm", access="open", per_segment=1)
    context, page = _login(browser, live_server, "coord", lang="en")
    asked: list[str] = []
    accept = [False]

    def on_dialog(dialog) -> None:
        asked.append(dialog.message)
        if accept[0]:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        # The questions are new strings: English as scripts/translations_en.py gives it.
        with english():
            _remove_and_close(page, live_server, org, members, c, asked, accept)
    finally:
        context.close()


def _remove_and_close(page, live_server, org, members, c, asked, accept) -> None:
    from beffroi.consult.models import Consultation
    from beffroi.core.models import Membership

    def row(name: str):
        return page.locator("tr", has=page.get_by_role("cell", name=name, exact=True))

    page.goto(f"{live_server.url}/o/{org.slug}/membres/")
    row("coord").locator("button[name=remove]").click()
    page.wait_for_timeout(500)
    assert len(asked) == 1 and "yourself" in asked[0]
    assert Membership.objects.filter(user=members["coordinator"], organisation=org).exists()
    # Changing a role asks nothing.
    row("volunteer").get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert len(asked) == 1
    # Another member, confirmed: removed.
    accept[0] = True
    row("partner").locator("button[name=remove]").click()
    expect(row("partner")).to_have_count(0)
    assert "Remove partner from the organisation?" in asked[1]
    assert not Membership.objects.filter(user=members["partner"], organisation=org).exists()

    # Closing a consultation: dismissed, nothing happens; confirmed, it is closed.
    accept[0] = False
    page.goto(f"{live_server.url}/o/{org.slug}/consultations/{c.cid}/")
    page.locator("form[action$='clore/'] button").click()
    page.wait_for_timeout(500)
    assert "cannot be reopened" in asked[2]
    assert Consultation.objects.get(pk=c.pk).status == "open"
    accept[0] = True
    page.locator("form[action$='clore/'] button").click()
    expect(page.get_by_test_id("status")).to_have_text("Closed")
    assert Consultation.objects.get(pk=c.pk).status == "closed"


@pytest.mark.parametrize(
    "lang,expected",
    [
        ("fr", "Code erroné : vérifiez chaque caractère (faute de frappe ?)"),
        ("en", "Wrong code: check each character (a typo?)"),
    ],
)
def test_a_mistyped_code_reads_as_a_sentence(browser, live_server, org, lang, expected) -> None:
    # « code erroné : … » began in lower case when shown on its own under the form.
    c, private = setup_consultation(org, cid=f"s8-typo-{lang}", access="credentialed")
    code = private[0].display_code
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    context, page = browser_page(browser, live_server.url, lang=lang, viewport=PHONE)
    try:
        with english():
            page.goto(f"{live_server.url}/c/{c.cid}/")
            page.locator("#code").fill(typo)
            _answer_first_row(page)
            expect(page.locator("#error")).to_have_text(expected)
        assert not BoardEntry.objects.filter(consultation=c).exists()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_rules_page_comparison_and_preview_fit_a_phone(
    browser, live_server, org, members, lang
) -> None:
    # « Comparer » and « Voir l'effet avant de décider » drew tables 418–460 px wide
    # on a 390 px screen: the whole page scrolled sideways.
    from beffroi.consult.cli_example_bundle import fill

    c, private = setup_consultation(org, cid=f"s8-rules-{lang}", access="mixed", per_segment=2)
    fill(c, private, 30, seed=8)
    context, page = _login(browser, live_server, "coord", lang=lang, viewport=PHONE)
    try:
        rules = f"{live_server.url}/o/{org.slug}/consultations/{c.cid}/regles/"
        page.goto(f"{rules}?comparer=1&sans=one_ballot_per_key")
        expect(page.locator("table.compare").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.locator("input[name=entries]").fill("1-3")
        page.locator("textarea[name=reason]").fill("Doublons signalés")
        page.locator("#decide form button[type=submit]").last.click()
        expect(page.get_by_test_id("exclude-preview")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_switching_language_keeps_the_letters_code_without_sending_it(
    browser, live_server, org
) -> None:
    # The language switch goes through the server, which never sees the URL fragment:
    # a respondent who opened the letter's link and chose English lost the code.
    c, private = setup_consultation(org, cid="s8-lang-code", access="credentialed")
    cred = private[0]
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url + " " + (r.post_data or "")))
    try:
        page.goto(cred.link.replace(BASE_URL, live_server.url))
        expect(page.locator("#code")).to_have_value(cred.display_code)
        page.locator("form.lang button").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#code")).to_have_value(cred.display_code)
        assert page.url.endswith("#" + cred.link.split("#", 1)[1])
        # The code never left the browser: no request carries it, in any form.
        bare = cred.display_code.replace("-", "")
        assert not [s for s in seen if bare in s.replace("-", "").upper()], seen
        # Only once: a later visit without a fragment starts empty.
        page.goto(f"{live_server.url}/c/{c.cid}/")
        expect(page.locator("#code")).to_have_value("")
    finally:
        context.close()


def test_a_status_being_chosen_survives_someone_elses_new_line(
    browser, live_server, org, members, queue
) -> None:
    # A volunteer picked « En cours » for a line; another member added a line; the
    # live refresh rebuilt the rows and the choice was gone before « Changer ».
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    first = actions.add_log_entry(
        queue,
        actor=members["coordinator"],
        text="Digue surveillée",
        channel="observation",
        category="meteo",
    )
    context, page = _login(browser, live_server, "volunteer")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{queue.pk}/main-courante/")
        expect(page.locator("#courante[data-live=on]")).to_have_count(1)
        row = page.locator(f"#courante-rows tr[data-entry='{first.number}']")
        row.locator("select[name=status]").select_option("en-cours")
        actions.add_log_entry(
            queue,
            actor=members["coordinator"],
            text="Route coupée",
            channel="telephone",
            category="routes",
        )
        page.wait_for_timeout(3000)  # the stream polls every second; the refresh waits
        expect(page.locator("#courante-rows")).not_to_contain_text("Route coupée")
        expect(row.locator("select[name=status]")).to_have_value("en-cours")
        row.get_by_role("button", name="Changer").click()
        page.wait_for_load_state()
        assert LogEntry.objects.get(pk=first.pk).status == "en-cours"
        # Nothing pending any more: the other line shows, and later changes come live.
        expect(page.locator("#courante-rows")).to_contain_text("Route coupée")
        actions.add_log_entry(
            queue,
            actor=members["coordinator"],
            text="Gymnase ouvert",
            channel="telephone",
            category="autre",
        )
        expect(page.locator("#courante-rows")).to_contain_text("Gymnase ouvert", timeout=20_000)
    finally:
        context.close()


def test_a_tap_on_a_card_someone_else_holds_leaves_the_cursor(
    browser, live_server, org, second_volunteer, queue
) -> None:
    # On a phone, a tap on a card held by someone else put the cursor on it, which the
    # room otherwise never does; Enter then met « déjà prise ».
    ctx_a, a = _login(browser, live_server, "volunteer", viewport=PHONE)
    ctx_b, b = _login(browser, live_server, "veilleuse", viewport=PHONE)
    try:
        room = f"{live_server.url}/o/{org.slug}/veille/{queue.pk}/tri/"
        a.goto(room)
        expect(a.locator("#queue li")).to_have_count(2)
        a.keyboard.press("Enter")
        expect(a.locator("#panel")).to_be_visible()
        b.goto(room)
        taken = b.locator("#queue li.taken")
        expect(taken).to_have_count(1)
        expect(b.locator("#queue li.selected")).not_to_have_class(re.compile("taken"))
        taken.click()
        b.wait_for_timeout(300)
        expect(b.locator("#queue li.selected")).to_have_count(1)
        expect(b.locator("#queue li.selected")).not_to_have_class(re.compile("taken"))
        # A double tap still says who holds it.
        taken.dblclick()
        expect(b.locator("#live")).to_contain_text("déjà prise")
    finally:
        ctx_a.close()
        ctx_b.close()
