"""Mastodon: streaming of hashtags and public/local timelines of one instance.

Mastodon.py does the talking: ``stream_hashtag`` / ``stream_public`` for the
server-sent events, ``timeline_hashtag`` / ``timeline_public`` for the REST
catch-up.  One connection (one call to ``stream``) goes:

1. open every stream, each in its own thread feeding one queue, and wait
   for the server's first heartbeat (Mastodon writes ``:)`` on connect), so
   nothing posted from now on can be missed;
2. look back below the last id seen per stream, for the statuses the instance
   numbered before it (streamed late, federated late: ``_look_back``), up to
   ``lookback_minutes`` and ``lookback_pages``, never into a journaled gap; then
   catch up through the REST timeline from that id
   (``min_id`` pagination, oldest first: unlike ``since_id`` it leaves no gap
   when more than one page arrived while we were away). The catch-up stops
   after ``catch_up_pages`` pages; if the timeline holds more, the span from
   the last status fetched to the connection is reported as a ``CoverageGap``
   (docs/decisions/sources.md);
3. recheck the last statuses emitted (``recheck``, kept in the checkpoint):
   an edit or a deletion made while we were away has no event to replay,
   so a status now edited is emitted as an edit, one now missing as a
   deletion;
4. drain the queue; statuses already emitted during catch-up are dropped;
5. while the queue is empty, fetch a span an earlier gap left (``state.fills`` in the
   checkpoint), a few pages per ``fill_interval``, and say once how it ended
   (``GapFilled``): filled, no longer served, given up after ``fill_attempts`` failed
   cycles, or (said before connecting) no longer filled because fill pages were set
   to 0 or its hashtag/timeline was removed (docs/decisions/sources.md).

Besides new statuses (``update``), the streams carry authors' edits
(``status.update``, the whole new status) and deletions (``delete``, the
status id): both become ``PostChange`` items.  The runner's window and the
sink's unique version make one seen twice harmless.

A dropped connection ends the iterator with a ``SourceError``; the runner
backs off and calls ``stream`` again with the last committed checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon, StreamListener
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonMalformedEventError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonUnauthorizedError,
)

from beffroi.watch.classify.accounts import (
    PROFILE_FIELDS,
    PROFILE_TEXT,
    account_kinds,
    domain_kinds,
    merge_kinds,
)
from beffroi.watch.sources.base import (
    ABANDONED,
    DELETE,
    EDIT,
    FILL_OFF,
    FILLED,
    NOT_SERVED,
    UNWATCHED,
    Checkpoint,
    CoverageGap,
    GapFilled,
    PostChange,
    Pseudonymiser,
    RawPost,
    Skipped,
    SourceError,
    plausible_time,
    scrub_handles,
    utc,
)
from beffroi.watch.sources.bounded import bound_replies
from beffroi.watch.sources.config import Form
from beffroi.watch.sources.netclients import guarded_session
from beffroi.watch.sources.netguard import NetworkPolicy, current_policy, find_blocked
from beffroi.watch.sources.rss import USER_AGENT, html_to_text

TIMELINES = ("public", "local")
PAGE = 40  # Mastodon's maximum page size for timelines
STATUSES_PER_REQUEST = 20  # GET /api/v1/statuses?id[]=… (Mastodon ≥ 4.3) takes at most 20
# Status ids: decimal snowflakes (Mastodon), flake strings (Pleroma, Akkoma).
_STATUS_ID = re.compile(r"[A-Za-z0-9_.-]{1,300}")

# A REST reply: 40 statuses with their accounts weigh some 200 KB; 10 MB is far past
# any real one. A streamed event is one status (a few KB; tens on instances that allow
# long posts): 4 MB without a line end is no event.
MAX_REPLY = 10_000_000
MAX_EVENT_LINE = 4_000_000

_HREF = re.compile(r'href="([^"]+)"')


def _verified_hosts(account: Mapping[str, Any]) -> list[str]:
    """Hosts of the profile links the author's server has verified (rel="me" back-links):
    unlike a display name, these cannot be borrowed."""
    hosts = []
    for field in account.get("fields") or ():
        if isinstance(field, Mapping) and field.get("verified_at"):
            for href in _HREF.findall(str(field.get("value") or "")):
                with contextlib.suppress(ValueError):  # a malformed link proves nothing
                    hosts.append(urlsplit(href).hostname or "")
    return hosts


# What accounts.profile_kinds reads, with room for markup. The cache below is keyed by
# what is kept: a remote server's bio has no length limit, and 4,096 whole bios of a
# megabyte would stay in memory.
_PROFILE_HTML = 4 * PROFILE_TEXT


def _profile(account: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The account's bio and profile fields as plain text, read for its kinds only
    (``accounts.profile_kinds``): neither is kept (the raw payload drops the account)."""
    note, listed = account.get("note"), account.get("fields")
    # A server's odd profile must not cost the post: what cannot be read is not read.
    fields = tuple(
        (str(f.get("name") or "")[:_PROFILE_HTML], str(f.get("value") or "")[:_PROFILE_HTML])
        for f in (listed if isinstance(listed, list) else [])[:PROFILE_FIELDS]
        if isinstance(f, Mapping)
    )
    return _profile_text(note[:_PROFILE_HTML] if isinstance(note, str) else "", fields)


@functools.lru_cache(maxsize=4096)
def _profile_text(
    note: str, fields: tuple[tuple[str, str], ...]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    # A stream repeats its authors: each one's profile is turned into text once.
    return html_to_text(note), tuple((html_to_text(n), html_to_text(v)) for n, v in fields)


# What a status's raw payload keeps: its own facts, never who wrote it (``account``),
# whom it answers (``in_reply_to_account_id``, which the instance's API turns back into
# the handle), mentions (``mentions``), which app posted it (``application``), or its
# addresses (``uri``, ``url``: /@user/id; the post keeps one link, in RawPost.url). An
# allow-list: a key a new Mastodon version adds stays out until it is read here
# (docs/decisions/watch-handles.md).
_STATUS_KEYS = (
    *("id", "created_at", "edited_at", "content", "spoiler_text", "sensitive"),
    *("visibility", "language", "in_reply_to_id", "replies_count", "reblogs_count"),
    *("favourites_count", "tags", "media_attachments", "card", "poll", "reblog"),
)
_NESTED_KEYS: dict[str, tuple[str, ...]] = {
    "tags": ("name",),
    "media_attachments": ("id", "type", "url", "preview_url", "remote_url", "description"),
    # A link card's author_name, author_url and authors name the linked post's account.
    "card": ("url", "type", "title", "description", "provider_name", "provider_url", "image"),
    "poll": ("id", "expires_at", "expired", "multiple", "votes_count", "options"),
}


def _only(value: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        return {k: value[k] for k in keys if k in value}
    if isinstance(value, list):
        return [_only(item, keys) for item in value if isinstance(item, Mapping)]
    return None


def status_raw(status: Mapping[str, Any], *, nested: bool = False) -> dict[str, Any]:
    """The raw payload stored for ``status``: ``_STATUS_KEYS`` only, JSON-safe."""
    kept: dict[str, Any] = {}
    for key in _STATUS_KEYS:
        if key not in status:
            continue
        value = status[key]
        if key == "reblog":
            # A boost carries the boosted status; a boost of a boost does not exist.
            value = (
                status_raw(value, nested=True)
                if isinstance(value, Mapping) and not nested
                else None
            )
        elif key in _NESTED_KEYS:
            value = _only(value, _NESTED_KEYS[key])
        kept[key] = value
    return scrub_handles(kept)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class MastodonConfig:
    instance_url: str
    hashtags: tuple[str, ...] = ()
    timelines: tuple[str, ...] = ()
    access_token: str | None = None
    timeout: float = 20.0  # REST requests and the wait for the first heartbeat
    # Mastodon sends a heartbeat every ~15 s: a silent minute is a dead link.
    stream_read_timeout: float = 60.0
    catch_up_pages: int = 25
    backfill: int = 20  # posts fetched on the very first connection
    # Last statuses rechecked for edits and deletions at each reconnection.
    recheck: int = 40
    # A span the catch-up left (a CoverageGap) is fetched afterwards, at most
    # ``fill_pages`` pages of 40 every ``fill_interval`` seconds (0 pages: never).
    fill_pages: int = 3
    fill_interval: float = 60.0
    # A span whose pages fail (5xx, no answer) this many cycles in a row is given up
    # and journaled so; one attempt per cycle, so an hour at least by default.
    fill_attempts: int = 60
    # At each connection, the statuses below the last id seen that were published in
    # the ``lookback_minutes`` before the newest of them are read again, at most
    # ``lookback_pages`` pages of 40: a status stored with an older id than one
    # already received (streamed late, federated late) is found there (0: never).
    lookback_minutes: float = 15.0
    lookback_pages: int = 5

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> MastodonConfig:
        form = Form(data)
        url = form.url("instance_url", message="Adresse d'instance invalide (https://… attendu).")
        tags = tuple(t.lstrip("#") for t in form.words("hashtags"))
        bad = [t for t in tags if not t or any(c.isspace() or c in "#/?&" for c in t)]
        if bad:
            form.error("hashtags", f"Mot-dièse invalide : « {bad[0]} ».")
        timelines = form.words("timelines")
        unknown = [t for t in timelines if t not in TIMELINES]
        if unknown:
            form.error("timelines", f"Fil inconnu « {unknown[0]} » : choisir public ou local.")
        if not tags and not timelines and "hashtags" not in form.errors:
            form.error("hashtags", "Indiquer au moins un mot-dièse ou un fil public/local.")
        token = form.text("access_token") or None
        timeout = form.number("timeout", default=20, minimum=1, maximum=120, unit="s")
        pages = form.number("catch_up_pages", default=25, minimum=0, maximum=1000)
        backfill = form.number("backfill", default=20, minimum=0, maximum=PAGE)
        recheck = form.number("recheck", default=40, minimum=0, maximum=200)
        fill = form.number("fill_pages", default=3, minimum=0, maximum=40)
        lookback = form.number("lookback_minutes", default=15, minimum=0, maximum=1440, unit="min")
        form.done()
        return cls(
            instance_url=url.rstrip("/"),
            hashtags=tags,
            timelines=timelines,
            access_token=token,
            timeout=timeout,
            catch_up_pages=int(pages),
            backfill=int(backfill),
            recheck=int(recheck),
            fill_pages=int(fill),
            lookback_minutes=lookback,
        )

    def streams(self) -> list[str]:
        """Stream keys, also used as checkpoint keys: ``tag:NAME``, ``public``, ``local``."""
        return [f"tag:{t.lower()}" for t in self.hashtags] + list(self.timelines)


def id_order(status_id: str) -> tuple[int, str]:
    # Mastodon ids are decimal snowflakes and Pleroma/Akkoma ids fixed-width
    # flake strings: ordering by (length, text) is right for both.
    return (len(status_id), status_id)


@dataclass(frozen=True)
class _Lost:
    """A gap found by the catch-up, with the span to fetch afterwards (a checkpoint
    entry of ``fills``)."""

    gap: CoverageGap
    fill: dict[str, Any]
    # The newest status, asked after the stream was open, when it was posted after
    # that: not part of the span, handed over with the gap (see ``_hand_over_gaps``).
    head: RawPost | None = None


def _timeline_page(api: Mastodon, key: str, **params: Any) -> list[Any]:
    if key.startswith("tag:"):
        return list(api.timeline_hashtag(key[4:], **params))
    return list(api.timeline_public(local=key == "local", **params))


# HTTP answers that say the instance will not serve a timeline again soon: not
# found, gone, refused (timelines closed to anonymous readers since 4.2), invalid.
_REFUSALS = frozenset({400, 401, 403, 404, 410, 422})


def _pending_fill(entry: Any) -> dict[str, Any] | None:
    """A checkpoint's span still to fill, as this version keeps it, or None if it is
    not one. Session 7 named the statuses returned ``received``."""
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(k), str) for k in ("where", "after", "until", "end")
    ):
        return None
    fill = dict(entry)
    if "returned" not in fill:
        fill["returned"] = fill.pop("received", 0)
    fill.setdefault("skipped", 0)
    fill.setdefault("failures", 0)
    if not all(
        isinstance(fill[k], int) and not isinstance(fill[k], bool)
        for k in ("returned", "skipped", "failures")
    ):
        return None
    return fill


class _Stopped(Exception):
    """Raised inside a listener to leave Mastodon.py's blocking read loop."""


class _QueueListener(StreamListener):  # type: ignore[misc]
    def __init__(self, key: str, out: queue.Queue[tuple[str, str, Any]], stop: threading.Event):
        super().__init__()
        self.key, self.out, self.stop = key, out, stop
        self.response: Any = None

    def handle_stream(self, response: Any) -> None:
        # Kept so that stopping can close the socket under the blocked read.
        self.response = response
        super().handle_stream(response)

    def handle_heartbeat(self) -> None:
        if self.stop.is_set():
            raise _Stopped
        self.out.put(("heartbeat", self.key, None))

    def on_update(self, status: Any) -> None:
        self.out.put(("update", self.key, status))
        if self.stop.is_set():
            raise _Stopped

    def on_status_update(self, status: Any) -> None:
        self.out.put((EDIT, self.key, status))
        if self.stop.is_set():
            raise _Stopped

    def on_delete(self, status_id: Any) -> None:
        self.out.put((DELETE, self.key, status_id))
        if self.stop.is_set():
            raise _Stopped

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        pass  # new event kinds must not break an old client

    def _dispatch(self, event: Any) -> None:
        # Mastodon.py aborts the whole connection on one undecodable event;
        # a watch room must skip that post, say why, and keep listening.
        try:
            super()._dispatch(event)
        except MastodonMalformedEventError as exc:
            data = str(event.get("data", "")) if isinstance(event, dict) else ""
            if isinstance(event, dict) and event.get("event") == DELETE:
                # The payload of a deletion is the bare id, not JSON: Mastodon's
                # digits parse as a number, Pleroma's flake ids do not.
                self.out.put((DELETE, self.key, data.strip()))
                return
            excerpt = data[:80]
            self.out.put(("malformed", self.key, (str(exc.args[0]) if exc.args else "", excerpt)))


# What ``MastodonSource.stream`` yields: an item (or None, an idle tick) and the
# checkpoint that covers it.
_Item = RawPost | PostChange | CoverageGap | GapFilled | Skipped
_Out = tuple[_Item | None, Checkpoint]


@dataclass
class _Connection:
    """One call to ``MastodonSource.stream``: the checkpoint's parts it moves on (the
    last id per stream, the recent statuses, the spans to fill), handed over with each
    item by ``state``, and what the connection keeps for itself."""

    keys: list[str]
    last_ids: dict[str, str | None]
    # The last statuses emitted (id → version: edit time, "" if never edited),
    # rechecked at each connection; committed with the items.
    recent: dict[str, str]
    # Only what earlier connections emitted needs a recheck (not this one's backfill).
    before: list[str]
    # Spans lost by earlier catch-ups, still to fetch, oldest first: in the checkpoint,
    # so a restart goes on where the last committed page stopped.
    fills: list[dict[str, Any]]
    recheck: int
    fill_due: float
    fill_pages_left: int = 0
    emitted: set[str] = dataclasses.field(default_factory=set)
    # Gaps found by the catch-up, per stream, with the id to resume from. Each is
    # handed over once the stream's queue is first drained, with the checkpoint moved
    # to that id: then every post the stream brought since the connection was handed
    # over before it (or with it), so a restart neither fetches the lost span again
    # (and calls it lost twice) nor skips posts the stream had not yet delivered.
    # Until then the checkpoint stays where the catch-up stopped: a restart before
    # that catches up again and reports its own gap.
    deferred: dict[str, tuple[_Lost, str]] = dataclasses.field(default_factory=dict)
    # Per stream, the end of the last gap handed over: the lookback never reads
    # statuses published before it, which the journal says were lost (or the fill
    # brings). Dropped once the lookback's window no longer reaches it.
    horizons: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(cls, checkpoint: Checkpoint, config: MastodonConfig) -> _Connection:
        keys = config.streams()
        horizons = checkpoint.get("horizons")
        recent = {
            str(pair[0]): str(pair[1])
            for pair in checkpoint.get("recent", [])
            if isinstance(pair, list) and len(pair) == 2
        }
        return cls(
            keys=keys,
            last_ids={k: checkpoint.get("last_ids", {}).get(k) for k in keys},
            recent=recent,
            before=list(recent),
            fills=[
                fill for f in checkpoint.get("fills", []) if (fill := _pending_fill(f)) is not None
            ],
            recheck=config.recheck,
            horizons={
                k: v
                for k, v in (horizons if isinstance(horizons, dict) else {}).items()
                if k in keys and _parse_time(v) is not None
            },
            # The first fill cycle waits a whole interval: a reconnection's catch-up
            # and the burst the streams bring first go before old posts.
            fill_due=time.monotonic() + config.fill_interval,
        )

    def state(self) -> Checkpoint:
        out: Checkpoint = {"last_ids": {k: v for k, v in self.last_ids.items() if v is not None}}
        if self.recent:
            out["recent"] = [[k, v] for k, v in self.recent.items()]
        if self.fills:
            out["fills"] = [dict(f) for f in self.fills]
        if self.horizons:
            out["horizons"] = dict(self.horizons)
        return out

    def note(self, item: _Item) -> None:
        """Keep ``recent`` as the item leaves it."""
        if isinstance(item, Skipped | CoverageGap | GapFilled) or self.recheck <= 0:
            return
        if isinstance(item, PostChange):
            if item.kind == DELETE:
                self.recent.pop(item.external_id, None)
                return
            self.recent[item.external_id] = item.version
        else:
            # A post seen again (another stream, a new timeline's backfill) in a newer
            # version is dropped by the runner as already delivered: only a change may
            # move the version on, or the recheck misses it.
            edited = _edited_at(item.raw)
            self.recent.setdefault(item.external_id, edited.isoformat() if edited else "")
        while len(self.recent) > self.recheck:
            del self.recent[min(self.recent, key=id_order)]


class MastodonSource:
    kind: ClassVar[str] = "mastodon"

    def __init__(
        self,
        source_id: str,
        config: MastodonConfig,
        *,
        pseudonymise: Pseudonymiser,
        idle_tick: float = 1.0,
        api_factory: Callable[[MastodonConfig], Mastodon] | None = None,
        policy: NetworkPolicy | None = None,
    ) -> None:
        self.source_id = source_id
        self.config = config
        self.pseudonymise = pseudonymise
        self.idle_tick = idle_tick
        self.policy = policy if policy is not None else current_policy()
        self.api_factory = api_factory or self._default_api
        self.host = urlsplit(config.instance_url).hostname or config.instance_url
        self._batch_lookup = True  # until the instance refuses it (older Mastodon, Pleroma…)

    def _default_api(self, config: MastodonConfig) -> Mastodon:
        session = guarded_session(self.policy)
        # Requests reads a reply whole and a stream's line as long as it goes: an
        # instance (or what answers in its name) could fill the worker's memory.
        bound_replies(session, limit=MAX_REPLY, line_limit=MAX_EVENT_LINE)
        return Mastodon(
            api_base_url=config.instance_url,
            # REST and streaming go through it: every connection, including to the
            # streaming server the instance names, is checked where it is made.
            session=session,
            access_token=config.access_token,
            request_timeout=config.timeout,
            user_agent=USER_AGENT,
            version_check_mode="none",  # no version probe: the instance endpoint says enough
            ratelimit_method="throw",  # never sleep inside the library; the runner backs off
        )

    # -- conversion ---------------------------------------------------------

    def safe_post(self, status: Any, stream_key: str) -> RawPost | Skipped:
        """``to_post`` that turns any shape surprise into a Skipped, never an exception."""
        if not isinstance(status, Mapping):
            return Skipped("Statut illisible : objet JSON attendu.", stream_key, str(status)[:80])
        try:
            return self.to_post(status, stream_key)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            return Skipped(f"Statut illisible : {exc}.", stream_key, str(status.get("id", "")))

    def to_post(self, status: Mapping[str, Any], stream_key: str) -> RawPost | Skipped:
        status_id = status.get("id")
        if status_id is None or str(status_id) == "":
            return Skipped("Statut sans identifiant.", stream_key)
        original = status.get("reblog") or status
        created = original.get("created_at") or status.get("created_at")
        if isinstance(created, str):
            text_date = created
            try:
                created = datetime.fromisoformat(text_date.replace("Z", "+00:00"))
            except ValueError:
                return Skipped(f"Date illisible « {text_date[:40]} ».", f"statut {status_id}")
        if not isinstance(created, datetime):
            return Skipped("Statut sans date.", f"statut {status_id}")
        # Same rule as every source: a date far in the future or before the web is the
        # author's software's error, not when the status was written.
        created = plausible_time(created, datetime.now(UTC)) or created
        text = html_to_text(str(original.get("content") or ""))
        warning = str(original.get("spoiler_text") or "").strip()
        if warning:
            text = f"[{warning}]\n{text}".strip()
        if not text:
            return Skipped("Statut sans texte.", f"statut {status_id}")
        account = original.get("account") or {}
        acct = str(account.get("acct") or "")
        if acct and "@" not in acct:
            acct = f"{acct}@{self.host}"  # local accounts are written without their domain
        author_kind = "bot" if account.get("bot") else "group" if account.get("group") else None
        kinds = merge_kinds(
            account_kinds(
                (
                    str(account.get("username") or acct.split("@")[0]),
                    str(account.get("display_name") or ""),
                ),
                *_profile(account),
            ),
            domain_kinds(acct.rpartition("@")[2], *_verified_hosts(account)),
        )
        media = tuple(
            str(m.get("url") or m.get("remote_url"))
            for m in original.get("media_attachments") or ()
            if m.get("url") or m.get("remote_url")
        )
        language = original.get("language")
        return RawPost(
            source_kind=self.kind,
            source_id=self.source_id,
            external_id=str(status_id),
            text=text,
            created_at=utc(created),
            url=original.get("url") or original.get("uri"),
            language=str(language) if language else None,
            author_key=self.pseudonymise(acct) if acct else None,
            author_kind=author_kind,
            author_kinds=kinds,
            media_urls=media,
            reply_to=str(original["in_reply_to_id"]) if original.get("in_reply_to_id") else None,
            repost_of=str(status["reblog"]["id"]) if status.get("reblog") else None,
            raw={**status_raw(status), "stream": stream_key},
        )

    def safe_change(self, kind: str, payload: Any, stream_key: str) -> PostChange | Skipped:
        """A ``status.update`` (the whole new status) or ``delete`` (the status
        id) event as a change, or a Skipped; never an exception."""
        if kind == DELETE:
            status_id = ""
            if isinstance(payload, str):
                status_id = payload.strip()
            elif isinstance(payload, int) and not isinstance(payload, bool) and payload >= 0:
                status_id = str(payload)
            if not _STATUS_ID.fullmatch(status_id):
                return Skipped(
                    "Suppression illisible : identifiant de statut attendu.",
                    stream_key,
                    repr(payload)[:80],
                )
            return PostChange(DELETE, self.kind, self.source_id, status_id)
        post = self.safe_post(payload, stream_key)
        if isinstance(post, Skipped):
            reason = post.reason[:1].lower() + post.reason[1:]
            return Skipped(f"Modification illisible : {reason}", post.where, post.excerpt)
        edited = _edited_at(payload) if isinstance(payload, Mapping) else None
        return PostChange(EDIT, self.kind, self.source_id, post.external_id, at=edited, post=post)

    # -- REST ---------------------------------------------------------------

    def _timeline(self, api: Mastodon, key: str, **params: Any) -> list[Any]:
        try:
            return _timeline_page(api, key, **params)
        except MastodonRatelimitError as exc:
            raise self._rate_limited(api) from exc
        except MastodonError as exc:
            raise SourceError(self._describe(exc)) from exc

    def _rate_limited(self, api: Mastodon) -> SourceError:
        reset = getattr(api, "ratelimit_reset", None)
        wait = max(0.0, float(reset) - time.time()) if reset else None
        return SourceError(
            f"L'instance {self.host} limite le nombre de requêtes : pause demandée.",
            retry_after=wait,
        )

    def _describe(self, exc: BaseException) -> str:
        blocked = find_blocked(exc)
        if blocked is not None:
            return blocked.message
        where = f"l'instance {self.host}"
        if isinstance(exc, MastodonUnauthorizedError):
            return f"Accès refusé par {where} (jeton manquant ou invalide)."
        if isinstance(exc, MastodonNotFoundError):
            return f"Point d'accès introuvable sur {where} (est-ce bien une instance Mastodon ?)."
        if isinstance(exc, MastodonNetworkError) and "streaming server" in str(exc):
            # The server answered, but not with a stream (401, 404, 503…).
            reason = str(exc).rsplit(":", 1)[-1].strip()
            return f"{where[0].upper()}{where[1:]} refuse le flux en direct ({reason})."
        if isinstance(exc, MastodonNetworkError | requests.ConnectionError | requests.Timeout):
            return f"Instance injoignable ({self.host}) : {exc}"
        if isinstance(exc, MastodonAPIError):
            return f"Erreur de {where} : {exc}"
        return f"Erreur Mastodon ({type(exc).__name__}) : {exc}"

    def _fetch_statuses(self, api: Mastodon, ids: list[str]) -> dict[str, Any]:
        """The statuses among ``ids`` the instance still shows, by id. An id
        left out was answered 404 on its own look-up: a batch reply may omit a
        status for other reasons (visibility, a server's quirk), never proof
        of a deletion. Errors other than 404 propagate.

        One request per 20 ids (Mastodon ≥ 4.3), then one per id missing from it;
        one per id on servers without the batch look-up."""
        found: dict[str, Any] = {}
        if self._batch_lookup:
            try:
                batch = list(api.statuses(ids))
            except MastodonUnauthorizedError:
                raise  # asking one by one would be refused the same way
            except MastodonAPIError:
                # 404 on Mastodon < 4.3; Pleroma and Akkoma read ``ids[]`` and may
                # answer 400 or 500: one by one from now on.
                self._batch_lookup = False
            else:
                found = {
                    str(status["id"]): status
                    for status in batch
                    if isinstance(status, Mapping) and status.get("id") is not None
                }
        for status_id in ids:
            if status_id in found:
                continue
            try:
                found[status_id] = api.status(status_id)
            except MastodonNotFoundError:
                continue
        return found

    def _recheck(self, api: Mastodon, recent: Mapping[str, str]) -> Iterator[PostChange | Skipped]:
        """Edits and deletions of the ``recent`` statuses (id → version seen)
        that the instance shows now: what happened while we were away.

        Rate limiting stops the connection (the runner waits as asked); any
        other error ends the recheck with a Skipped and the source goes on
        live: raising would reconnect and recheck again, in a loop."""
        ids = sorted(recent, key=id_order)
        for start in range(0, len(ids), STATUSES_PER_REQUEST):
            chunk = ids[start : start + STATUSES_PER_REQUEST]
            try:
                found = self._fetch_statuses(api, chunk)
            except MastodonRatelimitError as exc:
                raise self._rate_limited(api) from exc
            except (MastodonError, requests.RequestException) as exc:
                yield Skipped(
                    "Revérification des modifications et suppressions faites pendant la "
                    f"coupure abandonnée ({len(ids) - start} messages non revérifiés) : "
                    f"{self._describe(exc)}",
                    "revérification",
                )
                return
            for status_id in chunk:
                status = found.get(status_id)
                if status is None:
                    yield PostChange(DELETE, self.kind, self.source_id, status_id)
                elif not isinstance(status, Mapping):
                    yield Skipped(
                        "Revérification : statut illisible, objet JSON attendu.",
                        "revérification",
                        str(status)[:80],
                    )
                elif _edited_at(status) is not None:
                    change = self.safe_change(EDIT, status, "revérification")
                    if isinstance(change, Skipped) or change.version != recent[status_id]:
                        yield change

    def _catch_up(
        self, api: Mastodon, key: str, last_id: str | None, connected: datetime
    ) -> Iterator[tuple[RawPost | Skipped | _Lost, str]]:
        """The statuses posted on ``key`` since ``last_id``, oldest first, then the
        gap if the pages ran out first, with the id to resume from once it is
        recorded. ``connected``: when the stream was open, from which on nothing is
        missed."""
        if last_id is None:
            if self.config.backfill <= 0:
                return
            page = self._timeline(api, key, limit=self.config.backfill)
            for status in sorted(page, key=lambda s: id_order(str(s["id"]))):
                yield self.safe_post(status, key), str(status["id"])
            return
        last_seen: datetime | None = None
        for _ in range(self.config.catch_up_pages):
            page = self._timeline(api, key, min_id=last_id, limit=PAGE)
            if not page:
                return
            for status in sorted(page, key=lambda s: id_order(str(s["id"]))):
                last_id = str(status["id"])
                last_seen = _created_at(status) or last_seen
                yield self.safe_post(status, key), last_id
        # Paged oldest first: what the pages did not reach is the newest part of the
        # outage. One status past the last one fetched tells whether there is any
        # (a last page that happened to be full is no gap).
        missing = self._timeline(api, key, min_id=last_id, limit=1)
        if not missing:
            return
        # Where the source resumes once the gap is recorded: the newest status now,
        # asked after the stream was open. What lies past it comes through the stream
        # or the next catch-up; a restart must not fetch the span again and call it
        # lost a second time (docs/decisions/sources.md, "After a restart").
        head = self._timeline(api, key, limit=1)
        resume = max(
            [last_id, *(str(s["id"]) for s in (*missing[:1], *head[:1]) if _has_id(s))],
            key=id_order,
        )
        start = last_seen
        if start is None:
            # Nothing fetched (no catch-up pages): the first status missing is what we know.
            start = _created_at(missing[0])
        label = f"#{key[4:]}" if key.startswith("tag:") else key
        if self.config.catch_up_pages:
            n = self.config.catch_up_pages * PAGE
            reason = f"Rattrapage limité à {n} messages sur le fil {label}"
        else:
            reason = f"Rattrapage désactivé sur le fil {label}"
        gap = CoverageGap(
            self.kind,
            self.source_id,
            end=connected,
            start=start if start is not None and start <= connected else None,
            reason=reason,
            detail=f"{self.config.catch_up_pages} pages de {PAGE} après le statut {last_id}",
            where=key,
        )
        # The span to fetch afterwards: past the last status fetched, up to the
        # newest one asked after the stream was open (inclusive: the next catch-up
        # starts past it, the stream began after it).
        fill = {
            "where": key,
            "after": last_id,
            "until": resume,
            "start": gap.start.isoformat() if gap.start is not None else None,
            "end": gap.end.isoformat(),
            "returned": 0,
            "skipped": 0,
            "failures": 0,
        }
        latest = head[0] if head and _has_id(head[0]) else None
        posted = _created_at(latest) if latest is not None else None
        after = self.safe_post(latest, key) if posted is not None and posted >= connected else None
        yield _Lost(gap, fill, after if isinstance(after, RawPost) else None), resume

    def _look_back(self, api: Mastodon, conn: _Connection, key: str, last_id: str) -> list[RawPost]:
        """The statuses below ``last_id`` published in the ``lookback_minutes`` before
        the newest of them, oldest first: ones the instance stored with an id older than
        the last one seen (a status its streaming server sent after a newer one, a
        remote status, numbered by its publication, federated late) while the source
        was away. Most were received already: the runner's window and the ingest door
        drop those. At most ``lookback_pages`` pages (and none when the catch-up is
        off); never before the stream's last gap (``conn.horizons``).

        Only posts: a status that cannot be read is not said again here, since the
        lookback cannot tell one reported when it first came from one never seen
        (docs/decisions/sources.md, "Statuses numbered before the last one seen")."""
        window = timedelta(minutes=self.config.lookback_minutes)
        pages = min(self.config.lookback_pages, self.config.catch_up_pages)
        if window <= timedelta(0) or pages <= 0:
            return []
        horizon = _parse_time(conn.horizons.get(key))
        floor: datetime | None = None
        found: list[RawPost] = []
        before = last_id
        for _ in range(pages):
            page = sorted(
                (
                    s
                    for s in self._timeline(api, key, max_id=before, limit=PAGE)
                    # A server that ignores max_id must not loop.
                    if _has_id(s) and id_order(str(s["id"])) < id_order(before)
                ),
                key=lambda s: id_order(str(s["id"])),
                reverse=True,
            )
            for status in page:
                created = _created_at(status)
                if created is None:
                    continue
                if floor is None:
                    floor = created - window
                    if horizon is not None and horizon <= floor:
                        del conn.horizons[key]  # out of reach from now on
                    elif horizon is not None:
                        floor = horizon
                if created >= floor:
                    post = self.safe_post(status, key)
                    if isinstance(post, RawPost):
                        found.append(post)
            oldest = _created_at(page[-1]) if page else None
            if len(page) < PAGE or floor is None or oldest is None or oldest < floor:
                break
            before = str(page[-1]["id"])
        return sorted(found, key=lambda p: id_order(p.external_id))

    def _fill_step(
        self, api: Mastodon, fills: list[dict[str, Any]]
    ) -> Generator[RawPost | Skipped | GapFilled, None, float | None]:
        """One page of the oldest span still to fill, oldest statuses first, then the
        ``GapFilled`` if the span is done. ``fills`` (the checkpoint's) moves on just
        before each item is yielded, so the state handed over with an item covers it
        and nothing after it. Returns, when the instance asks us to slow down, how
        many seconds to leave it alone. Never raises for the instance's sake: the live
        stream must not reconnect because a background page failed."""
        fill = fills[0]
        remaining = getattr(api, "ratelimit_remaining", None)
        limit = getattr(api, "ratelimit_limit", None)
        reset = getattr(api, "ratelimit_reset", None)
        # Half the instance's budget stays for the live source (a reconnection's
        # catch-up and recheck): the fill waits for the window to reset.
        if (
            isinstance(remaining, int)
            and isinstance(limit, int)
            and isinstance(reset, int | float)
            and remaining <= limit // 2
            and reset > time.time()
        ):
            return float(reset) - time.time()
        key, until = fill["where"], fill["until"]
        try:
            page = _timeline_page(api, key, min_id=fill["after"], limit=PAGE)
        except MastodonRatelimitError:
            # Mastodon.py has read the refusal's own reset time by now.
            reset = getattr(api, "ratelimit_reset", None)
            wait = float(reset) - time.time() if isinstance(reset, int | float) else None
            return max(wait or 0.0, self.config.fill_interval)
        except (MastodonError, requests.RequestException) as exc:
            code = exc.args[1] if isinstance(exc, MastodonAPIError) and len(exc.args) > 1 else None
            if isinstance(code, int) and code in _REFUSALS:
                yield self._filled(fills, NOT_SERVED, detail=self._describe(exc))
                return None
            # The server's trouble (5xx) or no answer: the next cycle asks again, up
            # to ``fill_attempts`` cycles in a row; then the span is given up, so an
            # instance broken for good does not keep it (and the checkpoint) forever.
            fill["failures"] += 1
            if fill["failures"] >= self.config.fill_attempts:
                yield self._filled(fills, ABANDONED, detail=self._describe(exc))
                return None
            return self.config.fill_interval
        fill["failures"] = 0
        done, any_new = not page, False
        for status in sorted((s for s in page if _has_id(s)), key=lambda s: id_order(str(s["id"]))):
            status_id = str(status["id"])
            if id_order(status_id) > id_order(until):
                done = True  # past the span: received live or by a later catch-up
                continue
            if id_order(status_id) <= id_order(fill["after"]):
                continue  # a server that ignores min_id must not loop
            item = self.safe_post(status, key)
            fill["after"] = status_id
            if isinstance(item, RawPost):
                # Which gap brought it: the sink counts the span's posts that were new
                # to the room by this mark (``actions.record_gap_filled``).
                item = dataclasses.replace(item, raw={**item.raw, "fill": fill["end"]})
            fill["skipped" if isinstance(item, Skipped) else "returned"] += 1
            any_new = True
            yield item
            done = done or status_id == until
        if done or not any_new:  # not any_new: the server pages no further
            # No status of the span at all, though the catch-up saw at least one past
            # its last page: the instance no longer serves the span.
            served = fill["returned"] + fill["skipped"] > 0
            yield self._filled(fills, FILLED if served else NOT_SERVED, detail="")
        return None

    def _filled(self, fills: list[dict[str, Any]], outcome: str, *, detail: str) -> GapFilled:
        """The oldest span, taken out of ``fills``, as it ended."""
        return self._ended(fills.pop(0), outcome, detail=detail)

    def _ended(self, fill: Mapping[str, Any], outcome: str, *, detail: str) -> GapFilled:
        start = fill.get("start")
        return GapFilled(
            self.kind,
            self.source_id,
            end=datetime.fromisoformat(fill["end"]),
            where=fill["where"],
            start=datetime.fromisoformat(start) if isinstance(start, str) else None,
            returned=fill["returned"],
            skipped=fill["skipped"],
            outcome=outcome,
            detail=detail,
            failures=fill["failures"],
        )

    def _unfillable(self, fills: list[dict[str, Any]]) -> list[GapFilled]:
        """The spans the source's configuration no longer fills, taken out of
        ``fills``: all of them when fill pages are 0, and those of a hashtag or
        timeline no longer watched. Each is journaled once, as not filled and why,
        rather than kept in the checkpoint for ever."""
        watched = set(self.config.streams())
        ended: list[GapFilled] = []
        for fill in list(fills):
            if fill["where"] not in watched:
                ended.append(self._ended(fill, UNWATCHED, detail=""))
            elif self.config.fill_pages <= 0:
                ended.append(self._ended(fill, FILL_OFF, detail=""))
            else:
                continue
            fills.remove(fill)
        return ended

    # -- streaming ----------------------------------------------------------

    def _open(
        self,
        api: Mastodon,
        key: str,
        out: queue.Queue[tuple[str, str, Any]],
        stop: threading.Event,
    ) -> _QueueListener:
        listener = _QueueListener(key, out, stop)
        timeout = self.config.stream_read_timeout

        def run() -> None:
            try:
                if key.startswith("tag:"):
                    api.stream_hashtag(key[4:], listener, timeout=timeout)
                else:
                    api.stream_public(listener, local=key == "local", timeout=timeout)
                out.put(("closed", key, None))
            except _Stopped:
                pass
            except Exception as exc:  # reported to the generator, which raises it
                if not stop.is_set():
                    out.put(("error", key, exc))

        threading.Thread(target=run, name=f"mastodon-{self.host}-{key}", daemon=True).start()
        return listener

    def stream(self, checkpoint: Checkpoint) -> Iterator[_Out]:
        """One connection, in the steps of the module's docstring, each its own method."""
        conn = _Connection.load(checkpoint, self.config)
        # Spans this configuration no longer fills are said ended first: that needs no
        # answer from the instance, which may never give one again.
        for ended in self._unfillable(conn.fills):
            yield ended, conn.state()

        api = self.api_factory(self.config)
        out: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        stop = threading.Event()
        listeners = [self._open(api, key, out, stop) for key in conn.keys]
        try:
            pending = self._await_connections(conn.keys, out)
            # Taken once every stream is open (or the wait gave up): a gap reported
            # up to here may overlap what the streams delivered, never leave any out.
            connected = datetime.now(UTC)
            yield from self._catch_up_streams(api, conn, connected)
            yield from self._recheck_recent(api, conn)
            yield None, conn.state()
            while True:
                if pending:
                    event: tuple[str, str, Any] | None = pending.pop(0)
                else:
                    event = yield from self._next_event(api, conn, out)
                if event is not None:
                    yield from self._on_event(conn, *event)
        finally:
            stop.set()
            for listener in listeners:
                if listener.response is not None:
                    # Closing a socket under a blocked read may complain; it is closed anyway.
                    with contextlib.suppress(Exception):
                        listener.response.close()

    def _catch_up_streams(
        self, api: Mastodon, conn: _Connection, connected: datetime
    ) -> Iterator[_Out]:
        """Step 2: each stream's statuses since its last id; a gap found is kept in
        ``conn.deferred``, to hand over once the streams' queue is drained. Before the
        catch-up proper, the lookback (``_look_back``)."""
        for key in conn.keys:
            last_id = conn.last_ids[key]
            if last_id is not None:
                for post in self._look_back(api, conn, key, last_id):
                    # Older than the last id: the checkpoint's ids stay where they are.
                    if post.external_id not in conn.emitted:
                        conn.emitted.add(post.external_id)
                        conn.note(post)
                        yield post, conn.state()
            for item, item_id in self._catch_up(api, key, conn.last_ids[key], connected):
                if isinstance(item, _Lost):
                    conn.deferred[key] = (item, item_id)
                    continue
                conn.last_ids[key] = max((conn.last_ids[key] or item_id), item_id, key=id_order)
                if isinstance(item, RawPost):
                    if item.external_id in conn.emitted:
                        continue
                    conn.emitted.add(item.external_id)
                conn.note(item)
                yield item, conn.state()

    def _recheck_recent(self, api: Mastodon, conn: _Connection) -> Iterator[_Out]:
        """Step 3: edits and deletions of what earlier connections emitted."""
        rechecked = {k: conn.recent[k] for k in conn.before if k in conn.recent}
        if rechecked and self.config.recheck > 0:
            for change in self._recheck(api, rechecked):
                conn.note(change)
                yield change, conn.state()

    def _next_event(
        self, api: Mastodon, conn: _Connection, out: queue.Queue[tuple[str, str, Any]]
    ) -> Generator[_Out, None, tuple[str, str, Any] | None]:
        """The streams' next event (step 4). When their queue is empty: the gaps the
        catch-up found, a tick, and, when due, one page of a span to fill (step 5);
        then None, or the event that came within ``idle_tick``."""
        try:
            return out.get_nowait()
        except queue.Empty:
            pass
        yield from self._hand_over_gaps(conn)
        # Drained: the tick tells the runner to hand over its batch now.
        yield None, conn.state()
        fetched = yield from self._fill_turn(api, conn)
        if fetched:
            return None
        try:
            return out.get(timeout=self.idle_tick)
        except queue.Empty:
            return None

    def _hand_over_gaps(self, conn: _Connection) -> Iterator[_Out]:
        """The catch-up's gaps, now that every post the streams brought since the
        connection was handed over before them, each with the checkpoint moved to the
        id the stream resumes from (see ``_Connection.deferred``)."""
        while conn.deferred:
            gap_key, (lost, resume) = next(iter(conn.deferred.items()))
            del conn.deferred[gap_key]
            conn.last_ids[gap_key] = max(conn.last_ids[gap_key] or resume, resume, key=id_order)
            # Committed with the gap: the span is to fetch exactly when it is journaled
            # lost. Not when the organiser turned the catch-up off (that says: no old
            # posts).
            if self.config.fill_pages > 0 and self.config.catch_up_pages > 0:
                conn.fills.append(lost.fill)
            conn.horizons[gap_key] = lost.gap.end.isoformat()
            yield lost.gap, conn.state()
            # The checkpoint is now past the status resumed from: were the stream still
            # to send it, a restart would find it neither in the catch-up (past it) nor
            # in the lookback (below it). The runner's window drops it if it came.
            if lost.head is not None and lost.head.external_id not in conn.emitted:
                conn.emitted.add(lost.head.external_id)
                conn.note(lost.head)
                yield lost.head, conn.state()

    def _fill_turn(self, api: Mastodon, conn: _Connection) -> Generator[_Out, None, bool]:
        """One page of the oldest span to fill, if a cycle is due and has pages left;
        True when a page was asked for (the caller looks at the streams again first)."""
        if not conn.fills or self.config.fill_pages <= 0:
            return False
        # At most one page per moment the streams' queue is empty: live events never
        # wait for more than one request.
        now = time.monotonic()
        if conn.fill_pages_left == 0 and now >= conn.fill_due:
            conn.fill_pages_left = self.config.fill_pages
            conn.fill_due = now + self.config.fill_interval
        if conn.fill_pages_left <= 0:
            return False
        conn.fill_pages_left -= 1
        # Pulled by hand, not ``yield from``: its return value (how long to leave the
        # instance alone) is needed, and each item goes out with the checkpoint.
        steps = self._fill_step(api, conn.fills)
        while True:
            try:
                found = next(steps)
            except StopIteration as end:
                if end.value is not None:
                    conn.fill_pages_left = 0
                    conn.fill_due = time.monotonic() + end.value
                break
            conn.note(found)
            yield found, conn.state()
        yield None, conn.state()  # hand the page over now
        return True

    def _on_event(self, conn: _Connection, kind: str, key: str, payload: Any) -> Iterator[_Out]:
        """What one event of the streams becomes."""
        if kind == "update":
            post = self.safe_post(payload, key)
            status_id = str(payload.get("id", "")) if isinstance(payload, Mapping) else ""
            if status_id and key in conn.deferred:
                # Not in the checkpoint before the gap: committed alone, it would skip
                # the lost span without a record.
                lost, resume = conn.deferred[key]
                conn.deferred[key] = (lost, max(resume, status_id, key=id_order))
            elif status_id and (
                conn.last_ids[key] is None
                or id_order(status_id) > id_order(conn.last_ids[key] or "")
            ):
                conn.last_ids[key] = status_id
            # Only catch-up ids are remembered here; duplicates across streams (a
            # hashtag post also on the public timeline) are dropped by the runner's
            # window, which stays bounded.
            if isinstance(post, RawPost) and post.external_id in conn.emitted:
                return
            conn.note(post)
            yield post, conn.state()
        elif kind in (EDIT, DELETE):
            change = self.safe_change(kind, payload, key)
            conn.note(change)
            yield change, conn.state()
        elif kind == "malformed":
            reason, excerpt = payload
            yield Skipped(f"Événement illisible : {reason}.", key, excerpt), conn.state()
        elif kind == "error":
            raise SourceError(self._describe(payload)) from payload
        elif kind == "closed":
            raise SourceError(f"L'instance {self.host} a fermé le flux « {key} ».")
        else:
            yield None, conn.state()

    def _await_connections(
        self, keys: list[str], out: queue.Queue[tuple[str, str, Any]]
    ) -> list[tuple[str, str, Any]]:
        """Wait (at most ``timeout``) for each stream's first heartbeat; keep early events."""
        waiting = set(keys)
        early: list[tuple[str, str, Any]] = []
        deadline = time.monotonic() + self.config.timeout
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # Some servers (not Mastodon itself) send no heartbeat on
                # connect. A quiet stream is not an error: go on; a failure
                # would have been reported, and any overlap is dropped by id.
                break
            try:
                event = out.get(timeout=remaining)
            except queue.Empty:
                continue
            kind, key, payload = event
            if kind == "error":
                raise SourceError(self._describe(payload)) from payload
            if kind == "closed":
                raise SourceError(f"L'instance {self.host} a fermé le flux « {key} ».")
            waiting.discard(key)
            if kind != "heartbeat":
                early.append(event)
        return early


def _has_id(status: Any) -> bool:
    return isinstance(status, Mapping) and status.get("id") not in (None, "")


def _time_field(status: Any, name: str) -> datetime | None:
    """A status's time field if readable: Mastodon.py hands a datetime, a raw reply an
    ISO string."""
    value = status.get(name) if isinstance(status, Mapping) else None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return utc(value) if isinstance(value, datetime) else None


def _parse_time(value: Any) -> datetime | None:
    """An aware time written by ``isoformat`` in the checkpoint, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return utc(moment) if moment.tzinfo is not None else None


def _created_at(status: Any) -> datetime | None:
    """When a status (or the reblog itself, not its original) was posted."""
    return _time_field(status, "created_at")


def _edited_at(status: Mapping[str, Any]) -> datetime | None:
    """When the status was last edited (None: never, or unreadable)."""
    return _time_field(status, "edited_at")
