"""The answering page's accessibility basics in a real Chromium: every control
has a name, text contrast meets WCAG AA, and a keyboard alone can answer — a
missing required answer is named and linked, focus goes where the news is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import BASE_URL, setup_consultation
from beffroi.consult.models import BoardEntry
from consult_specs import MENU, cantine_spec

pytestmark = pytest.mark.usefixtures("consult_writes_now")


def spec_dict(cid: str) -> dict:
    return cantine_spec(
        cid,
        questions=[
            {"code": "note", "label": "Satisfaction", "kind": "scale"},
            MENU,
            {"code": "idee", "label": "Une idée ?", "kind": "text"},
        ],
    )


# Contrast ratio of each visible text node's colour against the first opaque
# background behind it (WCAG 2 relative luminance); large text needs 3:1.
CONTRAST_JS = """
() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.9) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el.checkVisibility()) continue;
    if (el.closest(".hp, .sr-only")) continue;
    const s = getComputedStyle(el);
    const a = lum(rgb(s.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(`${n.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
  }
  return bad;
}
"""

UNNAMED_JS = """
() => [...document.querySelectorAll("main input, main select, main textarea, main button")]
  .filter((e) => !e.closest(".hp") && e.type !== "hidden")
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                 && !(e.tagName === "BUTTON" && e.textContent.trim()))
  .map((e) => e.outerHTML.slice(0, 80))
"""


def _tab_to(page, predicate_js: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return {predicate_js}; }}"):
            return
    raise AssertionError(f"focus never reached {predicate_js}")


def test_answering_page_names_contrast_and_keyboard(page, live_server, org):
    c, private = setup_consultation(
        org,
        cid="a11y-cantine",
        access="credentialed",
        per_segment=1,
        spec_dict=spec_dict("a11y-cantine"),
    )
    page.goto(private[0].link.replace(BASE_URL, live_server.url))
    expect(page.get_by_label("Votre code personnel")).not_to_have_value("")
    assert page.evaluate(UNNAMED_JS) == []
    assert page.evaluate(CONTRAST_JS) == []
    # The scale's meaning is read with the group, not left in a detached paragraph.
    scale = page.locator("fieldset.question[data-code=note]")
    hint = page.locator(f"#{scale.get_attribute('aria-describedby')}")
    expect(hint).to_contain_text("pas du tout")

    # Keyboard only: reach the send button and press Enter without the required answer.
    page.locator("body").focus()
    _tab_to(page, "e.id === 'send'")
    page.keyboard.press("Enter")
    error = page.locator("#error")
    expect(error).to_contain_text("Réponse obligatoire manquante : Menu préféré")
    expect(error).to_be_focused()
    menu = page.locator("fieldset.question[data-code=menu]")
    expect(menu).to_have_attribute("aria-invalid", "true")
    assert BoardEntry.objects.filter(consultation=c).count() == 0  # nothing was sent

    # The message links to the question; the link moves focus into it.
    page.keyboard.press("Tab")
    expect(error.get_by_role("link", name="Menu préféré")).to_be_focused()
    page.keyboard.press("Enter")
    first = menu.get_by_label("Bio")
    expect(first).to_be_focused()
    # The focused option shows a ring that stands out (3:1 at least) from the card.
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement.closest('label'));"
        " return [s.outlineStyle, s.outlineColor]; }"
    )
    assert ring[0] == "solid" and ring[1] == "rgb(29, 79, 145)"
    page.keyboard.press("Space")
    expect(first).to_be_checked()

    _tab_to(page, "e.id === 'send'")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.locator("#receipt-title")).to_be_focused()
    expect(menu).not_to_have_attribute("aria-invalid", "true")
    entry = BoardEntry.objects.get(consultation=c)
    assert entry.ballot["answers"] == {"menu": "bio"}
