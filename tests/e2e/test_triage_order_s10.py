"""The triage room's held card is where it is seen, for the eyes, a screen reader and Tab
(WCAG 1.3.2, 2.4.3): above the queue on a phone, in the document too (it was only moved
up with CSS order there), after it on a wide screen; the keyboard keeps its keys."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from browser_sessions import logged_in
from watch_rooms import triage_room

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

PANEL_FIRST = """() => Boolean(document.getElementById("panel")
  .compareDocumentPosition(document.getElementById("queue")) & Node.DOCUMENT_POSITION_FOLLOWING)"""
# The focused element: its place on the page (top, left), inside the panel or not.
WHERE = """() => { const e = document.activeElement; const r = e.getBoundingClientRect();
  return [r.top + scrollY, r.left, Boolean(e.closest("#panel")), Boolean(e.closest("#queue")),
          e.tagName + " " + (e.textContent || e.id || "").trim().slice(0, 24)]; }"""


@pytest.fixture
def room(org, members):
    texts = [f"Message {i} : l'eau monte rue des Halles à Luçon" for i in range(6)]
    return triage_room(org, members["coordinator"], texts, top=0.9)


def _room(browser, live_server, org, room, viewport):
    context, page = logged_in(browser, live_server.url, "volunteer", viewport=viewport)
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
    expect(page.locator("#queue li")).to_have_count(6)
    return context, page


def test_on_a_phone_the_held_card_comes_first_on_screen_in_reading_and_in_tab_order(
    browser, live_server, org, room
):
    context, page = _room(browser, live_server, org, room, PHONE)
    assert page.evaluate(PANEL_FIRST), "the panel follows the queue in the document"
    page.locator("body").press("j")
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(page.locator("#panel-text")).to_have_text(
        "Message 1 : l'eau monte rue des Halles à Luçon"
    )
    box, queue_box = panel.bounding_box(), page.locator("#queue").bounding_box()
    assert box and queue_box and box["y"] + box["height"] <= queue_box["y"]
    # Read in the order seen: the held card's region, then the queue's.
    regions = page.locator("#triage section[aria-label]")
    expect(regions.first).to_have_attribute("aria-label", "Carte prise")

    # Tab from the filters goes down the page: every stop below (or beside) the last one,
    # the panel's controls before anything of the queue.
    page.locator("#filters select[name=lang]").focus()
    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        top, left, in_panel, _in_queue, what = page.evaluate(WHERE)
        if not in_panel:
            break
        seen.append((top, left, what))
    assert len(seen) >= 10, seen  # source types, notes, evidence, six decisions...
    for (top_a, left_a, a), (top_b, left_b, b) in itertools.pairwise(seen):
        assert top_b > top_a - 1 or (abs(top_b - top_a) < 1 and left_b > left_a), (a, b)

    # From a card focused with j, Tab goes on down the page (here, past the page's end,
    # back to its start), not up to the panel; Shift+Tab goes up to the panel above.
    page.locator("body").press("j")
    card_top = page.evaluate(WHERE)[0]
    page.keyboard.press("Tab")
    _top, _left, in_panel, _in_queue, what = page.evaluate(WHERE)
    assert not in_panel, what
    page.keyboard.press("k")
    page.keyboard.press("j")
    expect(page.locator("#queue li:focus")).to_have_count(1)
    page.keyboard.press("Shift+Tab")
    top, _left, in_panel, _in_queue, what = page.evaluate(WHERE)
    assert in_panel and top < card_top, what

    # The keys still work: a decision with 1 (the held card leaves the queue).
    page.locator("body").press("1")
    expect(page.locator("#live")).to_have_text("Décision enregistrée.")
    expect(panel).to_be_hidden()
    expect(page.locator("#queue li")).to_have_count(5)
    context.close()


def test_on_a_wide_screen_the_held_card_follows_the_queue_and_a_resize_keeps_the_typing(
    browser, live_server, org, room
):
    context, page = _room(browser, live_server, org, room, DESKTOP)
    assert not page.evaluate(PANEL_FIRST)
    page.locator("body").press("Enter")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    box, queue_box = panel.bounding_box(), page.locator("#queue").bounding_box()
    assert box and queue_box and box["x"] > queue_box["x"] + queue_box["width"] - 1

    # Notes half written when the window narrows to one column (a phone turned, a
    # window dragged): the panel moves before the queue, the typing goes on where it was.
    notes = page.locator("#notes")
    notes.click()
    page.keyboard.type("Appel au 18")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.set_viewport_size(PHONE)
    page.wait_for_function(PANEL_FIRST)
    assert page.evaluate("document.activeElement.id") == "notes"
    page.keyboard.type("1")
    expect(notes).to_have_value("Appel au 118")
    page.set_viewport_size(DESKTOP)
    page.wait_for_function(f"() => !({PANEL_FIRST})()")
    assert page.evaluate("document.activeElement.id") == "notes"
    context.close()


def test_a_decision_taken_from_a_button_puts_the_focus_on_the_next_card(
    browser, live_server, org, room
):
    """The button pressed disappears with the panel: the focus must not fall back to the
    page's start (a screen reader would start reading from the top)."""
    context, page = _room(browser, live_server, org, room, DESKTOP)
    page.locator("body").press("Enter")
    expect(page.locator("#panel")).to_be_visible()
    button = page.locator("#panel [data-decision]").first
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#live")).to_have_text("Décision enregistrée.")
    expect(page.locator("#queue li")).to_have_count(5)
    focused = page.locator("#queue li:focus")
    expect(focused).to_contain_text("Message 1")
    # And the keyboard goes on from there: j, Entrée.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#panel-text")).to_contain_text("Message 2")
    context.close()
