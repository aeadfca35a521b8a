"""The Sources page on a phone (390 px): each source's state, and the gap line under
it, is read without scrolling sideways; at 1280 px it stays a table. Until session 8
the state column began past the screen's edge and its gap lines with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

GAP = "Trou de couverture : messages du "


@pytest.fixture
def sources_page(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources.base import CoverageGap

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(
        activation=activation,
        kind="mastodon",
        name="Mastodon #inondation (piaille.fr)",
        config={},
        enabled=False,
        posts_count=787,
    )
    actions.record_source_status(
        source.pk,
        state="ok",
        message="En écoute : 729 messages reçus depuis le démarrage du worker.",
        at=datetime.now(UTC),
    )
    actions.record_coverage_gap(
        source.pk,
        CoverageGap(
            "mastodon",
            str(source.pk),
            end=datetime(2026, 11, 23, 21, tzinfo=UTC),
            start=datetime(2026, 11, 23, 3, 1, tzinfo=UTC),
            reason="Rattrapage limité à 80 messages sur le fil #inondation",
            where="tag:inondation",
        ),
    )
    return f"/o/{org.slug}/veille/{activation.pk}/sources/"


def _open(browser, live_server, path: str, width: int):
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/connexion/")
    page.locator("input[name=username]").fill("coord")
    page.locator("input[name=password]").fill("pw-test-123456")
    page.locator("button.primary[type=submit]").click()
    page.wait_for_load_state()
    page.goto(live_server.url + path)
    return context, page


def _box(page, selector: str) -> dict[str, float]:
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right}; }"
    )


def test_the_state_and_its_gap_are_on_screen_at_390_px(browser, live_server, sources_page):
    context, page = _open(browser, live_server, sources_page, 390)
    try:
        gap = page.locator("[data-field=gap]").first
        assert gap.inner_text().startswith(GAP)
        for selector in ("[data-field=gap]", "[data-field=message]", "[data-field=posts]"):
            box = _box(page, selector)
            assert box["left"] >= 0 and box["right"] <= 390, (selector, box)
        # Nothing to scroll sideways: neither the page nor the table's own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator(".scroll").evaluate("e => e.scrollWidth <= e.clientWidth")
        # Each count is named where the column header is hidden.
        state = page.locator("td.source-state").first
        label = state.evaluate("e => getComputedStyle(e, '::before').content")
        assert label == '"État"'
        posts = page.locator("td.source-posts").first
        label = posts.evaluate("e => getComputedStyle(e, '::before').content")
        assert label == '"Messages reçus (total)"'
        # The state comes right under the name, before the counts and the sender form.
        name_box = page.locator("td.source-name").first.bounding_box()
        state_box = state.bounding_box()
        kind_box = page.locator("td.source-kind").first.bounding_box()
        assert name_box and state_box and kind_box
        assert name_box["y"] < state_box["y"] < kind_box["y"]
    finally:
        context.close()


def test_it_stays_a_table_at_1280_px(browser, live_server, sources_page):
    context, page = _open(browser, live_server, sources_page, 1280)
    try:
        assert page.locator("#sources thead").is_visible()
        state = page.locator("td.source-state").first
        assert state.evaluate("e => getComputedStyle(e).display") == "table-cell"
        assert state.evaluate("e => getComputedStyle(e, '::before').content") in ("none", "normal")
        assert page.locator("[data-field=gap]").first.inner_text().startswith(GAP)
    finally:
        context.close()
