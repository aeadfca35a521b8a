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

# Entries are hashed with the actor's name at the time (``actor_label``) since format 2.
# Format 1 hashed the account id only, so whoever could bypass the database triggers could
# rename the author a line shows without verify noticing. Format 2 bodies carry ``"v": 2``:
# a format-2 hash never equals the format-1 hash of the same line, so falling back to
# format 1 for old lines cannot be used to strip the name from a new one.
CURRENT = 2


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(entry: Mapping[str, Any], prev_hash: str, *, version: int = CURRENT) -> str:
    body = {name: entry[name] for name in FIELDS}
    if version >= 2:
        body["actor_label"] = entry["actor_label"]
        body["v"] = version
    body["prev"] = prev_hash
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str


def verify(entries: Iterable[Mapping[str, Any]]) -> Break | None:
    """Return the first broken entry of an exported chain, or None.

    Each entry is a mapping with FIELDS, ``actor_label``, ``prev_hash`` and ``hash``, in
    seq order.  A missing entry (a gap in seq) counts as a break.  Lines written before
    format 2 verify in format 1; once a line of format 2 is met, every later line must be
    of format 2 too (a journal is only ever appended to by newer code).
    """
    prev = GENESIS
    expected_seq = 1
    newest = 1
    for entry in entries:
        seq = int(entry["seq"])
        if seq != expected_seq:
            return Break(expected_seq, f"entry #{expected_seq} is missing (found #{seq} next)")
        if entry["prev_hash"] != prev:
            return Break(seq, "its previous-hash does not match the entry before it")
        if entry_hash(entry, prev) == entry["hash"]:
            newest = CURRENT
        elif entry_hash(entry, prev, version=1) != entry["hash"]:
            return Break(seq, "its content does not match its hash (edited after writing)")
        elif newest > 1:
            return Break(seq, "its hash leaves out the actor's name, unlike the entries before it")
        prev = entry["hash"]
        expected_seq += 1
    return None
