"""Entries this app adds to the organisation menu: (url name, label, capability)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from beffroi.core.roles import NAVIGATION

ENTRIES: list[tuple[str, Any, str]] = [
    ("consult-list", _("Consultations"), "consult.view"),
]
NAVIGATION.extend(ENTRIES)
