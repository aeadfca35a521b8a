"""The journal's hash chain, as pure functions (no Django), so that a
scrutineer's verifier can check an exported journal with the same code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "organisation", "action", "subject", "reason", "rule", "data")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    body = {name: entry[name] for name in FIELDS}
    body["prev"] = prev_hash
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str


def verify(entries: Iterable[Mapping[str, Any]]) -> Break | None:
    """Return the first broken entry of an exported chain, or None.

    Each entry is a mapping with FIELDS plus ``prev_hash`` and ``hash``, in
    seq order.  A missing entry (a gap in seq) counts as a break.
    """
    prev = GENESIS
    expected_seq = 1
    for entry in entries:
        seq = int(entry["seq"])
        if seq != expected_seq:
            return Break(expected_seq, f"entry #{expected_seq} is missing (found #{seq} next)")
        if entry["prev_hash"] != prev:
            return Break(seq, "its previous-hash does not match the entry before it")
        if entry_hash(entry, prev) != entry["hash"]:
            return Break(seq, "its content does not match its hash (edited after writing)")
        prev = entry["hash"]
        expected_seq += 1
    return None
