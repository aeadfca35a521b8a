"""Name folding shared by the gazetteer build, the lookups and the geocoder.

Folding makes "St-Jean-de-Monts", "Saint Jean de Monts" and "SAINT-JEAN-DE-MONTS" equal:
accents and case are dropped, every separator (hyphen, apostrophe, dot, underscore) becomes
one space, and the usual abbreviations of "Saint"/"Sainte" are expanded. The build script
and the runtime use this one function so the shipped keys and the query keys always agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Ligatures that NFKD leaves whole: "Œuilly" must fold like "Oeuilly".
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´ʼ._/]+")
_NON_WORD = re.compile(r"[^0-9a-z ]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


class _StripTable(dict[int, str]):
    """str.translate table filled on demand: each character is decomposed once."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        decomposed = unicodedata.normalize("NFKD", ch.translate(_LIGATURES))
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        self[code] = stripped
        return stripped


_STRIP = _StripTable()


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return text.translate(_STRIP)


@lru_cache(maxsize=1 << 16)
def fold_token(token: str) -> str:
    """Fold one word (no separators inside): accents, case, abbreviations."""
    folded = _NON_WORD.sub("", strip_accents(token).lower())
    return _ABBREVIATIONS.get(folded, folded)


def fold(name: str) -> str:
    """Fold a place name to its matching key (space-separated folded words)."""
    spaced = _SEPARATORS.sub(" ", strip_accents(name).lower())
    words = (fold_token(w) for w in spaced.split(" "))
    return " ".join(w for w in words if w)


def joined(name: str) -> str:
    """Key without spaces, the form a hashtag takes (#SaintJeanDeMonts)."""
    return fold(name).replace(" ", "")
