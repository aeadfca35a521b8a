"""An edit begun while the main courante's rows are on their way is not swept away when
they arrive: the page checked for an edit only before asking, so a slow answer (a busy
server) replaced the table under a status being chosen or a note being typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

ROWS = re.compile(r"/main-courante/lignes/")


@pytest.fixture
def courante(org, members):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue lente", event_type="inondation", actor=members["coordinator"]
    )
    first = actions.add_log_entry(
        activation, actor=members["coordinator"], text="Digue surveillée",
        channel="observation", category="meteo",
    )  # fmt: skip
    return activation, first


@pytest.mark.parametrize("edit", ["status", "note"])
def test_rows_arriving_during_an_edit_wait_for_it(
    page, login, live_server, org, members, courante, edit
):
    from beffroi.watch import actions

    activation, first = courante
    login("volunteer")
    page.goto(f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/")
    expect(page.locator("#courante[data-live=on]")).to_have_count(1)
    held = []
    # The next rows fetch is held on its way, as on a busy server; later ones are not.
    page.route(ROWS, lambda route: route.continue_() if held else held.append(route))
    actions.add_log_entry(
        activation, actor=members["coordinator"], text="Route coupée",
        channel="telephone", category="routes",
    )  # fmt: skip
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the live refresh never asked for the rows"
    row = page.locator(f"#courante-rows tr[data-entry='{first.number}']")
    if edit == "status":
        row.locator("select[name=status]").select_option("en-cours")
    else:
        row.locator("input[name=note]").click()
    held[0].continue_()
    page.wait_for_timeout(1500)
    expect(page.locator("#courante-rows")).not_to_contain_text("Route coupée")
    if edit == "status":
        expect(row.locator("select[name=status]")).to_have_value("en-cours")
    else:
        assert page.evaluate("document.activeElement.name") == "note"
    # Once the edit is left, the waiting refresh happens.
    if edit == "status":
        row.locator("select[name=status]").select_option(index=0)
    page.locator("h1").click()
    expect(page.locator("#courante-rows")).to_contain_text("Route coupée", timeout=10000)
