"""Sources through the deployment's explicit proxy (``BEFFROI_SOURCES_PROXY``): every
client reaches its loopback fake server through a loopback CONNECT proxy that records
what it was asked; the destination is still judged here, before any CONNECT."""

from __future__ import annotations

import base64
import contextlib
import functools
import socket
import socketserver
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.watch.sources import build_source, validate_config
from beffroi.watch.sources.base import ConfigError, SourceError
from beffroi.watch.sources.bluesky import BlueskyConfig, BlueskySource
from beffroi.watch.sources.bluesky_profiles import ProfileKinds
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.netguard import (
    ALLOW_ENV,
    PROXY_ENV,
    Proxy,
    ProxyFailure,
    SettingError,
    current_policy,
    parse_proxy,
)
from beffroi.watch.sources.rss import RssConfig, RssSource
from beffroi.watch.sources.runner import Backoff, describe_error, start_source_thread
from source_runs import FEED, closed_port, error_statuses, first_item


class ConnectProxy:
    """A threaded HTTP proxy on ``host`` that only speaks CONNECT, as egress proxies of
    closed networks do: it records each connection and CONNECT target, may demand
    Basic credentials or refuse every target, then tunnels bytes both ways."""

    def __init__(self, host: str = "127.0.0.2", *, credentials: str = "") -> None:
        self.connections = 0
        self.targets: list[str] = []
        self.authorizations: list[str | None] = []
        self.refuse = False
        self.lock = threading.Lock()
        proxy = self
        expected = "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else ""

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                with proxy.lock:
                    proxy.connections += 1
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                with proxy.lock:
                    proxy.targets.append(target)
                    proxy.authorizations.append(headers.get("Proxy-Authorization"))
                if method != "CONNECT":
                    client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                    return
                if expected and headers.get("Proxy-Authorization") != expected:
                    client.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="sortie"\r\nContent-Length: 0\r\n\r\n'
                    )
                    return
                if proxy.refuse:
                    client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                name, port = target.rsplit(":", 1)
                try:
                    upstream = socket.create_connection((name.strip("[]"), int(port)), timeout=5)
                except OSError:
                    client.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                    return
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
                pump.start()
                _copy(client, upstream)
                pump.join(timeout=5)
                upstream.close()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://{host}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy(allow_loopback: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A proxy on 127.0.0.2 named by BEFFROI_SOURCES_PROXY, with only 127.0.0.1 (the fake
    servers) allowed as a destination: the proxy's own address needs no allowance."""
    server = ConnectProxy()
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    monkeypatch.setenv(PROXY_ENV, server.url)
    # The environment's proxies stay ignored: were they used, nothing would connect.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    yield server
    server.close()


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> str:
    """BEFFROI_SOURCES_PROXY naming a loopback port nobody listens on."""
    where = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv(PROXY_ENV, f"http://{where}")
    return where


# -- The setting -------------------------------------------------------------------


def port_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]


def test_the_setting_is_read() -> None:
    assert parse_proxy("") is None
    assert parse_proxy("  ") is None
    assert parse_proxy("http://proxy.pref.local:3128") == Proxy("proxy.pref.local", 3128)
    assert parse_proxy("HTTP://10.1.2.3:8080/") == Proxy("10.1.2.3", 8080)
    ipv6 = parse_proxy("http://[fd00::3128]:3128")
    assert ipv6 is not None and ipv6.where == "[fd00::3128]:3128"
    with_login = parse_proxy("http://veille%40sdis:p%3Ass@proxy:3128")
    assert with_login == Proxy("proxy", 3128, "veille@sdis", "p:ss")
    assert with_login.authorization() == "Basic " + base64.b64encode(b"veille@sdis:p:ss").decode()
    assert "p:ss" not in repr(with_login)
    assert current_policy({PROXY_ENV: "http://proxy:3128"}).proxy == Proxy("proxy", 3128)
    assert current_policy({}).proxy is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("https://proxy:3128", "n'est pas un proxy http://"),
        ("socks5://proxy:1080", "n'est pas un proxy http://"),
        ("proxy:3128", "n'est pas un proxy http://"),
        ("http://proxy", "ne précise pas de port"),
        ("http://proxy:0", "ne précise pas de port"),
        ("http://proxy:99999", "n'est pas une adresse de proxy"),
        ("http://proxy:3128/sortie", "contient un chemin"),
        ("http://proxy:3128?x=1", "contient un chemin"),
        ("http://:3128", "ne nomme pas d'hôte valide"),
        ("http://pro xy:3128", "ne nomme pas d'hôte valide"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(SettingError) as caught:
        parse_proxy(text)
    assert str(caught.value) == f"{PROXY_ENV} : « {text} » {why} (http://hôte:port attendu)."


def test_the_password_never_shows_in_the_error() -> None:
    with pytest.raises(SettingError) as caught:
        parse_proxy("https://veille:s3cr3t@proxy:3128")
    assert "s3cr3t" not in str(caught.value)
    assert "« https://…@proxy:3128 »" in str(caught.value)


@given(st.text(max_size=80))
def test_any_setting_is_read_or_refused_clearly(text: str) -> None:
    try:
        parsed = parse_proxy(text)
    except SettingError as exc:
        assert str(exc).startswith(f"{PROXY_ENV} : « ")
        return
    assert parsed is None or (parsed.host and 0 < parsed.port <= 65535)


def test_a_wrong_setting_is_the_forms_and_the_sources_error(monkeypatch, pseudonymise) -> None:
    monkeypatch.setenv(PROXY_ENV, "socks5://proxy:1080")
    message = (
        f"Réglage du serveur invalide : {PROXY_ENV} : « socks5://proxy:1080 » "
        "n'est pas un proxy http:// (http://hôte:port attendu)."
    )
    with pytest.raises(ConfigError) as caught:
        validate_config("rss", {"url": "https://www.vigicrues.gouv.fr/rss"})
    assert caught.value.errors["url"] == message
    # The worker builds each source on its own (the others go on) and shows what
    # stopped it as its status: the same words, which the Sources page translates.
    for kind, data in [
        ("rss", {"url": "https://www.vigicrues.gouv.fr/rss"}),
        ("mastodon", {"instance_url": "https://mastodon.social", "hashtags": "crue"}),
        ("bluesky", {"keywords": "crue"}),
    ]:
        # Bluesky's default endpoint is not a typed address: the form does not read
        # the setting, the source's construction does.
        with pytest.raises(ValueError) as built:
            build_source(kind, "s", data, pseudonymise=pseudonymise)
        assert describe_error(built.value) == f"Configuration invalide : {message}"
    # A source built from a config checked earlier stops at its construction.
    with pytest.raises(SettingError, match=PROXY_ENV):
        RssSource(
            "r", RssConfig(url="https://www.vigicrues.gouv.fr/rss"), pseudonymise=pseudonymise
        )


# -- RSS (httpx) -----------------------------------------------------------------------


def test_rss_through_the_proxy(proxy, feed_server, pseudonymise) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    assert [p.external_id for p in source.poll({}).posts] == ["a"]
    port = url.split(":")[2].split("/")[0]
    assert proxy.targets == [f"127.0.0.1:{port}"]
    assert proxy.authorizations == [None]
    assert [path for path, _headers in feed_server.requests] == ["/rss.xml"]


def test_rss_internal_destination_refused_before_any_connect(
    proxy, feed_server, pseudonymise, monkeypatch
) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    monkeypatch.delenv(ALLOW_ENV)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError) as caught:
        source.poll({})
    assert caught.value.message == "Adresse interne refusée : 127.0.0.1 (boucle locale)."
    assert proxy.connections == 0
    assert feed_server.requests == []


def test_rss_with_the_proxy_down_says_so_and_retries(
    feed_server, dead_proxy, pseudonymise, allow_loopback
) -> None:
    url = feed_server.serve("/rss.xml", FEED)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    errors = error_statuses(source, until_errors=2)
    assert len(errors) >= 2
    assert errors[0].message.startswith(
        f"Proxy des sources injoignable ({dead_proxy}) : Connection refused. Nouvel essai dans "
    )
    assert feed_server.requests == []


def test_proxy_credentials(monkeypatch, feed_server, pseudonymise, allow_loopback) -> None:
    server = ConnectProxy(credentials="veille:p@ss")
    try:
        url = feed_server.serve("/rss.xml", FEED)
        monkeypatch.setenv(PROXY_ENV, server.url.replace("//", "//veille:mauvais@"))
        source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
        with pytest.raises(SourceError) as caught:
            source.poll({})
        assert caught.value.message == (
            f"Le proxy des sources ({server.url[7:]}) demande une authentification "
            f"(407 Proxy Authentication Required) : vérifier l'identifiant et le mot de passe "
            f"de {PROXY_ENV}."
        )
        assert feed_server.requests == []
        monkeypatch.setenv(PROXY_ENV, server.url.replace("//", "//veille:p%40ss@"))
        source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
        assert [p.external_id for p in source.poll({}).posts] == ["a"]
        assert len(server.targets) == 2
    finally:
        server.close()


def test_a_target_the_proxy_refuses(proxy, feed_server, pseudonymise) -> None:
    proxy.refuse = True
    url = feed_server.serve("/rss.xml", FEED)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError) as caught:
        source.poll({})
    target = proxy.targets[0]
    assert caught.value.message == (
        f"Le proxy des sources ({proxy.url[7:]}) refuse d'ouvrir {target} (403 Forbidden)."
    )
    assert caught.value.retryable
    assert feed_server.requests == []


def test_a_proxy_that_is_not_one(feed_server, pseudonymise, monkeypatch, allow_loopback) -> None:
    # Pointed at a web server by mistake: it answers the CONNECT with an HTTP error.
    monkeypatch.setenv(PROXY_ENV, feed_server.base)
    url = feed_server.serve("/rss.xml", FEED)
    source = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError, match=r"^Le proxy des sources \(127\.0\.0\.1:\d+\) refuse"):
        source.poll({})


# -- Bluesky's httpx clients: the authors' profiles and Jetstream's dictionary ---------


def test_appview_profiles_through_the_proxy(proxy, fake_appview, profile) -> None:
    did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    fake_appview.profiles[did] = profile(
        did, "cellule-crise.bsky.social", "Cellule de crise", "Compte officiel de la préfecture"
    )
    lookup = ProfileKinds(fake_appview.url, current_policy(), min_interval=0)
    try:
        assert lookup.lookup([did]) == {did: ("government",)}
    finally:
        lookup.close()
    assert proxy.targets == [f"127.0.0.1:{port_of(fake_appview.url)}"]
    assert fake_appview.asked == [[did]]


def test_appview_internal_address_refused_before_any_connect(
    proxy, fake_appview, monkeypatch
) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    lookup = ProfileKinds(fake_appview.url, current_policy(), min_interval=0)
    try:
        assert lookup.lookup(["did:plc:ewvi7nxzyoun6zhxrhs64oiz"]) == {}
    finally:
        lookup.close()
    assert lookup.failures == 1
    assert proxy.connections == 0
    assert fake_appview.asked == []


def test_jetstream_dictionary_through_the_proxy(proxy, feed_server, pseudonymise) -> None:
    # A web server plays Jetstream's host: it serves the dictionary (not a usable one:
    # atproto then goes on uncompressed) and cannot upgrade to a websocket.
    path = "/xrpc/network.bsky.jetstream.getZstdDictionary"
    feed_server.serve(path, b"not a zstd dictionary", content_type="application/octet-stream")
    endpoint = feed_server.base.replace("http://", "ws://") + "/xrpc"
    config = BlueskyConfig(keywords=("crue",), endpoint=endpoint, compress=True)
    error_statuses(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert feed_server.requests[0][0] == path
    target = f"127.0.0.1:{port_of(feed_server.base)}"
    assert proxy.targets[:2] == [target, target]  # the dictionary, then the websocket


# -- Mastodon (requests under Mastodon.py): REST and the streaming server -------------


def test_mastodon_rest_and_stream_through_the_proxy(
    proxy, fake_mastodon, pseudonymise, status
) -> None:
    fake_mastodon.timelines["tag:crue"] = [status(5, "Crue du Gardon", tags=["crue"])]
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    source = MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05)
    stream = source.stream({})
    try:
        item, _state = next(stream)
        fake_mastodon.wait_connections("tag:crue", 1)
        fake_mastodon.update("tag:crue", status(6, "Le pont est fermé", tags=["crue"]))
        while item is None or item.external_id != "6":
            item, _state = next(stream)
    finally:
        stream.close()
    target = f"127.0.0.1:{port_of(fake_mastodon.url)}"
    assert "/api/v1/instance/" in fake_mastodon.requests
    assert fake_mastodon.connections == {"tag:crue": 1}
    # The REST calls and the stream: every connection was a tunnel to the instance.
    assert len(proxy.targets) >= 2
    assert set(proxy.targets) == {target}


def test_mastodon_internal_address_refused_before_any_connect(
    proxy, fake_mastodon, pseudonymise, monkeypatch
) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    errors = error_statuses(MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert errors[0].message.startswith("Adresse interne refusée : 127.0.0.1 (boucle locale).")
    assert proxy.connections == 0
    assert fake_mastodon.requests == []


def test_mastodon_with_the_proxy_down_says_so_and_retries(
    fake_mastodon, dead_proxy, pseudonymise
) -> None:
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=2)
    source = MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05)
    errors = error_statuses(source, until_errors=2)
    assert len(errors) >= 2
    assert errors[0].message.startswith(
        f"Proxy des sources injoignable ({dead_proxy}) : Connection refused. Nouvel essai dans "
    )
    assert fake_mastodon.requests == []


# -- Bluesky's Jetstream (websockets under atproto) ------------------------------------


def test_jetstream_through_the_proxy(proxy, fake_jetstream, pseudonymise) -> None:
    config = BlueskyConfig(keywords=("crue",), endpoint=fake_jetstream.endpoint, compress=False)
    source = BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05)
    assert first_item(source) is not None
    assert len(fake_jetstream.paths) == 1
    assert proxy.targets == [f"127.0.0.1:{port_of(fake_jetstream.endpoint)}"]


def test_jetstream_internal_address_refused_before_any_connect(
    proxy, fake_jetstream, pseudonymise, monkeypatch
) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    config = BlueskyConfig(keywords=("crue",), endpoint=fake_jetstream.endpoint)
    errors = error_statuses(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert errors[0].message.startswith(
        "Jetstream : Adresse interne refusée : 127.0.0.1 (boucle locale)."
    )
    assert proxy.connections == 0
    assert fake_jetstream.paths == []


def test_jetstream_with_the_proxy_down_says_so_and_retries(
    fake_jetstream, dead_proxy, pseudonymise
) -> None:
    config = BlueskyConfig(keywords=("crue",), endpoint=fake_jetstream.endpoint, compress=False)
    source = BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05)
    errors = error_statuses(source, until_errors=2)
    assert len(errors) >= 2
    assert errors[0].message.startswith(
        f"Jetstream : Proxy des sources injoignable ({dead_proxy}) : Connection refused. "
        "Nouvel essai dans "
    )
    assert fake_jetstream.paths == []


# -- TLS inside the tunnel, and the proxy's answers ------------------------------------


def certificate_for_loopback(tmp_path: Any, name: str = "flux de test") -> tuple[str, str]:
    """A throwaway self-signed certificate for 127.0.0.1, its own CA named ``name``: the
    files of the certificate (what a client is told to trust) and of its key."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one per server of a test
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_feed(tmp_path) -> Any:
    """An HTTPS server on 127.0.0.1 (a certificate made here for that address) serving
    the feed; yields its URL and the certificate file the clients are told to trust."""
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert_file, key_file = certificate_for_loopback(tmp_path)
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/rss.xml", cert_file, paths
    httpd.shutdown()
    httpd.server_close()


def test_tls_inside_the_tunnel_httpx_and_requests(proxy, tls_feed) -> None:
    import ssl

    import httpx

    from beffroi.watch.sources.netclients import guarded_session, guarded_transport

    url, cafile, paths = tls_feed
    policy = current_policy()
    transport = guarded_transport(policy, verify=ssl.create_default_context(cafile=cafile))
    with httpx.Client(transport=transport, trust_env=False) as client:
        assert client.get(url).content == FEED
    session = guarded_session(policy)
    session.verify = cafile
    with session:
        assert session.get(url, timeout=5).content == FEED
    assert paths == ["/rss.xml", "/rss.xml"]
    assert proxy.targets == [f"127.0.0.1:{port_of(url)}"] * 2
    # Certificates are still checked, against the URL's host, through the tunnel.
    with (
        httpx.Client(transport=guarded_transport(policy), trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(url)


def reply_to_connect(reply: bytes, timeout: float = 2.0) -> None:
    """What ``_read_connect_reply`` makes of a proxy that sends ``reply`` then closes."""
    from beffroi.watch.sources.netguard import _read_connect_reply

    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(reply)
        theirs.shutdown(socket.SHUT_WR)
        _read_connect_reply(ours, "proxy:3128", "flux.example:443", timeout)
        # What follows the blank line is the destination's and must be left unread.
        rest = reply.split(b"\r\n\r\n", 1)[1]
        assert ours.recv(len(rest) + 1) == rest
    finally:
        ours.close()
        theirs.close()


def test_the_answer_to_connect_is_read_to_its_blank_line_only() -> None:
    reply_to_connect(b"HTTP/1.1 200 Connection established\r\nVia: squid\r\n\r\n\x16\x03\x01")
    reply_to_connect(b"HTTP/1.0 200\r\n\r\n")
    # The proxy's words go on a status line: control characters are dropped.
    with pytest.raises(ProxyFailure, match=r"refuse d'ouvrir flux\.example:443 \(502 Bad Gate\)"):
        reply_to_connect(b"HTTP/1.1 502 Bad Gate\x1b\x07\r\n\r\n")
    with pytest.raises(ProxyFailure, match="ne répond pas en HTTP"):
        reply_to_connect(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    with pytest.raises(ProxyFailure, match="a fermé la connexion sans répondre"):
        reply_to_connect(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProxyFailure, match="des en-têtes sans fin"):
        reply_to_connect(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 5000)


@given(st.binary(max_size=300))
def test_any_answer_to_connect_opens_the_tunnel_or_fails_clearly(reply: bytes) -> None:
    try:
        reply_to_connect(reply)
    except ProxyFailure as exc:
        assert exc.message.startswith("Le proxy des sources (proxy:3128) ")
        return
    assert reply.startswith((b"HTTP/1.0 2", b"HTTP/1.1 2"))


def test_a_proxy_that_never_answers(monkeypatch, pseudonymise, allow_loopback) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    where = f"127.0.0.1:{silent.getsockname()[1]}"
    try:
        monkeypatch.setenv(PROXY_ENV, f"http://{where}")
        config = RssConfig(url="http://127.0.0.1:9/rss.xml", timeout=0.3)
        source = RssSource("r", config, pseudonymise=pseudonymise)
        with pytest.raises(SourceError) as caught:
            source.poll({})
    finally:
        silent.close()
    assert caught.value.message == (
        f"Le proxy des sources ({where}) n'a pas ouvert 127.0.0.1:9 en 0.3 s."
    )


@pytest.mark.parametrize("host", ["flux.example\r\nX-Injected: 1", "flux example", ""])
def test_a_name_that_could_break_the_connect_line_never_reaches_the_proxy(proxy, host: str) -> None:
    from beffroi.watch.sources.netguard import _tunnel

    assert proxy is not None
    setting = parse_proxy(proxy.url)
    assert setting is not None
    with pytest.raises(ProxyFailure, match="Nom d'hôte illisible pour le proxy"):
        _tunnel(setting, host, 443, 2.0, None, [])
    assert proxy.connections == 0


def test_an_international_name_is_asked_for_in_its_ascii_form(proxy) -> None:
    from beffroi.watch.sources.netguard import _tunnel

    setting = parse_proxy(proxy.url)
    assert setting is not None
    proxy.refuse = True  # no lookup of it anywhere: the proxy answers 403 to the CONNECT
    with pytest.raises(ProxyFailure, match="403"):
        _tunnel(setting, "préfecture.invalid", 443, 2.0, None, [])
    assert proxy.targets == ["xn--prfecture-c4a.invalid:443"]


@pytest.fixture
def tls_jetstream(tmp_path, make_jetstream) -> Any:
    """The fake Jetstream over ``wss://`` (a certificate made here for 127.0.0.1):
    the server and the certificate file the client is told to trust."""
    import ssl

    # Its own authority's name: two authorities of one name would be one to OpenSSL.
    cert_file, key_file = certificate_for_loopback(tmp_path, "jetstream de test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return make_jetstream(ssl_context=context), cert_file


def first_post(source: Any) -> Any:
    from beffroi.watch.sources.base import RawPost

    stream = source.stream({})
    try:
        for item, _state in stream:
            if isinstance(item, RawPost):
                return item
    finally:
        stream.close()
    return None


def test_wss_inside_the_tunnel(proxy, tls_jetstream, pseudonymise, monkeypatch) -> None:
    from beffroi.watch.sources import netclients

    fake, cafile = tls_jetstream
    monkeypatch.setattr(netclients, "CA_BUNDLE", cafile)
    assert fake.endpoint.startswith("wss://127.0.0.1:")
    config = BlueskyConfig(keywords=("crue",), endpoint=fake.endpoint, compress=False)
    post = first_post(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert post is not None and post.external_id.startswith("at://")
    assert len(fake.paths) == 1
    assert proxy.targets == [f"127.0.0.1:{port_of(fake.endpoint)}"]


def test_every_client_trusts_the_same_authorities(
    proxy, tls_feed, tls_jetstream, pseudonymise, monkeypatch
) -> None:
    """The machine's store (here ``SSL_CERT_FILE``) is trusted by none of the source
    clients: websockets read it, so Jetstream trusted a server, or a proxy re-signing
    TLS, that RSS and Mastodon refused. The certificate is still checked against the
    URL's host through the tunnel."""
    import httpx
    import requests

    from beffroi.watch.sources.netclients import guarded_session, guarded_transport

    url, cafile, paths = tls_feed
    fake, jetstream_ca = tls_jetstream
    monkeypatch.setenv("SSL_CERT_FILE", jetstream_ca)
    config = BlueskyConfig(keywords=("crue",), endpoint=fake.endpoint, compress=False)
    errors = error_statuses(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert "CERTIFICATE_VERIFY_FAILED" in errors[0].message
    assert errors[0].message.startswith("Jetstream injoignable (127.0.0.1) : ")
    assert fake.paths == []
    policy = current_policy()
    monkeypatch.setenv("SSL_CERT_FILE", cafile)
    with (
        httpx.Client(transport=guarded_transport(policy), trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(url)
    with guarded_session(policy) as session, pytest.raises(requests.exceptions.SSLError):
        session.get(url, timeout=5)
    assert paths == []
    # What they all trust is CA_BUNDLE.
    from beffroi.watch.sources import netclients

    monkeypatch.setattr(netclients, "CA_BUNDLE", cafile)
    with httpx.Client(transport=guarded_transport(policy), trust_env=False) as client:
        assert client.get(url).content == FEED
    with guarded_session(policy) as session:
        assert session.get(url, timeout=5).content == FEED
    assert paths == ["/rss.xml", "/rss.xml"]


# -- The organisation's authority (BEFFROI_SOURCES_CA_FILE): a proxy that re-signs TLS --


def _authorities_file(tmp_path: Any, *cafiles: str, name: str = "pref-ca.pem") -> str:
    """One PEM file holding the certificates of ``cafiles``, with the comment lines
    distributions put between them."""
    from pathlib import Path

    path = Path(tmp_path) / name
    path.write_text(
        "".join(f"# Autorité {n}\n{Path(f).read_text()}" for n, f in enumerate(cafiles)),
        encoding="utf-8",  # accents outside the certificates, as in certifi's own
    )
    return str(path)


def _subjects(context: Any) -> list[str]:
    return [
        value
        for cert in context.get_ca_certs()
        for rdn in cert["subject"]
        for key, value in rdn
        if key in ("commonName", "organizationName")
    ]


def test_the_context_holds_certifis_authorities_and_the_files(
    tmp_path, tls_feed, monkeypatch
) -> None:
    import ssl

    from beffroi.watch.sources import netclients
    from beffroi.watch.sources.netguard import CA_FILE_ENV, current_authorities

    _url, cafile, _paths = tls_feed
    certifis = ssl.create_default_context(cafile=netclients.CA_BUNDLE).get_ca_certs()
    assert len(certifis) > 50
    monkeypatch.delenv(CA_FILE_ENV, raising=False)
    assert current_authorities().pem == ""
    assert "flux de test" not in _subjects(netclients.tls_context())
    monkeypatch.setenv(CA_FILE_ENV, _authorities_file(tmp_path, cafile))
    context = netclients.tls_context()
    subjects = _subjects(context)
    # In addition, not instead: the public authorities stay.
    assert "flux de test" in subjects and "ISRG Root X1" in subjects
    assert len(context.get_ca_certs()) == len(certifis) + 1
    # An empty value is no setting.
    monkeypatch.setenv(CA_FILE_ENV, "  ")
    assert current_authorities().count == 0


def test_every_client_trusts_a_server_the_files_authority_signed(
    proxy, tls_feed, tls_jetstream, tmp_path, pseudonymise, monkeypatch
) -> None:
    """A network whose proxy decrypts and re-signs TLS: here two servers whose
    certificates certifi does not know, the file naming both authorities. RSS and the
    AppView (httpx), Mastodon (requests) and Jetstream (websockets) all trust them."""
    from beffroi.watch.sources.base import RawPost
    from beffroi.watch.sources.netclients import guarded_client
    from beffroi.watch.sources.netguard import CA_FILE_ENV

    url, feed_ca, paths = tls_feed
    fake, jetstream_ca = tls_jetstream
    # Without it, every one of them refuses (the status every source showed).
    rss = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError) as caught:
        rss.poll({})
    # Said as a certificate not recognised, with what to set (it said "connexion refusée").
    assert caught.value.message == (
        f"Flux injoignable ({url}) : certificat du serveur non reconnu (self-signed "
        "certificate) ; derrière un proxy qui déchiffre TLS, voir BEFFROI_SOURCES_CA_FILE."
    )
    monkeypatch.setenv(CA_FILE_ENV, _authorities_file(tmp_path, feed_ca, jetstream_ca))
    batch = rss.poll({})  # the same source: the file is read at each poll
    assert [p.external_id for p in batch.posts if isinstance(p, RawPost)] == ["a"]
    mastodon = MastodonSource(
        "m", MastodonConfig(instance_url=url.rsplit("/", 1)[0]), pseudonymise=pseudonymise
    )
    api = mastodon.api_factory(mastodon.config)
    assert api.session.get(url, timeout=5).content == FEED
    with guarded_client(current_policy()) as client:
        assert client.get(url).content == FEED
    config = BlueskyConfig(keywords=("crue",), endpoint=fake.endpoint, compress=False)
    post = first_post(BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05))
    assert post is not None and post.external_id.startswith("at://")
    assert paths == ["/rss.xml"] * 3
    assert len(fake.paths) == 1
    # All of them through the tunnel, as on such a network.
    assert proxy.targets.count(f"127.0.0.1:{port_of(url)}") == 4


def test_a_renewed_file_is_read_at_the_next_poll(
    tls_feed, tls_jetstream, tmp_path, pseudonymise, allow_loopback, monkeypatch
) -> None:
    from beffroi.watch.sources.netguard import CA_FILE_ENV

    url, feed_ca, _paths = tls_feed
    _fake, other_ca = tls_jetstream
    path = _authorities_file(tmp_path, feed_ca)
    monkeypatch.setenv(CA_FILE_ENV, path)
    rss = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    assert len(rss.poll({}).posts) == 1
    first = rss.client
    assert rss.client is first  # the same file: the same client (its connections kept)
    _authorities_file(tmp_path, other_ca)  # the authority changed, the feed's did not
    with pytest.raises(SourceError, match="certificat du serveur non reconnu"):
        rss.poll({})
    assert rss.client is not first


@pytest.mark.parametrize("problem", ["missing", "folder", "key", "der", "broken", "fifo", "big"])
def test_a_wrong_file_is_said_in_french_naming_it(tmp_path, tls_feed, problem) -> None:
    import os
    from pathlib import Path

    from beffroi.watch.sources.netguard import CA_FILE_ENV, current_authorities

    _url, cafile, _paths = tls_feed
    path = tmp_path / "ca.pem"
    pem = Path(cafile).read_text()
    if problem == "folder":
        path.mkdir()
    elif problem == "key":
        path.write_text((Path(cafile).parent / "key.pem").read_text())
    elif problem == "der":
        import ssl

        path.write_bytes(ssl.PEM_cert_to_DER_cert(pem))
    elif problem == "broken":
        # The second certificate's body damaged: the first is fine.
        body = pem.split("\n")
        body[3] = "A" * len(body[3])
        path.write_text(pem + "\n".join(body))
    elif problem == "fifo":
        os.mkfifo(path)  # reading it would wait for a writer forever
    elif problem == "big":
        with open(path, "wb") as handle:
            handle.write(pem.encode())
            handle.truncate(4 * 1024 * 1024 + 1)
    expected = {
        "missing": "introuvable.",
        "folder": "n'est pas un fichier.",
        "key": "ne contient aucun certificat au format PEM (-----BEGIN CERTIFICATE-----).",
        "der": "ne contient aucun certificat au format PEM (-----BEGIN CERTIFICATE-----).",
        "broken": ": le certificat n° 2 est illisible.",
        "fifo": "n'est pas un fichier.",
        "big": "dépasse 4 Mo : ce n'est pas une liste d'autorités.",
    }[problem]
    with pytest.raises(SettingError) as caught:
        current_authorities({CA_FILE_ENV: str(path)})
    assert str(caught.value) == f"{CA_FILE_ENV} : « {path} » {expected}"


def test_a_file_the_process_may_not_read(tmp_path, tls_feed, monkeypatch) -> None:
    from pathlib import Path

    from beffroi.watch.sources import netguard

    path = tmp_path / "ca.pem"
    path.write_text(Path(tls_feed[1]).read_text())

    def failing(error: OSError) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise error

        return fail

    # chmod 000 would do, except for root (as in CI's containers), who reads anyway.
    monkeypatch.setattr(netguard, "open", failing(PermissionError(13, "x")), raising=False)
    with pytest.raises(SettingError) as caught:
        netguard.current_authorities({netguard.CA_FILE_ENV: str(path)})
    assert str(caught.value) == f"{netguard.CA_FILE_ENV} : « {path} » illisible : accès refusé."
    monkeypatch.setattr(netguard, "open", failing(OSError(5, "EIO")), raising=False)
    with pytest.raises(SettingError, match=r"« .+ » illisible \(EIO\)\.$"):
        netguard.current_authorities({netguard.CA_FILE_ENV: str(path)})


@functools.cache
def _one_authority() -> bytes:
    import tempfile
    from pathlib import Path

    return Path(certificate_for_loopback(tempfile.mkdtemp())[0]).read_bytes()


@given(
    st.binary(max_size=400),
    st.sampled_from([b"", b"-----BEGIN CERTIFICATE-----\n", b"-----END CERTIFICATE-----\n"]),
    st.booleans(),
)
def test_any_bytes_give_authorities_or_a_clear_error(
    data: bytes, marker: bytes, with_certificate: bool
) -> None:
    """Whatever surrounds them (comments, a key, junk, a stray marker), the certificates
    of a file are found, or the error names the file."""
    from beffroi.watch.sources.netguard import _authorities

    certificate = _one_authority() if with_certificate else b""
    try:
        found = _authorities("/etc/pref/ca.pem", marker + data + certificate + marker)
    except SettingError as exc:
        assert str(exc).startswith("BEFFROI_SOURCES_CA_FILE : « /etc/pref/ca.pem » ")
        # A certificate left whole is always found: only a broken one is refused.
        assert not with_certificate or "illisible" in str(exc)
        return
    assert found.count >= 1 and found.pem.isascii()
    assert not with_certificate or certificate.decode().strip() in found.pem


def test_with_a_wrong_file_each_network_source_says_it_and_retries(
    tls_feed, tmp_path, pseudonymise, allow_loopback, monkeypatch
) -> None:
    """Each network source says it on its status and tries again; the file, once
    there, is taken at the next attempt of the same source, without a restart. The
    form says it under the address."""
    from beffroi.watch.sources.base import RawPost
    from beffroi.watch.sources.netguard import CA_FILE_ENV

    url, cafile, _paths = tls_feed
    path = tmp_path / "absent.pem"
    monkeypatch.setenv(CA_FILE_ENV, str(path))
    said = f"Réglage du serveur invalide : {CA_FILE_ENV} : « {path} » introuvable."
    with pytest.raises(ConfigError) as caught:
        validate_config("rss", {"url": url})
    assert caught.value.errors == {"url": said}
    rss = RssSource("r", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    config = BlueskyConfig(keywords=("crue",), endpoint="wss://127.0.0.1:9/subscribe")
    for source in (
        rss,
        MastodonSource("m", MastodonConfig(instance_url=url), pseudonymise=pseudonymise),
        BlueskySource("b", config, pseudonymise=pseudonymise, idle_tick=0.05),
    ):
        errors = error_statuses(source, until_errors=2)
        assert len(errors) >= 2, source.kind
        for status in errors:
            assert status.message.startswith(f"Configuration invalide : {said} Nouvel essai dans ")
    # The same RSS source, in the runner, once the file is in place.
    statuses: list[Any] = []
    received: list[Any] = []
    stop = threading.Event()
    thread = start_source_thread(
        rss,
        None,
        lambda posts, checkpoint: received.extend(posts),
        stop_event=stop,
        on_status=statuses.append,
        backoff=Backoff(base=0.05, maximum=0.1),
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(s.state == "error" for s in statuses):
            time.sleep(0.02)
        _authorities_file(tmp_path, cafile, name="absent.pem")
        while time.monotonic() < deadline and not received:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert [p.external_id for p in received if isinstance(p, RawPost)] == ["a"]
    assert statuses[-1].state == "stopped" and statuses[-2].state == "ok"
