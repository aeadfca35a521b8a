"""Bluesky posts stored before DIDs were pseudonymised keep AT-URIs that name their
author (``at://did:plc:…/app.bsky.feed.post/…``) in their id, ``repost_of`` and their
card's id. The repair rewrites them exactly as the door stores ids today
(``actions._stored_id``), so an edit or a deletion the live source delivers afterwards,
with the platform's AT-URI, still finds its post and its card; a post stored twice (the
old row, then the same post received again after the rule) keeps one identity and no
DID. Journal: counts only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.usesdb

AUTHOR = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
QUOTED = "did:plc:z72i7hdynmk6r22z27h6tvur"
URI = f"at://{AUTHOR}/app.bsky.feed.post/3kabc"
ORIGINAL = f"at://{QUOTED}/app.bsky.feed.post/3kxyz"
WHEN = datetime(2026, 11, 8, 6, tzinfo=UTC)
TEXT = "Digue rompue à l'Aiguillon, l'eau monte rue du Port"


def _activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Submersion", event_type="inondation", actor=members["coordinator"]
    )


def _old_bluesky_rows(activation):
    """A Bluesky post, its card and its main courante line as stored before the rule:
    written straight to the tables."""
    from beffroi.watch.models import Card, LogEntry, Post, Source

    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    card = Card.objects.create(
        activation=activation,
        group_id="g1",
        source=source,
        source_kind="bluesky",
        external_id=URI,
        text=TEXT,
        posted_at=WHEN,
    )
    post = Post.objects.create(
        activation=activation,
        source=source,
        external_id=URI,
        repost_of=ORIGINAL,
        text=TEXT,
        created_at=WHEN,
        raw={"uri": URI, "reply": {"parent": ORIGINAL}, "lang": "fr"},
        card=card,
        processed=True,
    )
    line = LogEntry.objects.create(
        activation=activation, number=1, channel="social", category="degats", text=TEXT,
        card=card, for_partners=True,
    )  # fmt: skip
    return source, card, post, line


def _entries():
    from beffroi.core.models import JournalEntry

    return list(JournalEntry.objects.filter(action="watch.activation.scrub_handles"))


def test_ids_are_rewritten_as_the_door_stores_them_and_counted(org, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post

    activation = _activation(org, members)
    _source, card, post, _line = _old_bluesky_rows(activation)
    key = actions.handle_key()

    counts = actions.scrub_handles(activation)

    post = Post.objects.get(pk=post.pk)
    assert post.external_id == actions._stored_id(URI, key)
    assert post.external_id.startswith("at://did:h_") and post.external_id.endswith("/3kabc")
    assert post.repost_of == actions._stored_id(ORIGINAL, key)
    assert AUTHOR not in str(post.raw) and QUOTED not in str(post.raw)
    assert Card.objects.get(pk=card.pk).external_id == post.external_id
    assert counts.as_journal() == {
        "posts": 1, "post_changes": 0, "cards": 1, "log_entries": 0,
        "post_ids": 1, "duplicate_ids": 0,
    }  # fmt: skip
    [entry] = _entries()
    assert entry.data["post_ids"] == 1 and entry.data["duplicate_ids"] == 0
    everything = str(list(JournalEntry.objects.values()))
    assert AUTHOR not in everything and "did:h_" not in everything

    # Idempotent: nothing left to change, nothing journaled.
    assert actions.scrub_handles(activation).changed == 0
    assert len(_entries()) == 1


def test_a_dry_run_counts_ids_without_writing(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation = _activation(org, members)
    _old_bluesky_rows(activation)
    counts = actions.scrub_handles(activation, dry_run=True)
    assert (counts.posts, counts.cards, counts.post_ids) == (1, 1, 1)
    assert Post.objects.get(activation=activation).external_id == URI
    assert _entries() == []


def test_later_edits_and_deletions_find_the_repaired_post(org, members):
    """Before the repair, the source's edit (with the platform's AT-URI, pseudonymised
    at the door) missed the old row; after it, the edit reaches the card and the line,
    and the deletion is not counted as unknown."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, PostChange
    from beffroi.watch.sources.base import DELETE, EDIT, RawPost
    from beffroi.watch.sources.base import PostChange as Change

    activation = _activation(org, members)
    source, card, post, line = _old_bluesky_rows(activation)
    actions.scrub_handles(activation)

    new_text = "Digue rompue à l'Aiguillon : évacuation rue du Port"
    edited = RawPost("bluesky", str(source.pk), URI, new_text, WHEN, raw={"uri": URI})
    edit = Change(EDIT, "bluesky", str(source.pk), URI, at=WHEN.replace(hour=7), post=edited)
    received = actions.receive_items(source.pk, [edit], {"cursor": 1})
    assert received.new == 0
    assert PostChange.objects.filter(post=post, kind="edit").count() == 1
    card.refresh_from_db()
    assert card.text == new_text and card.author_edited_at is not None
    assert LogEntry.objects.get(pk=line.pk).author_edited_at is not None

    deletion = Change(DELETE, "bluesky", str(source.pk), URI, at=WHEN.replace(hour=8))
    received = actions.receive_items(source.pk, [deletion], {"cursor": 2})
    assert received.unknown_deletions == 0
    assert PostChange.objects.filter(post=post, kind="delete").count() == 1
    assert Card.objects.get(pk=card.pk).author_deleted_at is not None


def test_without_the_repair_the_edit_misses_the_old_row(org, members):
    """What the repair is for: the same edit, unrepaired, becomes a second post."""
    from beffroi.watch import actions
    from beffroi.watch.models import Post, PostChange
    from beffroi.watch.sources.base import DELETE
    from beffroi.watch.sources.base import PostChange as Change

    activation = _activation(org, members)
    source, _card, post, _line = _old_bluesky_rows(activation)
    deletion = Change(DELETE, "bluesky", str(source.pk), URI, at=WHEN.replace(hour=8))
    received = actions.receive_items(source.pk, [deletion], {"cursor": 2})
    assert received.unknown_deletions == 1
    assert not PostChange.objects.filter(post=post).exists()
    assert Post.objects.filter(activation=activation).count() == 1


def test_a_post_stored_again_after_the_rule_keeps_one_identity(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post
    from beffroi.watch.sources.base import DELETE, RawPost
    from beffroi.watch.sources.base import PostChange as Change

    activation = _activation(org, members)
    source, card, old, _line = _old_bluesky_rows(activation)
    # The same post delivered again after the rule (a catch-up after a lost
    # checkpoint): the door stored it under its pseudonymised id, beside the old row.
    again = RawPost("bluesky", str(source.pk), URI, TEXT, WHEN, raw={"uri": URI})
    assert actions.receive_posts(source.pk, [again], {"cursor": 1}) == 1
    key = actions.handle_key()
    new = Post.objects.get(activation=activation, external_id=actions._stored_id(URI, key))

    counts = actions.scrub_handles(activation)

    assert (counts.post_ids, counts.duplicate_ids) == (1, 1)
    old = Post.objects.get(pk=old.pk)
    assert old.external_id == f"{new.external_id}#{old.pk}"
    assert AUTHOR not in old.external_id
    assert Post.objects.get(pk=new.pk).external_id == new.external_id
    card.refresh_from_db()
    assert card.external_id == new.external_id
    # Deletions find the post's identity, the row stored after the rule.
    deletion = Change(DELETE, "bluesky", str(source.pk), URI, at=WHEN.replace(hour=8))
    assert actions.receive_items(source.pk, [deletion], {"cursor": 2}).unknown_deletions == 0
    assert new.changes.filter(kind="delete").count() == 1
    # A second run leaves the copy as it is.
    assert actions.scrub_handles(activation).changed == 0


def test_small_batches_and_two_rows_for_one_post_in_one_batch(org, members):
    """The old row and the row stored after the rule in one batch, and over two."""
    from beffroi.watch import actions
    from beffroi.watch.models import Post
    from beffroi.watch.sources.base import RawPost

    for size in (1, 500):
        activation = _activation(org, members)
        source, _card, _old, _line = _old_bluesky_rows(activation)
        again = RawPost("bluesky", str(source.pk), URI, TEXT, WHEN, raw={"uri": URI})
        actions.receive_posts(source.pk, [again], {"cursor": 1})
        counts = actions.scrub_handles(activation, batch_size=size)
        assert counts.duplicate_ids == 1
        ids = list(Post.objects.filter(activation=activation).values_list("external_id", flat=True))
        assert len(set(ids)) == 2 and not any(AUTHOR in i for i in ids)


def test_an_activation_that_keeps_handles_keeps_its_at_uris(org, members):
    from beffroi.core.actions import ActionError
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation = _activation(org, members)
    activation.keep_handles = True
    activation.save(update_fields=["keep_handles"])
    _old_bluesky_rows(activation)
    with pytest.raises(ActionError):
        actions.scrub_handles(activation)
    assert Post.objects.get(activation=activation).external_id == URI
