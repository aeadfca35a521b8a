"""An account link at the end of a sentence: the punctuation after it is the
sentence's, not part of the account's name (journal text, evidence links)."""

from __future__ import annotations

import pytest

from beffroi.watch.sources.base import (
    handle_pseudonym,
    pseudonymise_account_url,
    pseudonymise_typed,
)

KEY = b"k" * 32


def _short(handle: str) -> str:
    return "h_" + handle_pseudonym(handle, KEY).split(":", 1)[1][:16]


@pytest.mark.parametrize("mark", [".", ",", ";", ":", "!", "…", ")", "»", "..."])
def test_a_mastodon_account_link_keeps_the_punctuation_that_follows_it(mark: str) -> None:
    text = f"Source : https://piaille.fr/@alice{mark} à vérifier"
    out = pseudonymise_typed(text, KEY)
    # The pseudonym is alice@piaille.fr's, the one her posts and mentions get.
    assert out == f"Source : https://piaille.fr/@{_short('alice@piaille.fr')}{mark} à vérifier"
    assert pseudonymise_typed(out, KEY) == out


def test_a_profile_link_ending_a_sentence_gets_the_same_pseudonym_as_without() -> None:
    plain = pseudonymise_account_url("https://bsky.app/profile/alice.bsky.social", KEY)
    # Dots inside the name are the name's.
    assert "alice" not in plain and plain.startswith("https://bsky.app/profile/h_")
    out = pseudonymise_account_url("https://bsky.app/profile/alice.bsky.social.", KEY)
    assert out == plain + "."
