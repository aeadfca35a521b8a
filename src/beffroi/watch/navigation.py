"""Entries this app adds to the organisation menu: (url name, label, capability)."""

from beffroi.core.roles import NAVIGATION

ENTRIES: list = []
NAVIGATION.extend(ENTRIES)
