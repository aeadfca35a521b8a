"""What a new user name may be (invitation acceptance, account creation).

User names are shown to people: in the member list, in every journal line an account
writes, in exports. Two accounts must never read the same there, so a new name is:

- NFKC-normalised, as Django's log-in form normalises what is typed (``ｃoord`` is stored
  as ``coord``, and would have met the database's unique constraint: an HTTP 500);
- made of Latin letters (accented ones included: Élodie, Çağla, Anaïs), digits and ``.``,
  ``-``, ``_``. Other scripts are refused because their letters can look exactly like Latin
  ones (a Cyrillic ``о`` in ``coоrd``); spaces, invisible characters (zero-width space,
  joiners, bidirectional marks) and ``<>/@+`` are refused, since none belongs in a handle
  and each can make two names look alike or break a line of text;
- unique without case: ``Coord`` next to ``coord`` would be two accounts read as one
  (the journal's author filter compares without case).

Pure module: no Django import.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

MAX_LENGTH = 150
_PUNCTUATION = frozenset("._-")


def normalise(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip()


def _allowed(char: str) -> bool:
    if char.isascii():
        return char.isalnum() or char in _PUNCTUATION
    # Letters of the Latin script only ("LATIN SMALL LETTER E WITH ACUTE"): NFKC has
    # already composed accents onto their letters.
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def shape_error(name: str) -> str | None:
    """Why ``name`` (normalised) cannot be a user name, as a key for the caller's
    message, or None."""
    if not name:
        return "empty"
    if len(name) > MAX_LENGTH:
        return "too_long"
    if not all(_allowed(c) for c in name):
        return "characters"
    return None


def case_twin(name: str, existing: Iterable[str]) -> str | None:
    """The existing name that reads as ``name`` without case, if any."""
    key = name.casefold()
    return next((other for other in existing if normalise(other).casefold() == key), None)
