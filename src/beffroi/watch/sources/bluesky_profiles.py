"""Bluesky authors' kinds, from their profiles on an AppView.

Jetstream's events carry the author's DID and nothing of the account. For the
authors of posts that matched the source's keywords only, the source asks an
AppView (``app.bsky.actor.getProfiles``, public, no account needed) for their
profiles and reads their kinds as Mastodon's are read: names (handle, display
name), bio (``description``, by the strict rule of
docs/decisions/watch-author-profiles.md), and the handle's domain, which
Bluesky has verified (a handle under ``gouv.fr`` is held by a public body).
Only the kinds are kept, in memory and on the posts.

- Batched: up to 25 DIDs a request (the XRPC method's limit).
- Cached per DID, with an expiry (profiles change, rarely within hours); bounded.
- Bounded rate: at most one request every ``min_interval`` seconds; when the
  budget is spent or the AppView fails, posts go on without kinds (a kind is a
  hint to the classifier, never a reason to hold a post), and after a failure
  the AppView is left alone for ``retry_after`` seconds.
- Bounded answer: at most ``MAX_REPLY`` bytes, read within ``timeout`` in all (a
  body that never ends counts as a failure).
- Through the SSRF guard: the same guarded httpx client as RSS
  (docs/decisions/sources-internal-addresses.md).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from beffroi.watch.classify.accounts import account_kinds, domain_kinds, merge_kinds
from beffroi.watch.sources.bounded import ACCEPT_ENCODING, read_capped
from beffroi.watch.sources.netclients import guarded_client
from beffroi.watch.sources.netguard import Authorities, NetworkPolicy
from beffroi.watch.sources.rss import USER_AGENT

DEFAULT_APPVIEW = "https://public.api.bsky.app"
GET_PROFILES = "/xrpc/app.bsky.actor.getProfiles"
BATCH = 25  # app.bsky.actor.getProfiles takes at most 25 actors
# 25 profiles are a few tens of KB: more is not an AppView's answer, and the posts
# wait while it is read.
MAX_REPLY = 1 << 20


def profile_view_kinds(profile: Mapping[str, Any]) -> tuple[str, ...]:
    """Kinds of a ``ProfileViewDetailed`` (or ``ProfileView``): its names, its bio, and
    its handle's domain. An unverified handle is ``handle.invalid``: it proves nothing."""
    handle = str(profile.get("handle") or "").lower()
    if handle == "handle.invalid":
        handle = ""
    # A handle is a domain name: its first label is what the account chose to be called.
    username = handle.split(".", 1)[0]
    display = str(profile.get("displayName") or "")
    bio = str(profile.get("description") or "")
    return merge_kinds(
        account_kinds((username, display), bio),
        domain_kinds(handle) if handle else (),
    )


class ProfileKinds:
    """Kinds of Bluesky accounts by DID, asked of an AppView in batches and cached."""

    def __init__(
        self,
        appview: str,
        policy: NetworkPolicy,
        *,
        ttl: float = 6 * 3600.0,
        max_cached: int = 20_000,
        min_interval: float = 0.5,
        retry_after: float = 120.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.appview = appview.rstrip("/")
        self.policy = policy
        self.ttl = ttl
        self.max_cached = max_cached
        self.min_interval = min_interval
        self.retry_after = retry_after
        self.timeout = timeout
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        self._next_request = 0.0  # clock time before which no request is made
        self._client: httpx.Client | None = None
        # Those the Jetstream connection it serves trusts (set by the source before it
        # connects); None: read BEFFROI_SOURCES_CA_FILE when the client is made.
        self.authorities: Authorities | None = None
        self.requests = 0
        self.failures = 0

    def known(self, did: str) -> tuple[str, ...] | None:
        """The kinds cached for ``did`` and not expired, else None."""
        entry = self._cache.get(did)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._cache[did]
            return None
        return entry[1]

    def lookup(self, dids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Kinds of the ``dids`` known now: cached ones, then what the AppView answers
        within the rate budget. A DID left out is asked again next time."""
        found: dict[str, tuple[str, ...]] = {}
        missing: list[str] = []
        for did in dict.fromkeys(dids):
            kinds = self.known(did)
            if kinds is not None:
                found[did] = kinds
            elif did.startswith("did:"):
                missing.append(did)
        for start in range(0, len(missing), BATCH):
            if self.clock() < self._next_request:
                break  # the budget is spent: these posts go on without kinds
            found.update(self._fetch(missing[start : start + BATCH]))
        return found

    def _fetch(self, dids: list[str]) -> dict[str, tuple[str, ...]]:
        self._next_request = self.clock() + self.min_interval
        self.requests += 1
        try:
            profiles = self._get(dids).get("profiles")
        except (httpx.HTTPError, OSError, ValueError, AttributeError, RecursionError):
            # Down, refused by the guard, or not an AppView: leave it alone a while.
            self.failures += 1
            self._next_request = self.clock() + self.retry_after
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for profile in profiles if isinstance(profiles, list) else ():
            if isinstance(profile, Mapping) and profile.get("did") in dids:
                found[str(profile["did"])] = profile_view_kinds(profile)
        # Asked for and not answered: deleted, suspended or unknown. Remembered as
        # saying nothing, so that their next posts do not ask again.
        for did in dids:
            found.setdefault(did, ())
        expires = self.clock() + self.ttl
        for did, kinds in found.items():
            self._cache[did] = (expires, kinds)
            self._cache.move_to_end(did)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)
        return found

    def _get(self, dids: list[str]) -> Any:
        """The AppView's JSON answer, read within ``timeout`` in all and ``MAX_REPLY``
        bytes: httpx's timeout bounds each read only, and a body that trickles or never
        ends would hold the posts (and the Jetstream queue behind them) for good."""
        deadline = time.monotonic() + self.timeout
        params = {"actors": dids}  # one ``actors`` per DID
        with self._http().stream("GET", self.appview + GET_PROFILES, params=params) as reply:
            reply.raise_for_status()
            # BodyTooLarge is a ValueError, BodyTooSlow a TimeoutError: failed lookups.
            body = read_capped(reply, limit=MAX_REPLY, deadline=deadline, seconds=self.timeout)
        return json.loads(body)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = guarded_client(
                self.policy,
                self.authorities,
                timeout=self.timeout,
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": "application/json",
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
                follow_redirects=False,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
