"""Addresses that name an account on the big platforms (Facebook, Instagram, Telegram,
LinkedIn, TikTok, YouTube, X, its mirrors and embed fixers), and ``%40`` for ``@``: no
such address is stored as it came, and nothing else of a text changes (review R16,
finding 2)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import (
    names_account,
    pseudonymise_account_url,
    pseudonymise_mentions,
    pseudonymise_record,
    pseudonymise_typed,
)

KEY = b"test-key"
NAME = "jeannedupont"
# (address, what it becomes with the account's pseudonym in place of the name); h_… is
# the pseudonym of the account as written there.
ACCOUNT_ADDRESSES = [
    f"https://www.facebook.com/{NAME}/posts/1",
    f"https://m.facebook.com/{NAME}",
    f"https://fb.com/{NAME}.fr/videos/2",
    f"https://www.facebook.com/profile.php?id=1000{NAME}".replace(NAME, "12345"),
    "https://m.facebook.com/story.php?story_fbid=5&id=1000123456",
    f"https://www.facebook.com/people/{NAME}/1000123456/",
    f"https://www.instagram.com/{NAME}/",
    f"https://instagram.com/{NAME}/p/Cx1/",
    f"https://www.instagram.com/stories/{NAME}/3141/",
    f"https://t.me/{NAME}",
    f"https://t.me/{NAME}/45",
    f"https://t.me/s/{NAME}",
    f"https://telegram.me/{NAME}",
    f"https://www.linkedin.com/in/{NAME}-8a1b/",
    f"https://fr.linkedin.com/posts/{NAME}_crue-activity-7123-abcd",
    f"https://www.tiktok.com/@{NAME}/video/1",
    f"https://www.youtube.com/@{NAME}",
    f"https://www.youtube.com/c/{NAME}",
    f"https://www.youtube.com/user/{NAME}/videos",
    "https://www.youtube.com/channel/UC1234567890abcdef",
    f"https://x.com/{NAME}",
    f"https://twitter.com/{NAME}/media",
    f"https://nitter.net/{NAME}/status/1",
    f"https://nitter.poast.org/{NAME}/status/1#m",
    f"https://xcancel.com/{NAME}/status/1",
    f"https://fxtwitter.com/{NAME}/status/1",
    f"https://vxtwitter.com/{NAME}/status/1",
    f"https://fixupx.com/{NAME}/status/1",
    f"https://PIAILLE.fr/%40{NAME}/1",
    f"https://piaille.fr/%40{NAME}",
    f"https://www.reddit.com/user/{NAME}",
]
# The platforms' own pages and posts that carry no account: kept as they are.
OTHER_ADDRESSES = [
    "https://www.instagram.com/p/Cx1/",
    "https://www.instagram.com/reel/Cx1/",
    "https://www.facebook.com/groups/123456",
    "https://www.facebook.com/watch/?v=1",
    "https://www.facebook.com/events/123",
    "https://www.facebook.com/share/p/abc/",
    "https://t.me/+AbCdEf",
    "https://t.me/joinchat/AbCdEf",
    "https://www.youtube.com/watch?v=abc",
    "https://www.linkedin.com/feed/update/urn:li:activity:7123/",
    "https://x.com/search?q=crue",
    "https://x.com/hashtag/crue",
    "https://x.com/i/status/1",
    "https://www.vigicrues.gouv.fr/niv3-station.php?CdStationHydro=V1",
    "https://ex.invalid/%41bc",
]


def _the_account(address: str) -> str:
    """The part of ``address`` that names the account."""
    for part in (NAME, "1000123456", "UC1234567890abcdef", "12345"):
        if part in address:
            return part
    raise AssertionError(address)


@pytest.mark.parametrize("address", ACCOUNT_ADDRESSES)
def test_an_account_address_names_its_account(address: str) -> None:
    assert names_account(address)
    kept = pseudonymise_account_url(address, KEY)
    account = _the_account(address)
    # Evidence keeps its shape (platform, post) with a pseudonym for the account.
    assert kept and account not in kept and re.search(r"h_[0-9a-f]{16}", kept)
    assert pseudonymise_account_url(kept, KEY) == kept  # idempotent
    assert pseudonymise_record({"u": address}, KEY) == {"u": ""}
    assert account not in pseudonymise_typed(f"vu sur {address}.", KEY)


@pytest.mark.parametrize("address", OTHER_ADDRESSES)
def test_a_platform_page_without_an_account_stays(address: str) -> None:
    assert not names_account(address)
    assert pseudonymise_account_url(address, KEY) == address
    assert pseudonymise_mentions(f"voir {address} ici", KEY) == f"voir {address} ici"


def test_the_same_account_gets_the_same_pseudonym_on_a_platform() -> None:
    profile = pseudonymise_account_url(f"https://www.facebook.com/{NAME}", KEY)
    post = pseudonymise_account_url(f"https://m.facebook.com/{NAME}/posts/9", KEY)
    assert profile.rsplit("/", 1)[1] == post.split("/")[3]


def test_a_link_ending_a_sentence_keeps_the_sentence_mark() -> None:
    typed = pseudonymise_typed(f"Compte : https://www.facebook.com/{NAME}.", KEY)
    assert typed.endswith(".") and NAME not in typed
    assert typed == pseudonymise_typed(typed, KEY)


_WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda w: "://" not in w and "@" not in w and "did:" not in w)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(_WORDS, st.sampled_from(ACCOUNT_ADDRESSES)),
        min_size=1,
        max_size=12,
    )
)
def test_no_account_address_survives_and_nothing_else_changes(words: list[str]) -> None:
    text = " ".join(words)
    for keep_links, out in (
        (False, pseudonymise_mentions(text, KEY)),
        (True, pseudonymise_typed(text, KEY)),
    ):
        parts = out.split(" ")
        assert len(parts) == len(words)
        for before, after in zip(words, parts, strict=True):
            if before in ACCOUNT_ADDRESSES:
                assert _the_account(before) not in after
                assert after == (pseudonymise_account_url(before, KEY) if keep_links else "")
            else:
                assert after == before
