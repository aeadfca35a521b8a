import re

from playwright.sync_api import expect


def test_login_shows_the_dashboard(page, live_server, members, org, login):
    login("coord")
    expect(page).to_have_url(re.compile(rf"/o/{org.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(page.get_by_test_id("role")).to_have_text("Coordination")
    expect(page.get_by_role("navigation").get_by_role("link", name="Journal")).to_be_visible()


def test_wrong_password_is_refused_in_french(page, live_server, members, login):
    login("coord", "not-the-password")
    expect(page.locator(".errorlist")).to_contain_text("nom d’utilisateur")


def test_switch_language_to_english_and_back(page, live_server, members, org, login):
    login("coord")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")


def test_volunteer_cannot_open_a_coordinator_page(page, live_server, members, org, login):
    login("volunteer")
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Membres")).to_have_count(0)
    response = page.goto(f"{live_server.url}/o/{org.slug}/membres/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")


def test_journal_page_lists_the_login(page, live_server, members, org, login):
    login("coord")
    page.get_by_role("navigation").get_by_role("link", name="Journal").click()
    expect(page.locator("table")).to_contain_text("member.role")
    page.get_by_label("Action").select_option("member.role")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("tbody tr")).to_have_count(4)  # one per fixture member


def test_no_inline_script_breaks_under_csp(page, live_server, members, login):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login("coord")
    page.wait_for_function("() => window.htmx !== undefined")
    assert not [e for e in errors if "Content Security Policy" in e]
