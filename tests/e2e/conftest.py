"""Playwright driving Debian's Chromium (its own browser download is not used)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("BEFFROI_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module", autouse=True)
def _sync_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread while the browser
    # lives; the ORM calls the tests make are still plain synchronous code.
    # Allowed exactly as long as the browser runs (per module): set for the whole
    # session, it would change how every other test runs.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


# Per module, not per session: Playwright's event loop runs as long as the browser
# lives, and the tests collected after the browser tests must not run inside it.
@pytest.fixture(scope="module")
def browser(_sync_orm_beside_playwright):
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make test` (installs it) "
            "or set BEFFROI_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def live_consult(consult_writes_now, settings):
    """Consultations answered through the live server (a threaded WSGI server sharing the
    test database, hence ``consult_writes_now``), with a cheap anti-robot challenge."""
    settings.BEFFROI_CONSULT_POW_BITS = 8


@pytest.fixture
def login(page, live_server):
    def do(username: str, password: str = "pw-test-123456"):
        page.goto(f"{live_server.url}/connexion/")
        page.get_by_label("Nom d'utilisateur").fill(username)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()

    return do
