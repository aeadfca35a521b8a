"""The builder showed every setting on every question (session-8 walkthrough, #17):
the scale's bounds and the text's length on a choice question, « Supprimer » on a
blank one.  Each question now shows what its type uses; without JavaScript every
field still shows, and the server checks the same form either way."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from beffroi.consult.models import Consultation
from browser_sessions import logged_in


def _login(browser, live_server, *, javascript: bool = True):
    phone = {"width": 390, "height": 844}
    return logged_in(
        browser, live_server.url, "coord", viewport=phone, java_script_enabled=javascript
    )


def _field(page, n: int, name: str):
    return page.locator(f"fieldset.question >> nth={n}").locator(f"[data-field='{name}']")


def _shown(page, n: int) -> set[str]:
    names = ["options", "scale_min", "scale_max", "max_length", "DELETE"]
    return {name for name in names if _field(page, n, name).is_visible()}


def test_each_question_shows_what_its_type_uses(browser, live_server, org, members) -> None:
    context, page = _login(browser, live_server)
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/consultations/nouvelle/")
        question = page.locator("fieldset.question").first
        # A blank choice question: its options, no scale, no length, no « Supprimer ».
        expect(_field(page, 0, "options")).to_be_visible()
        assert _shown(page, 0) == {"options"}
        question.locator("select[name$='-kind']").select_option("scale")
        assert _shown(page, 0) == {"scale_min", "scale_max"}
        question.locator("select[name$='-kind']").select_option("text")
        assert _shown(page, 0) == {"max_length"}
        question.locator("select[name$='-kind']").select_option("multiple")
        assert _shown(page, 0) == {"options"}
        # A question with a wording can be removed.
        question.locator("input[name$='-label']").fill("Menu végétarien ?")
        expect(_field(page, 0, "DELETE")).to_be_visible()
        # The other question is untouched.
        assert _shown(page, 1) == {"options"}
    finally:
        context.close()


def test_a_scale_question_is_saved_with_hidden_fields_ignored(
    browser, live_server, org, members
) -> None:
    context, page = _login(browser, live_server)
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/consultations/nouvelle/")
        page.locator("#id_cid").fill("s8-fields")
        page.locator("#id_title").fill("Cantine")
        page.locator("#id_opens").fill("2026-12-01T10:00")
        page.locator("#id_closes").fill("2026-12-03T10:00")
        page.locator("#id_access").select_option("open")
        question = page.locator("fieldset.question").first
        question.locator("input[name$='-label']").fill("Note du service")
        # Options typed while the question was a choice, then the type changed:
        # hidden, sent, and ignored by the server as before.
        question.locator("textarea[name$='-options']").fill("oui\nnon")
        question.locator("select[name$='-kind']").select_option("scale")
        question.locator("input[name$='-scale_max']").fill("4")
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        page.wait_for_load_state()
        expect(page.locator("[data-testid=builder-errors]")).to_have_count(0)
        (q,) = Consultation.objects.get(cid="s8-fields").get_spec().questions
        assert q.kind == "scale" and q.options == ()
        assert (q.scale_min, q.scale_max) == (1, 4)
    finally:
        context.close()


def test_without_javascript_every_field_shows(browser, live_server, org, members) -> None:
    context, page = _login(browser, live_server, javascript=False)
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/consultations/nouvelle/")
        assert _shown(page, 0) == {"options", "scale_min", "scale_max", "max_length", "DELETE"}
        assert re.search("Supprimer", page.locator("fieldset.question").first.inner_text())
    finally:
        context.close()
