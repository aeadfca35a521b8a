"""A PDF snapshot of the main courante in a real browser: asked for, followed
live while the worker builds it, then downloaded."""

from __future__ import annotations

from django.core.management import call_command
from playwright.sync_api import expect


def test_pdf_export_is_followed_live_then_downloaded(browser, live_server, org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    for text in ("Route D746 coupée à Chasnais", "Gymnase de Luçon ouvert"):
        actions.add_log_entry(activation, actor=coord, text=text, channel="autre", category="autre")

    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/connexion/")
        page.locator("input[name=username]").fill("volunteer")
        page.locator("input[name=password]").fill("pw-test-123456")
        page.locator("button.primary[type=submit]").click()
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/o/{org.slug}/veille/{activation.pk}/main-courante/")
        page.locator("a[data-format=pdf]").click()
        page.get_by_test_id("prepare-export").click()
        status = page.get_by_test_id("export-status")
        expect(status).to_have_attribute("data-status", "ready")
        expect(status).to_contain_text("Export en attente")
        # The worker takes the job; the page, polling, shows the link by itself.
        call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
        expect(status).to_have_attribute("data-status", "successful")
        with page.expect_download() as info:
            page.get_by_test_id("export-file").click()
        download = info.value
        assert download.suggested_filename.startswith("main-courante-crue-du-lay-")
        assert download.suggested_filename.endswith(".pdf")
        with open(download.path(), "rb") as f:
            assert f.read(5) == b"%PDF-"
    finally:
        context.close()


def test_partner_link_prepares_a_pdf_without_an_account(browser, live_server, org, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text="Route D746 coupée", channel="autre", category="routes"
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/partenaire/{token}/")
        page.locator("a[data-format=pdf]").click()
        # The POST carries the CSRF token of a visitor without a session.
        page.get_by_test_id("prepare-export").click()
        status = page.get_by_test_id("export-status")
        expect(status).to_have_attribute("data-status", "ready")
        call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
        expect(status).to_have_attribute("data-status", "successful")
        with page.expect_download() as info:
            page.get_by_test_id("export-file").click()
        with open(info.value.path(), "rb") as f:
            assert f.read(5) == b"%PDF-"
    finally:
        context.close()
    whats = list(
        JournalEntry.objects.filter(action="watch.partner_link.view")
        .order_by("seq")
        .values_list("data__what", flat=True)
    )
    assert whats == ["page", "export.pdf", "export.pdf", "export.pdf.file"]


def test_partner_switches_language_without_leaking_the_token(browser, live_server, org, members):
    # The page's Referrer-Policy was no-referrer: the browser then sends `Origin: null`
    # with the language form's POST and Django's CSRF check refused it with a 403.
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text="Route D746 coupée", channel="autre", category="routes"
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    referers: list[str] = []
    page.on("request", lambda r: referers.append(r.headers.get("referer") or ""))
    try:
        page.goto(f"{live_server.url}/partenaire/{token}/")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.locator("form.lang button[value=en]").click()
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert page.url == f"{live_server.url}/partenaire/{token}/"
        page.locator("form.lang button[value=fr]").click()
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    finally:
        context.close()
    # The page's own requests (styles, scripts, the language form) name at most the
    # site, never the address that holds the token.
    assert referers and all(token not in r for r in referers)
