"""The sources' address guard (netguard), without any client library."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.watch.sources.netguard import (
    ALLOW_ENV,
    BlockedAddress,
    NetworkPolicy,
    current_policy,
    find_blocked,
    parse_address,
    parse_networks,
    refusal_reason,
)

# What a source must never reach without an explicit allowance (the spec, written out).
INTERNAL = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "fe80::/10",
    "fc00::/7",
    "ff00::/8",
    "fec0::/10",
]
PUBLIC = ["1.1.1.1", "93.184.216.34", "194.5.175.10", "2606:4700::1111", "2a01:cb00::1"]


def in_network(cidr: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    network = ipaddress.ip_network(cidr)
    first, last = int(network.network_address), int(network.broadcast_address)
    kind = ipaddress.IPv4Address if network.version == 4 else ipaddress.IPv6Address
    return st.integers(first, last).map(kind)


internal_addresses = st.sampled_from(INTERNAL).flatmap(in_network)
ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(internal_addresses)
def test_every_internal_address_is_refused_with_a_reason(address) -> None:
    reason = refusal_reason(address)
    assert reason
    with pytest.raises(BlockedAddress) as caught:
        NetworkPolicy().check("flux.example", address)
    assert caught.value.message == f"Adresse interne refusée : flux.example → {address} ({reason})."


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert refusal_reason(ipaddress.ip_address(text)) is None
    NetworkPolicy().check("flux.example", ipaddress.ip_address(text))


def test_the_cloud_metadata_service_and_loopback_say_what_they_are() -> None:
    assert refusal_reason(ipaddress.ip_address("169.254.169.254")) == "lien local"
    assert refusal_reason(ipaddress.ip_address("127.0.0.1")) == "boucle locale"
    assert refusal_reason(ipaddress.ip_address("10.1.2.3")) == "réseau privé"
    assert refusal_reason(ipaddress.ip_address("100.64.0.1")) == "réseau partagé d'opérateur"


@given(ipv4)
def test_ipv6_spellings_of_an_ipv4_address_get_its_verdict(address) -> None:
    verdict = refusal_reason(address) is None
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(address))
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80) | 1)
    for spelling in (mapped, nat64, sixtofour):
        assert (refusal_reason(spelling) is None) == verdict, spelling


@given(internal_addresses, st.integers(0, 128))
def test_an_allowed_network_lets_its_addresses_through(address, prefix) -> None:
    network = ipaddress.ip_network(f"{address}/{min(prefix, address.max_prefixlen)}", strict=False)
    policy = NetworkPolicy((network,))
    assert policy.refusal(address) is None
    if address.version == 4:
        assert policy.refusal(ipaddress.IPv6Address(f"::ffff:{address}")) is None


@given(internal_addresses, internal_addresses)
def test_an_allowance_covers_its_network_only(address, other) -> None:
    policy = NetworkPolicy((ipaddress.ip_network(address),))  # a single address
    if other != address and not (
        other.version == 6 and other.ipv4_mapped == address  # the same, spelt in IPv6
    ):
        assert policy.refusal(other) == refusal_reason(other)


def test_a_zone_does_not_hide_a_link_local_address() -> None:
    scoped = ipaddress.IPv6Address("fe80::1%eth0")
    assert NetworkPolicy().refusal(scoped) == "lien local"
    assert NetworkPolicy((ipaddress.ip_network("fe80::/64"),)).refusal(scoped) is None


@given(ipv4)
def test_legacy_ipv4_spellings_are_read_as_the_resolver_reads_them(address) -> None:
    number = int(address)
    assert parse_address(str(number)) == address
    assert parse_address(hex(number)) == address
    assert parse_address(f"[{address}]") == address


@pytest.mark.parametrize("host", ["piaille.fr", "flux-1.example", "xn--prfecture-b7a.fr", ""])
def test_names_are_not_addresses(host: str) -> None:
    assert parse_address(host) is None


@given(st.sampled_from(["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16"]).flatmap(in_network))
def test_the_form_refuses_internal_addresses_however_they_are_written(address) -> None:
    spellings = [str(address), str(int(address)), f"[::ffff:{address}]"]
    for host in spellings:
        message = NetworkPolicy().url_refusal(f"https://{host}:8080/rss.xml")
        assert message is not None and message.startswith("Adresse interne refusée : "), host


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/rss",
        "http://LOCALHOST.:5432/",
        "http://flux.localhost/",
        "ws://[::1]/xrpc",
    ],
)
def test_the_form_refuses_names_of_this_machine(url: str) -> None:
    message = NetworkPolicy().url_refusal(url)
    assert message is not None and "boucle locale" in message


def test_the_form_leaves_names_to_the_connection_and_respects_the_allowance() -> None:
    assert NetworkPolicy().url_refusal("https://www.vigicrues.gouv.fr/rss") is None
    assert NetworkPolicy().url_refusal("https://1.1.1.1/rss") is None
    loopback = NetworkPolicy(parse_networks("127.0.0.0/8 ::1"))
    assert loopback.url_refusal("http://localhost:8000/rss") is None
    assert loopback.url_refusal("http://10.0.0.1/rss") is not None


def test_the_allow_list_setting() -> None:
    assert parse_networks("") == ()
    assert parse_networks(" 10.20.0.0/16,2001:db8:5::/48  192.168.1.7") == (
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("2001:db8:5::/48"),
        ipaddress.ip_network("192.168.1.7/32"),
    )
    with pytest.raises(ValueError, match=re.escape("« 10.0.0.0/33 » n'est pas un réseau")):
        parse_networks("127.0.0.1, 10.0.0.0/33")
    assert current_policy({}) == NetworkPolicy()
    assert (
        current_policy({ALLOW_ENV: "10.0.0.0/8"}).refusal(ipaddress.ip_address("10.9.9.9")) is None
    )


def test_blocked_addresses_are_found_inside_the_libraries_wrappers() -> None:
    blocked = BlockedAddress("h", "127.0.0.1", "boucle locale")

    class MaxRetry(Exception):
        def __init__(self, reason: BaseException) -> None:
            super().__init__("max retries")
            self.reason = reason

    try:
        try:
            raise MaxRetry(OSError("new connection")) from None
        except MaxRetry as inner:
            inner.reason.__cause__ = blocked
            raise RuntimeError("Could not complete request") from None
    except RuntimeError as outer:
        # Implicit chaining only (__context__), then ``reason``, then ``__cause__``.
        assert find_blocked(outer) is blocked
    assert find_blocked(ConnectionError("x", blocked)) is blocked
    assert find_blocked(OSError("refused")) is None
    assert find_blocked(None) is None


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_a_name_that_resolves_inside_is_refused_before_any_connection(
    monkeypatch, listener
) -> None:
    port, accepted = listener
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        # A public-looking name whose DNS answers with an internal address.
        return real("127.0.0.1" if host == "flux.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(BlockedAddress) as caught:
        NetworkPolicy().create_connection("flux.example", port, timeout=2)
    assert caught.value.message == (
        "Adresse interne refusée : flux.example → 127.0.0.1 (boucle locale)."
    )
    assert accepted == []
    allowed = NetworkPolicy(parse_networks("127.0.0.1"))
    allowed.create_connection("flux.example", port, timeout=2).close()


def test_only_the_checked_addresses_are_dialled(monkeypatch, listener) -> None:
    port, _accepted = listener
    dialled: list[object] = []
    real_connect = socket.socket.connect

    def answers(host, port, *args, **kwargs):
        # Two answers, an internal one first: the guard skips it, never dials it.
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    def connect(self, address):
        dialled.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    monkeypatch.setattr(socket.socket, "connect", connect)
    NetworkPolicy(parse_networks("127.0.0.1/32")).create_connection("x", port, timeout=2).close()
    assert dialled == [("127.0.0.1", port)]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
        ("http://2130706433/", "2130706433 → 127.0.0.1"),
        ("http://0x7f.1/", "0x7f.1 → 127.0.0.1"),
        ("http://localhost/", "localhost → 127.0.0.1"),
        ("http://169.254.169.254/", "169.254.169.254"),
    ],
)
def test_the_message_shows_the_address_as_written_and_what_it_means(url, shown) -> None:
    message = NetworkPolicy().url_refusal(url)
    assert message is not None and message.startswith(f"Adresse interne refusée : {shown} (")
