"""Shared vocabulary of the live sources: posts, batches, configs, checkpoints.

Pure module (no Django): the worker wraps sources, persists what they emit and
their checkpoints.  A checkpoint is a JSON-serialisable dict that a source
alone understands; the runner (``runner.py``) wraps it with the window of
recently seen ids so that a restart neither loses nor duplicates posts.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable

from beffroi.core.pseudonym import pseudonymise as core_pseudonymise
from beffroi.watch.mentions import MENTION

Checkpoint = dict[str, Any]
Pseudonymiser = Callable[[str], str]

# Keys that carry account handles or display names in the payloads of the
# platforms we read.  They are removed from ``RawPost.raw`` (DESIGN rule 7):
# the pseudonym in ``author_key`` is enough to group posts by account.
HANDLE_KEYS = frozenset(
    {
        "acct",
        "username",
        "display_name",
        "screen_name",
        "handle",
        "author",
        "author_detail",
        "authors",
        "publisher",
        "publisher_detail",
        "contributors",
        "mentions",
        "did",
        "user",
        "account",
        "avatar",
        "avatar_static",
        "header",
        "header_static",
        "email",
    }
)


@dataclass(frozen=True)
class RawPost:
    """One post as read from a source, before any enrichment.

    ``external_id`` is stable per source (a status id, an AT-URI, a feed
    entry id), so (source_kind, source_id, external_id) identifies a post.
    """

    source_kind: str
    source_id: str
    external_id: str
    text: str
    created_at: datetime
    url: str | None = None
    language: str | None = None
    author_key: str | None = None
    author_kind: str | None = None  # "bot", "org", "person"… when the platform says
    # Kinds read in the author's account names before they are pseudonymised
    # (classify.accounts.author_kinds: "media", "government", "ngo", "business", "none").
    author_kinds: tuple[str, ...] = ()
    coordinates: tuple[float, float] | None = None  # (latitude, longitude)
    media_urls: tuple[str, ...] = ()
    reply_to: str | None = None
    repost_of: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("RawPost.created_at must be an aware datetime")
        if self.created_at.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))
        if not self.external_id:
            raise ValueError("RawPost.external_id must not be empty")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["coordinates"] = list(self.coordinates) if self.coordinates else None
        data["media_urls"] = list(self.media_urls)
        data["raw"] = dict(self.raw)
        return data


@dataclass(frozen=True)
class Skipped:
    """An input item that could not become a post, with the reason (in French).

    Nothing is silently dropped (DESIGN rule 3): the runner counts these and
    hands them to the worker, which can show them next to the source.
    """

    reason: str
    where: str = ""  # line number, entry id, message offset…
    excerpt: str = ""


# What an author did to a post a source had already emitted.
EDIT, DELETE = "edit", "delete"


@dataclass(frozen=True)
class PostChange:
    """An author edited or deleted a post (Mastodon ``status.update``, ``delete``).

    ``post`` is the new version of an edit, converted exactly like a new post
    (same handle rules).  ``version`` tells two edits of one post apart: the
    platform's edit time, else a hash of the new text; with ``key`` it makes a
    change seen twice (two streams, a replayed catch-up) recognisable.
    """

    kind: str
    source_kind: str
    source_id: str
    external_id: str
    at: datetime | None = None  # when the author did it, if the platform says
    post: RawPost | None = None
    version: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (EDIT, DELETE):
            raise ValueError(f"PostChange.kind must be {EDIT!r} or {DELETE!r}")
        if not self.external_id:
            raise ValueError("PostChange.external_id must not be empty")
        if self.at is not None:
            if self.at.tzinfo is None:
                raise ValueError("PostChange.at must be an aware datetime")
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.kind == EDIT:
            if self.post is None or self.post.external_id != self.external_id:
                raise ValueError("an edit carries the new version of the same post")
            if not self.version:
                version = (
                    self.at.isoformat()
                    if self.at is not None
                    else "sha256:" + hashlib.sha256(self.post.text.encode()).hexdigest()[:24]
                )
                object.__setattr__(self, "version", version)
        elif self.post is not None or self.version:
            raise ValueError("a deletion carries no new version")

    @property
    def key(self) -> str:
        """Identity of the change in the runner's window of delivered items."""
        return f"{self.kind}:{self.external_id}" + (f":{self.version}" if self.version else "")


@dataclass(frozen=True)
class CoverageGap:
    """A span of the platform's posts a source could not receive: the platform no
    longer held them when the source came back (Jetstream replays only its last
    hours), or the source stopped fetching them (Mastodon's catch-up is limited to
    a number of pages). Nothing is silently dropped (DESIGN rule 3): the runner
    hands it to the sink with the items that follow it, so it is recorded together
    with the checkpoint that moves past it (docs/decisions/sources.md).

    ``start``: the last moment received before the gap (or, when the source knows
    only that, the first post missing), None when unknown; ``end``: the first
    moment received again. ``reason`` is French; ``detail`` is the platform's own
    notice, as sent, or what the source asked for. ``where``: which of the source's
    streams, when it has several (two may lose a span at the same moment)."""

    source_kind: str
    source_id: str
    end: datetime
    reason: str
    start: datetime | None = None
    detail: str = ""
    where: str = ""

    def __post_init__(self) -> None:
        if not self.reason:
            raise ValueError("CoverageGap.reason must say why the span was lost")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is None:
                continue
            if value.tzinfo is None:
                raise ValueError(f"CoverageGap.{name} must be an aware datetime")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.start is not None and self.start > self.end:
            raise ValueError("CoverageGap.start must not be after its end")

    @property
    def key(self) -> str:
        """Identity of the gap in the runner's window of delivered items."""
        where = f"{self.where}:" if self.where else ""
        return f"gap:{where}{self.end.isoformat()}"


# How a span left the checkpoint (``GapFilled.outcome``). Only ``FILLED`` means the
# instance served it; the others say why the rest of it was not received.
FILLED = "filled"  # fetched to its end
NOT_SERVED = "not-served"  # the instance gives no status of it, or refuses for good
FILL_OFF = "fill-off"  # the organiser set the source's fill pages to 0
ABANDONED = "abandoned"  # the instance failed (5xx, no answer) too many times in a row
UNWATCHED = "unwatched"  # its hashtag or timeline was removed from the source
FILL_OUTCOMES = (FILLED, NOT_SERVED, FILL_OFF, ABANDONED, UNWATCHED)


@dataclass(frozen=True)
class GapFilled:
    """A ``CoverageGap`` the source stopped fetching afterwards (Mastodon's timelines
    page back over the span the catch-up left): handed to the sink after the span's
    posts, with the checkpoint that forgets the span, so it is journaled once.
    ``where`` and ``end`` name the gap as its own ``where`` and ``end`` did.
    ``outcome`` says how it ended (``FILLED``, or why not, see above); ``detail``
    then says more (French: the instance's answer, the last failure).

    ``returned`` counts the statuses of the span the instance returned and the source
    handed over as posts; how many of them were new to the room is the sink's to
    count (the stream or an earlier life may have brought some)."""

    source_kind: str
    source_id: str
    end: datetime
    where: str = ""
    start: datetime | None = None
    returned: int = 0  # statuses of the span handed over as posts
    skipped: int = 0  # statuses of the span that could not be read
    outcome: str = FILLED
    detail: str = ""
    failures: int = 0  # the instance's consecutive failures when it ended

    def __post_init__(self) -> None:
        if self.outcome not in FILL_OUTCOMES:
            raise ValueError(f"GapFilled.outcome must be one of {FILL_OUTCOMES}")

    @property
    def served(self) -> bool:
        return self.outcome == FILLED

    @property
    def key(self) -> str:
        where = f"{self.where}:" if self.where else ""
        return f"gap-filled:{where}{self.end.isoformat()}"


@dataclass(frozen=True)
class Received:
    """What a sink may return: items it could not use are counted as skips.
    Deletions of posts that never reached us have their own count: public
    timelines broadcast every deletion, and as skips they would drown the
    real ones (and replace the last skip's reason)."""

    new: int = 0
    skipped: tuple[Skipped, ...] = ()
    unknown_deletions: int = 0


@dataclass
class Batch:
    """What a polling source returns: posts, skips, and the checkpoint after them."""

    posts: list[RawPost]
    checkpoint: Checkpoint
    skipped: list[Skipped] = field(default_factory=list)
    # True when a finite source (a file) has nothing more to give.
    exhausted: bool = False
    # True when a feed that published entries has none now (an alert feed with no alert
    # active): the source stays ok and its status says the feed is empty for now.
    emptied: bool = False
    # The columns a file import read and did not keep (first met first): its status
    # names them, so nothing leaves the operator's view unsaid.
    not_kept: tuple[str, ...] = ()


class SourceError(Exception):
    """A failure a volunteer can understand; ``message`` is French UI text."""

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        # What the server asked for (HTTP Retry-After, a rate-limit reset), in seconds.
        self.retry_after = retry_after


class ConfigError(ValueError):
    """Invalid source configuration; ``errors`` maps form field → French message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k} : {v}" for k, v in self.errors.items()))


@runtime_checkable
class PollingSource(Protocol):
    """``poll(checkpoint)`` returns what is new since it; called every ``poll_interval`` s."""

    kind: ClassVar[str]
    source_id: str

    def poll(self, checkpoint: Checkpoint) -> Batch: ...

    @property
    def poll_interval(self) -> float: ...


@runtime_checkable
class StreamingSource(Protocol):
    """Yields ``(item, checkpoint)``: a post, an author's change to a post, a
    coverage gap (or the news that one was filled), a skip, or ``None`` as an idle tick.

    Ticks (about once a second while nothing arrives) let the runner notice a
    stop request and persist a cursor that moved without a matching post.  A
    source with ``finite = True`` (replay) ends; any other that ends is a
    disconnection, and the runner reconnects.
    """

    kind: ClassVar[str]
    source_id: str

    def stream(
        self, checkpoint: Checkpoint
    ) -> Iterator[
        tuple[RawPost | PostChange | CoverageGap | GapFilled | Skipped | None, Checkpoint]
    ]: ...


Source = PollingSource | StreamingSource


class HandlePseudonymiser:
    """The ``author_key`` function given to sources (``handle_pseudonymiser``), which
    also says how a post's id is remembered (``post_id``): an id that names its account
    (a Bluesky AT-URI, a Mastodon status address used as a feed's guid) carries the
    account's pseudonym wherever it is kept, the checkpoint included."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key

    def __call__(self, handle: str) -> str:
        # Handles are case-insensitive on every platform we read.
        return handle if self.key is None else handle_pseudonym(handle, self.key)

    def post_id(self, external_id: str) -> str:
        return external_id if self.key is None else pseudonymise_post_id(external_id, self.key)


def handle_pseudonymiser(key: bytes, *, keep_handles: bool = False) -> Pseudonymiser:
    """The ``author_key`` function given to sources.

    Keyed pseudonym of the handle by default; the raw handle only when an
    organiser has switched ``keep_handles`` on (DESIGN rule 7).
    """
    if keep_handles:
        return HandlePseudonymiser(None)
    if not key:
        raise ValueError("a non-empty pseudonym key is required")
    return HandlePseudonymiser(key)


def post_id_function(pseudonymise: object) -> Callable[[str], str]:
    """How a source remembers post ids: its pseudonymiser's ``post_id`` when it has one
    (the worker's always does), else ids as they come (tests' plain functions)."""
    post_id = getattr(pseudonymise, "post_id", None)
    return post_id if callable(post_id) else _same


def _same(value: str) -> str:
    return value


# What a mention becomes in stored text: "@h_" and 16 hex digits of the keyed
# pseudonym (core.pseudonym, kind "handle"), the same for the author's
# ``author_key``: a post by an account and a mention of it still match.
PSEUDONYM_MENTION = re.compile(r"h_[0-9a-f]{16}")
# X and the sites that show its posts under the same /<account>/status/<id> path: the
# embed fixers (fxtwitter, vxtwitter, fixupx, fixvx) and the Nitter mirrors, which are
# many and short-lived, so any host whose name has a "nitter" label, plus xcancel.
_X_HOST = (
    r"(?:[\w-]+\.)*(?:(?:twitter|x|fxtwitter|vxtwitter|fixupx|fixvx|xcancel)\.com"
    r"|nitter(?:\.[\w-]+)+)"
)
# Post addresses that name the account: /@alice/123 (Mastodon and many
# others, TikTok, YouTube, Threads), /profile/<handle or DID>/post/… (Bluesky),
# /users/alice/statuses/… (ActivityPub), x.com/alice/status/… and its mirrors; the
# big platforms' own shapes are in ``_PLATFORM_ACCOUNTS``.
_ACCOUNT_URL = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^/?#]+/(?:[^?#]*/)?(?:@[^/?#]+|profile/[^/?#]+|users/[^/?#]+)"
    r"(?:[/?#]|$)"
    r"|^[a-z][a-z0-9+.-]*://" + _X_HOST + r"/"
    r"(?!(?:i|search|hashtag)(?:[/?#]|$))[^/?#]+/status",
    re.IGNORECASE,
)

_URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://[^\s<>\"']+", re.IGNORECASE)


def handle_pseudonym(handle: str, key: bytes) -> str:
    """The keyed pseudonym of a handle, as ``author_key`` stores it."""
    return _pseudonym(handle.strip().lstrip("@").lower(), key)


@functools.lru_cache(maxsize=65536)
def _pseudonym(handle: str, key: bytes) -> str:
    # A crisis stream repeats the same few accounts ("RT @prefet85: …"): one HMAC
    # each, not one per mention.
    return core_pseudonymise(handle, key=key, kind="handle")


# Bluesky's permanent account identifiers (did:plc:…, did:web:host), with which its post
# addresses begin (at://did:plc:…/app.bsky.feed.post/…): a DID names the account as
# surely as its handle.
_DID = re.compile(r"\bdid:(?:plc|web):[A-Za-z0-9._%:-]*[A-Za-z0-9._%-]")


def pseudonymise_dids(value: str, key: bytes) -> str:
    """``value`` with each DID replaced by ``did:h_`` + 16 hex digits of its keyed
    pseudonym: a post's AT-URI stays unique and stable (its edits and deletions still
    find it) without naming its author. Idempotent."""
    if "did:" not in value:
        return value
    return _DID.sub(
        lambda m: "did:h_" + handle_pseudonym(m.group(0), key).split(":", 1)[1][:16], value
    )


def pseudonymise_post_id(external_id: str, key: bytes) -> str:
    """A platform's id of a post as it is remembered (stored, checkpointed, journaled):
    a DID in it becomes its pseudonym (``pseudonymise_dids``) and an address naming an
    account carries the account's pseudonym (``pseudonymise_account_url``). The same id
    always gives the same value, so a restart, an edit or a deletion finds the post
    again. Idempotent."""
    value = external_id
    if names_account(value):
        value = pseudonymise_account_url(value, key) or (
            # An account address in a shape that cannot be cut: a digest of all of it.
            "id:" + core_pseudonymise(value, key=key, kind="handle").split(":", 1)[1]
        )
    return pseudonymise_dids(value, key)


# The account part of an address that names one (the shapes of ``_ACCOUNT_URL``).
_ACCOUNT_PART = re.compile(
    r"^(?P<head>[a-z][a-z0-9+.-]*://(?P<host>[^/?#@]+)/(?:[^?#]*/)?)"
    r"(?:@(?P<at>[^/?#]+)|profile/(?P<profile>[^/?#]+)|users/(?P<users>[^/?#]+))"
    r"(?P<tail>[/?#].*|)$"
    r"|^(?P<xhead>[a-z][a-z0-9+.-]*://" + _X_HOST + r"/)"
    r"(?!(?:i|search|hashtag)(?:[/?#]|$))(?P<x>[^/?#]+)(?P<xtail>/status.*)$",
    re.IGNORECASE | re.DOTALL,
)
_PSEUDONYM_PART = re.compile(r"(?:did:)?h_[0-9a-f]{16}")
# What may follow a link in a sentence; no handle or DID ends with one of these.
_SENTENCE_END = ".,;:!)]}»\"'…"


def pseudonymise_account_url(url: str, key: bytes) -> str:
    """``url`` with the account it names replaced by that account's pseudonym
    (``https://x.com/h_…/status/1``, ``https://piaille.fr/@h_…/123``): what kind of
    link it was and the post it points to stay readable, the account does not. The
    pseudonym is the one ``author_key`` and mentions get for the same handle, so an
    evidence link to a card's own author shows the author's pseudonym. Other
    addresses are returned as they are. Idempotent."""
    if not names_account(url):
        return url
    url = _unescaped(url.strip())
    m = _ACCOUNT_PART.match(url)
    if m is None:
        return _pseudonymise_platform_url(url, key)
    if m.group("x") is not None:
        head, name, tail, host = m.group("xhead"), m.group("x"), m.group("xtail"), ""
    else:
        head, tail, host = m.group("head"), m.group("tail"), m.group("host").lower()
        name = m.group("at") or m.group("profile") or m.group("users")
        if not tail:
            # A link ending a sentence ("…/@alice."): the mark is the sentence's, and
            # the pseudonym must be the account's, not that of "alice.".
            bare = name.rstrip(_SENTENCE_END)
            if bare:
                name, tail = bare, name[len(bare) :]
    if _PSEUDONYM_PART.fullmatch(name):
        return url
    if name.startswith("did:"):
        part = pseudonymise_dids(name, key)
    else:
        # Mastodon writes local accounts without their server: the account is user@host.
        handle = name if m.group("x") is not None or "@" in name else f"{name}@{host}"
        part = "h_" + handle_pseudonym(handle, key).split(":", 1)[1][:16]
    if m.group("at") is not None:
        part = "@" + part
    elif m.group("profile") is not None:
        part = "profile/" + part
    elif m.group("users") is not None:
        part = "users/" + part
    return f"{head}{part}{tail}"


def _pseudonymise_platform_url(url: str, key: bytes) -> str:
    """A big platform's account address (``_PLATFORM_ACCOUNTS``) with the account part
    replaced by its pseudonym; "" when it is in no shape we can cut."""
    m = _platform_account(url)
    if m is None:
        return ""  # names an account in a shape we cannot cut out: keep nothing
    name, tail = m.group("name"), m.group("tail")
    if tail.strip(_SENTENCE_END) == "":
        # A link ending a sentence: the marks are the sentence's, not the account's.
        bare = name.rstrip(_SENTENCE_END)
        if bare:
            name, tail = bare, name[len(bare) :] + tail
    part = "h_" + handle_pseudonym(name, key).split(":", 1)[1][:16]
    return f"{m.group('head')}{part}{tail}"


def pseudonymise_mentions(text: str, key: bytes, *, keep_links: bool = False) -> str:
    """``text`` with each @handle replaced by ``@h_`` + 16 hex digits of its
    pseudonym, each DID by ``did:h_`` and its pseudonym, and each address that names
    an account removed (``keep_links``: kept, with the account's pseudonym instead,
    see ``pseudonymise_account_url``).

    Idempotent: a mention that already is a pseudonym is left as it is."""

    def sub(m: re.Match[str]) -> str:
        handle = m.group(1)
        if PSEUDONYM_MENTION.fullmatch(handle):
            return m.group(0)
        return "@h_" + handle_pseudonym(handle, key).split(":", 1)[1][:16]

    def link(m: re.Match[str]) -> str:
        url = m.group(0)
        if not names_account(url):
            return url
        return pseudonymise_account_url(url, key) if keep_links else ""

    if "://" in text and _may_name_account(text):
        text = _URL_IN_TEXT.sub(link, text)
    text = pseudonymise_dids(text, key)
    return MENTION.sub(sub, text) if "@" in text else text


_WORD = re.compile(r"\S+")


def pseudonymise_typed(text: str, key: bytes) -> str:
    """Free text a person typed (a note, a reason, a name, an evidence link) or a
    source reported, as the never-purged journal gets it: each account link keeps its
    shape with the account's pseudonym (``pseudonymise_account_url``), each @mention
    and DID becomes its pseudonym, everything else stays as typed. Idempotent.

    Each whitespace-free run is first tried whole as an account link: the address
    pattern of running text stops at a quote or a bracket, a pasted link may not."""
    if "://" in text and _may_name_account(text):
        text = _WORD.sub(lambda m: pseudonymise_account_url(m.group(0), key), text)
    return pseudonymise_mentions(text, key, keep_links=True)


def _own(*words: str) -> str:
    """A negative look-ahead for a platform's own pages, which name no account."""
    return r"(?!(?:" + "|".join(re.escape(w) for w in words) + r")(?:[/?#]|$))"


_SCHEME = r"[a-z][a-z0-9+.-]*://"
_END = r"(?P<tail>[/?#].*|[" + re.escape(_SENTENCE_END) + r"]*)$"
# The big platforms' addresses that name an account, each with the account part in
# ``name``: a profile (x.com/alice, t.me/alice, linkedin.com/in/alice) or a post under
# its account (facebook.com/alice/posts/1, instagram.com/alice/p/1). The platforms' own
# pages (instagram.com/p/<post>, facebook.com/watch, t.me/joinchat/…) name nobody and
# stay as they are (docs/decisions/watch-handles.md, "Which addresses name an account").
_PLATFORM_ACCOUNTS = tuple(
    re.compile(r"^(?P<head>" + head + r")(?P<name>" + name + r")" + tail, re.I | re.DOTALL)
    for head, name, tail in (
        # x.com/<account> alone or with a tab (/media, /with_replies): X handles are 1-15
        # word characters; its posts (/status/) are read by ``_ACCOUNT_URL``.
        (
            _SCHEME
            + _X_HOST
            + r"/"
            + _own("i", "home", "explore", "search", "hashtag", "settings", "notifications")
            + _own("messages", "login", "logout", "signup", "intent", "share", "compose")
            + _own("tos", "privacy"),
            r"\w{1,15}",
            _END,
        ),
        # facebook.com/profile.php?id=<number> and its post links (story.php,
        # permalink.php), whose id= is the account's number.
        (
            _SCHEME + r"(?:[\w-]+\.)*(?:facebook|fb)\.com/(?:profile|story|permalink)\.php"
            r"\?(?:[^#]*?&)?id=",
            r"\d+",
            _END,
        ),
        (_SCHEME + r"(?:[\w-]+\.)*(?:facebook|fb)\.com/people/", r"[^/?#]+/\d+", _END),
        (
            _SCHEME
            + r"(?:[\w-]+\.)*(?:facebook|fb)\.com/"
            + _own("watch", "groups", "events", "pages", "hashtag", "share", "sharer")
            + _own("sharer.php", "login", "login.php", "help", "policies", "privacy")
            + _own("settings", "marketplace", "gaming", "reel", "reels", "photo", "photos")
            + _own("photo.php", "video.php", "videos", "story.php", "permalink.php")
            + _own("profile.php", "home.php", "l.php", "dialog", "plugins", "tr", "ads")
            + _own("business", "legal", "about", "search", "friends", "messages", "live")
            + _own("notifications", "bookmarks", "fundraisers", "places", "media", "people")
            + _own("stories", "notes", "pg", "public", "r.php", "sharer", "home"),
            r"[\w.-]+",
            _END,
        ),
        (_SCHEME + r"(?:[\w-]+\.)*instagram\.com/stories/", r"[\w.]+", _END),
        (
            _SCHEME
            + r"(?:[\w-]+\.)*instagram\.com/"
            + _own("p", "reel", "reels", "tv", "explore", "stories", "accounts", "direct")
            + _own("about", "developer", "legal", "web", "emails", "challenge", "oauth", "s")
            + _own("api", "static", "privacy", "session", "graphql"),
            r"[\w.]+",
            _END,
        ),
        # t.me/<channel or account>[/<message>], t.me/s/<channel> (the web preview),
        # t.me/c/<private channel number>/<message>; invitations (t.me/+…, joinchat)
        # carry no account.
        (
            _SCHEME
            + r"(?:t\.me|telegram\.me|telegram\.dog)/(?:s/|c/)?"
            + _own("joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv")
            + _own("setlanguage", "addtheme", "login", "s", "c"),
            r"\w{4,}",
            _END,
        ),
        # linkedin.com/in/<account>, /pub/<account>, and a post's address, which begins
        # with its author's: /posts/<account>_<words>-activity-<id>.
        (_SCHEME + r"(?:[\w-]+\.)*linkedin\.com/(?:in|pub)/", r"[^/?#]+", _END),
        (
            _SCHEME + r"(?:[\w-]+\.)*linkedin\.com/posts/",
            # A pseudonym (already in place) has a "_" of its own.
            r"h_[0-9a-f]{16}|[^/?#_]+",
            r"(?P<tail>_.*)$",
        ),
        # YouTube's older channel addresses (its @ ones are read by ``_ACCOUNT_URL``).
        (_SCHEME + r"(?:[\w-]+\.)*youtube\.com/(?:c|user|channel)/", r"[^/?#]+", _END),
        (_SCHEME + r"(?:[\w-]+\.)*reddit\.com/(?:u|user)/", r"[^/?#]+", _END),
    )
)


def _platform_account(url: str) -> re.Match[str] | None:
    for pattern in _PLATFORM_ACCOUNTS:
        m = pattern.match(url)
        if m is not None and not _PSEUDONYM_PART.fullmatch(m.group("name").rstrip(_SENTENCE_END)):
            return m
    return None


_ACCOUNT_MARKS = re.compile(
    r"/@|%40|/profile/|/users/|twitter\.com/|x\.com/|xcancel\.com/|nitter|facebook\.com/|fb\.com/"
    r"|instagram\.com/|t\.me/|telegram\.(?:me|dog)/|linkedin\.com/|youtube\.com/"
    r"|reddit\.com/",
    re.IGNORECASE,
)
_AT_ESCAPED = re.compile("%40", re.IGNORECASE)


def _unescaped(url: str) -> str:
    """``url`` with its escaped @ (``%40``) written plainly: /%40alice is /@alice to
    every server, so it names alice too."""
    return _AT_ESCAPED.sub("@", url) if "%" in url else url


def _may_name_account(text: str) -> bool:
    # Most links in posts (t.co, news sites) have none of these: one quick search
    # spares them the full pattern.
    return _ACCOUNT_MARKS.search(text) is not None


def names_account(url: str) -> bool:
    """True when a post's address contains the account's handle or identifier."""
    if not url or not _may_name_account(url):
        return False
    url = _unescaped(url.strip())
    return bool(_ACCOUNT_URL.match(url)) or _platform_account(url) is not None


def _rebuilt(payload: Any, leaf: Callable[[Any], Any], drop: frozenset[str] = frozenset()) -> Any:
    """A copy of a JSON-like value: mappings (keys as text, minus ``drop``; a key given
    twice as text keeps its first place and last value) and lists rebuilt, every other
    value through ``leaf``. A loop, not a recursion: a record from a remote server (any
    Bluesky or Mastodon account's post) may be nested as deep as the JSON parser allows,
    and a recursive walk spends two frames a level: a record 500 deep raised
    RecursionError, which failed the source's batch at every retry."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(payload, root, 0)]
    while stack:
        value, parent, slot = stack.pop()
        if isinstance(value, Mapping):
            latest: dict[str, Any] = {}
            for k, v in value.items():
                if (name := str(k)) not in drop:
                    latest[name] = v
            copy: dict[str, Any] = dict.fromkeys(latest)
            parent[slot] = copy
            stack.extend((v, copy, name) for name, v in latest.items())
        elif isinstance(value, list | tuple):
            items: list[Any] = [None] * len(value)
            parent[slot] = items
            stack.extend((v, items, i) for i, v in enumerate(value))
        else:
            parent[slot] = leaf(value)
    return root[0]


def pseudonymise_record(payload: Any, key: bytes) -> Any:
    """A copy of a JSON-like record with mentions pseudonymised in every string
    and every address that names an account emptied (DESIGN rule 7)."""
    return _rebuilt(
        payload,
        lambda value: pseudonymise_mentions(value, key) if isinstance(value, str) else value,
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def scrub_handles(payload: Any, extra_keys: Iterable[str] = ()) -> Any:
    """A JSON-safe copy of ``payload`` without the keys that carry handles."""
    return _rebuilt(payload, _json_safe, HANDLE_KEYS | frozenset(extra_keys))


def ensure_json(checkpoint: Checkpoint) -> Checkpoint:
    """Round-trip through JSON so a checkpoint that would not persist fails early."""
    return json.loads(json.dumps(checkpoint))  # type: ignore[no-any-return]


# A post's date is the author's (or their software's) claim. One more than this after
# the moment it reached us is a lie or a clock error and would sort above every real
# post; one before the web existed is a placeholder (0001-01-01, a zeroed field).
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_POST = datetime(1990, 1, 1, tzinfo=UTC)


def plausible_time(claimed: datetime | None, received: datetime | None) -> datetime | None:
    """The date a post is stored with: the one it claims, unless it is more than
    ``FUTURE_TOLERANCE`` after ``received`` (when the platform saw it, else when we
    did) or before ``EARLIEST_POST``; then ``received``. The rule of every live source
    (Bluesky, Mastodon, RSS); file imports and replays keep their dates, since a drill
    may be set in a fictitious future and an archive is history
    (docs/decisions/sources-bounds.md)."""
    if claimed is None:
        return received
    claimed = utc(claimed)
    if received is None:
        return claimed if claimed >= EARLIEST_POST else None
    if claimed > received + FUTURE_TOLERANCE or claimed < EARLIEST_POST:
        return received
    return claimed


def utc(dt: datetime) -> datetime:
    """Naive datetimes from libraries are UTC by their documentation; make it explicit."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
