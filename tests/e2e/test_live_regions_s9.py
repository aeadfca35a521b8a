"""The watch room's live regions for screen readers (session 9, accessibility): what
arrives while one works is said once, politely, as a count (never card by card, never
the table's cells), and never moves the focus; moving through the queue with the
keyboard puts the focus on the card, so that it is read."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from watch_rooms import triage_room


@pytest.fixture
def room(org, members):
    return triage_room(
        org, members["coordinator"], ["Route D746 coupée à Chasnais", "L'eau monte à Luçon"]
    )


def _card(activation, i: int):
    from beffroi.watch.models import Card

    return Card.objects.create(
        activation=activation,
        group_id=f"new{i}",
        source_kind="mastodon",
        external_id=f"new{i}",
        text=f"Nouveau message {i}",
        posted_at=timezone.now(),
        priority=0.1,
    )


def test_cards_arriving_are_summed_up_once_and_leave_the_focus_alone(
    page, login, live_server, org, room
):
    login("volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
    expect(page.locator("#queue li")).to_have_count(2)
    expect(page.locator("#triage[data-live=on]")).to_have_count(1)
    # The queue's region is named as a French reader says it (the msgid « File » read
    # « Fichier »: Django's own catalogue translated it as the English word).
    expect(page.get_by_role("region", name="File d'attente")).to_have_count(1)
    news = page.locator("#queue-news")
    assert news.get_attribute("aria-live") == "polite"
    # The queue itself is not a live region: a screen reader would read every card.
    assert page.locator("#queue").get_attribute("aria-live") is None
    expect(news).to_have_text("")  # the count on arrival is on screen, not news

    # A card taken, its notes being written when others arrive.
    page.locator("body").press("Enter")
    expect(page.locator("#panel")).to_be_visible()
    notes = page.locator("#notes")
    notes.click()
    notes.type("Appel au")
    with transaction.atomic():  # one change seen by the stream, one announcement
        for i in range(3):
            _card(room, i)
    expect(page.locator("#queue li")).to_have_count(5)
    expect(news).to_have_text("5 cartes en attente")
    # Typing goes on where it was: nothing took the focus.
    assert page.evaluate("document.activeElement.id") == "notes"
    notes.type(" 18")
    expect(notes).to_have_value("Appel au 18")

    # More cards within 20 s: still one sentence on screen readers, the earlier one.
    _card(room, 3)
    expect(page.locator("#queue li")).to_have_count(6)
    page.wait_for_timeout(1500)  # two stream polls: the summary would have changed by now
    expect(news).to_have_text("5 cartes en attente")


def test_moving_through_the_queue_focuses_the_card_and_a_refresh_keeps_it(
    page, login, live_server, org, room
):
    login("volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
    expect(page.locator("#queue li")).to_have_count(2)
    expect(page.locator("#triage[data-live=on]")).to_have_count(1)
    page.locator("body").press("j")
    focused = page.locator("#queue li:focus")
    expect(focused).to_have_attribute("aria-current", "true")
    expect(focused).to_contain_text("L'eau monte à Luçon")
    # What a screen reader reads of it: the priority is named, not a bare number.
    assert "priorité 0,90" in (focused.text_content() or "")
    _card(room, 9)  # the list is rebuilt: the focus follows the same card
    expect(page.locator("#queue li")).to_have_count(3)
    expect(page.locator("#queue li:focus")).to_contain_text("L'eau monte à Luçon")
    page.keyboard.press("Enter")  # and the keyboard still takes it
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#panel-text")).to_have_text("L'eau monte à Luçon")


def test_a_new_main_courante_line_is_said_once_while_one_writes(
    page, login, live_server, org, members, room
):
    from beffroi.watch import actions

    actions.add_log_entry(
        room,
        actor=members["coordinator"],
        text="Pompiers sur place",
        channel="autre",
        category="routes",
    )
    login("volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/main-courante/")
    expect(page.locator("#courante[data-live=on]")).to_have_count(1)
    live = page.locator("#live")
    assert live.get_attribute("aria-live") == "polite"
    assert page.locator("#courante-rows").get_attribute("aria-live") is None
    text = page.locator("#ajouter textarea").first
    text.click()
    text.type("Digue surveillée")
    with transaction.atomic():  # one change seen by the stream
        for words in ("Route D746 coupée", "Gymnase ouvert"):
            actions.add_log_entry(
                room, actor=members["coordinator"], text=words, channel="autre", category="routes"
            )
    expect(page.locator("#courante-rows tr[data-entry]")).to_have_count(3)
    expect(live).to_have_text("2 nouvelles lignes en main courante")
    assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    text.type(" par la mairie")
    expect(text).to_have_value("Digue surveillée par la mairie")


def test_a_held_card_warns_before_it_is_freed_and_one_key_keeps_it(
    page, login, live_server, org, room, monkeypatch
):
    from datetime import timedelta

    from beffroi.watch.models import Card

    # Six seconds instead of ten minutes: the warning comes at half the time.
    monkeypatch.setattr("beffroi.watch.actions.CLAIM_TIMEOUT", timedelta(seconds=6))
    login("volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{room.pk}/tri/")
    expect(page.locator("#queue li")).to_have_count(2)
    page.locator("body").press("Enter")
    expect(page.locator("#panel")).to_be_visible()
    warning = page.locator("#panel-expiry")
    expect(warning).to_be_hidden()
    card = Card.objects.get(claimed_by__username="volunteer")
    first = card.claimed_at
    notes = page.locator("#notes")
    notes.click()
    notes.type("Vérifier")
    expect(warning).to_be_visible(timeout=10_000)
    assert warning.get_attribute("role") == "alert"
    expect(warning).to_contain_text("Sans décision, cette carte sera libérée à")
    assert page.evaluate("document.activeElement.id") == "notes"  # said, not focused
    notes.press("Escape")  # out of the field, as for any key of the room
    page.keyboard.press("g")
    expect(warning).to_be_hidden()
    expect(page.locator("#live")).to_contain_text("Carte gardée jusqu’à")
    card.refresh_from_db()
    assert card.claimed_by.username == "volunteer" and card.claimed_at > first
    expect(notes).to_have_value("Vérifier")  # the panel was not reset
