"""The consultation form's time-zone list says each zone in words, as the letters and
refusals do (« heure de la Martinique — America/Martinique »), French zones first; an
English page says them in English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from beffroi.consult.forms import FRENCH_ZONES, zone_choices, zone_label


def _options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="timezone".*?</select>', page, re.S)
    assert select, "no time-zone list on the form"
    return re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select.group(0))


def test_french_words_then_the_iana_name() -> None:
    with translation.override("fr"):
        assert zone_label("America/Martinique") == "heure de la Martinique — America/Martinique"
        assert zone_label("Indian/Reunion") == "heure de La Réunion — Indian/Reunion"
        assert zone_label("Etc/GMT-4") == "UTC+4 — Etc/GMT-4"
        # A zone without words of its own is not named twice.
        assert zone_label("US/Eastern") == "US/Eastern"
    with translation.override("en"):
        assert zone_label("America/Martinique") == "Martinique time — America/Martinique"
        assert zone_label("US/Eastern") == "US/Eastern"


def test_the_french_zones_come_first_and_every_zone_stays_choosable() -> None:
    (_, french), (_, others) = zone_choices()
    assert [value for value, _ in french] == list(FRENCH_ZONES)
    assert not {value for value, _ in french} & {value for value, _ in others}


@pytest.mark.usesdb
def test_the_form_shows_the_words(client: Any, org: Any, members: dict[str, Any]) -> None:
    client.force_login(members["coordinator"])
    page = client.get(reverse("consult-create", args=[org.slug])).content.decode()
    options = _options(page)
    assert options[0] == ("Europe/Paris", "heure de Paris — Europe/Paris")
    assert ("America/Martinique", "heure de la Martinique — America/Martinique") in options
    assert ("America/New_York", "heure de New York — America/New_York") in options
    french = [value for value, _ in options[: len(FRENCH_ZONES)]]
    assert french == list(FRENCH_ZONES)
