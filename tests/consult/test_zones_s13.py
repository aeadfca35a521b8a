"""A consultation's time zone: one set of French words for it (letters and refusals),
a name frozen in the spec and its hash, and old specs hashing as before."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.consult.ballot import OutOfPeriod, check_ballot, make_ballot
from beffroi.consult.spec import SpecError, spec_from_dict, spec_hash
from beffroi.consult.zones import check_zone_name, english_for, known_zones, zone_words

ZONES = sorted(known_zones())


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Europe/Paris", "heure de Paris"),
        ("Indian/Reunion", "heure de La Réunion"),
        ("America/Martinique", "heure de la Martinique"),
        ("America/Guadeloupe", "heure de la Guadeloupe"),
        ("America/Cayenne", "heure de la Guyane"),
        ("America/Miquelon", "heure de Saint-Pierre-et-Miquelon"),
        ("Pacific/Noumea", "heure de la Nouvelle-Calédonie"),
        ("Indian/Mayotte", "heure de Mayotte"),
        ("Etc/GMT-4", "UTC+4"),
        ("Etc/GMT+5", "UTC-5"),
        ("UTC", "temps universel (UTC)"),
        ("Etc/UTC", "temps universel (UTC)"),
        ("Africa/Abidjan", "heure d'Abidjan"),
        ("America/New_York", "heure de New York"),
        ("US/Eastern", "fuseau US/Eastern"),
    ],
)
def test_zone_words_exact(name: str, words: str) -> None:
    assert zone_words(ZoneInfo(name)) == words
    assert zone_words(name) == words


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES))
def test_every_zone_reads_as_a_sane_french_phrase(name: str) -> None:
    words = zone_words(ZoneInfo(name))
    assert words.strip() == words and words
    assert "_" not in words  # tz names write spaces as underscores
    assert "GMT" not in words or words.startswith("fuseau ")  # POSIX signs read backwards
    assert re.match(r"^(heure de |heure des |heure d'|fuseau |temps universel|UTC[+-]\d)", words)
    fixed = re.fullmatch(r"UTC([+-])(\d+)", words)
    if fixed:
        # The words give the zone's real offset, not the name's inverted sign.
        hours = int(fixed.group(2)) * (1 if fixed.group(1) == "+" else -1)
        offset = datetime(2026, 1, 1, tzinfo=ZoneInfo(name)).utcoffset()
        assert offset is not None and offset.total_seconds() == hours * 3600


@pytest.mark.parametrize("bad", ["Europe/Pariss", "../etc/passwd", "localtime", "", None, 4])
def test_unknown_zones_are_refused_in_french(bad: object) -> None:
    with pytest.raises(ValueError, match=r"fuseau horaire .* inconnu : nom IANA attendu"):
        check_zone_name(bad)


def _spec(**extra: object) -> dict[str, object]:
    return {
        "id": "outre-mer",
        "title": "Cantine",
        "opens": "2026-12-01T12:00:00Z",
        "closes": "2026-12-14T22:00:00Z",
        "access": "open",
        "questions": [{"code": "q", "kind": "text", "label": "Avis"}],
        **extra,
    }


def test_the_zone_is_frozen_in_the_spec_hash_and_old_specs_keep_theirs() -> None:
    old = spec_from_dict(_spec())
    assert old.timezone is None
    # The hash of this spec as computed by the code before the field existed.
    assert spec_hash(old) == "c61cbed97be5d057e2907cf7b7c89ee372a17b60022c35126fdc8653eab1353b"
    assert "timezone" not in old.to_dict(frozen_only=True)
    zoned = spec_from_dict(_spec(timezone="America/Martinique"))
    assert zoned.timezone == "America/Martinique"
    assert zoned.to_dict()["timezone"] == "America/Martinique"
    assert spec_hash(zoned) != spec_hash(old)
    # Absent is not the same as a default written in.
    assert spec_hash(spec_from_dict(_spec(timezone="Europe/Paris"))) != spec_hash(old)
    # Round trip, strict as the verifier reads bundles.
    assert spec_from_dict(zoned.to_dict(), strict=True) == zoned


@pytest.mark.parametrize("bad", ["Mars/Olympus", None, 1, "localtime"])
def test_a_spec_with_an_unknown_zone_is_refused(bad: object) -> None:
    with pytest.raises(SpecError, match=r"^timezone: fuseau horaire .* inconnu"):
        spec_from_dict(_spec(timezone=bad))


def test_the_refusal_uses_the_consultations_zone_over_the_deployments() -> None:
    spec = spec_from_dict(_spec(timezone="Indian/Reunion"))
    ballot = make_ballot(spec, {"q": "x"}, public_key=None, seq=1)
    with pytest.raises(OutOfPeriod) as err:
        check_ballot(
            spec,
            ballot,
            None,
            keys={},
            received_at=datetime(2026, 12, 15, tzinfo=UTC),
            zone=ZoneInfo("Europe/Paris"),
        )
    assert "close depuis le 15/12/2026 02:00 (heure de La Réunion)" in err.value.message


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("Europe/Paris", "Paris time"),
        ("America/Martinique", "Martinique time"),
        ("Indian/Reunion", "Réunion time"),
        ("America/Cayenne", "French Guiana time"),
        ("Etc/GMT-4", "UTC+4"),
        ("UTC", "Coordinated Universal Time (UTC)"),
        ("Africa/Algiers", "Algiers time"),
        ("US/Eastern", "US/Eastern time zone"),
    ],
)
def test_the_words_have_an_english_reading(name: str, english: str) -> None:
    assert english_for(zone_words(name)) == english
    assert english_for("heure de nulle part") is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES))
def test_every_zones_words_read_back_in_english(name: str) -> None:
    english = english_for(zone_words(name))
    assert english and "heure" not in english and "fuseau" not in english
    assert "_" not in english
