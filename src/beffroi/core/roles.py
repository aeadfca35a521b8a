"""Who may do what: the one place where permissions are decided.

Views, API handlers and templates ask `can(user, organisation, capability)`
(or use `require`); nothing else compares role names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from beffroi.core.models import Membership, Organisation, Role

C, V, P, S = Role.COORDINATOR, Role.VOLUNTEER, Role.PARTNER, Role.SCRUTINEER

# capability -> roles that have it.  The instance superuser has every capability.
CAPABILITIES: dict[str, frozenset[str]] = {
    "dashboard.view": frozenset({C, V, P, S}),
    "journal.view": frozenset({C, S}),
    "members.manage": frozenset({C}),
    "consult.manage": frozenset({C}),
    "audit.run": frozenset({C, S}),
    "watch.manage": frozenset({C}),
    "watch.triage": frozenset({C, V}),
    "watch.log.view": frozenset({C, V, P}),
    "consult.view": frozenset({C, S}),
}


def role_of(user: Any, organisation: Organisation) -> str | None:
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_beffroi_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._beffroi_roles = cache
    role: str | None = cache.get(organisation.pk)
    return role


def can(user: Any, organisation: Organisation, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return role_of(user, organisation) in CAPABILITIES[capability]


ViewFunc = Callable[..., HttpResponseBase]


def require(capability: str) -> Callable[[ViewFunc], ViewFunc]:
    """View decorator: resolves `org` (a slug) to `request.organisation` and checks the capability.

    Anonymous users are sent to the login page; members without the capability
    get 403 (not 404: they know the organisation exists, and a clear refusal
    helps them ask the right person).  Non-members get 404.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            organisation = get_object_or_404(Organisation, slug=org)
            if not request.user.is_superuser and role_of(request.user, organisation) is None:
                raise Http404(_("Organisation inconnue."))
            if not can(request.user, organisation, capability):
                raise PermissionDenied(_("Votre rôle ne donne pas accès à cette page."))
            request.organisation = organisation  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapped.capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorator


# Navigation entries: (url name, label, capability).  Later apps append theirs.
NAVIGATION: list[tuple[str, Any, str]] = [
    ("org-dashboard", _("Tableau de bord"), "dashboard.view"),
    ("journal", _("Journal"), "journal.view"),
    ("members", _("Membres"), "members.manage"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: the menu of the current organisation, filtered by role."""
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        return {"nav_items": []}
    items = [
        {
            "url": reverse(name, args=[organisation.slug]),
            "label": label,
            "active": request.resolver_match is not None
            and request.resolver_match.url_name == name,
        }
        for name, label, capability in NAVIGATION
        if can(request.user, organisation, capability)
    ]
    return {
        "nav_items": items,
        "current_role": Role(r).label if (r := role_of(request.user, organisation)) else "",
    }
