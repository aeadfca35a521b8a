"""Re-applying today's handle rules to the watch rows stored before them.

A fix of the pseudonymisation (such as « RT@name: », whose handle the mention pattern
did not read) protects the posts received afterwards; the rows stored before keep the
handle. ``actions.scrub_handles`` is the repair: it runs ``scrub_activation`` on an
activation that does not keep handles and journals what changed, as counts
(docs/decisions/watch-handles.md, "Repairing rows stored before a fix").

What is rewritten, each with the rule that stores it today:

- a post's text, address, author key and raw payload, and an author's edit (its new
  text, address and payload): ``actions._stored_post_fields``, the one place of the
  sources' rules;
- a card's text and its explanation lines (which quote earlier versions), and an
  edit's record of the card's text before it: the pipeline's display rule, each
  @mention shown as « @… »;
- a post's ``external_id`` and ``repost_of`` and its card's ``external_id``, which a
  Bluesky AT-URI made name its author: ``actions._stored_id``, the door's id rule, so
  later edits and deletions (pseudonymised at the door) still find the post; a post
  also stored again after the rule keeps that row as its identity (``_posts``);
- a main courante line's text, or its withdrawn text, when it quotes its card's
  post word for word (the card's text or an earlier version of it); a volunteer's
  own summary is typed text, kept as typed like every note (watch-handles.md);
- a card's address and its lines' ``source_url`` when it is that address (escalation
  copies it, partners see it): the door's rule for a post's address;
- the sources' status and last skip lines: the rule of a source's report
  (``scrub_source_lines``).

Each batch of rows is read, locked and written in one short transaction, so the
worker and the pages go on meanwhile; a row is rewritten only when the rules change
it, so a second run changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol

from django.db import connection, models, transaction
from django.db.models import Field

from beffroi.watch.mentions import MENTION
from beffroi.watch.models import Activation, Card, LogEntry, Post, PostChange
from beffroi.watch.pipeline.normalise import REDACTED
from beffroi.watch.sources.base import names_account, pseudonymise_typed

# Rows per transaction: a batch of 500 posts is read, rewritten and written in about
# 30 ms on SQLite (40,000 posts, 10,000 cards and 2,000 lines in 4 s on the shared
# 2-core machine), so the write lock (SQLite) or the row locks (PostgreSQL) are held
# that long and the worker's own writes wait no more.
BATCH = 500

StoredFields = Callable[[Any, bytes], "tuple[str, str, str, dict[str, Any]]"]
# A platform's id of a post as stored today (``actions._stored_id``: a Bluesky AT-URI's
# DID becomes its keyed pseudonym).
StoredId = Callable[[str, bytes], str]
Progress = Callable[[str, int], None]


class LineSeal(Protocol):
    """How the main courante lines a batch rewrites keep their journaled digests
    (``actions.scrub_handles``): asked, in the batch's transaction, which of the locked
    lines the journal vouches for before the rewrite, then told which of those were
    rewritten, to journal their new digests in that same transaction. A batch and its
    digests commit together: a repair stopped at any point leaves no line that reads as
    changed behind Beffroi's back (docs/decisions/courante-digest.md)."""

    def vouched(self, entries: Sequence[LogEntry]) -> list[LogEntry]: ...

    def written(self, entries: list[LogEntry]) -> None: ...


def stored_url(url: str) -> str:
    """A post's own address as the door stores it (``actions._stored_post_fields``):
    emptied when it names an account."""
    return "" if names_account(url) else url


def shown_text(text: str) -> str:
    """A card's text as the pipeline shows it: each @mention replaced by « @… »."""
    return MENTION.sub(REDACTED, text) if "@" in text else text


@dataclass
class Counts:
    """Rows changed (or, in a dry run, to change), by table; never what they held."""

    posts: int = 0
    post_changes: int = 0
    cards: int = 0
    log_entries: int = 0
    # Of the posts: those whose id or ``repost_of`` named their author (an AT-URI), and
    # those of them whose pseudonymised id was already taken by the same post received
    # again after the rule (kept apart with their row id: see ``_posts``).
    post_ids: int = 0
    duplicate_ids: int = 0
    # Sources' checkpoints rewritten (``scrub_checkpoints``); said only when some were.
    checkpoints: int = 0
    # Sources whose status or last skip line was rewritten (``scrub_source_lines``);
    # said only when some were.
    source_lines: int = 0

    @property
    def changed(self) -> int:
        return (
            self.posts
            + self.post_changes
            + self.cards
            + self.log_entries
            + self.checkpoints
            + self.source_lines
        )

    def as_journal(self) -> dict[str, int]:
        return {
            "posts": self.posts,
            "post_changes": self.post_changes,
            "cards": self.cards,
            "log_entries": self.log_entries,
            "post_ids": self.post_ids,
            "duplicate_ids": self.duplicate_ids,
        } | {
            name: value
            for name, value in (
                ("checkpoints", self.checkpoints),
                ("source_lines", self.source_lines),
            )
            if value
        }


def to_scan(activation: Activation) -> dict[str, int]:
    """How many rows each pass reads: the totals of a progress bar."""
    return {
        "cards": Card.objects.filter(activation=activation).count(),
        "posts": Post.objects.filter(activation=activation).count(),
        "post_changes": PostChange.objects.filter(post__activation=activation).count(),
    }


Fix = Callable[[list[Any]], dict[str, int]]


def _write(model: type[models.Model], rows: list[Any], fields: list[str]) -> None:
    """One prepared UPDATE by primary key, run for every changed row. Django's
    ``bulk_update`` builds one CASE per field over the whole batch: with JSON payloads it
    held SQLite's write lock 0.4 s a batch of 500 posts; a queryset ``update`` per row
    still cost half of that in Python."""
    if not rows:
        return
    meta = model._meta
    columns = [field for name in fields if isinstance(field := meta.get_field(name), Field)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(column.column))} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    params = [
        [
            *(
                column.get_db_prep_save(getattr(row, column.attname), connection)
                for column in columns
            ),
            row.pk,
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _in_batches(
    queryset: models.QuerySet[Any],
    size: int,
    counts: Counts,
    tick: Progress,
    fix: Fix,
    *,
    kind: str,
    lock: bool,
) -> None:
    """``fix`` the rows of ``queryset`` by ascending id, ``size`` at a time, each batch
    in a transaction of its own; ``counts`` and the progress hear of a batch only once
    it is committed, so an interrupted run counts exactly what it wrote."""
    last = 0
    while True:
        # A dry run writes nothing: no transaction, so no write lock on SQLite (its
        # transactions begin IMMEDIATE).
        with transaction.atomic() if lock else contextlib.nullcontext():
            rows = queryset.filter(pk__gt=last).order_by("pk")
            if lock:
                rows = rows.select_for_update()
            batch = list(rows[:size])
            if not batch:
                return
            changed = fix(batch)
        for name, n in changed.items():
            setattr(counts, name, getattr(counts, name) + n)
        last = batch[-1].pk
        tick(kind, len(batch))


def _cards(
    activation: Activation,
    key: bytes,
    stored_id: StoredId,
    counts: Counts,
    size: int,
    dry_run: bool,
    tick: Progress,
    seal: LineSeal | None,
) -> None:
    def fix(batch: list[Card]) -> dict[str, int]:
        ids = [card.pk for card in batch]
        # What a line may quote of its card: the text it had when escalated, i.e. the
        # card's text or the text an author's later edit replaced.
        quoted: dict[int, set[str]] = {card.pk: {card.text} for card in batch}
        old_url: dict[int, str] = {}
        earlier = PostChange.objects.filter(post__card_id__in=ids).exclude(shown_before="")
        for card_id, before in earlier.values_list("post__card_id", "shown_before"):
            quoted[card_id].add(before)
        changed = []
        for card in batch:
            text = shown_text(card.text)
            explanation = [
                shown_text(line) if isinstance(line, str) else line for line in card.explanation
            ]
            # The card names its own post by (source, id): the worker and the authors'
            # edits match them, so its id follows the post's (``_posts``).
            external_id = stored_id(card.external_id, key)
            # The post's address, by the door's rule for a post's own address.
            url = stored_url(card.url)
            if (text, explanation, external_id, url) != (
                card.text,
                card.explanation,
                card.external_id,
                card.url,
            ):
                old_url[card.pk] = card.url
                card.text, card.explanation, card.external_id = text, explanation, external_id
                card.url = url
                changed.append(card)
        # Whole rows: what the journal vouches for is every field of a line.
        entries = LogEntry.objects.filter(card_id__in=ids).order_by("pk")
        if not dry_run:
            entries = entries.select_for_update()
        lines = list(entries)
        vouched = {e.pk for e in seal.vouched(lines)} if seal is not None and not dry_run else set()
        changed_entries = []
        for entry in lines:
            own = quoted.get(entry.card_id or 0, set())
            text = shown_text(entry.text) if entry.text in own else entry.text
            withdrawn = entry.withdrawn_text
            if withdrawn in own:
                withdrawn = shown_text(withdrawn)
            # Escalation copies the card's address into the line (partners see it): it
            # follows the card's. A link a volunteer typed is kept as typed.
            source_url = entry.source_url
            if source_url and source_url == old_url.get(entry.card_id or 0):
                source_url = stored_url(source_url)
            if (text, withdrawn, source_url) != (
                entry.text,
                entry.withdrawn_text,
                entry.source_url,
            ):
                entry.text, entry.withdrawn_text = text, withdrawn
                entry.source_url = source_url
                changed_entries.append(entry)
        if not dry_run:
            # updated_at is left alone: the live pages and partner feeds follow it, and
            # a repair is not news; the next load of a page shows the new text.
            _write(Card, changed, ["text", "explanation", "external_id", "url"])
            _write(LogEntry, changed_entries, ["text", "withdrawn_text", "source_url"])
            if seal is not None:
                seal.written([entry for entry in changed_entries if entry.pk in vouched])
        return {"cards": len(changed), "log_entries": len(changed_entries)}

    cards = Card.objects.filter(activation=activation).only(
        "pk", "text", "explanation", "external_id", "url"
    )
    _in_batches(cards, size, counts, tick, fix, kind="cards", lock=not dry_run)


def _taken(batch: list[Post], ids: dict[int, str]) -> set[tuple[int, str]]:
    """The (source, id) pairs among the new ``ids`` of ``batch`` that another row holds
    already: the same post received again after the rule, stored under its pseudonymised
    id beside the old row (the unique key is the source and the id)."""
    wanted = {(post.source_id, ids[post.pk]) for post in batch if post.pk in ids}
    if not wanted:
        return set()
    # A renamed row does not hold its new id yet: whoever holds it is another row (of
    # this batch too, stored after the rule).
    holders = Post.objects.filter(
        source_id__in={source for source, _id in wanted},
        external_id__in={external_id for _source, external_id in wanted},
    )
    return set(holders.values_list("source_id", "external_id")) & wanted


def _posts(
    activation: Activation,
    key: bytes,
    stored: StoredFields,
    stored_id: StoredId,
    counts: Counts,
    size: int,
    dry_run: bool,
    tick: Progress,
) -> None:
    def fix(batch: list[Post]) -> dict[str, int]:
        changed = []
        renamed = {
            post.pk: new
            for post in batch
            if (new := stored_id(post.external_id, key)) != post.external_id
        }
        taken = _taken(batch, renamed)
        duplicates = identities = 0
        for post in batch:
            now = stored(post, key)
            external_id = renamed.get(post.pk, post.external_id)
            if post.pk in renamed and (post.source_id, external_id) in taken:
                # The same post is stored again under this id (received after the
                # rule): that row is the post's identity from now on, which edits and
                # deletions find. This old copy keeps a unique id without the DID.
                suffix = f"#{post.pk}"
                external_id = external_id[: 300 - len(suffix)] + suffix
                duplicates += 1
            taken.add((post.source_id, external_id))
            repost_of = stored_id(post.repost_of, key) if post.repost_of else ""
            identities += (external_id, repost_of) != (post.external_id, post.repost_of)
            if (*now, external_id, repost_of) != (
                post.text,
                post.url or "",
                post.author_key or "",
                post.raw,
                post.external_id,
                post.repost_of,
            ):
                post.text, post.url, post.author_key, post.raw = now
                post.external_id, post.repost_of = external_id, repost_of
                changed.append(post)
        if not dry_run:
            _write(Post, changed, ["text", "url", "author_key", "raw", "external_id", "repost_of"])
        return {
            "posts": len(changed),
            "post_ids": identities,
            "duplicate_ids": duplicates,
        }

    posts = Post.objects.filter(activation=activation).only(
        "pk", "source_id", "external_id", "repost_of", "text", "url", "author_key", "raw"
    )
    _in_batches(posts, size, counts, tick, fix, kind="posts", lock=not dry_run)


def _post_changes(
    activation: Activation,
    key: bytes,
    stored: StoredFields,
    counts: Counts,
    size: int,
    dry_run: bool,
    tick: Progress,
) -> None:
    def fix(batch: list[PostChange]) -> dict[str, int]:
        changed = []
        for change in batch:
            new = SimpleNamespace(text=change.text, url=change.url, author_key="", raw=change.raw)
            text, url, _author, raw = stored(new, key)
            before = shown_text(change.shown_before)
            if (text, url, raw, before) != (
                change.text,
                change.url or "",
                change.raw,
                change.shown_before,
            ):
                change.text, change.url, change.raw, change.shown_before = text, url, raw, before
                changed.append(change)
        if not dry_run:
            _write(PostChange, changed, ["text", "url", "raw", "shown_before"])
        return {"post_changes": len(changed)}

    changes = PostChange.objects.filter(post__activation=activation).only(
        "pk", "text", "url", "raw", "shown_before"
    )
    _in_batches(changes, size, counts, tick, fix, kind="post_changes", lock=not dry_run)


def scrub_activation(
    activation: Activation,
    key: bytes,
    stored: StoredFields,
    counts: Counts,
    *,
    stored_id: StoredId,
    batch_size: int = BATCH,
    dry_run: bool = False,
    progress: Progress | None = None,
    seal: LineSeal | None = None,
) -> Counts:
    """Rewrite (or, ``dry_run``, count) the rows of ``activation`` that today's rules
    would store differently, adding to ``counts`` batch by batch: an interrupted run
    leaves ``counts`` saying what it did. Cards go first: their lines are matched
    against the card's text and earlier versions as they stood before this run."""
    tick: Progress = progress or (lambda _kind, _n: None)
    _cards(activation, key, stored_id, counts, batch_size, dry_run, tick, seal)
    _posts(activation, key, stored, stored_id, counts, batch_size, dry_run, tick)
    _post_changes(activation, key, stored, counts, batch_size, dry_run, tick)
    return counts


def scrub_checkpoints(activation: Activation, key: bytes, *, dry_run: bool = False) -> int:
    """Rewrite the checkpoints of ``activation``'s sources that name accounts, and
    return how many changed (``dry_run``: would change). The runner's window and an RSS
    feed's ``seen`` and ``versions`` keep post ids as the sources remember them today
    (``sources.base.pseudonymise_post_id``: idempotent, so the source still recognises
    what it delivered). A Jetstream source's followed set, digests that cannot be read
    back, is rebuilt from its stored posts: the digests of the ids of its last posts
    not deleted, as the source itself computes them today, so the deletion of a post
    followed under an older digest (of the raw AT-URI) is delivered again. One short
    transaction per source, its row locked, so a running source's commit waits."""
    from beffroi.watch.models import PostChangeKind, Source
    from beffroi.watch.sources.base import pseudonymise_post_id
    from beffroi.watch.sources.bluesky import FOLLOWED, follow_key
    from beffroi.watch.sources.runner import remembered_window

    def post_id(external_id: str) -> str:
        return pseudonymise_post_id(external_id, key)

    changed = 0
    for pk in (
        Source.objects.filter(activation=activation).order_by("pk").values_list("pk", flat=True)
    ):
        # A dry run opens no transaction: no write lock on SQLite.
        with contextlib.nullcontext() if dry_run else transaction.atomic():
            rows = Source.objects.all() if dry_run else Source.objects.select_for_update()
            source = rows.get(pk=pk)
            checkpoint = source.checkpoint
            if not isinstance(checkpoint, dict) or not checkpoint:
                continue
            rewritten = remembered_window(checkpoint, post_id)
            state = rewritten.get("state")
            if isinstance(state, dict):
                state = dict(state)
                if isinstance(state.get("seen"), list):
                    state["seen"] = list(dict.fromkeys(post_id(str(i)) for i in state["seen"]))
                if isinstance(state.get("versions"), dict):
                    state["versions"] = {post_id(str(k)): v for k, v in state["versions"].items()}
                if source.kind == "bluesky" and isinstance(state.get("followed"), list):
                    ids = list(
                        Post.objects.filter(source=source)
                        .exclude(changes__kind=PostChangeKind.DELETE)
                        .order_by("-pk")
                        .values_list("external_id", flat=True)[:FOLLOWED]
                    )
                    rebuilt = [follow_key(i) for i in reversed(ids)]
                    if set(rebuilt) != set(state["followed"]):
                        state["followed"] = rebuilt
                rewritten = {**rewritten, "state": state}
            if rewritten != checkpoint:
                changed += 1
                if not dry_run:
                    source.checkpoint = rewritten
                    source.save(update_fields=["checkpoint"])
    return changed


def scrub_source_lines(activation: Activation, key: bytes, *, dry_run: bool = False) -> int:
    """Rewrite the status and last-skip lines of ``activation``'s sources that an earlier
    rule stored with an account in them (a DID, an AT-URI, an account's address quoted
    by a failure), by today's rule for them (``actions.report_source_status``: each
    account as its pseudonym, the rest as written); return how many sources changed
    (``dry_run``: would change). A source that reports meanwhile writes its line by the
    same rule, so the update is guarded by the line it read."""
    from beffroi.watch.models import Source

    changed = 0
    rows = Source.objects.filter(activation=activation).order_by("pk")
    for pk, message, skip in rows.values_list("pk", "status_message", "last_skip_reason"):
        new_message, new_skip = pseudonymise_typed(message, key), pseudonymise_typed(skip, key)
        if (new_message, new_skip) == (message, skip):
            continue
        if dry_run:
            changed += 1
            continue
        # One UPDATE each, conditional on the lines read: the worker's newer report wins.
        changed += Source.objects.filter(
            pk=pk, status_message=message, last_skip_reason=skip
        ).update(status_message=new_message, last_skip_reason=new_skip)
    return changed
