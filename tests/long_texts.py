"""Long texts made of crisis words, for the tests of posts far longer than any platform's."""

from __future__ import annotations

WORDS = ["inondation", "route", "coupée", "Luçon", "eau", "monte", "vite", "secours", "maison"]


def long_text(chars: int) -> str:
    """At least ``chars`` characters of numbered words (no two neighbours alike, so nothing
    collapses them)."""
    parts, n, i = [], 0, 0
    while n < chars:
        word = WORDS[i % len(WORDS)] + str(i % 997)
        parts.append(word)
        n += len(word) + 1
        i += 1
    return " ".join(parts)
