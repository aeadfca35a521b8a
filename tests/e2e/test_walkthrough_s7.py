"""Regressions found by the session-7 walkthrough (English and French, desktop and
phone), in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from beffroi.consult.views_i18n import ReportWords
from beffroi.integrity.audit import run_audit
from beffroi.integrity.report import FRENCH, render_html
from beffroi.integrity.simulate import simulate

PHONE = {"width": 390, "height": 844}


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
