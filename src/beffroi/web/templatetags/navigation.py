"""``{% marked nav_items as items %}``: the top bar's current section.

The navigation marks the entry whose URL name is the page's own; a page inside a
section (an activation's triage room, a consultation's rules) matched none, so the
top bar said nowhere where the reader was.  An entry also stands for the pages
below its address, the deepest such entry winning; the organisation's dashboard,
whose address starts every page's, is current on its own page only.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def marked(context: template.Context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items, each with ``current``: "page" for the page itself, "true" for the
    section a page lies in (what aria-current says of each), "" otherwise."""
    request: HttpRequest | None = context.get("request")
    organisation = getattr(request, "organisation", None)
    if request is None or organisation is None or any(item.get("active") for item in items):
        return [{**item, "current": "page" if item.get("active") else ""} for item in items]
    root = reverse("org-dashboard", args=[organisation.slug])
    sections = [
        item["url"]
        for item in items
        if item["url"] != root and request.path.startswith(item["url"])
    ]
    section = max(sections, key=len, default=None)
    return [{**item, "current": "true" if item["url"] == section else ""} for item in items]
