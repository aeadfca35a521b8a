"""An X/Twitter profile link typed in a note (https://x.com/<account>, no post) names
the account as much as a post link does: the journal gets its pseudonym."""

from __future__ import annotations

import pytest

from beffroi.watch.sources.base import handle_pseudonym, pseudonymise_typed

KEY = b"k" * 32


def _short(handle: str) -> str:
    return "h_" + handle_pseudonym(handle, KEY).split(":", 1)[1][:16]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("https://x.com/Temoin_Ales", "https://x.com/{p}"),
        ("compte : https://twitter.com/temoin_ales.", "compte : https://twitter.com/{p}."),
        ("(https://mobile.twitter.com/temoin_ales)", "(https://mobile.twitter.com/{p})"),
        ("https://x.com/temoin_ales/with_replies", "https://x.com/{p}/with_replies"),
        ("https://x.com/temoin_ales?lang=fr", "https://x.com/{p}?lang=fr"),
    ],
)
def test_a_profile_link_gets_the_accounts_pseudonym(typed: str, expected: str) -> None:
    out = pseudonymise_typed(typed, KEY)
    # The same pseudonym as the account's posts (x.com/<account>/status/…) get.
    assert out == expected.format(p=_short("temoin_ales"))
    post = pseudonymise_typed("https://x.com/temoin_ales/status/1", KEY)
    assert post == f"https://x.com/{_short('temoin_ales')}/status/1"
    assert pseudonymise_typed(out, KEY) == out


@pytest.mark.parametrize(
    "typed",
    [
        "https://x.com/search?q=crue",
        "https://x.com/home",
        "https://x.com/i/flow/login",
        "https://x.com/hashtag/crue",
        "https://x.com/explore",
        "https://x.com/",
    ],
)
def test_x_own_pages_are_left_as_typed(typed: str) -> None:
    assert pseudonymise_typed(typed, KEY) == typed
