"""Bluesky through Jetstream (atproto's ``JetstreamClient``), filtered by keywords.

Jetstream re-publishes the network's repository commits as JSON, can be
asked for posts only (``collections=app.bsky.feed.post``) and resumes from a
cursor (its per-event ``seq``).  Keyword filtering is ours: neither Jetstream
nor the firehose filters on text.  Why Jetstream rather than the raw
firehose: docs/decisions/sources.md.

atproto's client reconnects on its own and silently; here each of its
connections is run once, and its errors are handed to Beffroi's runner so the
volunteer sees "déconnecté, nouvel essai dans N s" instead of a silent gap.

Authors' deletions and edits (``delete`` and ``update`` operations on a post)
become ``PostChange`` items, but only for posts this source delivered: the
stream carries every deletion of the whole network.  The source remembers the
last ``FOLLOWED`` posts it delivered, as short digests in its checkpoint, so
the set survives a restart and is committed with the items it covers
(docs/decisions/watch-edits-deletions.md).

Jetstream replays only its last hours (36 by default, ``--cursor-lookback``). A
checkpoint older than that is refused (``CursorTooOld``): the source then resumes
from the witnessed time of the last event it saw, which Jetstream clamps to the
oldest event it still holds and announces (``#info OutdatedCursor``); the span in
between is reported as a ``CoverageGap`` instead of being lost in silence
(docs/decisions/sources.md). A seq cursor beyond what the server ever assigned
(``#info FutureCursor``: a reset server, or another one behind the same address)
is resumed from that time too, since its seqs are not ours.

Jetstream carries no profile: the kinds of the authors of matching posts are asked
of an AppView (``bluesky_profiles.ProfileKinds``: batched, cached, rate-bounded,
through the SSRF guard) when the config says so; posts wait at most
``profile_wait`` for them, and never let the checkpoint pass them while they wait.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from atproto import JetstreamClient, models
from atproto_client.client.raw import ClientRaw
from atproto_client.models.utils import get_model_as_dict
from atproto_client.request import Request
from atproto_jetstream.exceptions import (
    JetstreamConsumerTooSlowError,
    JetstreamCursorTooOldError,
    JetstreamDecodingError,
    JetstreamError,
)
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from beffroi.watch.sources.base import (
    DELETE,
    EDIT,
    Checkpoint,
    CoverageGap,
    PostChange,
    Pseudonymiser,
    RawPost,
    Skipped,
    SourceError,
    plausible_time,
    post_id_function,
    scrub_handles,
)
from beffroi.watch.sources.bluesky_profiles import BATCH, DEFAULT_APPVIEW, ProfileKinds
from beffroi.watch.sources.config import Form
from beffroi.watch.sources.netclients import guarded_transport, tls_context
from beffroi.watch.sources.netguard import (
    Authorities,
    NetworkPolicy,
    current_authorities,
    current_policy,
    find_blocked,
)

DEFAULT_ENDPOINT = "wss://jetstream.us-east.bsky.network/xrpc"
POST_COLLECTION = "app.bsky.feed.post"
# How many of the posts it delivered a source follows for deletions and edits.
# A deletion usually comes within hours of the post; at 19 bytes a digest the
# set costs about 38 kB in a checkpoint that is rewritten with every batch.
FOLLOWED = 2000
# websockets' own default for opening a connection.
CONNECT_TIMEOUT = 10.0
# Jetstream reads a cursor from 10^15 up as unix microseconds (2001-09-09), not a seq.
TIME_CURSOR_MIN = 10**15
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Why a gap happens, as the room reads it (French; re-said at the web edge).
REPLAY_WINDOW = "Jetstream ne rejoue que les dernières heures : 36 h par défaut"


def follow_key(uri: str, pseudonymise: Pseudonymiser | None = None) -> str:
    """The digest of a post's AT-URI kept in the checkpoint (64 bits: a false
    match among 2,000 is about one in 10^16 per deletion, and the sink checks
    the database anyway, counting it as a deletion of a post never received).

    The material is the id as stored (``post_id``: the DID replaced by its keyed
    pseudonym unless the activation keeps handles): whoever reads a checkpoint cannot
    test public URIs against it to learn which authors the room followed, and
    ``scrub-handles`` can rebuild the set from the source's stored posts."""
    material = post_id_function(pseudonymise)(uri)
    return hashlib.blake2b(material.encode(), digest_size=8).hexdigest()


def _older_keys(uri: str, pseudonymise: Pseudonymiser | None) -> tuple[str, ...]:
    """The digests earlier checkpoints hold for ``uri``: of the whole URI through the
    handle pseudonymiser, and, before that, of the raw URI. Still recognised, so a
    deletion of a post followed before is delivered until ``scrub-handles`` rewrites
    the set."""
    older = [hashlib.blake2b(uri.encode(), digest_size=8).hexdigest()]
    if pseudonymise is not None:
        material = pseudonymise(uri)
        older.append(hashlib.blake2b(material.encode(), digest_size=8).hexdigest())
    return tuple(older)


class Followed:
    """The bounded, oldest-first set of posts a source delivered."""

    def __init__(
        self,
        keys: Iterable[str] = (),
        limit: int = FOLLOWED,
        pseudonymise: Pseudonymiser | None = None,
    ) -> None:
        self.limit = limit
        self.pseudonymise = pseudonymise
        self._keys: dict[str, None] = {}
        for key in keys:
            self._add_key(key)

    @classmethod
    def load(
        cls, state: Checkpoint, limit: int = FOLLOWED, pseudonymise: Pseudonymiser | None = None
    ) -> Followed:
        # A checkpoint from before deletions were followed has no list: start empty.
        keys = state.get("followed")
        if not isinstance(keys, list):
            keys = []
        return cls((k for k in keys if isinstance(k, str)), limit, pseudonymise)

    def _key(self, uri: str) -> str:
        return follow_key(uri, self.pseudonymise)

    def _held(self, uri: str) -> str | None:
        for key in (self._key(uri), *_older_keys(uri, self.pseudonymise)):
            if key in self._keys:
                return key
        return None

    def __contains__(self, uri: object) -> bool:
        return isinstance(uri, str) and self._held(uri) is not None

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, uri: str) -> None:
        self._add_key(self._key(uri))

    def _add_key(self, key: str) -> None:
        self._keys.pop(key, None)  # seen again: it becomes the newest
        self._keys[key] = None
        while len(self._keys) > self.limit:
            del self._keys[next(iter(self._keys))]

    def discard(self, uri: str) -> bool:
        """Forget a post; True if it was followed."""
        key = self._held(uri)
        if key is not None:
            del self._keys[key]
            return True
        return False

    def dump(self) -> list[str]:
        return list(self._keys)


def fold(text: str) -> str:
    """Case- and accent-insensitive form, so « Inondation » matches « inondation »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class KeywordMatcher:
    """Whole-word (or whole-phrase) match of keywords and #hashtags in a post."""

    def __init__(self, keywords: tuple[str, ...]) -> None:
        self.keywords = keywords
        patterns = []
        for keyword in keywords:
            folded = fold(keyword.strip())
            if folded.startswith("#"):
                patterns.append(re.escape(folded) + r"(?!\w)")
            else:
                patterns.append(r"(?<!\w)" + re.escape(folded) + r"(?!\w)")
        self._regex = re.compile("|".join(f"({p})" for p in patterns)) if patterns else None
        self._tags = {fold(k.strip()).lstrip("#"): k for k in keywords if " " not in k.strip()}

    def matches(self, text: str, tags: list[str]) -> list[str]:
        found: dict[str, None] = {}
        if self._regex is not None:
            for match in self._regex.finditer(fold(text)):
                found[self.keywords[match.lastindex - 1]] = None  # type: ignore[operator]
        for tag in tags:
            keyword = self._tags.get(fold(tag))
            if keyword is not None:
                found[keyword] = None
        return list(found)


@dataclass(frozen=True)
class BlueskyConfig:
    keywords: tuple[str, ...]
    endpoint: str = DEFAULT_ENDPOINT
    languages: tuple[str, ...] = ()  # empty: every language
    compress: bool = True
    recv_timeout: float = 60.0
    # Whether the authors' profiles are asked for (their kinds), and where. On by
    # default in the form; built in code, a source asks nowhere unless told to.
    profiles: bool = False
    appview: str = DEFAULT_APPVIEW

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> BlueskyConfig:
        form = Form(data)
        keywords = form.words("keywords")
        if not keywords and "keywords" not in form.errors:
            form.error("keywords", "Indiquer au moins un mot-clé ou un mot-dièse.")
        endpoint = DEFAULT_ENDPOINT
        if form.raw("endpoint") is not None:
            endpoint = form.url(
                "endpoint",
                message="Adresse Jetstream invalide (wss://…/xrpc attendu).",
                schemes=("ws", "wss"),
            ).rstrip("/")
        languages = tuple(lang.lower() for lang in form.words("languages"))
        bad = [lang for lang in languages if not re.fullmatch(r"[a-z]{2,3}", lang)]
        if bad:
            form.error("languages", f"Code de langue invalide : « {bad[0]} » (fr, en… attendus).")
        compress = form.flag("compress", default=True)
        timeout = form.number("recv_timeout", default=60, minimum=5, maximum=600, unit="s")
        appview = DEFAULT_APPVIEW
        if form.raw("appview") is not None:
            appview = form.url(
                "appview", message="Adresse AppView invalide (https://… attendu)."
            ).rstrip("/")
            # The authors' profiles decide the kinds their posts are triaged by: not over
            # a plain connection anyone on the way could rewrite.
            if (
                "appview" not in form.errors
                and urlsplit(appview).scheme.lower() == "http"
                and not current_policy().plain_http_allowed(appview)
            ):
                form.error(
                    "appview",
                    "Adresse AppView en http:// refusée : https:// attendu (http:// "
                    "seulement vers cette machine ou un réseau de BEFFROI_SOURCES_ALLOW_NETWORKS).",
                )
        profiles = form.flag("profiles", default=True)
        form.done()
        return cls(keywords, endpoint, languages, compress, timeout, profiles, appview)


class _OneShotJetstream(JetstreamClient):  # type: ignore[misc]
    """atproto's client, but each connection ends on error instead of retrying silently."""

    def __init__(
        self,
        out: queue.Queue[tuple[str, Any]],
        *,
        policy: NetworkPolicy,
        authorities: Authorities,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._out = out
        self._policy = policy
        # The authorities the other source clients trust, not the machine's store; one
        # context for the dictionary's fetch and the WebSocket.
        self._tls = tls_context(authorities)
        # Before each connection atproto fetches the compression dictionary over
        # HTTP from the same host: through a guarded client too.
        self._xrpc_client = ClientRaw(
            base_url=self._http_origin,
            request=Request(transport=guarded_transport(policy, verify=self._tls), trust_env=False),
        )

    def _get_client(self) -> ClientConnection:
        # The socket is opened by the guard, to the address it checked; websockets
        # does the TLS handshake (against the URI's host name) and the rest on it.
        # A refused address raises BlockedAddress, a ConnectionError, before any byte.
        uri = parse_uri(self._websocket_uri)
        sock = self._policy.create_connection(uri.host, uri.port, timeout=CONNECT_TIMEOUT)
        options = self._get_connect_kwargs()
        if uri.secure:
            options["ssl"] = self._tls
        try:
            return connect(self._websocket_uri, sock=sock, **options)
        except BaseException:
            sock.close()
            raise

    def _handle_frame_decoding_error(self, exception: Exception) -> None:
        if isinstance(exception, JetstreamDecodingError):
            self._out.put(("malformed", exception))
            return
        raise exception

    def _handle_websocket_error_or_stop(self, exception: Exception) -> bool:
        try:
            clean = super()._handle_websocket_error_or_stop(exception)
        except Exception as fatal:
            self._out.put(("error", fatal))
            return True
        self._out.put(("closed" if clean else "error", exception))
        return True


class BlueskySource:
    kind: ClassVar[str] = "bluesky"

    def __init__(
        self,
        source_id: str,
        config: BlueskyConfig,
        *,
        pseudonymise: Pseudonymiser,
        idle_tick: float = 1.0,
        policy: NetworkPolicy | None = None,
        profiles: ProfileKinds | None = None,
        profile_wait: float = 0.5,
    ) -> None:
        self.source_id = source_id
        self.config = config
        self.pseudonymise = pseudonymise
        self.idle_tick = idle_tick
        self.policy = policy if policy is not None else current_policy()
        self.matcher = KeywordMatcher(config.keywords)
        self.host = urlsplit(config.endpoint).hostname or config.endpoint
        if profiles is None and config.profiles:
            profiles = ProfileKinds(config.appview, self.policy)
        self.profiles = profiles
        # How long matched posts may wait for their authors' profiles, asked together.
        self.profile_wait = profile_wait
        self._authorities = Authorities()  # read again at each connection

    def to_post(self, commit: Any, *, update: bool = False) -> RawPost | Skipped | None:
        """A commit → a post, a skip (invalid record) or None (not a matching new post).

        ``update``: an ``update`` operation counts as a new post too (a post
        we never delivered that an author changed to match our keywords)."""
        operations = ("create", "update") if update else ("create",)
        if commit.collection != POST_COLLECTION or commit.operation not in operations:
            return None
        uri = _uri(commit)
        record = commit.record
        if not isinstance(record, models.AppBskyFeedPost.Record):
            return Skipped("Enregistrement de post invalide (schéma app.bsky.feed.post).", uri)
        matched = self.matcher.matches(record.text, _tags(record))
        if not matched:
            return None
        language = (record.langs or [None])[0]
        if self.config.languages and (language or "").split("-")[0] not in self.config.languages:
            return None
        return self._convert(commit, record, matched)

    def to_item(self, commit: Any, followed: Followed) -> RawPost | PostChange | Skipped | None:
        """A commit → what the runner gets, following the posts this source delivered.

        ``followed`` is updated: a delivered post is added, a deleted one removed."""
        if commit.collection != POST_COLLECTION:
            return None
        uri = _uri(commit)
        if commit.operation == "delete":
            if not followed.discard(uri):
                return None  # someone else's post: the network's deletions are not ours
            return PostChange(DELETE, self.kind, self.source_id, uri, at=_parse_time(commit.time))
        if commit.operation == "update" and uri in followed:
            return self._edit(commit, uri)
        # A new post, or an update of one we do not follow that now matches.
        item = self.to_post(commit, update=True)
        if isinstance(item, RawPost):
            followed.add(uri)
            if commit.operation == "update":
                # Perhaps a post delivered before the followed set forgot it: as an
                # edit, the sink records it on the post it holds, or receives it as a
                # new post if it never had it (as on Mastodon).
                return PostChange(
                    EDIT,
                    self.kind,
                    self.source_id,
                    uri,
                    at=_parse_time(commit.time),
                    post=item,
                    version=commit.cid or "",
                )
        return item

    def _edit(self, commit: Any, uri: str) -> PostChange | Skipped:
        # The app cannot edit a post, but the protocol lets a client rewrite
        # the record. Keywords and languages are not checked again: it is an
        # edit of a post we hold, whatever it says now.
        record = commit.record
        if not isinstance(record, models.AppBskyFeedPost.Record):
            # Not a post any more: no text to show. The card keeps the
            # version it has; the skip says why.
            return Skipped(
                "Modification d'un post suivi ignorée : le nouvel enregistrement "
                "n'est pas un post lisible (schéma app.bsky.feed.post).",
                uri,
            )
        post = self._convert(commit, record, self.matcher.matches(record.text, _tags(record)))
        if isinstance(post, Skipped):
            return post
        # The record's CID names this exact version: two updates to the same
        # text are still two versions, and a replayed one is the same.
        at = _parse_time(commit.time)
        return PostChange(
            EDIT, self.kind, self.source_id, uri, at=at, post=post, version=commit.cid or ""
        )

    def _convert(self, commit: Any, record: Any, matched: list[str]) -> RawPost | Skipped:
        uri = _uri(commit)
        language = (record.langs or [None])[0]
        witnessed = _parse_time(commit.time)
        created = _parse_time(record.created_at)
        created = plausible_time(created, witnessed)
        if created is None:
            return Skipped("Post sans date lisible.", uri)
        raw = scrub_handles(get_model_as_dict(record))
        raw.update(
            {
                "uri": uri,
                "cid": commit.cid,
                "seq": commit.seq,
                "witnessed_at": commit.time,
                "matched_keywords": matched,
            }
        )
        return RawPost(
            source_kind=self.kind,
            source_id=self.source_id,
            external_id=uri,
            text=record.text,
            created_at=created,
            url=f"https://bsky.app/profile/{commit.did}/post/{commit.rkey}",
            language=language.split("-")[0].lower() if language else None,
            author_key=self.pseudonymise(commit.did),
            media_urls=_image_urls(commit.did, record.embed),
            reply_to=record.reply.parent.uri if record.reply else None,
            raw=raw,
        )

    def stream(
        self, checkpoint: Checkpoint
    ) -> Iterator[tuple[RawPost | PostChange | CoverageGap | Skipped | None, Checkpoint]]:
        items = self._events(checkpoint)
        if self.profiles is None:
            return items
        return self._with_kinds(items, self.profiles, dict(checkpoint))

    def _with_kinds(
        self,
        items: Generator[tuple[Item | None, Checkpoint]],
        profiles: ProfileKinds,
        start: Checkpoint,
    ) -> Iterator[tuple[Item | None, Checkpoint]]:
        """``items`` with each post's author's kinds (docs/decisions/sources.md, "Bluesky
        authors' kinds"). Posts whose author is not cached wait, in order with what
        follows them, until 25 such authors are waiting or ``profile_wait`` has passed;
        then one request asks for all of them. While posts wait, the runner gets the
        checkpoint from before them: a restart receives them again, never skips them."""
        pending: list[tuple[Item | None, Checkpoint]] = []
        handed = start  # the checkpoint of the last item handed over
        since = 0.0
        with contextlib.closing(items):  # closing this generator closes the connection
            for item, state in items:
                did = _author_did(item)
                if not pending:
                    known = profiles.known(did) if did is not None else None
                    if did is None or known is not None:
                        yield (_add_kinds(item, known) if known is not None else item), state
                        handed = state
                        continue
                    since = time.monotonic()
                if item is not None or did is not None:
                    pending.append((item, state))
                else:
                    # The cursor moved past the waiting posts: not to be committed yet.
                    yield None, handed
                waiting = {d for it, _ in pending if (d := _author_did(it)) is not None}
                if len(waiting) >= BATCH or time.monotonic() - since >= self.profile_wait:
                    kinds = profiles.lookup(sorted(waiting))
                    for held, held_state in pending:
                        author = _author_did(held)
                        found = kinds.get(author) if author is not None else None
                        yield (_add_kinds(held, found) if found is not None else held), held_state
                    handed = pending[-1][1]
                    pending.clear()

    def _events(self, checkpoint: Checkpoint) -> Generator[tuple[Item | None, Checkpoint]]:
        cursor = checkpoint.get("cursor")
        followed = Followed.load(checkpoint, pseudonymise=self.pseudonymise)
        out: queue.Queue[tuple[str, Any]] = queue.Queue()
        # Read at each connection, before any: a wrong BEFFROI_SOURCES_CA_FILE is this
        # connection's error (SettingError), retried; the AppView's client, opened
        # during it, trusts the same.
        self._authorities = current_authorities()
        if self.profiles is not None:
            self.profiles.authorities = self._authorities
        # Inclusive: the event at the cursor comes again; the runner's window of
        # seen ids drops it.
        client = self._connect(out, int(cursor) if cursor is not None else None)
        state: Checkpoint = {"cursor": cursor} if cursor is not None else {}
        if isinstance(checkpoint.get("time"), str):
            state["time"] = checkpoint["time"]
        state["followed"] = followed.dump()
        resumed_by_time = False
        gap_notice: str | None = None  # Jetstream said it resumed later than asked
        try:
            while True:
                try:
                    kind, payload = out.get_nowait()
                except queue.Empty:
                    # Drained: the tick tells the runner to hand over its batch now.
                    yield None, dict(state)
                    try:
                        kind, payload = out.get(timeout=self.idle_tick)
                    except queue.Empty:
                        continue
                if kind == "message":
                    seq = getattr(payload, "seq", None)
                    if seq is not None and cursor is not None and seq <= int(cursor):
                        # The resume is inclusive: this event was handled before the restart.
                        continue
                    if isinstance(payload, models.NetworkBskyJetstreamSubscribeEvents.Info):
                        if payload.name == "FutureCursor" and not resumed_by_time:
                            # Our seq belongs to another archive (a reset server, another
                            # instance behind the same name): this one started at its live
                            # tip. Resume from the time of the last event seen, which it
                            # translates to its own seqs, or clamps with OutdatedCursor.
                            client.stop()
                            out = queue.Queue()
                            client = self._connect(out, _time_cursor(state.get("time")))
                            resumed_by_time = True
                            # Its seqs are below ours: the inclusive-resume check would
                            # drop every event; the runner's window drops the overlap.
                            cursor = None
                            yield None, dict(state)
                            continue
                        if payload.name == "OutdatedCursor":
                            # The span ends where the first event after this notice begins.
                            gap_notice = payload.message or payload.name
                            yield None, dict(state)
                            continue
                        notice = " ".join(filter(None, (payload.name, payload.message)))
                        yield Skipped(f"Avis Jetstream : {notice}", "curseur"), dict(state)
                        continue
                    if seq is not None:
                        witnessed = _witnessed(payload)
                        if gap_notice is not None and witnessed is not None:
                            gap = self._gap(state, witnessed, gap_notice)
                            # Committed with the gap: a restart before this event's own
                            # commit resumes by time from it (inclusive), so a second gap,
                            # if the window has moved on, starts where this one ended.
                            state["time"] = witnessed.isoformat()
                            yield gap, dict(state)
                            gap_notice = None
                        state["cursor"] = seq
                        last = _parse_time(state.get("time"))
                        if witnessed is not None and (last is None or witnessed > last):
                            state["time"] = witnessed.isoformat()
                    if not isinstance(payload, models.NetworkBskyJetstreamSubscribeEvents.Commit):
                        yield None, dict(state)
                        continue
                    try:
                        item = self.to_item(payload, followed)
                    except (AttributeError, TypeError, ValueError, OverflowError) as exc:
                        item = Skipped(f"Post illisible : {exc}.", f"seq {seq}")
                    if item is not None and not isinstance(item, Skipped):
                        # A new list, never the one earlier checkpoints hold.
                        state["followed"] = followed.dump()
                    yield item, dict(state)
                elif kind == "malformed":
                    yield Skipped(f"Trame Jetstream illisible : {payload}.", "trame"), dict(state)
                elif isinstance(payload, JetstreamCursorTooOldError) and not resumed_by_time:
                    # Away longer than Jetstream replays: our seq is below what it holds.
                    # A time cursor is clamped instead of refused, with a notice that
                    # tells us a span was lost; without a time, from the oldest it holds.
                    client.stop()
                    out = queue.Queue()
                    client = self._connect(out, _time_cursor(state.get("time")))
                    resumed_by_time = True
                else:
                    raise SourceError(self._describe(kind, payload))
        finally:
            client.stop()
            if self.profiles is not None:
                self.profiles.close()

    def _connect(self, out: queue.Queue[tuple[str, Any]], cursor: int | None) -> Any:
        """One Jetstream connection, read in its own thread into ``out``."""
        params: dict[str, Any] = {"collections": [POST_COLLECTION], "kinds": ["commit"]}
        if cursor is not None:
            params["cursor"] = cursor
        client = _OneShotJetstream(
            out,
            policy=self.policy,
            authorities=self._authorities,
            params=params,
            base_uri=self.config.endpoint,
            recv_timeout=self.config.recv_timeout,
            compress=self.config.compress,
        )
        thread = threading.Thread(
            target=client.start,
            args=(lambda message: out.put(("message", message)),),
            name=f"jetstream-{self.host}",
            daemon=True,
        )
        thread.start()
        return client

    def _gap(self, state: Checkpoint, end: datetime, notice: str) -> CoverageGap:
        start = _parse_time(state.get("time"))
        return CoverageGap(
            self.kind,
            self.source_id,
            end=end,
            start=start if start is not None and start <= end else None,
            reason=REPLAY_WINDOW,
            detail=notice[:500],
        )

    def _describe(self, kind: str, exc: BaseException) -> str:
        blocked = find_blocked(exc)
        if blocked is not None:
            return f"Jetstream : {blocked.message}"
        if kind == "closed":
            return f"Jetstream ({self.host}) a fermé la connexion."
        if isinstance(exc, JetstreamConsumerTooSlowError):
            return f"Jetstream ({self.host}) a coupé : lecture trop lente."
        if isinstance(exc, JetstreamCursorTooOldError):
            return f"Jetstream ({self.host}) : point de reprise trop ancien."
        if isinstance(exc, OSError):
            return f"Jetstream injoignable ({self.host}) : {exc}"
        if isinstance(exc, JetstreamError):
            return f"Jetstream ({self.host}) a refusé la connexion : {exc}"
        return f"Jetstream ({self.host}) : {type(exc).__name__} {exc}"


Item = RawPost | PostChange | CoverageGap | Skipped


def _author_did(item: Item | None) -> str | None:
    """The DID of a new post's or an edit's author (from its AT-URI), else None."""
    post = item.post if isinstance(item, PostChange) else item
    if not isinstance(post, RawPost):
        return None
    parts = post.external_id.split("/")
    return parts[2] if len(parts) > 2 and parts[2].startswith("did:") else None


def _add_kinds(item: Item | None, kinds: tuple[str, ...]) -> Item | None:
    if isinstance(item, RawPost):
        return dataclasses.replace(item, author_kinds=kinds)
    if isinstance(item, PostChange) and item.post is not None:
        return dataclasses.replace(item, post=dataclasses.replace(item.post, author_kinds=kinds))
    return item


def _uri(commit: Any) -> str:
    return f"at://{commit.did}/{POST_COLLECTION}/{commit.rkey}"


def _tags(record: Any) -> list[str]:
    tags = [
        feature.tag
        for facet in record.facets or ()
        for feature in facet.features
        if isinstance(feature, models.AppBskyRichtextFacet.Tag)
    ]
    return tags + list(record.tags or ())


def _witnessed(event: Any) -> datetime | None:
    """When Jetstream saw the event: ``witnessedAt``, what a time cursor resolves
    against, else the display time of servers that predate it."""
    return _parse_time(getattr(event, "witnessed_at", None) or getattr(event, "time", None))


def _time_cursor(value: Any) -> int:
    """A time cursor at ``value`` (ISO 8601), in unix microseconds; the smallest one,
    meaning "from the oldest event you hold", when the checkpoint has no time."""
    moment = _parse_time(value) if isinstance(value, str) else None
    if moment is None:
        return TIME_CURSOR_MIN
    return max(TIME_CURSOR_MIN, (moment - _EPOCH) // timedelta(microseconds=1))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # Year 1 with a positive offset, or 9999 with a negative one, leaves the range.
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _image_urls(did: str, embed: Any) -> tuple[str, ...]:
    if embed is None:
        return ()
    media = getattr(embed, "media", None)  # a quote post with images
    images = getattr(embed, "images", None) or getattr(media, "images", None) or ()
    urls = []
    for image in images:
        ref = getattr(getattr(image, "image", None), "ref", None)
        link = getattr(ref, "link", None) or (ref.get("$link") if isinstance(ref, dict) else None)
        if link:
            urls.append(f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{link}@jpeg")
    return tuple(urls)
