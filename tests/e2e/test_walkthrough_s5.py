"""Regressions found by the session-5 newcomer walkthrough, in a real browser:
a phone respondent of a mixed consultation, a phone volunteer in the triage room,
and an organiser's consultation form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import setup_consultation
from watch_rooms import triage_room

PHONE = {"width": 390, "height": 844}


pytestmark = pytest.mark.usefixtures("live_consult")


def _phone(browser):
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill("pw-test-123456")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_unsigned_answer_on_a_phone_says_what_counts(browser, live_server, org):
    c, _ = setup_consultation(org, cid="s5-mixte", access="mixed", per_segment=1)
    context, page, errors = _phone(browser)
    page.goto(f"{live_server.url}/c/{c.cid}/")
    page.get_by_role("button", name="Envoyer ma réponse").click()
    # The message comes from the page (translatable), not from the script.
    expect(page.get_by_role("alert")).to_have_text(
        "Choisissez votre école / secteur dans la liste."
    )
    page.get_by_label("Votre école / secteur").select_option("A2")
    row1 = page.locator("fieldset.row-block").first
    row1.locator("fieldset.question[data-code=blouse]").get_by_label("Oui").check()
    row1.locator("fieldset.question[data-code=drapeau]").get_by_label("Non").check()
    row1.locator("fieldset.question[data-code=aide]").get_by_label("Oui").check()
    page.get_by_role("button", name="Envoyer ma réponse").click()
    expect(page.get_by_test_id("receipt")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    # Without a code a new answer does not replace this one: the page must not say it does.
    expect(page.locator("#again-unsigned")).to_be_visible()
    expect(page.locator("#again-signed")).to_be_hidden()

    page.get_by_role("link", name="Vérifier que ma réponse est sur le tableau").click()
    expect(page.get_by_test_id("receipt-found")).to_be_visible()
    expect(page.get_by_test_id("unsigned")).to_contain_text("Réponse sans code")
    expect(page.get_by_test_id("receipt-found")).not_to_contain_text("pour ce code")

    page.goto(f"{live_server.url}/c/{c.cid}/tableau/")
    # The template's wording (translatable), not the French note of results.json.
    expect(page.get_by_test_id("access-note")).to_contain_text("avec code personnel")
    expect(page.get_by_test_id("segments")).to_contain_text("École Pierre-Loti")
    assert _fits(page), "the public board is wider than a phone"
    # The site icon is served: no 404 on every page any more.
    assert errors == [], errors
    context.close()


@pytest.fixture
def queue(org, members):
    texts = [f"Message {i} : l'eau monte rue des Halles à Luçon" for i in range(40)]
    return triage_room(org, members["coordinator"], texts, top=0.9, per=100)


def test_triage_on_a_phone_shows_the_taken_card(browser, live_server, org, queue):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    context, page, errors = _phone(browser)
    _login(page, live_server, "volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{queue.pk}/tri/")
    first = page.locator("#queue li").first
    # French decimals in a French page.
    expect(first.locator(".prio")).to_have_text("0,90")
    expect(page.locator(".keys")).to_contain_text("double appui")

    card = page.locator("#queue li").nth(12)
    card.scroll_into_view_if_needed()
    card.dblclick()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(page.locator("#live")).to_have_text("Carte prise.")
    expect(panel).to_be_in_viewport()
    box, queue_box = panel.bounding_box(), page.locator("#queue").bounding_box()
    assert box and queue_box and box["y"] < queue_box["y"], "the taken card is below the queue"

    # A partner on a phone reads the main courante: the table scrolls, the page does not.
    top = Card.objects.get(activation=queue, external_id="0")
    user = get_user_model().objects.get(username="volunteer")
    actions.claim(top, actor=user)
    actions.escalate(top, actor=user, category="routes")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{queue.pk}/main-courante/")
    expect(page.locator("#courante-rows tr")).to_have_count(1)
    assert _fits(page), "the main courante is wider than a phone"
    assert errors == [], errors
    context.close()


def test_coordinator_pages_fit_a_phone(browser, live_server, org, members, queue):
    from beffroi.audits.models import Audit

    setup_consultation(org, cid="s5-telephone", access="mixed", per_segment=1)
    audit = Audit.objects.create(
        organisation=org,
        created_by=members["coordinator"],
        original_name="export.csv",
        sha256="ab" * 32,
        size=1234,
        fmt="limesurvey",
        status=Audit.Status.FAILED,
        error="Colonne « id » absente de l'en-tête (ligne 1).",
    )
    context, page, errors = _phone(browser)
    _login(page, live_server, "coord")
    base = f"{live_server.url}/o/{org.slug}"
    for path in (
        "/",
        "/journal/",
        "/membres/",
        "/consultations/",
        "/consultations/nouvelle/",
        "/consultations/s5-telephone/",
        f"/veille/{queue.pk}/sources/",
        f"/veille/{queue.pk}/partenaires/",
        "/audits/",
        f"/audits/{audit.pk}/",
    ):
        page.goto(base + path)
        # Six menu entries, hashes, wide tables: none may widen the page.
        assert _fits(page), f"{path} is wider than a phone"
    assert errors == [], errors
    context.close()


def test_consultation_form_names_a_closing_before_opening(page, live_server, org, members, login):
    login("coord")
    page.goto(f"{live_server.url}/o/{org.slug}/consultations/nouvelle/")
    page.get_by_label("Identifiant public").fill("cantine-s5")
    page.get_by_label("Titre").fill("Cantine bio")
    page.get_by_label("Ouverture").fill("2026-12-02T10:00")
    page.get_by_label("Clôture").fill("2026-12-01T10:00")
    page.locator("[name='q-0-label']").fill("Voulez-vous du bio ?")
    page.locator("[name='q-0-options']").fill("oui : Oui\nnon : Non")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    closes = page.locator(".field", has=page.get_by_label("Clôture"))
    expect(closes.locator(".errorlist")).to_have_text("La clôture doit venir après l'ouverture.")
    expect(page.locator("main")).not_to_contain_text("closes:")

    page.get_by_label("Clôture").fill("2026-12-09T10:00")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon enregistré.")).to_be_visible()
    # The question's kind in words, not its code.
    expect(page.locator("main")).to_contain_text("(Choix unique")
    expect(page.locator("main")).not_to_contain_text("(single")


def test_answer_script_holds_no_french_text():
    # Its messages are translated in the page (data-msg-*): a French literal left in
    # the script would reach English respondents as is.
    import beffroi.consult

    script = Path(beffroi.consult.__file__).parent / "static/consult/answer.js"
    code = "\n".join(
        line
        for line in script.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("//")
    )
    literals = re.findall(r'"[^"\n]*"|`[^`]*`', code)
    assert not [s for s in literals if re.search(r"[À-ÿ]", s)], literals


def test_refused_main_courante_line_keeps_what_was_typed(page, live_server, org, queue, login):
    login("volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{queue.pk}/main-courante/")
    page.locator("#id_text").fill("Appel de la mairie : route D746 coupée")
    page.locator("#id_channel").select_option("telephone")
    page.locator("#id_commune_code").fill("Luçon")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    # Said under the field, with the code meant, and the page opens at the form.
    commune = page.locator("#id_commune_code_error")
    expect(commune).to_contain_text("Commune inconnue : Luçon")
    expect(commune).to_contain_text("85128 (Luçon, 85)")
    expect(page.locator("#ajouter")).to_be_in_viewport()
    # A phone call is not typed twice: the refused line comes back as typed.
    expect(page.locator("#id_text")).to_have_value("Appel de la mairie : route D746 coupée")
    expect(page.locator("#id_channel")).to_have_value("telephone")
    expect(page.locator("#id_commune_code")).to_have_value("Luçon")
    page.locator("#id_commune_code").fill("85128")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("ajoutée")
    expect(page.locator("#courante-rows tr")).to_have_count(1)
    # Once recorded, the form is empty again.
    page.reload()
    expect(page.locator("#id_text")).to_have_value("")
