"""Regressions found by the session-8 walkthrough (every role, French and English,
desktop and phone), in a real browser."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _login(browser, live_server, username: str, lang: str = "fr", viewport=None):
    context = browser.new_context(locale="fr-FR", viewport=viewport or DESKTOP)
    context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/connexion/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw-test-123456")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    return context, page


@pytest.fixture
def queue(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    for i, text in enumerate(["Route D746 coupée à Chasnais", "Digue fragile à Triaize"]):
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source_kind="mastodon",
            external_id=str(i),
            text=text,
            posted_at=timezone.now(),
            priority=1 - i / 10,
        )
    return activation


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
