"""Each live source refuses internal addresses at connect time: the loopback
test servers see no request unless the deployment allows loopback (the
``allow_loopback`` fixture, which every other source test uses)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from beffroi.watch.sources import validate_config
from beffroi.watch.sources.base import ConfigError, SourceError
from beffroi.watch.sources.bluesky import BlueskyConfig, BlueskySource
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.netguard import ALLOW_ENV
from beffroi.watch.sources.rss import RssConfig, RssSource
from beffroi.watch.sources.runner import start_source_thread
from loopback_servers import LoopbackHTTP
from source_runs import FEED, error_statuses, first_item


class Recording(LoopbackHTTP):
    """A plain HTTP server on ``host`` that records every request and answers ``reply``."""

    def __init__(self, host: str, reply: tuple[int, dict[str, str], bytes]) -> None:
        self.paths: list[str] = []
        recording = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                recording.paths.append(self.path)
                status, headers, body = reply
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.start_http(Handler, host)


@pytest.fixture
def second_loopback():
    """A server on 127.0.0.2 (Linux routes all of 127/8 to the loopback interface):
    an internal address other than the allowed 127.0.0.1."""
    servers: list[Recording] = []

    def make(reply: tuple[int, dict[str, str], bytes]) -> Recording:
        servers.append(Recording("127.0.0.2", reply))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


# -- RSS (httpx) ---------------------------------------------------------------


def test_rss_refused_at_connect_time_without_the_allowance(
    feed_server, pseudonymise, monkeypatch
) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    monkeypatch.delenv(ALLOW_ENV)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError) as caught:
        source.poll({})
    assert caught.value.message == "Adresse interne refusée : 127.0.0.1 (boucle locale)."
    assert caught.value.retryable
    assert feed_server.requests == []


def test_rss_with_the_allowance_reads_the_feed(feed_server, pseudonymise) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    assert [p.external_id for p in source.poll({}).posts] == ["a"]


def test_rss_name_that_means_this_machine_is_refused_at_connect_time(
    feed_server, pseudonymise, monkeypatch
) -> None:
    # The form would refuse "localhost"; a config saved before the guard was not checked.
    url = feed_server.serve("/rss.xml", FEED).replace("127.0.0.1", "localhost")
    monkeypatch.delenv(ALLOW_ENV)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError, match="Adresse interne refusée : localhost → "):
        source.poll({})
    assert feed_server.requests == []


def test_rss_redirect_to_an_internal_address_is_refused(
    pseudonymise, monkeypatch, second_loopback
) -> None:
    inside = second_loopback((200, {"Content-Type": "application/xml"}, FEED))
    outside = Recording("127.0.0.1", (302, {"Location": inside.url + "/secret"}, b""))
    try:
        # Only 127.0.0.1 plays the public feed here; 127.0.0.2 is "inside".
        monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
        source = RssSource(
            "r", RssConfig(url=outside.url + "/rss.xml", timeout=2), pseudonymise=pseudonymise
        )
        with pytest.raises(SourceError) as caught:
            source.poll({})
    finally:
        outside.close()
    assert outside.paths == ["/rss.xml"]
    assert inside.paths == []
    assert caught.value.message == "Adresse interne refusée : 127.0.0.2 (boucle locale)."


def test_a_refused_feed_retries_while_another_keeps_flowing(
    feed_server, pseudonymise, recorder, monkeypatch, second_loopback
) -> None:
    inside = second_loopback((200, {"Content-Type": "application/xml"}, FEED))
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    stop = threading.Event()
    good = start_source_thread(
        RssSource("ok", RssConfig(url=feed_server.serve("/rss", FEED)), pseudonymise=pseudonymise),
        None,
        recorder.sink,
        stop_event=stop,
    )
    errors = error_statuses(
        RssSource("bad", RssConfig(url=inside.url + "/rss", timeout=2), pseudonymise=pseudonymise),
        until_errors=3,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not recorder.posts:
        time.sleep(0.02)
    stop.set()
    good.join(timeout=5)
    assert recorder.ids == ["a"]
    assert len(errors) >= 3  # it retries, with backoff, and says why each time
    assert errors[0].message.startswith("Adresse interne refusée : 127.0.0.2 (boucle locale).")
    assert "Nouvel essai dans" in errors[0].message
    assert inside.paths == []


# -- Mastodon (requests under Mastodon.py) ----------------------------------------


def test_mastodon_refused_at_connect_time_without_the_allowance(
    fake_mastodon, pseudonymise, monkeypatch
) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    errors = error_statuses(MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert errors[0].message.startswith("Adresse interne refusée : 127.0.0.1 (boucle locale).")
    assert fake_mastodon.requests == []
    assert fake_mastodon.connections == {}


def test_mastodon_with_the_allowance_streams(fake_mastodon, pseudonymise, status) -> None:
    fake_mastodon.timelines["tag:crue"] = [status(5, "Crue du Gardon", tags=["crue"])]
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    source = MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05)
    stream = source.stream({})
    try:
        item, _state = next(stream)
    finally:
        stream.close()
    assert item.external_id == "5"
    assert fake_mastodon.connections == {"tag:crue": 1}


def test_mastodon_streaming_server_named_by_the_instance_is_checked_too(
    fake_mastodon, pseudonymise, monkeypatch, second_loopback
) -> None:
    # The instance itself is allowed, but names a streaming server inside.
    inside = second_loopback((200, {"Content-Type": "text/event-stream"}, b":)\n"))
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    info = fake_mastodon.instance_v1()
    info["urls"]["streaming_api"] = inside.url.replace("http://", "ws://")
    fake_mastodon.instance_v1 = lambda: info
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    errors = error_statuses(MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert errors[0].message.startswith("Adresse interne refusée : 127.0.0.2 (boucle locale).")
    assert "/api/v1/instance/" in fake_mastodon.requests
    assert inside.paths == []


# -- Bluesky (websockets under atproto) ---------------------------------------------


def test_jetstream_refused_at_connect_time_without_the_allowance(
    fake_jetstream, pseudonymise, monkeypatch
) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    config = BlueskyConfig(keywords=("crue",), endpoint=fake_jetstream.endpoint)
    errors = error_statuses(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert errors[0].message.startswith(
        "Jetstream : Adresse interne refusée : 127.0.0.1 (boucle locale)."
    )
    assert fake_jetstream.paths == []


def test_jetstream_compression_dictionary_is_fetched_through_the_guard(
    pseudonymise, monkeypatch, second_loopback
) -> None:
    inside = second_loopback((200, {"Content-Type": "application/octet-stream"}, b"x"))
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    endpoint = inside.url.replace("http://", "ws://") + "/xrpc"
    config = BlueskyConfig(keywords=("crue",), endpoint=endpoint, compress=True)
    errors = error_statuses(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert "Adresse interne refusée : 127.0.0.2" in errors[0].message
    assert inside.paths == []  # neither the dictionary nor the websocket


def test_jetstream_with_the_allowance_streams(fake_jetstream, pseudonymise) -> None:
    config = BlueskyConfig(keywords=("crue",), endpoint=fake_jetstream.endpoint, compress=False)
    source = BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05)
    first_item(source)
    assert len(fake_jetstream.paths) == 1


# -- The forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "data"),
    [
        ("rss", "url", {"url": "http://169.254.169.254/latest/meta-data/"}),
        ("rss", "url", {"url": "http://localhost:5432/"}),
        ("mastodon", "instance_url", {"instance_url": "http://10.0.0.7", "hashtags": "crue"}),
        ("bluesky", "endpoint", {"keywords": "crue", "endpoint": "ws://[::1]:6008/xrpc"}),
    ],
)
def test_forms_refuse_an_obviously_internal_address(kind, field, data, monkeypatch) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    with pytest.raises(ConfigError) as caught:
        validate_config(kind, data)
    assert caught.value.errors[field].startswith("Adresse interne refusée : ")
    monkeypatch.setenv(ALLOW_ENV, "10.0.0.0/8 127.0.0.0/8 ::1 169.254.0.0/16")
    validate_config(kind, data)


def test_a_wrong_allow_list_is_a_clear_form_error(monkeypatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "intranet")
    with pytest.raises(ConfigError) as caught:
        validate_config("rss", {"url": "https://www.vigicrues.gouv.fr/rss"})
    assert caught.value.errors["url"] == (
        "Réglage du serveur invalide : BEFFROI_SOURCES_ALLOW_NETWORKS : « intranet » "
        "n'est pas un réseau ('intranet' does not appear to be an IPv4 or IPv6 network)."
    )
