"""Entries this app adds to the organisation menu: (url name, label, capability)."""

from django.utils.translation import gettext_lazy as _

from beffroi.core.roles import NAVIGATION

ENTRIES: list = [
    ("watch-activations", _("Veille"), "watch.log.view"),
]
NAVIGATION.extend(ENTRIES)
