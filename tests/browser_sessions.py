"""A browser context logged in to the live server, for e2e tests that need several users
at once or context options of their own (viewport, language, downloads). A single user
on the default page can use the ``login`` fixture of tests/e2e/conftest.py."""

from __future__ import annotations

PASSWORD = "pw-test-123456"


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Through the login form, by field names: the same steps in French and English."""
    page.goto(f"{base_url}/connexion/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def browser_page(browser, base_url: str, *, lang: str | None = None, **options):
    """(context, page), nobody logged in; ``options`` go to ``browser.new_context``
    (French browser locale unless given), ``lang`` sets the site's language cookie. The
    caller closes the context."""
    context = browser.new_context(**{"locale": "fr-FR", **options})
    if lang is not None:
        context.add_cookies([{"name": "django_language", "value": lang, "url": base_url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def logged_in(browser, base_url: str, username: str, *, lang: str | None = None, **options):
    """(context, page) of ``browser_page``, logged in as ``username``."""
    context, page = browser_page(browser, base_url, lang=lang, **options)
    log_in(page, base_url, username)
    return context, page
