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

Pure standard library, no Django: the worker and the web form both use it.
The clients' hooks (httpx, requests, websockets) are in ``netclients.py``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ALLOW_ENV = "BEFFROI_SOURCES_ALLOW_NETWORKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6052's well-known NAT64 prefix: an IPv6-only host reaches IPv4 sites through it,
# so what counts is the IPv4 address it carries. (The stdlib calls the whole of ::/8,
# this prefix included, "reserved".)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Names that always mean this machine (RFC 6761), refused in the form without a lookup.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class BlockedAddress(ConnectionError):
    """A connection refused by the guard. A ``ConnectionError`` on purpose: every
    client library treats it as a connection that could not be made (its pool,
    retries and cleanup behave as for "connection refused"), and ``find_blocked``
    recognises it wherever a library wrapped it. ``message`` is French UI text."""

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
            raise ValueError(f"{ALLOW_ENV} : « {item} » n'est pas un réseau ({exc}).") from exc
    return tuple(networks)


@dataclass(frozen=True)
class NetworkPolicy:
    """Public addresses, plus the networks a deployment explicitly allows."""

    allowed: tuple[IPNetwork, ...] = ()

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
        allows, the very addresses it checked."""
        last: OSError | None = None
        options = list(socket_options or ())
        for family, sockaddr in self.resolve(host, port):
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


def current_policy(environ: Mapping[str, str] | None = None) -> NetworkPolicy:
    """The policy of this deployment, read from ``BEFFROI_SOURCES_ALLOW_NETWORKS``
    when a source is built or a form checked (not at import: a test or an
    operator may set it later). ValueError if it lists something else than networks."""
    return _policy((os.environ if environ is None else environ).get(ALLOW_ENV, ""))


@functools.lru_cache(maxsize=8)
def _policy(text: str) -> NetworkPolicy:
    return NetworkPolicy(parse_networks(text))


def find_blocked(exc: BaseException | None) -> BlockedAddress | None:
    """The ``BlockedAddress`` behind an exception a client library raised, if any:
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
        if isinstance(current, BlockedAddress):
            return current
        # ``reason`` only as an attribute of the instance (urllib3's MaxRetryError):
        # elsewhere it may be a property that warns (websockets' ConnectionClosed).
        reason = vars(current).get("reason")
        todo.extend((current.__cause__, current.__context__, reason))
        todo.extend(current.args)
    return None
