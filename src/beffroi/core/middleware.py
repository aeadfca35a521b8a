"""Private pages are kept out of every cache (docs/decisions/0005-privacy.md, "Caches").

A page shown to a signed-in person (the journal, the members and their addresses, the main
courante, a volunteer's queue, an export) and every page of a partner link (its token is
in the address) is answered with ``Cache-Control: private, no-store``, unless the view set
its own policy (the live streams do). On a shared computer in a crisis room, after the
log-out, the browser's back button or disk cache showed them again. Public pages (the
board, a consultation's answer page) and static files keep whatever they had: the static
files are answered before this middleware, and anonymous requests are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.decorators import sync_and_async_middleware

_PARTNER_PREFIX = "/partenaire/"


def _keep_private(response: HttpResponseBase) -> None:
    patch_cache_control(response, private=True, no_store=True)


def _needs_policy(response: HttpResponseBase) -> bool:
    # A view that chose its own policy (a live stream's no-cache) knows better.
    return not response.has_header("Cache-Control")


@sync_and_async_middleware
def private_pages(get_response: Callable[[HttpRequest], Any]) -> Any:
    if iscoroutinefunction(get_response):

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            response = await get_response(request)
            if _needs_policy(response) and (
                request.path.startswith(_PARTNER_PREFIX) or (await request.auser()).is_authenticated
            ):
                _keep_private(response)
            return response

        return middleware_async

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        if _needs_policy(response) and (
            request.path.startswith(_PARTNER_PREFIX) or request.user.is_authenticated
        ):
            _keep_private(response)
        return response

    return middleware
