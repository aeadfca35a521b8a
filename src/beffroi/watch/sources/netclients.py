"""The guard (``netguard``) at connect time in each client library the sources use.

- httpx (RSS, and atproto's dictionary fetch for Jetstream): a transport whose
  connection pool uses ``GuardedBackend``, an httpcore network backend that
  resolves the host, checks the addresses and connects to the one it checked.
  Each redirect opens its connection through it too.
- requests (under Mastodon.py, REST and server-sent events): a session whose
  adapter builds urllib3 connections that connect the same way.
- websockets (under atproto's Jetstream client): ``NetworkPolicy.create_connection``
  makes the socket, handed to websockets as ``sock``.

Proxies from the environment (``HTTP_PROXY``…) are ignored by these clients:
through the libraries' own proxy support, the address connected to would be the
proxy's, and the guard would no longer see where a request goes. The deployment's
explicit proxy (``BEFFROI_SOURCES_PROXY``) is used one level below instead: the
guard's ``create_connection`` checks the destination, then returns a socket
already tunnelled through the proxy (HTTP CONNECT), on which each library does
its TLS and HTTP or WebSocket as on a direct connection.

All three check servers' certificates against one list of authorities, ``CA_BUNDLE``
(certifi's, httpx's and requests' own default), plus the deployment's own in
``BEFFROI_SOURCES_CA_FILE`` (a proxy that decrypts and re-signs TLS): one
``ssl.SSLContext`` from ``tls_context``, given to httpx (``verify``), to requests'
connection pools and to websockets (``ssl``). websockets alone would read the
machine's store and ``SSL_CERT_FILE`` instead: the same server, or a proxy that
re-signs TLS, could then be trusted by Jetstream and refused by RSS and Mastodon
(docs/decisions/sources.md, "One list of certificate authorities").
"""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
import requests
import requests.certs
from httpcore._backends.sync import SyncStream
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from beffroi.watch.sources.netguard import Authorities, NetworkPolicy, current_authorities

# The certificate authorities every source client trusts (a PEM file): certifi's list,
# which requests and httpx use by default (both depend on it).
CA_BUNDLE = requests.certs.where()


def tls_context(authorities: Authorities | None = None) -> ssl.SSLContext:
    """A client TLS context that trusts ``CA_BUNDLE`` and ``authorities`` (by default
    those of ``BEFFROI_SOURCES_CA_FILE``, read now: ``SettingError`` if it is wrong).

    In addition to certifi's, not instead: a proxy that inspects TLS often lets some
    destinations through untouched, and those still show their public certificates."""
    if authorities is None:
        authorities = current_authorities()
    context = ssl.create_default_context(cafile=CA_BUNDLE)
    if authorities.pem:
        context.load_verify_locations(cadata=authorities.pem)
    return context


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses ``policy`` allows."""

    def __init__(self, policy: NetworkPolicy) -> None:
        super().__init__()
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if self.policy.proxy is not None:
            return self._through_proxy(host, port, timeout, local_address, socket_options)
        try:
            addresses = self.policy.resolve(host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for _family, sockaddr in addresses:
            # An address literal: httpcore connects to it without a lookup of its own,
            # while TLS still checks the certificate against the URL's host name.
            try:
                return super().connect_tcp(
                    str(sockaddr[0]), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def _through_proxy(
        self,
        host: str,
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.NetworkStream:
        # httpcore's stream over the guard's tunnel (its public backend only opens
        # sockets itself); TLS is then started on it against the URL's host name.
        # BlockedAddress and ProxyFailure go through as they are, like a refusal
        # of the direct path.
        try:
            sock = self.policy.create_connection(
                host,
                port,
                timeout=timeout,
                source_address=None if local_address is None else (local_address, 0),
                socket_options=socket_options or (),
            )
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return SyncStream(sock)


def guarded_transport(policy: NetworkPolicy, **options: Any) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through ``GuardedBackend``;
    ``verify`` is ``tls_context()`` unless given."""
    if "verify" not in options:
        options["verify"] = tls_context()
    transport = httpx.HTTPTransport(trust_env=False, **options)
    # httpx 0.28 takes no network backend (encode/httpx#3749 proposes one): the pool
    # it built is given ours. The tests of each source fail if this stops working.
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool):  # pragma: no cover - no proxy here
        raise TypeError("a guarded transport cannot go through a proxy")
    pool._network_backend = GuardedBackend(policy)
    return transport


def guarded_client(
    policy: NetworkPolicy, authorities: Authorities | None = None, **options: Any
) -> httpx.Client:
    """An ``httpx.Client`` (without environment proxies) guarded by ``policy``, trusting
    ``tls_context(authorities)``."""
    transport = guarded_transport(policy, verify=tls_context(authorities))
    return httpx.Client(transport=transport, trust_env=False, **options)


class _GuardedConnectionMixin:
    """urllib3's ``_new_conn`` with the guard's resolution and connection; the
    exceptions are urllib3's own, so requests reports them as it always does."""

    policy: NetworkPolicy
    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: tuple[str, int] | None
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        timeout = self.timeout if isinstance(self.timeout, int | float) else None
        try:
            sock = self.policy.create_connection(
                self._dns_host,
                self.port,
                timeout=timeout,
                source_address=self.source_address,
                socket_options=self.socket_options or (),
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(
                self,  # type: ignore[arg-type]
                f"Failed to establish a new connection: {exc}",
            ) from exc
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go through ``policy`` and check servers'
    certificates with ``context`` (``tls_context()`` by default)."""

    def __init__(
        self, policy: NetworkPolicy, context: ssl.SSLContext | None = None, **kwargs: Any
    ) -> None:
        self.policy = policy
        # requests takes a path to trust, and the deployment's authorities live in no
        # file of certifi's: urllib3's pools take a context instead.
        self.context = context if context is not None else tls_context()
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)
        guard = {"policy": self.policy}
        http = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), guard)
        https = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), guard)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)
        if verify is True:
            # requests names certifi's file for urllib3 to load into the context at
            # each connection: the context already holds it, and the deployment's.
            conn.ca_certs = None
            conn.ca_cert_dir = None

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise requests.exceptions.InvalidProxyURL(
            "un proxy masquerait l'adresse réellement jointe : refusé pour les sources"
        )


def guarded_session(
    policy: NetworkPolicy, authorities: Authorities | None = None
) -> requests.Session:
    """A requests session (without environment proxies) guarded by ``policy``, trusting
    ``tls_context(authorities)``."""
    session = requests.Session()
    session.trust_env = False
    session.verify = True  # with the adapter's context: CA_BUNDLE and the deployment's
    adapter = GuardedAdapter(policy, tls_context(authorities))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
