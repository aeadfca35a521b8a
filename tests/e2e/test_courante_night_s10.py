"""A long night in the main courante, in a real browser: the live refresh keeps the page's
count and page links right, a note typed for a status change is not swept away by
someone else's change, and the change brings the volunteer back to the same page and line
with its follow-up."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect


@pytest.fixture
def night(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Nuit longue", event_type="inondation", actor=members["coordinator"]
    )
    now = timezone.now()
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=activation,
            number=n,
            at=now - timezone.timedelta(minutes=300 - n),
            channel="telephone",
            category="routes",
            text=f"Appel numéro {n}",
        )
        for n in range(1, 151)
    )
    return activation


def test_the_live_page_keeps_its_count_and_a_typed_note(
    page, login, live_server, org, members, night
):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry, LogUpdate

    login("volunteer")
    # The second page starts at line 50 (older pages start at a line, so lines arriving
    # while it is read do not move it).
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{night.pk}/main-courante/?depuis=50")
    expect(page.locator("#courante[data-live=on]")).to_have_count(1)
    expect(page.get_by_test_id("courante-range")).to_have_text(
        "Lignes 101 à 150 sur 150, les plus récentes en premier. ‹ Lignes plus récentes"
    )
    row = page.locator("tr[data-entry='42']")
    note = row.locator("input[name=note]")
    # The note field is under its form (form="…"): with the focus in it, empty, a line
    # arriving does not take the field away.
    note.click()
    actions.add_log_entry(
        night, actor=members["coordinator"], text="Eau au rez-de-chaussée", channel="autre",
        category="routes",
    )  # fmt: skip
    page.wait_for_timeout(2500)
    assert page.evaluate("document.activeElement.name") == "note"
    # A note typed alone (the status not chosen yet), then the focus leaves the row.
    note.fill("Transmis au COD par téléphone")
    page.locator("h1").click()
    actions.add_log_entry(
        night, actor=members["coordinator"], text="Digue rompue", channel="autre", category="routes"
    )
    page.wait_for_timeout(2500)  # the stream announces the change; the refresh waits
    expect(note).to_have_value("Transmis au COD par téléphone")
    row.locator("select[name=status]").select_option("transmis")
    row.get_by_role("button", name="Changer").click()
    page.wait_for_load_state()
    # Back on the same page with its mark (the newest line seen when it was drawn): it
    # still says that two lines arrived at the top.
    assert page.url.endswith("/main-courante/?depuis=50&lu=150#ligne-42")
    expect(page.get_by_test_id("courante-news")).to_contain_text("2 nouvelles lignes")
    entry = LogEntry.objects.get(activation=night, number=42)
    assert LogUpdate.objects.get(entry=entry).note == "Transmis au COD par téléphone"
    # The refresh that waited has happened: two more lines above, the same lines here.
    expect(page.get_by_test_id("courante-range")).to_contain_text("Lignes 103 à 152 sur 152")
    expect(page.locator("#courante-rows tr[data-entry]").first).to_have_attribute(
        "data-entry", "50"
    )
    history = page.locator("tr[data-entry='42'] details.line-history")
    history.locator("summary").click()
    expect(history).to_contain_text("Transmis · volunteer · Transmis au COD par téléphone")
    # Another line arrives: the count and the page follow without a reload.
    actions.add_log_entry(
        night, actor=members["coordinator"], text="Pont fermé", channel="autre", category="routes"
    )
    expect(page.get_by_test_id("courante-range")).to_contain_text("sur 153")
    # Up: the 100 lines just above this page, then the newest ones, live.
    page.get_by_test_id("courante-newer").click()
    expect(page.locator("#courante-rows tr[data-entry]").first).to_have_attribute(
        "data-entry", "150"
    )
    page.get_by_test_id("courante-newer").click()
    expect(page.locator("#courante-rows tr[data-entry]").first).to_contain_text("Pont fermé")
