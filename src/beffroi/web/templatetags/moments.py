"""``{{ value|moment }}``: a timestamp as its reader writes dates, machine value kept.

Published files (board, bundle, results.json) carry canonical UTC text such as
``2026-03-02T08:00:00.000000Z``; pages show it in the deployment's time zone and
the reader's language inside ``<time datetime="…">``, so the exact value stays
in the markup (and in a tooltip) for whoever compares it with the files.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def moment(value: str | datetime | None, style: str = "DATETIME_FORMAT") -> SafeString | str:
    """``style`` is a Django format name: DATETIME_FORMAT (default) or
    SHORT_DATETIME_FORMAT for tables.  Text that is not a timestamp is returned as is."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        moment_ = value
        machine = value.isoformat()
    else:
        machine = str(value)
        try:
            moment_ = datetime.fromisoformat(machine)
        except ValueError:
            return machine
    if timezone.is_naive(moment_):
        # Canonical board times are UTC even when written without an offset.
        moment_ = moment_.replace(tzinfo=UTC)
    local = timezone.localtime(moment_)
    shown = formats.date_format(local, style)
    return format_html(
        '<time datetime="{}" title="{}">{} ({})</time>',
        machine,
        machine,
        shown,
        local.strftime("%Z"),
    )
