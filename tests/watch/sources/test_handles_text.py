"""Pseudonymising handles in stored text: properties over arbitrary text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from beffroi.watch.sources import pseudonymise_mentions, pseudonymise_record
from beffroi.watch.sources.base import MENTION, PSEUDONYM_MENTION

KEY = b"test-key"
handles = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.]{0,14}[A-Za-z0-9_]", fullmatch=True)
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.tuples(words, handles), max_size=6), words)
def test_every_mention_becomes_a_pseudonym_and_twice_changes_nothing(parts, tail):
    text = "".join(f"{w} @{h} " for w, h in parts) + tail
    once = pseudonymise_mentions(text, KEY)
    for m in MENTION.finditer(once):
        assert PSEUDONYM_MENTION.fullmatch(m.group(1)), (text, once)
    assert pseudonymise_mentions(once, KEY) == once


@given(handles)
def test_the_same_handle_gets_the_same_pseudonym_whatever_its_case(handle):
    a = pseudonymise_mentions(f"vu par @{handle}", KEY)
    b = pseudonymise_mentions(f"vu par @{handle.upper()}", KEY)
    assert a == b and handle not in a.removeprefix("vu par @h_")[16:]
    assert pseudonymise_mentions(f"vu par @{handle}", b"other-key") != a


def test_records_are_walked_and_account_addresses_emptied():
    record = {
        "content": '<a href="https://mastodon.social/@bob">@bob</a> et https://lemonde.fr/a',
        "nested": [{"u": "https://bsky.app/profile/bob.bsky.social/post/1"}, 3, None],
    }
    out = pseudonymise_record(record, KEY)
    assert "bob" not in str(out).replace("@h_", "")
    assert out["nested"][1:] == [3, None] and "https://lemonde.fr/a" in out["content"]
