"""The client's address and user agent, pseudonymised as soon as they arrive."""

from __future__ import annotations

import os

from django.conf import settings
from django.http import HttpRequest

from beffroi.core.pseudonym import ClientPseudonyms, client_pseudonyms

# Number of reverse proxies in front of the app that append to X-Forwarded-For.
PROXY_COUNT = int(os.environ.get("BEFFROI_PROXY_COUNT", "0"))


def client_address(request: HttpRequest) -> str:
    if PROXY_COUNT:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        # Only the entries our own proxies appended can be trusted.
        if len(hops) >= PROXY_COUNT:
            return hops[-PROXY_COUNT]
    return str(request.META.get("REMOTE_ADDR") or "0.0.0.0")  # noqa: S104 (a value, not a bind)


def pseudonyms(request: HttpRequest) -> ClientPseudonyms:
    return client_pseudonyms(
        client_address(request),
        request.META.get("HTTP_USER_AGENT", ""),
        key=settings.BEFFROI_PSEUDONYM_KEY.encode(),
    )
