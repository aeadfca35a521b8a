"""Records nested deep (session 9 security review). A post's record from a remote server
(any Bluesky account's post record, a Mastodon status, an imported line) may be nested as
deep as the JSON parser goes; the recursive walks that scrub handles and pseudonymise
mentions spent two frames a level, so a record about 500 deep raised RecursionError and
failed the source's batch at every retry. The walks are now loops, with the same result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import (
    HANDLE_KEYS,
    pseudonymise_mentions,
    pseudonymise_record,
    scrub_handles,
)

KEY = b"k" * 32


def reference_pseudonymise(value: Any) -> Any:
    """The walk as it was (recursive), to compare with."""
    if isinstance(value, dict):
        return {str(k): reference_pseudonymise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reference_pseudonymise(v) for v in value]
    if isinstance(value, str):
        return pseudonymise_mentions(value, KEY)
    return value


def reference_scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): reference_scrub(v) for k, v in value.items() if str(k) not in HANDLE_KEYS}
    if isinstance(value, list | tuple):
        return [reference_scrub(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


keys = st.one_of(st.sampled_from(sorted(HANDLE_KEYS)), st.text(max_size=6), st.integers(-3, 3))
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.sampled_from(["@alice@example.org a vu", "voir @bob", "https://x.example/@carol"]),
    st.datetimes(timezones=st.just(UTC)),
    st.binary(max_size=4),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_the_loops_give_what_the_recursive_walks_gave(value):
    assert scrub_handles(value) == reference_scrub(value)
    assert pseudonymise_record(value, KEY) == reference_pseudonymise(value)


def _bottom(value: Any) -> dict[str, Any]:
    while not (isinstance(value, dict) and "text" in value):
        value = value[0] if isinstance(value, list) else value["x"]
    return value


def test_records_nested_far_past_the_recursion_limit():
    deep: Any = {"username": "eve", "text": "signalé par @dave@example.org", "n": 1}
    for i in range(5000):
        deep = [deep] if i % 2 else {"x": deep}
    assert _bottom(scrub_handles(deep)) == {"text": "signalé par @dave@example.org", "n": 1}
    inner = _bottom(pseudonymise_record(deep, KEY))
    assert "@dave" not in inner["text"] and inner["n"] == 1


def test_a_deep_post_is_received(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post
    from beffroi.watch.sources.base import RawPost

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    source = actions.add_source(
        activation, kind="rss", name="P", data={"url": "https://example.org/rss.xml"}, actor=coord
    )
    deep: Any = {"mention": "@dave@example.org"}
    for _ in range(600):
        deep = [deep]
    post = RawPost(
        source_kind="rss",
        source_id=str(source.pk),
        external_id="deep",
        text="La digue cède",
        created_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        raw={"extra": deep},
    )
    assert actions.receive_items(source.pk, [post], {"cursor": 1}).new == 1
    assert Post.objects.filter(source=source, external_id="deep").exists()
