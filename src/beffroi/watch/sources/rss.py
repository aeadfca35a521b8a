"""RSS and Atom feeds (news sites, préfectures, Vigicrues…), polled.

httpx fetches (so connect/read timeouts are ours, and the conditional GET
with ETag / Last-Modified saves the publisher's bandwidth); feedparser parses
whatever RSS/Atom dialect comes back.

A publisher that corrects an entry republishes it under the same id with a
later ``updated`` date: if its title or text changed, that is an edit
(a ``PostChange``). An entry that leaves the feed is **not** a deletion:
feeds rotate old entries out (docs/decisions/watch-edits-deletions.md).
"""

from __future__ import annotations

import calendar
import hashlib
import heapq
import html
import io
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import islice
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import feedparser
import httpx

from beffroi.watch.classify.accounts import author_kinds, domain_kinds, merge_kinds
from beffroi.watch.sources.base import (
    EDIT,
    Batch,
    Checkpoint,
    PostChange,
    Pseudonymiser,
    RawPost,
    Skipped,
    SourceError,
    plausible_time,
    post_id_function,
    scrub_handles,
    utc,
)
from beffroi.watch.sources.bounded import (
    ACCEPT_ENCODING,
    BodyTooLarge,
    BodyTooSlow,
    Watchdog,
    read_capped,
)
from beffroi.watch.sources.config import Form
from beffroi.watch.sources.netclients import guarded_client
from beffroi.watch.sources.netguard import (
    Authorities,
    NetworkFailure,
    NetworkPolicy,
    current_authorities,
    current_policy,
)

USER_AGENT = "Beffroi/0.1 (veille de crise; +https://beffroi.invalid)"
# How many entry ids to remember: a feed shows its last 10–100 entries, and
# an entry that drops out and comes back must not be announced twice.
SEEN_LIMIT = 1000
# How many entries' versions (updated date, text digest) to remember for
# edits: the last seen, which covers every entry of a usual feed (10–100).
# An entry whose version was forgotten gets it back without an edit.
VERSIONS_LIMIT = 300
# The most a feed's body may weigh once decoded. The heaviest real feeds (a whole
# site's full-text archive) are a few MB; 20 MB leaves room for those, while a
# worker that polls dozens of feeds never holds more than this per poll.
MAX_FEED_MB = 20
MAX_FEED_BYTES = MAX_FEED_MB * 1_000_000
# The most entries of one answer that are parsed: the newest, by their dates (see
# ``newest_entries``). An entry beyond what the source remembers (SEEN_LIMIT) would be
# announced again at every poll anyway. feedparser is pure Python: 340,000 small entries
# (19.5 MB) took 140 s and 786 MB, all inside the worker, GIL held.
MAX_ENTRIES = SEEN_LIMIT
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)(?=[\s/>])")
_ENTRY_ENDS = (b"</item>", b"</entry>")
# An entry's date elements, found in the bytes as feedparser would read them: RSS
# pubDate, Atom published/updated, Dublin Core dc:date and dcterms:*, Atom 0.3
# issued/modified/created. Bounded repeats: a "<pubDate" without its ">" costs a few
# hundred bytes, never a scan to the end of the entry.
_DATE_ELEMENT = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(pubdate|published|issued|updated|modified|date|created)"
    rb"(?:\s[^<>]{0,512})?>\s*(?:<!\[CDATA\[)?([^<\]]{1,100})",
    re.I,
)
# feedparser's names for them: the entry's date is its publication, else its last
# update, else its creation (``_entry_time``); a lower rank wins.
_DATE_RANK = {
    b"pubdate": 0,
    b"published": 0,
    b"issued": 0,
    b"updated": 1,
    b"modified": 1,
    b"date": 1,
    b"created": 2,
}

# A tag holds no "<": with [^>]* every "<" of a text full of them (an RSS summary, a
# Mastodon bio or status) was read to the end, quadratic (50 KB: about 2 s of CPU).
_TAG = re.compile(r"<[^<>]*>")
_BLOCK = re.compile(r"<\s*/?\s*(?:p|br|div|li|ul|ol|h[1-6]|tr|blockquote|pre)\b[^<>]*>", re.I)
_SPACE = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True)
class RssConfig:
    url: str
    poll_interval: float = 120.0
    timeout: float = 20.0

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> RssConfig:
        form = Form(data)
        url = form.url("url", message="URL de flux invalide (http:// ou https:// attendu).")
        interval = form.number("poll_interval", default=120, minimum=10, maximum=86400, unit="s")
        timeout = form.number("timeout", default=20, minimum=1, maximum=120, unit="s")
        form.done()
        return cls(url=url, poll_interval=interval, timeout=timeout)


def html_to_text(value: str) -> str:
    # Block elements end a line; inline ones (links, hashtag spans) vanish
    # without adding space, so "#<span>crue</span>" stays "#crue".
    text = _TAG.sub("", _BLOCK.sub("\n", value))
    text = html.unescape(text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def retry_after(value: str | None, now: datetime) -> float | None:
    """HTTP ``Retry-After``: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get bypasses feedparser's deprecated updated→published key aliasing.
        parsed = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if parsed:
            # feedparser normalises every date to a UTC struct_time.
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def _entry_updated(entry: Mapping[str, Any]) -> datetime | None:
    # Only the entry's own "updated" (Atom <updated>, RSS atom:updated or
    # dc:modified), never feedparser's fallback to the publication date.
    parsed = dict.get(entry, "updated_parsed") if isinstance(entry, dict) else None
    if parsed is None and not isinstance(entry, dict):
        parsed = entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None  # year 0 or beyond 9999: no usable date, so no edit either


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _load_versions(checkpoint: Checkpoint) -> dict[str, list[str]]:
    # A checkpoint from before edits were followed has none: every entry
    # already seen then gets its version on this poll, without an edit.
    raw = checkpoint.get("versions")
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): [str(v[0]), str(v[1])]
        for k, v in raw.items()
        if isinstance(v, list) and len(v) == 2
    }


def _entry_id(entry: Mapping[str, Any]) -> str:
    for key in ("id", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    # No id and no link: the content itself is the only stable identity.
    digest = hashlib.sha256(
        f"{entry.get('title', '')}\x00{entry.get('summary', '')}".encode()
    ).hexdigest()
    return f"sha256:{digest[:32]}"


class _Order:
    """Whether a feed lists its entries oldest first: most of its neighbouring dated
    entries go up in time. Undated entries say nothing and are passed over."""

    def __init__(self) -> None:
        self.previous: datetime | None = None
        self.rising = 0
        self.falling = 0

    def see(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.previous is not None:
            self.rising += when > self.previous
            self.falling += when < self.previous
        self.previous = when

    @property
    def ascending(self) -> bool:
        return self.rising > self.falling

    def rank(self, index: int) -> int:
        """Among entries of one date, the later in the feed's own order ranks newer."""
        return index if self.ascending else -index


def _date_in(content: bytes, start: int, end: int) -> datetime | None:
    """The date of the entry held in ``content[start:end]``, read as feedparser would
    (RFC 822 or ISO 8601; a rarer form counts as no date)."""
    best: tuple[int, bytes] | None = None
    for match in _DATE_ELEMENT.finditer(content, start, end):
        rank = _DATE_RANK[match.group(1).lower()]
        if best is None or rank < best[0]:
            best = (rank, match.group(2))
            if rank == 0:
                break
    if best is None:
        return None
    text = best[1].decode("utf-8", "replace").strip()
    try:
        if text[:4].isdigit():
            return utc(datetime.fromisoformat(text))
        return utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def newest_entries(
    content: bytes, limit: int = MAX_ENTRIES, now: datetime | None = None
) -> tuple[bytes, int]:
    """``content`` cut to its ``limit`` newest entries (``<item>`` or ``<entry>``), kept
    in document order with the document's start and end (``</channel></rss>``,
    ``</feed>``), and how many it held; the content itself when it holds no more than
    ``limit``. Found in the bytes, before any parsing, so a huge feed costs one scan
    and one date per entry rather than its whole parse.

    An entry counts by its own date when ``plausible_time`` accepts it. One with no
    date, or an impossible one, stands where the feed put it: it takes the date of the
    last dated entry before it in the document, ``now`` when none came before. Counting
    every undated entry as ``now`` instead would rank an undated archive below a few
    dated entries above all of them, and drop each new dated entry for ever. Entries
    of one date go by the feed's order, oldest first when most of its dated neighbours
    rise in time, else newest first (docs/decisions/sources-bounds.md). Memory stays
    ``limit`` entries: one heap per possible order, since the order is known only at
    the end."""
    first = list(islice(_ENTRY_START.finditer(content), limit + 1))
    if len(first) <= limit:
        return content, len(first)
    now = now or datetime.now(UTC)
    end = max(content.rfind(closing) + len(closing) for closing in _ENTRY_ENDS)
    order = _Order()
    newest_first: list[tuple[datetime, int, int, int]] = []
    oldest_first: list[tuple[datetime, int, int, int]] = []
    last_dated: datetime | None = None

    def keep(index: int, start: int, stop: int) -> None:
        nonlocal last_dated
        date = _date_in(content, start, stop)
        if date is not None and plausible_time(date, now) != date:
            date = None  # in the future or before 1990: says nothing of its age
        order.see(date)
        if date is not None:
            last_dated = date
        when = last_dated or now
        for heap, rank in ((newest_first, -index), (oldest_first, index)):
            item = (when, rank, start, stop)
            if len(heap) < limit:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)

    total = 0
    previous = -1
    for total, match in enumerate(_ENTRY_START.finditer(content), 1):
        if previous >= 0:
            keep(total - 2, previous, match.start())
        previous = match.start()
    last_end = end if end > previous else len(content)
    keep(total - 1, previous, last_end)
    kept = sorted((oldest_first if order.ascending else newest_first), key=lambda k: k[2])
    head = content[: first[0].start()]
    tail = content[last_end:]
    return head + b"".join(content[k[2] : k[3]] for k in kept) + tail, total


def _certificate_refusal(exc: BaseException) -> str | None:
    """OpenSSL's reason when ``exc`` (httpx's, wrapping httpcore's) comes from a server
    certificate that was not trusted, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return str(current.verify_message or current.reason or "certificate verify failed")
        current = current.__cause__ or current.__context__
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: httpx's ConnectError wraps httpcore's, which wraps
    the socket's own error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _connect_failure(exc: BaseException) -> str:
    """Why a connection could not be made, in words that say what to check: a name
    that does not resolve is a typo or a dead domain, a refusal a server that is down,
    anything else the network between."""
    chain = _causes(exc)
    if any(isinstance(c, socket.gaierror) for c in chain):
        return "adresse introuvable (nom de domaine inconnu)"
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return "connexion refusée"
    return "connexion impossible (serveur ou réseau injoignable)"


class RssSource:
    kind: ClassVar[str] = "rss"

    def __init__(
        self,
        source_id: str,
        config: RssConfig,
        *,
        pseudonymise: Pseudonymiser,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] | None = None,
        policy: NetworkPolicy | None = None,
    ) -> None:
        self.source_id = source_id
        self.config = config
        self._host = urlsplit(config.url).hostname or ""
        self.pseudonymise = pseudonymise
        self._post_id = post_id_function(pseudonymise)
        self.policy = policy if policy is not None else current_policy()
        self._given = client
        self._client: httpx.Client | None = None
        self._authorities: Authorities | None = None
        self.clock = clock or (lambda: datetime.now(UTC))

    @property
    def client(self) -> httpx.Client:
        """The HTTP client of this poll. The authorities it trusts are read at each poll
        (``BEFFROI_SOURCES_CA_FILE``): a wrong file is this poll's error, retried, and a
        renewed one gets a new client. Every connection (redirects included) is checked
        by the guard where it is made."""
        if self._given is not None:
            return self._given
        authorities = current_authorities()
        if self._client is None or authorities != self._authorities:
            if self._client is not None:
                self._client.close()
            self._client = guarded_client(
                self.policy,
                authorities,
                timeout=httpx.Timeout(self.config.timeout),
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
            )
            self._authorities = authorities
        return self._client

    @property
    def poll_interval(self) -> float:
        return self.config.poll_interval

    def _fetch(self, checkpoint: Checkpoint) -> tuple[httpx.Response, bytes] | None:
        """The feed's answer and its decoded body, or None when it has not changed.

        Read within ``MAX_FEED_BYTES`` decoded bytes and ``config.timeout`` seconds in
        all (docs/decisions/sources.md, "A feed's size and time"): a gzip bomb or a
        server that trickles is this poll's error, retried with backoff as any other."""
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9",
            # Only what read_capped inflates within its bound (httpx would offer br, zstd).
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if checkpoint.get("etag"):
            headers["If-None-Match"] = checkpoint["etag"]
        if checkpoint.get("modified"):
            headers["If-Modified-Since"] = checkpoint["modified"]
        client = self.client  # outside the try: a wrong authorities file is no network error
        seconds = self.config.timeout
        deadline = time.monotonic() + seconds
        try:
            with Watchdog(seconds) as watchdog:
                try:
                    with client.stream(
                        "GET",
                        self.config.url,
                        headers=headers,
                        extensions={"trace": watchdog.trace},
                    ) as response:
                        if response.status_code == 304:
                            return None
                        if response.status_code >= 400:
                            # A feed that is gone (404/410) may come back: keep trying,
                            # with backoff.
                            raise SourceError(
                                f"Le serveur du flux répond {response.status_code} "
                                f"({response.reason_phrase}).",
                                retry_after=retry_after(
                                    response.headers.get("retry-after"), self.clock()
                                ),
                            )
                        body = read_capped(
                            response, limit=MAX_FEED_BYTES, deadline=deadline, seconds=seconds
                        )
                except httpx.HTTPError as exc:
                    if watchdog.fired:  # the deadline cut the connection under the read
                        raise BodyTooSlow(seconds) from exc
                    raise
                # A body without a length ends when the connection does, and the
                # watchdog's cut looks like that end: what came is not the whole feed.
                if watchdog.fired:
                    raise BodyTooSlow(seconds)
        except BodyTooLarge as exc:
            raise SourceError(f"Flux trop volumineux (plus de {MAX_FEED_MB} Mo).") from exc
        except BodyTooSlow as exc:
            raise SourceError(
                f"Flux injoignable ({self.config.url}) : flux non reçu en entier en {seconds:g} s."
            ) from exc
        except NetworkFailure as exc:  # an internal address, or the proxy's failure
            raise SourceError(exc.message) from exc
        except httpx.ConnectError as exc:
            refused = _certificate_refusal(exc)
            if refused is not None:
                # Not "connection refused": the server answered, with a certificate no
                # authority we trust signed (a proxy re-signing TLS, most often).
                raise SourceError(
                    f"Flux injoignable ({self.config.url}) : certificat du serveur non "
                    f"reconnu ({refused}) ; derrière un proxy qui déchiffre TLS, voir "
                    "BEFFROI_SOURCES_CA_FILE."
                ) from exc
            raise SourceError(
                f"Flux injoignable ({self.config.url}) : {_connect_failure(exc)}."
            ) from exc
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"Flux injoignable ({self.config.url}) : pas de réponse en {seconds:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"Flux injoignable ({self.config.url}) : {exc}.") from exc
        return response, body

    def poll(self, checkpoint: Checkpoint) -> Batch:
        fetched = self._fetch(checkpoint)
        if fetched is None:
            return Batch([], checkpoint)
        response, body = fetched
        return self.parse(body, {k.lower(): v for k, v in response.headers.items()}, checkpoint)

    def parse(self, content: bytes, headers: Mapping[str, str], checkpoint: Checkpoint) -> Batch:
        """The new entries of a fetched feed (pure: no network)."""
        now = self.clock()
        content, total = newest_entries(content, MAX_ENTRIES, now=now)
        # As a stream: feedparser tries bytes as a file name first, so a body such as
        # "/etc/…" or "/dev/zero" would have the worker read its own disk.
        parsed = feedparser.parse(io.BytesIO(content), response_headers=dict(headers))
        entries = list(parsed.entries)
        feed_language = parsed.feed.get("language")
        # The feed's publisher, read in its title ("Préfecture du Gard": an authority) and
        # in the zone of the address the team gave (www.gard.gouv.fr), is who writes its
        # entries. Only kinds found count: "none" says "a person" of an account, but a
        # feed without a trade word in its title is still a publisher.
        read = merge_kinds(
            author_kinds(str(parsed.feed.get("title") or "")), domain_kinds(self._host)
        )
        publisher = tuple(k for k in read if k != "none")
        # Ids as the source remembers them (an account's pseudonym in a Mastodon status
        # address); a checkpoint written before that gets its ids so on this poll. An
        # ordered set, oldest first: an id still in the feed moves to the end at each
        # poll, so the window forgets the entries that left the feed first, and never one
        # that is still there (the cut keeps no more entries than the window holds).
        seen = dict.fromkeys(self._post_id(str(i)) for i in checkpoint.get("seen", []))
        versions = {self._post_id(k): v for k, v in _load_versions(checkpoint).items()}
        posts: list[RawPost | PostChange] = []
        skipped: list[Skipped] = []
        if total > MAX_ENTRIES:
            skipped.append(
                Skipped(f"Flux tronqué aux {MAX_ENTRIES} entrées les plus récentes.", "flux")
            )
        order = _Order()
        found: list[tuple[int, Any, RawPost]] = []
        for index, entry in reversed(list(enumerate(entries))):
            try:
                post = self._to_post(entry, feed_language, now, publisher)
            except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
                skipped.append(Skipped(f"Entrée de flux inexploitable : {exc}", f"entrée {index}"))
                continue
            if post is None:
                skipped.append(Skipped("Entrée sans titre ni contenu.", f"entrée {index}"))
                continue
            found.append((index, entry, post))
        for _, entry, post in reversed(found):
            order.see(post.created_at if _entry_time(entry) is not None else None)
        # Emitted oldest first, so the queue reads in order and the window of ids seen
        # forgets the oldest first: by the cards' dates, then the feed's own order.
        found.sort(key=lambda r: (r[2].created_at, order.rank(r[0])))
        valid = len(found)
        for _, entry, post in found:
            updated = _entry_updated(entry)
            # An entry without a date of its own counts from when it was published, or
            # first seen: a correction dated later is then an edit.
            version = [(updated or post.created_at).isoformat(), _digest(post.text)]
            known = versions.pop(post.external_id, None)
            if post.external_id not in seen:
                posts.append(post)
            elif known is not None:
                edit = _edit(post, updated, known)
                if edit is not None:
                    posts.append(edit)
                elif version[0] < known[0]:
                    # An older date than the one we hold: keep the newest.
                    version[0] = known[0]
                if edit is None and version[1] != known[1]:
                    # Changed text without a later date is not an edit (see
                    # ``_edit``): the version we compare with stays the one shown.
                    version[1] = known[1]
            # Re-inserted: the entries still in the feed are the last to go.
            versions[post.external_id] = version
            seen.pop(post.external_id, None)
            seen[post.external_id] = None
        problem = parsed.get("bozo_exception") if parsed.bozo else None
        # A wrong encoding declaration is a quirk feedparser fixes, not damage.
        if problem is not None and not isinstance(problem, feedparser.CharacterEncodingOverride):
            if valid == 0:
                # Nothing usable came out: the feed is broken, not just quirky.
                raise SourceError(f"Flux illisible : XML mal formé ({problem}).")
            skipped.append(Skipped(f"Flux partiellement mal formé : {problem}.", "flux"))
        emptied = False
        if not entries:
            # Nothing to read is not a healthy feed (docs/guide/sources.md, "Un flux
            # vide"): an answer that is no feed at all (an empty body, a CDN's stub)…
            if not parsed.get("version"):
                raise SourceError("Flux vide ou illisible : ni RSS ni Atom.")
            # A valid feed without entries is not broken: an alert feed (CAP, vigilance,
            # flood warnings) is empty whenever no alert is active. It stays « ok »; when
            # it published entries before, the status says it is empty for now, so a
            # team that expected entries sees it without learning to ignore errors.
            emptied = bool(seen)
        state = {
            "etag": headers.get("etag"),
            "modified": headers.get("last-modified"),
            "seen": list(seen)[-SEEN_LIMIT:],
            "versions": dict(list(versions.items())[-VERSIONS_LIMIT:]),
        }
        # The runner takes edits (PostChange) in a batch as it does from
        # streams; ``Batch.posts`` is annotated for posts only.
        return Batch(cast(list[RawPost], posts), state, skipped, emptied=emptied)

    def _to_post(
        self,
        entry: Mapping[str, Any],
        feed_language: str | None,
        now: datetime,
        publisher: tuple[str, ...] = (),
    ) -> RawPost | None:
        title = html_to_text(str(entry.get("title", "")))
        content = ""
        if entry.get("content"):
            content = " ".join(str(c.get("value", "")) for c in entry["content"])
        content = html_to_text(content or str(entry.get("summary", "")))
        if not title and not content:
            return None
        text = title if not content or content == title else f"{title}\n\n{content}".strip()
        author = entry.get("author")
        coordinates = None
        where = entry.get("where")
        if isinstance(where, Mapping) and where.get("type") == "Point":
            lon, lat = (float(x) for x in where["coordinates"][:2])
            # A point off the globe is a publisher's typo: keep the post, not the point.
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                coordinates = (lat, lon)
        media = [str(m["url"]) for m in entry.get("media_content", []) if m.get("url")]
        media += [
            str(link["href"])
            for link in entry.get("links", [])
            if link.get("rel") == "enclosure" and link.get("href")
        ]
        language = entry.get("language") or feed_language
        return RawPost(
            source_kind=self.kind,
            source_id=self.source_id,
            external_id=self._post_id(_entry_id(entry)),
            text=text,
            created_at=plausible_time(_entry_time(entry), now) or now,
            url=entry.get("link"),
            language=str(language).split("-")[0].lower() if language else None,
            author_key=self.pseudonymise(str(author)) if author else None,
            author_kinds=publisher,
            coordinates=coordinates,
            media_urls=tuple(dict.fromkeys(media)),
            raw=scrub_handles(
                {k: v for k, v in entry.items() if not k.endswith("_parsed")},
            ),
        )


def _edit(post: RawPost, updated: datetime | None, known: list[str]) -> PostChange | None:
    """The edit that ``post`` (an entry seen before) is, if it is one.

    Both a later ``updated`` date and a different text are needed: feeds
    regenerated by a CMS often change their dates without touching an entry,
    and some rewrite text on every build (counters, "il y a 5 min") without
    a date; neither is the publisher correcting the entry."""
    if updated is None or _digest(post.text) == known[1]:
        return None
    # Seen first without a date of its own: later than its publication, then.
    since = known[0] or post.created_at.isoformat()
    if updated.isoformat() <= since:
        return None
    return PostChange(
        EDIT, post.source_kind, post.source_id, post.external_id, at=updated, post=post
    )
