"""Regressions found by the session-7 walkthrough (English and French, desktop and
phone), in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.views_i18n import ReportWords
from beffroi.integrity.audit import run_audit
from beffroi.integrity.report import FRENCH, render_html
from beffroi.integrity.simulate import simulate
from browser_sessions import browser_page
from english_catalogue import english

PHONE = {"width": 390, "height": 844}


pytestmark = pytest.mark.usefixtures("live_consult")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_audit_report_fits_a_phone_screen(browser, tmp_path: Path, lang: str) -> None:
    # The scenario table was 445 px wide on a 390 px screen: the whole report
    # scrolled sideways. The PDF (print media) is laid out as before.
    sim = simulate(tmp_path, attack="seedlike", forms=200, fakes=40, seed=5)
    result = run_audit(sim.export, electorate={"A1": 100, "A2": 50})
    if lang == "en":
        with translation.override("en"):
            report = render_html(result, ReportWords())
    else:
        report = render_html(result, FRENCH)
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.set_content(report)
    assert page.locator("table").count() >= 2
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], wide
    context.close()


@pytest.mark.parametrize(
    "lang,typed,fragment",
    [
        (
            "en",
            "The code must have 24 characters, not counting dashes (it has 3)",
            "The code in the link cannot be read: invalid character “!” in the code. "
            "Type it from your letter.",
        ),
        (
            "fr",
            "Le code doit compter 24 caractères, tirets non compris (il en compte 3)",
            "Le code du lien est illisible : caractère invalide « ! » dans le code. "
            "Saisissez-le depuis votre lettre.",
        ),
    ],
)
def test_a_mistyped_code_is_refused_in_the_pages_language(
    browser, live_server, org, lang: str, typed: str, fragment: str
) -> None:
    # The English page said « le code doit compter 24 caractères (reçu 3) »: the
    # code's check (ballot.js) words its faults in French.
    c, _ = setup_consultation(org, cid=f"s7-code-{lang}", access="mixed", per_segment=1)
    context, page = browser_page(browser, live_server.url, lang=lang, viewport=PHONE)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    with english():
        page.goto(f"{live_server.url}/c/{c.cid}/#A!B")
        expect(page.locator("#error")).to_have_text(fragment)
        page.locator("#code").fill("ABC")
        page.locator("fieldset.question input[type=radio]").first.check()
        page.locator("#ballot-form button[type=submit]").click()
        expect(page.locator("#error")).to_have_text(typed)
    assert posts == [] and errors == [], (posts, errors)
    context.close()
