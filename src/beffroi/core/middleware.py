"""Private pages are kept out of every cache (docs/decisions/0005-privacy.md, "Caches").

A page shown to a signed-in person (the journal, the members and their addresses, the main
courante, a volunteer's queue, an export) and every page of a partner link (its token is
in the address) is answered with ``Cache-Control: private, no-store``, unless the view set
its own policy (the live streams do). On a shared computer in a crisis room, after the
log-out, the browser's back button or disk cache showed them again. Public pages (the
board, a consultation's answer and receipt pages, their downloads, the health check and
the API description) keep whatever they had, whoever reads them; static files are answered
before this middleware. The user is looked at only when the request carries a session
cookie: reading it makes ``SessionMiddleware`` add ``Vary: Cookie``, which anonymous
answers (the health check, the public JSON) did not carry before and shared caches split on.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.decorators import sync_and_async_middleware

_PARTNER_PREFIX = "/partenaire/"

# The consultations' public URLs that are not pages: the proof-of-work challenge (single
# use, made for one respondent) and the ballot's POST.
_NOT_PAGES = frozenset({"consult-challenge", "consult-submit"})


def _public_pages() -> frozenset[str]:
    """Pages the same for every reader, meant to be cached like any public page: every
    URL name of ``consult.urls.public_urlpatterns`` but those that are not pages, core's
    health check and the API description. Read from the URLs, so that a public page added
    there cannot be forgotten here (it would be sent ``no-store`` to signed-in readers)."""
    from beffroi.consult.urls import public_urlpatterns

    names = {pattern.name for pattern in public_urlpatterns if pattern.name}
    return frozenset(names - _NOT_PAGES | {"healthz", "openapi"})


PUBLIC_PAGES = _public_pages()


def _keep_private(response: HttpResponseBase) -> None:
    patch_cache_control(response, private=True, no_store=True)


def _needs_policy(request: HttpRequest, response: HttpResponseBase) -> bool:
    # A view that chose its own policy (a live stream's no-cache) knows better.
    if response.has_header("Cache-Control"):
        return False
    match = request.resolver_match
    return match is None or match.view_name not in PUBLIC_PAGES


def _may_be_signed_in(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES


@sync_and_async_middleware
def private_pages(get_response: Callable[[HttpRequest], Any]) -> Any:
    if iscoroutinefunction(get_response):

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            response = await get_response(request)
            if _needs_policy(request, response) and (
                request.path.startswith(_PARTNER_PREFIX)
                or (_may_be_signed_in(request) and (await request.auser()).is_authenticated)
            ):
                _keep_private(response)
            return response

        return middleware_async

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        if _needs_policy(request, response) and (
            request.path.startswith(_PARTNER_PREFIX)
            or (_may_be_signed_in(request) and request.user.is_authenticated)
        ):
            _keep_private(response)
        return response

    return middleware


# Set on the request by core/signals.py when someone logs in with a password, whichever
# page did it (the site's log-in, the admin's, an invitation's acceptance).
LOGGED_IN_ATTRIBUTE = "beffroi_logged_in"


@sync_and_async_middleware
def known_browsers(get_response: Callable[[HttpRequest], Any]) -> Any:
    """After a log-in, the answer marks the browser known to the account
    (``forms.remember_browser``, docs/decisions/0003-login-throttling.md): the admin's
    log-in page used to set no such cookie, so staff were held by a ceiling that guessing
    from ten networks fills, wherever they logged in from."""
    from beffroi.core.forms import remember_browser

    def remember(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        user = getattr(request, LOGGED_IN_ATTRIBUTE, None)
        if user is not None and user.is_authenticated:
            remember_browser(request, response, user)
        return response

    if iscoroutinefunction(get_response):

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            return remember(request, await get_response(request))

        return middleware_async

    def middleware(request: HttpRequest) -> HttpResponseBase:
        return remember(request, get_response(request))

    return middleware
