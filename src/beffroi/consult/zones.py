"""Time zones of consultations: which names are accepted, and how letters and refusals
say them in French.

Pure (no Django): the letters' tool runs offline and the ballot checks are the pure
core's.  The letter (« jusqu'au lundi 14 décembre 2026 à 18 h (heure de Paris) ») and a
late ballot's refusal (« close depuis le 14/12/2026 18:00 (heure de Paris) ») both take
their words from :func:`zone_words`, so that a parent reads the same hour and the same
zone on both.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# The zone used when neither the consultation nor the command names one: the product's
# (French schools), and the one consultations written before they carried a zone meant.
DEFAULT_ZONE = "Europe/Paris"

# Names that tzdata lists but that no consultation should carry: « localtime » is the
# machine's own setting (another machine reads another zone), « Factory » is a
# placeholder meaning « zone not set ».
_NOT_A_CONSULTATION_ZONE = frozenset({"localtime", "Factory"})

# Names of Coordinated Universal Time (or of GMT, the same clock for a letter).
_UNIVERSAL = frozenset(
    {
        "UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich",
        "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "Etc/GMT0",
        "Etc/GMT+0", "Etc/GMT-0", "Etc/Greenwich",
    }
)  # fmt: skip

# POSIX-style fixed offsets: « Etc/GMT-4 » is four hours *ahead* of UTC.
_ETC_OFFSET = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")

# How a French reader names the places of the French zones (the tz name is English and
# says « Reunion », « Noumea », « Cayenne » for French Guiana), and a few neighbours
# whose English name would read oddly in a French sentence.
_FRENCH_WORDS = {
    "Europe/Paris": "heure de Paris",
    "America/Martinique": "heure de la Martinique",
    "America/Guadeloupe": "heure de la Guadeloupe",
    "America/Cayenne": "heure de la Guyane",
    "America/Miquelon": "heure de Saint-Pierre-et-Miquelon",
    "America/St_Barthelemy": "heure de Saint-Barthélemy",
    "America/Marigot": "heure de Saint-Martin",
    "Indian/Reunion": "heure de La Réunion",
    "Indian/Mayotte": "heure de Mayotte",
    "Indian/Kerguelen": "heure des Kerguelen",
    "Pacific/Noumea": "heure de la Nouvelle-Calédonie",
    "Pacific/Tahiti": "heure de Tahiti",
    "Pacific/Marquesas": "heure des Marquises",
    "Pacific/Gambier": "heure des Gambier",
    "Pacific/Wallis": "heure de Wallis-et-Futuna",
    "Europe/Brussels": "heure de Bruxelles",
    "Europe/London": "heure de Londres",
    "Europe/Lisbon": "heure de Lisbonne",
    "Europe/Vienna": "heure de Vienne",
    "Europe/Warsaw": "heure de Varsovie",
    "Europe/Copenhagen": "heure de Copenhague",
    "Europe/Athens": "heure d'Athènes",
    "Europe/Moscow": "heure de Moscou",
    "Europe/Zurich": "heure de Zurich",
    "Europe/Luxembourg": "heure de Luxembourg",
    "Europe/Monaco": "heure de Monaco",
    "America/Montreal": "heure de Montréal",
    "America/Toronto": "heure de Toronto",
    "Africa/Algiers": "heure d'Alger",
    "Africa/Tunis": "heure de Tunis",
}

# Legacy aliases named after a country or a region, not a place (« US/Eastern »,
# « Canada/Atlantic », « Japan »): « heure de Eastern » would say nothing, so the
# name is given as it is, as a zone's name.
_REGION_PREFIXES = frozenset({"US", "Canada", "Brazil", "Chile", "Mexico"})
_VOWELS = frozenset("AEIOUÂÉÈÊÎÔÛ")


# The same places in English, for pages read in English (tz names are English already
# elsewhere; these are the ones the French table renames).
_ENGLISH_PLACES = {
    "America/Cayenne": "French Guiana",
    "America/Miquelon": "Saint Pierre and Miquelon",
    "America/St_Barthelemy": "Saint Barthélemy",
    "America/Marigot": "Saint Martin",
    "Indian/Reunion": "Réunion",
    "Pacific/Noumea": "New Caledonia",
    "Pacific/Marquesas": "Marquesas Islands",
    "Pacific/Gambier": "Gambier Islands",
    "Pacific/Wallis": "Wallis and Futuna",
}


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """Every IANA name a consultation may carry (tzdata's list, read once: 0.1 s)."""
    return frozenset(available_timezones()) - _NOT_A_CONSULTATION_ZONE


def check_zone_name(name: object) -> str:
    """``name`` if it is an IANA time zone known here; ``ValueError`` (French) if not."""
    if not isinstance(name, str) or name not in known_zones():
        shown = name if isinstance(name, str) else type(name).__name__
        raise ValueError(
            f"fuseau horaire {shown!r} inconnu : nom IANA attendu, ex. Europe/Paris, "
            "America/Martinique ou Indian/Reunion"
        )
    return name


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of a name :func:`check_zone_name` accepts (``ValueError`` if not)."""
    try:
        return ZoneInfo(check_zone_name(name))
    except ZoneInfoNotFoundError as exc:  # listed but unreadable: a broken tzdata
        raise ValueError(f"fuseau horaire {name!r} illisible sur cette machine") from exc


def zone_words(tz: ZoneInfo | str) -> str:
    """How a French reader names the zone after an hour: « heure de Paris », « heure de
    La Réunion », « UTC+4 » (for ``Etc/GMT-4``: POSIX signs are inverted), « temps
    universel (UTC) »."""
    key = tz if isinstance(tz, str) else str(tz.key)
    if key in _FRENCH_WORDS:
        return _FRENCH_WORDS[key]
    if key in _UNIVERSAL:
        return "temps universel (UTC)"
    fixed = _ETC_OFFSET.match(key)
    if fixed:
        # The sign is the opposite of the name's: Etc/GMT-4 is UTC+4.
        sign = "+" if fixed.group(1) == "-" else "-"
        return f"UTC{sign}{int(fixed.group(2))}"
    area, _sep, place = key.rpartition("/")
    if not area or area.split("/")[0] in _REGION_PREFIXES or place.isupper():
        return f"fuseau {key}"
    city = place.replace("_", " ")
    return f"heure d'{city}" if city[:1].upper() in _VOWELS else f"heure de {city}"


def english_zone_words(tz: ZoneInfo | str) -> str:
    """The English of :func:`zone_words`: « Martinique time », « UTC+4 »,
    « Coordinated Universal Time (UTC) », « US/Eastern time zone »."""
    key = tz if isinstance(tz, str) else str(tz.key)
    french = zone_words(key)
    if key in _UNIVERSAL:
        return "Coordinated Universal Time (UTC)"
    if french.startswith("UTC"):
        return french
    if french.startswith("fuseau "):
        return f"{key} time zone"
    place = _ENGLISH_PLACES.get(key, key.rpartition("/")[2].replace("_", " "))
    return f"{place} time"


@lru_cache(maxsize=1)
def _french_to_english() -> dict[str, str]:
    out: dict[str, str] = {}
    for key in sorted(known_zones()):
        out.setdefault(zone_words(key), english_zone_words(key))
    return out


def english_for(french: str) -> str | None:
    """The English of a phrase :func:`zone_words` wrote (in a refusal re-said for an
    English reader, which holds only the words), or None if it wrote no such phrase."""
    return _french_to_english().get(french)
