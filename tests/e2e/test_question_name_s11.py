"""A text question has one accessible name: a screen reader reads it once.

A lone field needs no group (WAI-ARIA practice): the answering page gave a text question
a fieldset with a legend *and* a hidden label with the same words, so the question was
announced twice. Checked in the accessibility tree Chromium exposes, with axe, with the
required-answer check (the error names it, marks the field invalid, the link focuses it),
on a phone, on the page respondents use and on the organiser's preview.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import BASE_URL, setup_consultation
from beffroi.consult.models import BoardEntry
from consult_specs import MENU, cantine_spec

PHONE = {"width": 360, "height": 740}
IDEA = "Une idée pour la cantine ?"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """
async () => (await axe.run(document, {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
  resultTypes: ["violations"],
})).violations.map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target).join(" ")}`)
"""


pytestmark = pytest.mark.usefixtures("consult_writes_now")


def _spec(cid: str) -> dict:
    return cantine_spec(
        cid,
        questions=[
            MENU,
            {"code": "idee", "label": IDEA, "kind": "text", "required": True},
            {"code": "mot", "label": "Un dernier mot", "kind": "text"},
        ],
    )


def _said(page, words: str) -> int:
    """How many nodes of the page's accessibility tree carry ``words`` in their name
    (``- role "name"`` lines; a label's own text shows as ``- text:``, any field's does)."""
    tree = page.locator("main").aria_snapshot()
    named = (re.match(r'\s*- [a-z]+ "(.*)"', line) for line in tree.splitlines())
    return sum(1 for m in named if m and words in m[1])


def _one_name_each(page) -> None:
    # The text question: a textbox named by its visible label, in no group of its own.
    expect(page.get_by_role("textbox", name=f"{IDEA} (obligatoire)", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="Un dernier mot", exact=True)).to_be_visible()
    assert page.get_by_role("group", name=re.compile("idée|dernier mot")).count() == 0
    assert _said(page, IDEA) == 1, page.locator("main").aria_snapshot()
    assert _said(page, "Un dernier mot") == 1
    # A choice question stays a group: its options are several fields.
    expect(page.get_by_role("group", name="Menu préféré (obligatoire)")).to_be_visible()
    # The label reads like the other questions' legends and the field fills a phone.
    label = page.locator("label", has_text=IDEA)
    legend = page.locator("legend", has_text="Menu préféré")
    assert label.evaluate("e => getComputedStyle(e).fontWeight") == legend.evaluate(
        "e => getComputedStyle(e).fontWeight"
    )
    box = page.get_by_role("textbox", name=re.compile(IDEA)).bounding_box()
    assert box and box["width"] >= PHONE["width"] * 0.7
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_text_question_is_named_once_and_still_checked(browser, live_server, org) -> None:
    c, private = setup_consultation(
        org, cid="s11-nom", access="credentialed", per_segment=1, spec_dict=_spec("s11-nom")
    )
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(script=AXE.read_text(encoding="utf-8"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(private[0].link.replace(BASE_URL, live_server.url))
        expect(page.locator("#code")).not_to_have_value("")
        _one_name_each(page)
        assert page.evaluate(AXE_RUN) == []

        # Sent blank: both required questions named, each marked where it is announced.
        page.locator("#send").tap()
        error = page.locator("#error")
        expect(error).to_have_text(
            f"Réponses obligatoires manquantes : Menu préféré, {IDEA}", use_inner_text=True
        )
        idea = page.get_by_role("textbox", name=re.compile(IDEA))
        expect(idea).to_have_attribute("aria-invalid", "true")
        expect(page.locator("fieldset.question[data-code=menu]")).to_have_attribute(
            "aria-invalid", "true"
        )
        # The mark shows too, on the question's block.
        block = page.locator(".question[data-code=idee]")
        assert block.evaluate("e => getComputedStyle(e).borderLeftWidth") == "4px"
        assert page.evaluate(AXE_RUN) == []
        error.get_by_role("link", name=IDEA).tap()
        expect(idea).to_be_focused()
        assert BoardEntry.objects.filter(consultation=c).count() == 0

        # Corrected: the marks go, the answer is sent with the text.
        idea.fill("Des fruits de saison")
        page.locator("fieldset.question[data-code=menu]").get_by_label("Local").check()
        page.locator("#send").tap()
        expect(page.get_by_test_id("receipt")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        expect(idea).not_to_have_attribute("aria-invalid", "true")
        entry = BoardEntry.objects.get(consultation=c)
        assert entry.ballot["answers"] == {"menu": "local", "idee": "Des fruits de saison"}
    finally:
        context.close()


def test_the_organisers_preview_names_it_once_too(browser, live_server, org, members) -> None:
    setup_consultation(
        org, cid="s11-apercu", access="credentialed", per_segment=1, spec_dict=_spec("s11-apercu")
    )
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/connexion/")
        page.locator("input[name=username]").fill("coord")
        page.locator("input[name=password]").fill("pw-test-123456")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/o/{org.slug}/consultations/s11-apercu/apercu/")
        _one_name_each(page)
    finally:
        context.close()
