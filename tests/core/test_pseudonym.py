import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.core.pseudonym import client_pseudonyms, network_prefix, pseudonymise

KEY = b"k" * 32


def test_same_value_same_pseudonym_and_no_raw_value():
    a = pseudonymise("203.0.113.7", key=KEY, kind="addr")
    assert a == pseudonymise("203.0.113.7", key=KEY, kind="addr")
    assert "203.0.113" not in a and a.startswith("addr:")


def test_key_and_kind_change_the_pseudonym():
    base = pseudonymise("alice", key=KEY, kind="handle")
    assert base != pseudonymise("alice", key=b"other-key", kind="handle")
    assert base.split(":")[1] != pseudonymise("alice", key=KEY, kind="ua").split(":")[1]


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        pseudonymise("x", key=KEY, kind="email")


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
    ],
)
def test_network_prefix(address, prefix):
    assert network_prefix(address) == prefix


def test_household_shares_prefix_but_not_address():
    one = client_pseudonyms("198.51.100.10", "Firefox", key=KEY)
    two = client_pseudonyms("198.51.100.11", "Firefox", key=KEY)
    assert one.prefix == two.prefix
    assert one.address != two.address
    assert one.user_agent == two.user_agent


@given(st.text(max_size=50))
def test_garbage_address_never_crashes(text):
    p = client_pseudonyms(text, "ua", key=KEY)
    assert p.prefix.startswith("prefix:")
