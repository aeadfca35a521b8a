"""Ballot checks and the board's hash chain (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from beffroi.consult.ballot import (
    DOMAIN,
    InvalidAnswers,
    InvalidSignature,
    KeyInfo,
    MalformedBallot,
    OutOfPeriod,
    RevokedKey,
    SegmentError,
    StaleBallot,
    UnknownKey,
    WrongConsultation,
    make_ballot,
    receipt,
    sign,
    signed_bytes,
    verify_signature,
)
from beffroi.consult.board import Board, entry_hash
from beffroi.consult.canonical import canonical_bytes
from beffroi.consult.examples import all_kinds_spec
from beffroi.consult.spec import spec_hash

SPEC = all_kinds_spec()
T0 = SPEC.opens + timedelta(hours=1)
SEED = bytes(range(32))
PK = bytes(SigningKey(SEED).verify_key).hex()
ROWS = [{"semaine": "4j"}, {}]


def fresh_board() -> Board:
    return Board(SPEC, {PK: KeyInfo("A1")})


def signed(seq: int = 1, rows: list | None = None, **kw: object) -> tuple[dict, str]:
    b = make_ballot(SPEC, {"satisfaction": 4}, rows or ROWS, public_key=PK, seq=seq)
    b.update(kw)
    return b, sign(b, SEED)


def test_signature_covers_domain_and_canonical_bytes() -> None:
    b, sig = signed()
    assert signed_bytes(b) == DOMAIN + canonical_bytes(b)
    SigningKey(SEED).verify_key.verify(signed_bytes(b), bytes.fromhex(sig))
    verify_signature(b, sig)
    b2 = dict(b, answers={"satisfaction": 5})
    with pytest.raises(InvalidSignature):
        verify_signature(b2, sig)


def test_board_chains_from_spec_hash() -> None:
    board = fresh_board()
    b1, s1 = signed(1)
    b2, s2 = signed(2, [{"semaine": "4j5"}, {}])
    e1 = board.submit(b1, s1, T0).entry
    e2 = board.submit(b2, s2, T0 + timedelta(seconds=1)).entry
    assert e1["prev"] == spec_hash(SPEC)
    assert e2["prev"] == e1["hash"]
    assert e2["hash"] == entry_hash(2, e1["hash"], e2["received_at"], receipt(b2, s2))
    assert board.head == e2["hash"]
    assert e1["receipt"] == receipt(b1, s1)


def test_entry_hash_is_the_canonical_hash_of_its_header() -> None:
    from beffroi.consult.canonical import canonical_hash

    header = {
        "n": 7,
        "prev": "ab" * 32,
        "received_at": "2026-03-02T08:00:00.000000Z",
        "receipt": "cd" * 32,
    }
    assert entry_hash(7, "ab" * 32, "2026-03-02T08:00:00.000000Z", "cd" * 32) == canonical_hash(
        header
    )


def test_retry_is_idempotent_and_replay_is_refused() -> None:
    board = fresh_board()
    b1, s1 = signed(10)
    b2, s2 = signed(20, [{"semaine": "4j5"}, {}])
    assert board.submit(b1, s1, T0).new
    assert board.submit(b2, s2, T0 + timedelta(seconds=1)).new
    again = board.submit(b2, s2, T0 + timedelta(seconds=2))
    assert not again.new and again.entry["n"] == 2
    # The organiser (or anyone) replaying the first, older ballot is refused.
    b3, s3 = signed(15, [{"semaine": "sans_avis"}, {}])
    with pytest.raises(StaleBallot):
        board.submit(b3, s3, T0 + timedelta(seconds=3))
    assert len(board.entries) == 2


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: (signed()[0], "00" * 64), InvalidSignature),
        (lambda: (signed()[0], None), InvalidSignature),
        (lambda: (dict(signed()[0], consultation="autre"), None), WrongConsultation),
        (lambda: (dict(signed()[0], spec_hash="0" * 64), None), WrongConsultation),
        (lambda: (dict(signed()[0], extra=1), None), MalformedBallot),
        (lambda: (dict(signed()[0], seq=0), None), MalformedBallot),
        (lambda: (dict(signed()[0], seq=1.5), None), MalformedBallot),
        (lambda: signed(rows=[{"semaine": "5j"}, {}]), InvalidAnswers),
        (lambda: signed(segment="A1"), MalformedBallot),
        (
            lambda: (lambda b: (b, sign(b, bytes(32))))(
                dict(signed()[0], public_key=bytes(SigningKey(bytes(32)).verify_key).hex())
            ),
            UnknownKey,
        ),
        (
            lambda: (make_ballot(SPEC, {}, ROWS, public_key=None, seq=1, segment="Z9"), None),
            SegmentError,
        ),
        (
            lambda: (make_ballot(SPEC, {}, ROWS, public_key=None, seq=1, segment="A1"), "ab" * 64),
            MalformedBallot,
        ),
    ],
)
def test_refusals_have_specific_types_and_french_messages(make, error) -> None:  # type: ignore[no-untyped-def]
    ballot, sig = make()
    board = fresh_board()
    with pytest.raises(error) as info:
        board.submit(ballot, sig, T0)
    assert info.value.message and info.value.message[0].isupper()
    assert board.entries == []


def test_out_of_period_and_revoked() -> None:
    board = fresh_board()
    b, s = signed()
    with pytest.raises(OutOfPeriod, match=r"est close depuis le .* \(heure de Paris\)"):
        board.submit(b, s, SPEC.closes)
    with pytest.raises(OutOfPeriod):
        board.submit(b, s, SPEC.opens - timedelta(microseconds=1))
    board.revoke(PK, T0)
    with pytest.raises(RevokedKey):
        board.submit(b, s, T0)


def test_credentialed_mode_refuses_unkeyed_and_open_refuses_keyed() -> None:
    cred = all_kinds_spec(access="credentialed")
    board = Board(cred, {PK: KeyInfo("A1")})
    with pytest.raises(UnknownKey, match="code personnel"):
        board.submit(make_ballot(cred, {}, ROWS, public_key=None, seq=1, segment="A1"), None, T0)
    opn = all_kinds_spec(access="open")
    b = make_ballot(opn, {}, ROWS, public_key=PK, seq=1)
    with pytest.raises(MalformedBallot):
        Board(opn, {PK: KeyInfo("A1")}).submit(b, sign(b, SEED), T0)


def test_time_must_not_go_backwards() -> None:
    board = fresh_board()
    b1, s1 = signed(1)
    board.submit(b1, s1, T0)
    b2, s2 = signed(2)
    with pytest.raises(Exception, match="Horloge"):
        board.submit(b2, s2, T0 - timedelta(seconds=1))


def test_received_at_is_utc_microseconds() -> None:
    board = fresh_board()
    b, s = signed()
    e = board.submit(b, s, datetime(2026, 3, 3, 9, 30, 0, 5, tzinfo=UTC)).entry
    assert e["received_at"] == "2026-03-03T09:30:00.000005Z"


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 2**53 - 1),
    st.text(st.characters(exclude_categories=["Cs"])),
    st.text(st.characters(exclude_categories=["Cs"])),
    st.text(st.characters(exclude_categories=["Cs"])),
)
def test_entry_hash_fast_form_equals_canonical(n: int, prev: str, at: str, rec: str) -> None:
    from beffroi.consult.canonical import canonical_hash

    assert entry_hash(n, prev, at, rec) == canonical_hash(
        {"n": n, "prev": prev, "received_at": at, "receipt": rec}
    )
