"""Posts carrying a NUL character (session 9 security review). PostgreSQL's text and
jsonb cannot hold one: a post with one in its text, id, link or raw payload (a remote
account's post, a feed's entry, a line of an imported file) failed its whole batch, and
the runner retried that same batch for ever: one post jammed the source. The sink now
takes the NUL out of every string it stores. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beffroi.watch import actions
from beffroi.watch.models import Post
from beffroi.watch.sources.base import EDIT, PostChange, RawPost


@pytest.fixture
def source(org, members):
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    return actions.add_source(
        activation, kind="rss", name="P", data={"url": "https://example.org/rss.xml"}, actor=coord
    )


def post(external_id: str, text: str, **extra) -> RawPost:
    return RawPost(
        source_kind="rss",
        source_id="1",
        external_id=external_id,
        text=text,
        created_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        **extra,
    )


def test_posts_with_a_nul_are_stored_without_it(source):
    deep: object = {"k\x00": "v\x00"}
    for _ in range(200):
        deep = [deep]
    posts = [
        post(
            "a\x00",
            "L'eau\x00 monte",
            url="https://example.org/\x00x",
            language="fr\x00",
            media_urls=("https://example.org/m\x00.jpg",),
            raw={"titre\x00": ["x\x00", {"y": "z\x00"}], "profond": deep},
        ),
        post("b", "Pont fermé"),
    ]
    received = actions.receive_items(source.pk, posts, {"cursor": 1})
    assert received.new == 2
    stored = Post.objects.get(source=source, text="L'eau monte")
    assert "\x00" not in stored.external_id + stored.url + stored.language
    assert stored.raw["titre"] == ["x", {"y": "z"}]
    inner = stored.raw["profond"]
    while isinstance(inner, list):
        inner = inner[0]
    assert inner == {"k": "v"}
    assert Post.objects.filter(source=source, text="Pont fermé").exists()


def test_an_edit_with_a_nul_is_recorded(source):
    actions.receive_items(source.pk, [post("c", "Digue tient")], {"cursor": 1})
    edit = PostChange(
        kind=EDIT,
        source_kind="rss",
        source_id="1",
        external_id="c\x00",
        post=post("c\x00", "Digue\x00 rompue"),
        version="v2\x00",
    )
    actions.receive_items(source.pk, [edit], {"cursor": 2})
    stored = Post.objects.get(source=source, external_id="c")
    assert [(c.version, c.text) for c in stored.changes.all()] == [("v2", "Digue rompue")]


def test_items_without_a_nul_are_passed_as_they_are():
    clean = post("d", "rien")
    assert actions._without_nul(clean) is clean


def test_a_written_backslash_u_is_kept_as_it_is():
    written = post("e", "le code \\u0000", raw={"note": "\\u0000 écrit"})
    assert actions._without_nul(written) is written
