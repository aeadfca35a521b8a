"""Rows stored before the « RT@name: » fix keep the handle; ``actions.scrub_handles``
re-applies today's rules to them, in batches, as one journaled action per activation
that counts rows and names no handle (docs/decisions/watch-handles.md)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.usesdb

HANDLE = "xtianvincent"
OLD_RT = f"RT@{HANDLE}: Stranded in neck-deep flood #rescuePH"
EARLIER = f"RT@{HANDLE}: Stranded in flood"
TYPED = "Appel de la mairie, confirmé par @prefet85"
WHEN = datetime(2013, 11, 8, 6, tzinfo=UTC)


def _activation(org, members, name="Typhon Haiyan", keep_handles=False):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name=name, event_type="inondation", actor=members["coordinator"]
    )
    if keep_handles:
        activation.keep_handles = True
        activation.save(update_fields=["keep_handles"])
    return activation


def _old_rows(activation, n_posts=1):
    """What an activation stored before the fix: written straight to the tables, as
    the old pattern left them."""
    from beffroi.watch.models import Card, LogEntry, Post, PostChange, Source

    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    card = Card.objects.create(
        activation=activation,
        group_id=f"g{activation.pk}",
        source=source,
        source_kind="file",
        external_id="1",
        text=OLD_RT,
        posted_at=WHEN,
        explanation=[f"modifié par l'auteur ; version précédente : « {EARLIER} »", "lexique"],
    )
    posts = [
        Post.objects.create(
            activation=activation,
            source=source,
            external_id=str(i + 1),
            text=OLD_RT,
            created_at=WHEN,
            raw={"text": OLD_RT, "lang": "en", "n": i},
            card=card,
            processed=True,
        )
        for i in range(n_posts)
    ]
    PostChange.objects.create(
        post=posts[0], kind="edit", version="v2", text=OLD_RT, shown_before=EARLIER
    )
    lines = {
        "quotes_card": LogEntry.objects.create(
            activation=activation, number=1, channel="social", category="info",
            text=OLD_RT, card=card,
        ),
        "quotes_earlier": LogEntry.objects.create(
            activation=activation, number=2, channel="social", category="info",
            text=EARLIER, card=card,
        ),
        "summary": LogEntry.objects.create(
            activation=activation, number=3, channel="social", category="info",
            text=f"Résumé : vu chez @{HANDLE}", card=card,
        ),
        "manual": LogEntry.objects.create(
            activation=activation, number=4, channel="phone", category="info", text=TYPED
        ),
    }  # fmt: skip
    return card, posts, lines


def _scrub_entries():
    from beffroi.core.models import JournalEntry

    return list(JournalEntry.objects.filter(action="watch.activation.scrub_handles"))


def test_old_rows_lose_the_handle_and_one_entry_counts_them(org, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry, Post, PostChange
    from beffroi.watch.sources.base import pseudonymise_mentions

    activation = _activation(org, members)
    card, posts, lines = _old_rows(activation)

    counts = actions.scrub_handles(activation)

    assert counts.as_journal() == {
        "posts": 1, "post_changes": 1, "cards": 1, "log_entries": 2, "post_ids": 0,
        "duplicate_ids": 0,
    }  # fmt: skip
    post = Post.objects.get(pk=posts[0].pk)
    assert post.text == pseudonymise_mentions(OLD_RT, actions.handle_key())
    assert post.text.startswith("RT@h_") and HANDLE not in post.text
    assert HANDLE not in str(post.raw) and post.raw["lang"] == "en"
    card.refresh_from_db()
    assert card.text == "RT@…: Stranded in neck-deep flood #rescuePH"
    assert HANDLE not in str(card.explanation) and card.explanation[1] == "lexique"
    change = PostChange.objects.get(post=post)
    assert HANDLE not in change.text + change.shown_before
    assert LogEntry.objects.get(pk=lines["quotes_card"].pk).text == card.text
    assert LogEntry.objects.get(pk=lines["quotes_earlier"].pk).text == "RT@…: Stranded in flood"
    # Typed text is kept as typed (watch-handles.md), as for every note.
    assert LogEntry.objects.get(pk=lines["summary"].pk).text == lines["summary"].text
    assert LogEntry.objects.get(pk=lines["manual"].pk).text == TYPED

    [entry] = _scrub_entries()
    assert entry.subject == f"activation:{activation.pk}"
    assert entry.data == {
        "posts": 1, "post_changes": 1, "cards": 1, "log_entries": 2, "post_ids": 0,
        "duplicate_ids": 0, "interrupted": False,
    }  # fmt: skip
    assert not any(HANDLE in str(row) for row in JournalEntry.objects.values()), (
        "the journal names the handle"
    )


def test_a_second_run_changes_and_journals_nothing(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation = _activation(org, members)
    _old_rows(activation)
    actions.scrub_handles(activation)
    stored = list(Post.objects.values("text", "raw", "author_key", "url"))

    again = actions.scrub_handles(activation)

    assert again.changed == 0
    assert list(Post.objects.values("text", "raw", "author_key", "url")) == stored
    assert len(_scrub_entries()) == 1


def test_a_dry_run_counts_without_writing(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = _activation(org, members)
    card, _posts, _lines = _old_rows(activation)

    counts = actions.scrub_handles(activation, dry_run=True)

    assert counts.as_journal() == {
        "posts": 1, "post_changes": 1, "cards": 1, "log_entries": 2, "post_ids": 0,
        "duplicate_ids": 0,
    }  # fmt: skip
    assert Card.objects.get(pk=card.pk).text == OLD_RT
    assert _scrub_entries() == []


def test_an_activation_that_keeps_handles_is_refused(org, members):
    from beffroi.core.actions import ActionError
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = _activation(org, members, keep_handles=True)
    card, _posts, _lines = _old_rows(activation)
    with pytest.raises(ActionError, match="conserve les identifiants"):
        actions.scrub_handles(activation)
    assert Card.objects.get(pk=card.pk).text == OLD_RT


def test_small_batches_give_the_same_result_and_leave_other_activations(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation = _activation(org, members)
    _old_rows(activation, n_posts=7)
    other = _activation(org, members, name="Autre")
    _card, other_posts, _lines = _old_rows(other)
    seen: list[tuple[str, int]] = []

    counts = actions.scrub_handles(
        activation, batch_size=2, progress=lambda kind, n: seen.append((kind, n))
    )

    assert counts.posts == 7
    assert [n for kind, n in seen if kind == "posts"] == [2, 2, 2, 1]
    assert not Post.objects.filter(activation=activation, text__contains=HANDLE).exists()
    assert Post.objects.get(pk=other_posts[0].pk).text == OLD_RT


def test_an_interrupted_run_journals_what_it_did_and_a_rerun_finishes(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation = _activation(org, members)
    _old_rows(activation, n_posts=5)

    def stop_after_first_posts(kind, n):
        if kind == "posts":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        actions.scrub_handles(activation, batch_size=2, progress=stop_after_first_posts)

    # The first batch of posts was committed before the stop; the rest was not reached.
    assert Post.objects.filter(activation=activation, text__contains=HANDLE).count() == 3
    [first] = _scrub_entries()
    assert first.data["interrupted"] is True
    assert first.data["posts"] == 2 and first.data["cards"] == 1

    rest = actions.scrub_handles(activation, batch_size=2)
    assert (rest.posts, rest.cards, rest.post_changes) == (3, 0, 1)
    assert not Post.objects.filter(activation=activation, text__contains=HANDLE).exists()
    assert [e.data["interrupted"] for e in _scrub_entries()] == [True, False]


def test_rows_stored_today_through_the_doors_need_no_repair(org, members):
    """The repair applies the rules the doors apply: on rows they stored it changes
    nothing (mentions, old-style retweets, account links, DIDs, HTML payloads)."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Source
    from beffroi.watch.sources import RawPost
    from beffroi.watch.worker import ActivationProcessor

    activation = _activation(org, members)
    source = Source.objects.create(activation=activation, kind="mastodon", name="m", config={})
    did = "did:plc:abcdefghijklmnopqrstuvwx"
    posts = [
        RawPost(
            "mastodon", str(source.pk), "1",
            f"{OLD_RT} @bob@mastodon.social https://mastodon.social/@alice/111 "
            f"at://{did}/app.bsky.feed.post/3k",
            WHEN, url="https://mastodon.social/@alice/111", author_key="alice",
            raw={"content": '<p><a href="https://mastodon.social/@bob">@bob</a></p>'},
        ),
        RawPost(
            "mastodon", str(source.pk), "2", "MT@carol: digue rompue à Luçon",
            WHEN, url="https://www.ouest-france.fr/vendee/lucon", author_key="dave",
        ),
    ]  # fmt: skip
    assert actions.receive_posts(source.pk, posts, {"v": 1}) == 2
    assert ActivationProcessor(activation, None).process() == 2
    for card in Card.objects.filter(activation=activation):
        actions.escalate(card, actor=members["coordinator"], category="degats")

    assert actions.scrub_handles(activation, dry_run=True).changed == 0
    assert actions.scrub_handles(activation).changed == 0
    assert _scrub_entries() == []


# When things go wrong, and the dry run: a run that fails on a database error shows that
# error, not the journal's failure to record it (its counts go to the log); a dry run
# takes no write lock.


class DatabaseGone(Exception):
    pass


def test_a_failed_run_keeps_its_own_error_and_logs_its_counts(org, members, monkeypatch, caplog):
    from beffroi.core import journal
    from beffroi.watch import actions

    activation = _activation(org, members)
    _old_rows(activation, n_posts=5)

    def gone_after_first_posts(kind, n):
        if kind == "posts":
            raise DatabaseGone("connection lost")

    def refused(*args, **kwargs):
        raise RuntimeError("journal unreachable too")

    monkeypatch.setattr(journal, "append", refused)
    with (
        caplog.at_level(logging.ERROR, logger="beffroi.watch.actions"),
        pytest.raises(DatabaseGone),
    ):
        actions.scrub_handles(activation, batch_size=2, progress=gone_after_first_posts)
    [record] = [r for r in caplog.records if "not journaled" in r.getMessage()]
    assert "'posts': 2" in record.getMessage() and "'cards': 1" in record.getMessage()


def test_a_finished_run_that_cannot_journal_fails(org, members, monkeypatch):
    from beffroi.core import journal
    from beffroi.watch import actions

    activation = _activation(org, members)
    _old_rows(activation)

    def refused(*args, **kwargs):
        raise RuntimeError("journal unreachable")

    monkeypatch.setattr(journal, "append", refused)
    with pytest.raises(RuntimeError, match="journal unreachable"):
        actions.scrub_handles(activation)


def test_a_dry_run_opens_no_transaction(org, members, monkeypatch):
    from beffroi.watch import actions, scrub

    activation = _activation(org, members)
    _old_rows(activation, n_posts=3)
    opened = []
    real = scrub.transaction.atomic

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scrub.transaction, "atomic", counting)
    counts = actions.scrub_handles(activation, batch_size=2, dry_run=True)
    assert counts.posts == 3 and not opened
    actions.scrub_handles(activation, batch_size=2)
    assert opened  # a real run writes each batch in its own transaction
