"""Bluesky authors' kinds: profiles asked of an AppView (``app.bsky.actor.getProfiles``)
for the authors of matching posts only, in batches, cached with an expiry, at a
bounded rate, through the SSRF guard; against a loopback AppView speaking XRPC."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from beffroi.watch.sources.base import ConfigError, RawPost
from beffroi.watch.sources.bluesky import BlueskyConfig, BlueskySource
from beffroi.watch.sources.bluesky_profiles import (
    DEFAULT_APPVIEW,
    ProfileKinds,
    profile_view_kinds,
)
from beffroi.watch.sources.netguard import ALLOW_ENV, current_policy
from beffroi.watch.sources.runner import Backoff, start_source_thread

A = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"  # the flood post (#inondation)
B = "did:plc:z72i7hdynmk6r22z27h6tvur"  # coffee (no keyword), then « CRUE du Gardon »
C = "did:web:mairie-ales.invalid"  # « Crue: the Gardon… », « Point de situation… »


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def profiles_on(fake: Any, profile: Any) -> None:
    fake.profiles[A] = profile(
        A,
        "cellule-crise.bsky.social",
        "Cellule de crise",
        "Compte officiel de la préfecture du Gard",
    )
    fake.profiles[B] = profile(B, "marie.bsky.social", "Marie", "Ex-journaliste, fan de la BBC")
    fake.profiles[C] = profile(C, "mairie-ales.invalid", "Mairie d'Alès")


def run(
    fake_jetstream: Any,
    fake_appview: Any,
    pseudonymise: Any,
    recorder: Any,
    until: Any,
    keywords: tuple[str, ...],
    count: int,
) -> None:
    config = BlueskyConfig(
        keywords=keywords,
        endpoint=fake_jetstream.endpoint,
        recv_timeout=5,
        profiles=True,
        appview=fake_appview.url,
    )
    source = BlueskySource("bsky", config, pseudonymise=pseudonymise, idle_tick=0.05)
    stop = threading.Event()
    thread = start_source_thread(
        source,
        None,
        recorder.sink,
        stop_event=stop,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
    )
    until(lambda: len([p for p in recorder.posts if isinstance(p, RawPost)]) >= count)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_matching_posts_get_their_authors_kinds_in_one_batched_request(
    fake_jetstream, fake_appview, pseudonymise, recorder, until, profile
) -> None:
    profiles_on(fake_appview, profile)
    run(
        fake_jetstream,
        fake_appview,
        pseudonymise,
        recorder,
        until,
        ("#inondation", "crue", "Point de situation"),
        4,
    )
    kinds = {
        p.external_id.split("/")[2]: p.author_kinds
        for p in recorder.posts
        if isinstance(p, RawPost)
    }
    assert kinds == {A: ("government",), B: ("none",), C: ("government",)}
    # Every author asked once (cached after), never more than 25 at a time.
    asked = [did for request in fake_appview.asked for did in request]
    assert sorted(asked) == sorted({A, B, C})
    assert all(len(request) <= 25 for request in fake_appview.asked)
    # Nothing of the profile is kept.
    for post in recorder.posts:
        assert "préfecture" not in repr(post) and "Ex-journaliste" not in repr(post)


def test_only_the_authors_of_matching_posts_are_asked_for(
    fake_jetstream, fake_appview, pseudonymise, recorder, until, profile
) -> None:
    profiles_on(fake_appview, profile)
    run(fake_jetstream, fake_appview, pseudonymise, recorder, until, ("#inondation",), 1)
    until(lambda: fake_appview.asked)
    assert fake_appview.asked == [[A]]
    (post,) = [p for p in recorder.posts if isinstance(p, RawPost)]
    assert post.author_kinds == ("government",)


def test_profiles_are_batched_cached_and_expire(fake_appview, profile) -> None:
    dids = [f"did:plc:{i:024d}" for i in range(60)]
    for did in dids[:50]:
        fake_appview.profiles[did] = profile(did, f"u{did[-4:]}.bsky.social", "Quelqu'un")
    fake_appview.profiles[dids[0]]["description"] = "Journaliste à Midi Libre"
    clock = Clock()
    lookup = ProfileKinds(fake_appview.url, current_policy(), min_interval=0, ttl=600, clock=clock)
    found = lookup.lookup(dids)
    assert [len(r) for r in fake_appview.asked] == [25, 25, 10]
    assert found[dids[0]] == ("media",) and found[dids[1]] == ("none",)
    assert found[dids[55]] == ()  # unknown to the AppView: remembered as saying nothing
    # Cached: asked again, nothing is sent.
    assert lookup.lookup(dids[:3]) == {d: found[d] for d in dids[:3]}
    assert len(fake_appview.asked) == 3
    clock.now += 601
    assert lookup.known(dids[0]) is None
    lookup.lookup(dids[:2])
    assert fake_appview.asked[-1] == dids[:2]


def test_the_request_rate_is_bounded_and_a_failing_appview_left_alone(
    fake_appview, profile
) -> None:
    fake_appview.profiles[A] = profile(A, "a.bsky.social", "A")
    fake_appview.profiles[B] = profile(B, "b.bsky.social", "B")
    clock = Clock()
    lookup = ProfileKinds(
        fake_appview.url, current_policy(), min_interval=2, retry_after=60, clock=clock
    )
    assert lookup.lookup([A]) == {A: ("none",)}
    # Within the interval: no request, B goes on without kinds for now.
    assert lookup.lookup([A, B]) == {A: ("none",)}
    assert len(fake_appview.asked) == 1
    clock.now += 2
    assert lookup.lookup([B]) == {B: ("none",)}
    fake_appview.down = True
    clock.now += 2
    assert lookup.lookup([C]) == {}
    assert lookup.failures == 1
    fake_appview.down = False
    clock.now += 30
    assert lookup.lookup([C]) == {} and len(fake_appview.asked) == 2  # 502s are not recorded
    clock.now += 31
    assert lookup.lookup([C]) == {C: ()}


def test_an_internal_appview_is_refused_by_the_guard(fake_appview, monkeypatch, profile) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    fake_appview.profiles[A] = profile(A, "a.bsky.social", "A")
    lookup = ProfileKinds(fake_appview.url, current_policy(), min_interval=0)
    assert lookup.lookup([A]) == {}
    assert lookup.failures == 1 and fake_appview.asked == []


def test_posts_waiting_for_profiles_never_let_the_checkpoint_pass_them(
    fake_appview, pseudonymise, profile
) -> None:
    """While a post waits for its author's profile, the runner is handed the checkpoint
    from before it: stopped then, the worker receives the post again."""
    from datetime import UTC, datetime

    fake_appview.profiles[A] = profile(A, "a.bsky.social", "", "Journaliste")
    profiles = ProfileKinds(fake_appview.url, current_policy(), min_interval=0)
    config = BlueskyConfig(keywords=("crue",), profiles=True, appview=fake_appview.url)
    source = BlueskySource("bsky", config, pseudonymise=pseudonymise, profile_wait=3600)

    def post(n: int, did: str) -> RawPost:
        return RawPost(
            "bluesky",
            "bsky",
            f"at://{did}/app.bsky.feed.post/{n}",
            "crue",
            datetime(2026, 11, 23, tzinfo=UTC),
        )

    def events() -> Any:
        yield None, {"cursor": 1}
        yield post(2, A), {"cursor": 2}
        for n in range(3, 30):
            yield None, {"cursor": n}  # the firehose goes on while the post waits
        for n in range(30, 54):
            yield post(n, f"did:plc:{n:024d}"), {"cursor": n}

    out = list(source._with_kinds(events(), profiles, {"cursor": 0}))
    states = [state["cursor"] for _, state in out]
    # The first tick, then 27 while the post waits: all at the cursor from before it.
    assert states == [1] * 28 + [2] + list(range(30, 54))
    first = next(item for item, _ in out if isinstance(item, RawPost))
    assert first.author_kinds == ("media",)
    # 25 authors waiting: one request, then everything in its order, states included.
    assert fake_appview.asked == [sorted([A] + [f"did:plc:{n:024d}" for n in range(30, 54)])]
    assert [s for _, s in out if _ is not None] == [{"cursor": 2}] + [
        {"cursor": n} for n in range(30, 54)
    ]


def test_profile_view_kinds(profile) -> None:
    assert profile_view_kinds(profile(A, "prefet.gard.gouv.fr", "")) == ("government",)
    # A handle the AppView could not verify proves nothing.
    assert profile_view_kinds(profile(A, "handle.invalid", "")) == ()
    assert profile_view_kinds(profile(A, "lemonde.fr", "Le Monde", "Quotidien")) == ("none",)
    assert profile_view_kinds(profile(A, "x.bsky.social", "Ouest-France Info")) == ("media",)
    parody = profile(A, "prefet30.bsky.social", "Préfet du Gard", "Compte parodique")
    assert profile_view_kinds(parody) == ("none",)


def test_config_form() -> None:
    default = BlueskyConfig.from_form({"keywords": "crue"})
    assert default.profiles and default.appview == DEFAULT_APPVIEW
    assert not BlueskyConfig.from_form({"keywords": "crue", "profiles": False}).profiles
    # Built in code (tests, scripts), a source asks no AppView unless told to.
    assert not BlueskyConfig(keywords=("crue",)).profiles
    custom = BlueskyConfig.from_form({"keywords": "crue", "appview": "https://api.example.org/"})
    assert custom.appview == "https://api.example.org"
    with pytest.raises(ConfigError) as err:
        BlueskyConfig.from_form({"keywords": "crue", "appview": "ftp://x"})
    assert err.value.errors == {"appview": "Adresse AppView invalide (https://… attendu)."}
