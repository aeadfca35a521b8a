"""The bulletin board: every accepted ballot, in a hash chain.

An entry (one line of ``ballots.jsonl``)::

    {"n": 1, "received_at": "2026-03-02T08:00:00.000000Z",
     "ballot": {...}, "signature": HEX|null,
     "receipt": HEX, "prev": HEX, "hash": HEX}

* ``receipt`` = :func:`beffroi.consult.ballot.receipt` of ballot + signature;
* ``hash`` = SHA-256 of the canonical JSON of
  ``{"n", "prev", "received_at", "receipt"}``;
* ``prev`` of entry 1 is the consultation's spec hash, so the chain is anchored
  on the frozen questions and rules; ``prev`` of entry n is the hash of n-1.

The board never rewrites: a later ballot with the same key is a new entry and
the tally counts the key's last entry (see ballot.py for ``seq``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beffroi.consult.ballot import (
    BallotError,
    KeyInfo,
    check_ballot,
    receipt,
    signed_bytes,
)
from beffroi.consult.canonical import sha256_hex
from beffroi.consult.spec import Spec, format_time, spec_hash

# json's C string encoder (what json.dumps(..., ensure_ascii=False) uses for str).
_enc_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


def entry_hash(n: int, prev: str, received_at: str, receipt_hex: str) -> str:
    """SHA-256 of the canonical ``{"n", "prev", "received_at", "receipt"}``."""
    if type(n) is not int:
        raise TypeError("n must be an int")
    # The canonical form of this fixed shape, keys already in sorted order,
    # written directly: this runs once per entry when a board is verified.
    text = (
        f'{{"n":{n},"prev":{_enc_str(prev)},"receipt":{_enc_str(receipt_hex)},'
        f'"received_at":{_enc_str(received_at)}}}'
    )
    return sha256_hex(text.encode("utf-8", "surrogatepass"))


def make_entry(
    n: int,
    prev: str,
    ballot: dict[str, Any],
    signature: str | None,
    received_at: datetime,
    *,
    signed: bytes | None = None,
    when: str | None = None,
) -> dict[str, Any]:
    """Build board entry number ``n`` (1-based) chained after ``prev``.

    ``signed`` and ``when`` may pass ``signed_bytes(ballot)`` and
    ``format_time(received_at)`` already computed (a batch shares its time).
    """
    if when is None:
        when = format_time(received_at)
    rec = receipt(ballot, signature, signed=signed)
    return {
        "n": n,
        "received_at": when,
        "ballot": ballot,
        "signature": signature,
        "receipt": rec,
        "prev": prev,
        "hash": entry_hash(n, prev, when, rec),
    }


@dataclass
class Submission:
    entry: dict[str, Any]
    new: bool  # False when the very same ballot was already on the board


@dataclass
class Board:
    """An in-memory board; the app keeps the same state in its database.

    ``submit`` does what the server does for one submission: check the ballot,
    recognise a retry of a ballot already on the board, refuse a stale seq,
    and append.  It is also how tests and the example bundle fill a board.
    """

    spec: Spec
    keys: dict[str, KeyInfo] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    _last_seq: dict[str, int] = field(default_factory=dict)
    _by_receipt: dict[str, int] = field(default_factory=dict)

    @property
    def head(self) -> str:
        return self.entries[-1]["hash"] if self.entries else spec_hash(self.spec)

    def submit(self, ballot: Any, signature: str | None, received_at: datetime) -> Submission:
        if isinstance(ballot, dict) and (signature is None or isinstance(signature, str)):
            try:
                rec = receipt(ballot, signature)
            except (ValueError, TypeError, UnicodeEncodeError):
                rec = None
            if rec is not None and rec in self._by_receipt:
                return Submission(self.entries[self._by_receipt[rec]], new=False)
        pk = ballot.get("public_key") if isinstance(ballot, dict) else None
        check_ballot(
            self.spec,
            ballot,
            signature,
            keys=self.keys,
            received_at=received_at,
            last_seq=self._last_seq.get(pk) if isinstance(pk, str) else None,
        )
        if self.entries and format_time(received_at) < self.entries[-1]["received_at"]:
            raise BallotError("Horloge du serveur incohérente : réessayez.")
        entry = make_entry(
            len(self.entries) + 1,
            self.head,
            ballot,
            signature,
            received_at,
            signed=signed_bytes(ballot),
        )
        self.entries.append(entry)
        self._by_receipt[entry["receipt"]] = len(self.entries) - 1
        if pk is not None:
            self._last_seq[pk] = ballot["seq"]
        return Submission(entry, new=True)

    def revoke(self, public_key: str, at: datetime) -> None:
        info = self.keys.get(public_key)
        if info is None:
            raise KeyError(public_key)
        self.keys[public_key] = KeyInfo(info.segment, at)
