"""Which addresses a source may connect to: the guard against server-side request forgery.

A coordinator types a feed, instance or Jetstream address; the worker then
connects from inside the hosting network. Without a guard, that address could
be the database (``http://127.0.0.1:5432``), the cloud metadata service
(``http://169.254.169.254/``), an intranet host, a name that resolves to one
of them, or a redirect to one. So every connection a source opens goes through
``create_connection``, which resolves the name, judges each address with
``NetworkPolicy.refusal`` and connects only to an address it judged: the check
and the connection use the same address, so a name that changes its answer
between the two (DNS rebinding) gains nothing.

Only public (globally routable) unicast addresses are allowed, unless the
deployment lists networks in ``BEFFROI_SOURCES_ALLOW_NETWORKS`` (comma or
space separated, e.g. ``10.20.0.0/16, 2001:db8:5::/48``): an intranet feed,
or the loopback servers of the tests.

Where the network forces outgoing traffic through an HTTP proxy, the deployment
names it in ``BEFFROI_SOURCES_PROXY`` (``http://[user:password@]host:port``).
Every connection is then a CONNECT tunnel through it, asked only after the
destination's name was resolved here and its addresses judged like a direct
connection's: the proxy's own address is the operator's choice and is not judged.

Where that proxy decrypts and re-signs TLS with the organisation's own authority, the
deployment names a PEM file of it in ``BEFFROI_SOURCES_CA_FILE``: trusted in addition to
certifi's list (``current_authorities``; the clients' contexts are in ``netclients``).

Pure standard library, no Django: the worker and the web form both use it.
The clients' hooks (httpx, requests, websockets) are in ``netclients.py``.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import os
import re
import socket
import ssl
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

ALLOW_ENV = "BEFFROI_SOURCES_ALLOW_NETWORKS"
PROXY_ENV = "BEFFROI_SOURCES_PROXY"
CA_FILE_ENV = "BEFFROI_SOURCES_CA_FILE"
NO_PROXY_ENV = "BEFFROI_SOURCES_NO_PROXY"

# certifi's whole list is about 300 KB: a file far larger is not a few authorities.
MAX_CA_FILE = 4 * 1024 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6052's well-known NAT64 prefix: an IPv6-only host reaches IPv4 sites through it,
# so what counts is the IPv4 address it carries. (The stdlib calls the whole of ::/8,
# this prefix included, "reserved".)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Names that always mean this machine (RFC 6761), refused in the form without a lookup.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class SettingError(ValueError):
    """A deployment setting (``BEFFROI_SOURCES_ALLOW_NETWORKS``, ``BEFFROI_SOURCES_PROXY``,
    ``BEFFROI_SOURCES_CA_FILE``) that cannot be read; the text (French) names the variable
    and what is wrong."""


class NetworkFailure(ConnectionError):
    """A connection the guard did not make, with ``message`` (French UI text). A
    ``ConnectionError`` on purpose: every client library treats it as a connection
    that could not be made (its pool, retries and cleanup behave as for "connection
    refused"), and ``find_blocked`` recognises it wherever a library wrapped it."""

    message: str


class ProxyFailure(NetworkFailure):
    """The deployment's proxy could not be reached or would not open the tunnel."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class BlockedAddress(NetworkFailure):
    """A connection refused by the guard: the destination is an internal address."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        # An address written out is shown as written, once; a name, and the old IPv4
        # spellings nobody reads (2130706433, 0x7f.1), with the address they lead to.
        literal = parse_address(host)
        plain = literal is not None and (literal.version == 6 or str(literal) == host.strip("[]"))
        where = host if plain else f"{host} → {address}"
        self.message = f"Adresse interne refusée : {where} ({reason})."
        super().__init__(self.message)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for, when it is only a way to reach it."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour  # 2002::/16 (6to4) carries its IPv4 gateway


def refusal_reason(address: IPAddress) -> str | None:
    """Why a source must not connect to ``address`` (French), or None if it is public.

    Built on the stdlib's own classification (``ipaddress`` follows IANA's
    special-purpose registries); what it does not cover is the IPv6 forms of
    an IPv4 address, which are judged by that address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return refusal_reason(inner)
    if address.is_unspecified:
        return "adresse non spécifiée"
    if address.is_loopback:
        return "boucle locale"
    if address.is_link_local:
        return "lien local"  # 169.254.169.254, the cloud metadata service, is here
    if address.is_multicast:
        return "multidiffusion"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site local"
    if address.is_private:
        return "réseau privé"
    if address.is_reserved:
        return "plage réservée"
    if not address.is_global:
        # For IPv4, what is neither private nor global is 100.64.0.0/10.
        return "réseau partagé d'opérateur" if address.version == 4 else "adresse non publique"
    return None


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address if it is one (IPv6 brackets and zone allowed), else None.

    Also the legacy IPv4 spellings that ``getaddrinfo`` accepts (``2130706433``,
    ``0x7f.1``, ``127.1``): a form must not let them pass as host names."""
    text = text.strip().strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and text[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """The networks of ``BEFFROI_SOURCES_ALLOW_NETWORKS`` (comma or space separated);
    ValueError naming the first item that is not a network."""
    networks = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise SettingError(f"{ALLOW_ENV} : « {item} » n'est pas un réseau ({exc}).") from exc
    return tuple(networks)


@dataclass(frozen=True)
class Bypass:
    """What the sources reach without the proxy (``BEFFROI_SOURCES_NO_PROXY``): networks
    (judged on the addresses a name resolved to, as the guard judges them) and domain
    names (a name and every name under it)."""

    networks: tuple[IPNetwork, ...] = ()
    domains: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.networks or self.domains)

    def named(self, host: str) -> bool:
        name = host.rstrip(".").lower()
        return any(name == d or name.endswith("." + d) for d in self.domains)

    def holds(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


# A domain of NO_PROXY: labels of letters, digits and hyphens (IDNs in their ASCII form).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")


def parse_no_proxy(text: str) -> Bypass:
    """``BEFFROI_SOURCES_NO_PROXY``: networks (``10.20.0.0/16``, an address) and domain
    names (``intranet.example``, ``.intranet.example`` or ``*.intranet.example``: the
    name and all under it), comma or space separated. ``SettingError`` naming the first
    item that is neither."""
    networks: list[IPNetwork] = []
    domains: list[str] = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
            continue
        except ValueError:
            pass
        name = item.lower().removeprefix("*").removeprefix(".").rstrip(".")
        if name == "" or not _DOMAIN.fullmatch(name) or ":" in item:
            raise SettingError(
                f"{NO_PROXY_ENV} : « {item[:100]} » n'est ni un réseau ni un nom de domaine "
                "(10.20.0.0/16 ou intranet.example attendu)."
            )
        domains.append(name)
    return Bypass(tuple(networks), tuple(domains))


@dataclass(frozen=True)
class Proxy:
    """The HTTP proxy all sources' connections go through (``BEFFROI_SOURCES_PROXY``)."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def where(self) -> str:
        """``host:port`` as shown in a status (never the credentials)."""
        return f"{_authority(self.host)}:{self.port}"

    def authorization(self) -> str | None:
        if not (self.username or self.password):
            return None
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def _authority(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_proxy(text: str) -> Proxy | None:
    """``BEFFROI_SOURCES_PROXY``: ``http://[user:password@]host:port``, None when empty
    (sources connect directly). ``SettingError`` saying what is wrong otherwise; the
    password never appears in it."""
    text = text.strip()
    if not text:
        return None
    # An error shown on every source's status must not carry the password.
    shown = re.sub(r"//[^/@]*@", "//…@", text)[:200]
    expected = "http://hôte:port attendu"

    def wrong(why: str) -> SettingError:
        return SettingError(f"{PROXY_ENV} : « {shown} » {why} ({expected}).")

    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise wrong("n'est pas une adresse de proxy") from exc
    if parts.scheme.lower() != "http":
        # TLS up to the proxy (https://) or SOCKS would be another client each.
        raise wrong("n'est pas un proxy http://")
    if not host or not _PROXY_HOST.fullmatch(host):
        raise wrong("ne nomme pas d'hôte valide")
    if not port:  # absent, or 0
        raise wrong("ne précise pas de port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise wrong("contient un chemin")
    return Proxy(host, port, unquote(parts.username or ""), unquote(parts.password or ""))


# A name, an IPv4 address or (brackets removed) an IPv6 one: nothing that could end a
# line of the HTTP request to the proxy or hide a second host.
_PROXY_HOST = re.compile(r"[A-Za-z0-9._:%-]+")


@dataclass(frozen=True)
class NetworkPolicy:
    """Public addresses, plus the networks a deployment explicitly allows; through
    ``proxy`` when the deployment names one."""

    allowed: tuple[IPNetwork, ...] = ()
    proxy: Proxy | None = None
    # Destinations reached without the proxy (an intranet feed the proxy cannot, or
    # must not, reach).
    bypass: Bypass = field(default_factory=Bypass)

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused (French), or None if a source may connect to it."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            # fe80::1%eth0: the zone names an interface, not another address.
            bare = ipaddress.IPv6Address(str(address).split("%", 1)[0])
            inner = _embedded_ipv4(bare)
            candidates = [bare] if inner is None else [bare, inner]
        for candidate in candidates:
            if any(candidate in network for network in self.allowed):
                return None
        return refusal_reason(candidates[0])

    def check(self, host: str, address: IPAddress) -> None:
        """Raise ``BlockedAddress`` if ``address`` (which ``host`` resolved to) is refused."""
        reason = self.refusal(address)
        if reason is not None:
            raise BlockedAddress(host, str(address), reason)

    def url_refusal(self, url: str) -> str | None:
        """The French message refusing ``url`` in a form when its host is an internal
        address written out (or a name that always means this machine); None when
        nothing is obvious without a lookup — the connection is checked anyway."""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return None
        if not host:
            return None
        name = host.rstrip(".").lower()
        if name in _LOCAL_NAMES or name.endswith(".localhost"):
            addresses: list[IPAddress] = [
                ipaddress.IPv4Address("127.0.0.1"),
                ipaddress.IPv6Address("::1"),
            ]
        else:
            parsed = parse_address(host)
            if parsed is None:
                return None
            addresses = [parsed]
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                return BlockedAddress(host, str(address), reason).message
        return None

    def plain_http_allowed(self, url: str) -> bool:
        """Whether ``url`` may be read over plain ``http://``: only when its host is
        written as this machine (loopback, ``localhost``) or as an address in a network
        the deployment allows (an intranet mirror, the tests' servers). Anywhere else
        the answer crosses networks nobody here vouches for, and could be read or
        changed on the way; a name is not looked up (what it resolves to may change)."""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return False
        if not host:
            return False
        name = host.rstrip(".").lower()
        if name in _LOCAL_NAMES or name.endswith(".localhost"):
            return True
        address = parse_address(host)
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address):
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        return address.is_loopback or any(address in network for network in self.allowed)

    def resolve(self, host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
        """The (family, socket address) pairs of ``host`` this policy allows, in the
        resolver's order. ``BlockedAddress`` if it resolves to refused addresses only;
        ``socket.gaierror`` if it does not resolve."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        allowed: list[tuple[int, tuple[Any, ...]]] = []
        first_refused: BlockedAddress | None = None
        for family, _type, _proto, _name, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(str(sockaddr[0]))
            try:
                self.check(host, address)
            except BlockedAddress as exc:
                first_refused = first_refused or exc
                continue
            pair = (family, sockaddr)
            if pair not in allowed:
                allowed.append(pair)
        if not allowed:
            if first_refused is not None:
                raise first_refused
            raise socket.gaierror(socket.EAI_NONAME, f"aucune adresse IP pour {host}")
        return allowed

    def create_connection(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes]] = (),
    ) -> socket.socket:
        """``socket.create_connection`` that connects only to addresses this policy
        allows, the very addresses it checked; or, with a proxy, a tunnel through it
        to ``host``, asked for once ``host`` resolved here to allowed addresses."""
        options = list(socket_options or ())
        pairs = self.resolve(host, port)  # BlockedAddress before the proxy hears of it
        if self.proxy is not None and not self._direct(host, pairs):
            return _tunnel(self.proxy, host, port, timeout, source_address, options)
        last: OSError | None = None
        for family, sockaddr in pairs:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for level, name, value in options:
                    sock.setsockopt(level, name, value)
                if timeout is not None:
                    sock.settimeout(timeout)
                if source_address is not None:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                last = exc
        assert last is not None  # resolve() returned at least one address
        raise last

    def _direct(self, host: str, pairs: list[tuple[int, tuple[Any, ...]]]) -> bool:
        """Whether ``host`` is reached without the proxy: named in the bypass, or every
        address it resolved to (and that the guard allowed) in a bypassed network."""
        if self.bypass.named(host):
            return True
        if not self.bypass.networks:
            return False
        return all(
            self.bypass.holds(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
            for _family, sockaddr in pairs
        )


# The longest answer to a CONNECT read before giving up on it: a status line and headers.
_MAX_PROXY_REPLY = 16384


def _tunnel(
    proxy: Proxy,
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None,
    options: list[tuple[int, int, int | bytes]],
) -> socket.socket:
    """A socket to ``host:port`` through ``proxy`` (HTTP CONNECT), or ``ProxyFailure``."""
    where = proxy.where
    # The name, not the address checked here: proxies filter and log by name, and many
    # refuse a CONNECT to a bare address (the limit this leaves is in
    # docs/decisions/sources-internal-addresses.md). Nothing in it may end the
    # request's line (clients and the resolver already refuse such names: twice is cheap).
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if not _PROXY_HOST.fullmatch(ascii_host):
        raise ProxyFailure(f"Nom d'hôte illisible pour le proxy : {host!r}.")
    target = f"{_authority(ascii_host)}:{port}"
    try:
        sock = socket.create_connection(
            (proxy.host, proxy.port), timeout=timeout, source_address=source_address
        )
    except TimeoutError as exc:
        raise ProxyFailure(
            f"Proxy des sources injoignable ({where}) : pas de réponse{_within(timeout)}."
        ) from exc
    except OSError as exc:
        raise ProxyFailure(
            f"Proxy des sources injoignable ({where}) : {exc.strerror or exc}."
        ) from exc
    try:
        for level, name, value in options:
            sock.setsockopt(level, name, value)
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        authorization = proxy.authorization()
        if authorization is not None:
            lines.append(f"Proxy-Authorization: {authorization}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        _read_connect_reply(sock, where, target, timeout)
        return sock
    except BaseException as exc:
        sock.close()
        if isinstance(exc, TimeoutError):
            raise ProxyFailure(
                f"Le proxy des sources ({where}) n'a pas ouvert {_authority(host)}:{port}"
                f"{_within(timeout)}."
            ) from exc
        if isinstance(exc, OSError) and not isinstance(exc, ProxyFailure):
            raise ProxyFailure(
                f"Le proxy des sources ({where}) a coupé la connexion : {exc.strerror or exc}."
            ) from exc
        raise


def _within(timeout: float | None) -> str:
    return "" if timeout is None else f" en {timeout:g} s"


def _read_connect_reply(
    sock: socket.socket, where: str, target: str, timeout: float | None
) -> None:
    """Read the proxy's answer up to its blank line, byte by byte (what follows is the
    destination's: nothing of it may be swallowed here); ``ProxyFailure`` unless 2xx."""
    deadline = None if timeout is None else time.monotonic() + timeout
    reply = bytearray()
    while not reply.endswith(b"\r\n\r\n"):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("CONNECT")
            sock.settimeout(left)
        byte = sock.recv(1)
        if not byte:
            raise ProxyFailure(
                f"Le proxy des sources ({where}) a fermé la connexion sans répondre."
            )
        reply += byte
        if len(reply) > _MAX_PROXY_REPLY:
            raise ProxyFailure(f"Le proxy des sources ({where}) répond des en-têtes sans fin.")
    sock.settimeout(timeout)
    status = bytes(reply).split(b"\r\n", 1)[0].decode("latin-1")
    found = re.fullmatch(r"HTTP/1\.[01] (\d{3})(?: (.*))?", status)
    if found is None:
        raise ProxyFailure(f"Le proxy des sources ({where}) ne répond pas en HTTP.")
    code = int(found.group(1))
    if 200 <= code < 300:
        return
    # The proxy's own words, cut and kept printable: they end up on a status line.
    reason = "".join(c for c in (found.group(2) or "") if c.isprintable())[:80].strip()
    said = f"{code} {reason}".strip()
    if code == 407:
        raise ProxyFailure(
            f"Le proxy des sources ({where}) demande une authentification ({said}) : "
            f"vérifier l'identifiant et le mot de passe de {PROXY_ENV}."
        )
    raise ProxyFailure(f"Le proxy des sources ({where}) refuse d'ouvrir {target} ({said}).")


def current_policy(environ: Mapping[str, str] | None = None) -> NetworkPolicy:
    """The policy of this deployment, read from ``BEFFROI_SOURCES_ALLOW_NETWORKS`` and
    ``BEFFROI_SOURCES_PROXY`` when a source is built or a form checked (not at import:
    a test or an operator may set them later). ``SettingError`` (a ValueError) if
    either cannot be read."""
    env = os.environ if environ is None else environ
    return _policy(env.get(ALLOW_ENV, ""), env.get(PROXY_ENV, ""), env.get(NO_PROXY_ENV, ""))


@functools.lru_cache(maxsize=8)
def _policy(allowed: str, proxy: str, no_proxy: str = "") -> NetworkPolicy:
    return NetworkPolicy(parse_networks(allowed), parse_proxy(proxy), parse_no_proxy(no_proxy))


def find_blocked(exc: BaseException | None) -> NetworkFailure | None:
    """The guard's failure (``BlockedAddress``, or ``ProxyFailure`` when the proxy could
    not open the tunnel) behind an exception a client library raised, if any:
    libraries wrap connection errors (urllib3 in ``NewConnectionError`` inside
    ``MaxRetryError``, Mastodon.py in ``MastodonNetworkError``, atproto in
    ``JetstreamError``), through ``__cause__``, ``__context__``, ``reason`` or ``args``."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NetworkFailure):
            return current
        # ``reason`` only as an attribute of the instance (urllib3's MaxRetryError):
        # elsewhere it may be a property that warns (websockets' ConnectionClosed).
        reason = vars(current).get("reason")
        todo.extend((current.__cause__, current.__context__, reason))
        todo.extend(current.args)
    return None


@dataclass(frozen=True)
class Authorities:
    """The certificate authorities ``BEFFROI_SOURCES_CA_FILE`` adds to certifi's: the
    file's path (empty: none) and its certificates, as PEM text (ASCII, only the
    certificate blocks). Equal values mean the same trust: a source rebuilds its
    client when the file it connects with differs from the one it was built with."""

    path: str = ""
    pem: str = field(default="", repr=False)
    count: int = 0


_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----"
)


def current_authorities(environ: Mapping[str, str] | None = None) -> Authorities:
    """The authorities of ``BEFFROI_SOURCES_CA_FILE``, read now: when a source connects
    (each poll of a feed, each connection of a stream) and when a form is checked, so a
    file renewed or fixed is taken without a restart. ``SettingError`` (French, naming
    the file) if it is missing, unreadable or holds no usable certificate."""
    env = os.environ if environ is None else environ
    path = env.get(CA_FILE_ENV, "").strip()
    if not path:
        return Authorities()
    return read_authorities(path)


def read_authorities(path: str) -> Authorities:
    """The certificates of the PEM file ``path`` (see ``current_authorities``)."""
    shown = path[:200]

    def bad_file(why: str) -> SettingError:
        return SettingError(f"{CA_FILE_ENV} : « {shown} » {why}.")

    try:
        # Not a FIFO or a device (/dev/zero): open would wait, or read would not end.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise bad_file("n'est pas un fichier")
        with open(path, "rb") as handle:
            data = handle.read(MAX_CA_FILE + 1)
    except FileNotFoundError as exc:
        raise bad_file("introuvable") from exc
    except PermissionError as exc:
        raise bad_file("illisible : accès refusé") from exc
    except OSError as exc:
        raise bad_file(f"illisible ({exc.strerror or type(exc).__name__})") from exc
    if len(data) > MAX_CA_FILE:
        raise bad_file("dépasse 4 Mo : ce n'est pas une liste d'autorités")
    return _authorities(path, data)


# Keyed by the file's bytes (at most 4 MB each): a poll of an unchanged file parses nothing.
@functools.lru_cache(maxsize=4)
def _authorities(path: str, data: bytes) -> Authorities:
    shown = path[:200]
    blocks = _PEM_CERTIFICATE.findall(data)
    if not blocks:
        # A DER file, a key, a certificate request: nothing that says what to trust.
        raise SettingError(
            f"{CA_FILE_ENV} : « {shown} » ne contient aucun certificat au format PEM "
            "(-----BEGIN CERTIFICATE-----)."
        )
    for number, block in enumerate(blocks, start=1):
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(
                cadata=block.decode("ascii")
            )
        except (ssl.SSLError, ValueError) as exc:
            raise SettingError(
                f"{CA_FILE_ENV} : « {shown} » : le certificat n° {number} est illisible."
            ) from exc
    pem = "\n".join(block.decode("ascii") for block in blocks) + "\n"
    return Authorities(path, pem, len(blocks))
