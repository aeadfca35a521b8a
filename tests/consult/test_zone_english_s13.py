"""A late ballot's refusal, re-said for an English reader, names the consultation's zone
in English (« heure de la Martinique » → "Martinique time"), not half in French."""

from __future__ import annotations

import pytest
from django.utils import translation

from beffroi.consult.views_i18n import refusal
from beffroi.consult.zones import zone_words

LATE = (
    "La consultation est close depuis le 14/12/2026 18:00 ({zone}) : "
    "votre réponse n'a pas été enregistrée."
)


@pytest.mark.parametrize(
    ("zone", "english"),
    [
        ("Europe/Paris", "(Paris time)"),
        ("America/Martinique", "(Martinique time)"),
        ("Indian/Reunion", "Réunion time)"),
        ("Etc/GMT-4", "(UTC+4)"),
        ("UTC", "(Coordinated Universal Time (UTC))"),
    ],
)
def test_the_english_refusal_names_the_zone_in_english(zone, english):
    french = LATE.format(zone=zone_words(zone))
    with translation.override("en"):
        said = refusal(french)
    assert english in said
    assert "heure" not in said and "temps universel" not in said
    with translation.override("fr"):
        assert refusal(french) == french
