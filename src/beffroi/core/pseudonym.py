"""Keyed pseudonyms for addresses, network prefixes, user agents and handles.

DESIGN rule 7: Beffroi stores no raw IP address or account handle by default.
Detectors only need to know that two requests came from the same address, the
same /24 (IPv4) or /48 (IPv6) network or the same browser — an HMAC with a
per-deployment secret gives exactly that equality and nothing more.  Without
the key, a pseudonym cannot be reversed by enumerating the IPv4 space.

Pure module: no Django import (the key is passed in).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

KINDS = ("addr", "prefix", "ua", "handle")
# 128 bits: collisions are negligible for any realistic number of distinct values.
DIGEST_BYTES = 16


def pseudonymise(value: str, *, key: bytes, kind: str) -> str:
    """Return a stable keyed pseudonym like ``addr:3f9a…`` for ``value``.

    The kind is mixed into the MAC so that an address and a handle that happen
    to be the same string do not get the same pseudonym.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown pseudonym kind {kind!r}; expected one of {KINDS}")
    mac = hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256)
    return f"{kind}:{mac.hexdigest()[: DIGEST_BYTES * 2]}"


def network_prefix(address: str) -> str:
    """The /24 network of an IPv4 address or the /48 of an IPv6 one, as text.

    An IPv4-mapped IPv6 address (``::ffff:1.2.3.4``) is treated as IPv4 so the
    same client gets the same prefix whichever way the proxy writes it.
    """
    ip = ipaddress.ip_address(address.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


@dataclass(frozen=True)
class ClientPseudonyms:
    """What detectors and rate limits use instead of the raw client details."""

    address: str
    prefix: str
    user_agent: str


def client_pseudonyms(address: str, user_agent: str, *, key: bytes) -> ClientPseudonyms:
    try:
        prefix = network_prefix(address)
    except ValueError:
        # Not an address (a misconfigured proxy header): still pseudonymise it,
        # and let it be its own "network" so nothing is merged by mistake.
        prefix = address
    return ClientPseudonyms(
        address=pseudonymise(address, key=key, kind="addr"),
        prefix=pseudonymise(prefix, key=key, kind="prefix"),
        user_agent=pseudonymise(user_agent, key=key, kind="ua"),
    )
