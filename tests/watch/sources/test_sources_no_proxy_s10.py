"""``BEFFROI_SOURCES_NO_PROXY``: destinations the sources reach without the deployment's
proxy. An intranet feed allowed by ``BEFFROI_SOURCES_ALLOW_NETWORKS`` could not be read
once a proxy was named: every connection went through it, and the proxy must refuse
internal destinations (docs/decisions/sources-internal-addresses.md). Bypassing the proxy
never bypasses the guard: the destination is judged as for any connection."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.watch.sources.base import SourceError
from beffroi.watch.sources.bluesky import BlueskyConfig, BlueskySource
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.netguard import (
    ALLOW_ENV,
    NO_PROXY_ENV,
    PROXY_ENV,
    SettingError,
    current_policy,
    parse_no_proxy,
)
from beffroi.watch.sources.rss import RssConfig, RssSource

# The loopback CONNECT proxy and the feed of the proxy tests (loaded, not collected).
_spec = importlib.util.spec_from_file_location(
    "sources_proxy_helpers", Path(__file__).with_name("test_sources_proxy.py")
)
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
ConnectProxy, FEED = _helpers.ConnectProxy, _helpers.FEED


@pytest.fixture
def proxy(allow_loopback: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    server = ConnectProxy()
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    monkeypatch.setenv(PROXY_ENV, server.url)
    yield server
    server.close()


# -- the setting ---------------------------------------------------------------------


def test_networks_and_domains_are_read() -> None:
    bypass = parse_no_proxy("10.20.0.0/16, 192.0.2.7 .Intranet.Example *.pref.example mairie.")
    assert [str(n) for n in bypass.networks] == ["10.20.0.0/16", "192.0.2.7/32"]
    assert bypass.domains == ("intranet.example", "pref.example", "mairie")
    assert bypass.named("intranet.example") and bypass.named("flux.intranet.example.")
    assert not bypass.named("notintranet.example")  # a name, not a suffix of letters
    assert not parse_no_proxy("  ")


@pytest.mark.parametrize("item", ["http://intranet.example", "10.0.0.0/33", "a_b.example", "*"])
def test_a_wrong_item_is_named(item: str) -> None:
    with pytest.raises(SettingError) as caught:
        parse_no_proxy(f"10.0.0.0/8 {item}")
    assert str(caught.value) == (
        f"{NO_PROXY_ENV} : « {item} » n'est ni un réseau ni un nom de domaine "
        "(10.20.0.0/16 ou intranet.example attendu)."
    )


@given(st.text(max_size=40))
def test_any_value_is_read_or_refused_clearly(text: str) -> None:
    try:
        parse_no_proxy(text)
    except SettingError as exc:
        assert str(exc).startswith(f"{NO_PROXY_ENV} : « ")


def test_a_wrong_value_is_the_sources_error(monkeypatch, pseudonymise) -> None:
    monkeypatch.setenv(NO_PROXY_ENV, "intranet.example:8080")
    with pytest.raises(SettingError):
        current_policy()
    with pytest.raises(ValueError, match=NO_PROXY_ENV):
        RssSource("r", RssConfig(url="https://flux.example/rss"), pseudonymise=pseudonymise)


# -- the connections -------------------------------------------------------------------


def _rss(url: str, pseudonymise: Any) -> list[str]:
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    return [p.external_id for p in source.poll({}).posts]


def test_a_bypassed_network_is_reached_directly(
    proxy, feed_server, pseudonymise, monkeypatch
) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    monkeypatch.setenv(NO_PROXY_ENV, "127.0.0.0/8")
    assert _rss(url, pseudonymise) == ["a"]
    assert proxy.connections == 0
    assert [path for path, _headers in feed_server.requests] == ["/rss.xml"]


def test_a_bypassed_domain_is_reached_directly(proxy, feed_server, pseudonymise, monkeypatch):
    url = feed_server.serve("/rss.xml", FEED).replace("127.0.0.1", "localhost")
    monkeypatch.setenv(NO_PROXY_ENV, "localhost")
    assert _rss(url, pseudonymise) == ["a"]
    assert proxy.connections == 0


def test_anything_else_still_goes_through_the_proxy(
    proxy, feed_server, pseudonymise, monkeypatch
) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    monkeypatch.setenv(NO_PROXY_ENV, "10.20.0.0/16 intranet.example")
    assert _rss(url, pseudonymise) == ["a"]
    assert proxy.targets == [f"127.0.0.1:{_helpers.port_of(url)}"]


def test_bypassing_the_proxy_does_not_bypass_the_guard(
    proxy, feed_server, pseudonymise, monkeypatch
) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    monkeypatch.setenv(NO_PROXY_ENV, "127.0.0.0/8 localhost")
    monkeypatch.delenv(ALLOW_ENV)
    with pytest.raises(SourceError) as caught:
        _rss(url, pseudonymise)
    assert caught.value.message == "Adresse interne refusée : 127.0.0.1 (boucle locale)."
    assert proxy.connections == 0 and feed_server.requests == []


def test_mastodon_and_jetstream_bypass_too(
    proxy, fake_mastodon, fake_jetstream, pseudonymise, status, monkeypatch
) -> None:
    monkeypatch.setenv(NO_PROXY_ENV, "127.0.0.1")
    fake_mastodon.timelines["tag:crue"] = [status(5, "Crue du Gardon", tags=["crue"])]
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    stream = MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05).stream({})
    try:
        item, _state = next(stream)
        while item is None:
            item, _state = next(stream)
    finally:
        stream.close()
    assert "/api/v1/instance/" in fake_mastodon.requests
    bluesky = BlueskyConfig(keywords=("crue",), endpoint=fake_jetstream.endpoint, compress=False)
    jet = BlueskySource("b", bluesky, pseudonymise=pseudonymise, idle_tick=0.05).stream({})
    try:
        for got, _state in jet:
            if got is not None:
                break
    finally:
        jet.close()
    assert len(fake_jetstream.paths) == 1
    assert proxy.connections == 0
