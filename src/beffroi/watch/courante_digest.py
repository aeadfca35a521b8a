"""The keyed digest of a main courante line's content, as pure functions (no Django).

Every action that creates or changes a line journals this digest of the line as it
stands after the change (docs/decisions/courante-digest.md), so that a line rewritten in
the database behind Beffroi's back no longer matches its latest journal entry. The
journal itself is hash-chained; this ties the line's *content* to that chain.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from beffroi.core.chain import canonical_json, timestamp

# The format of the digested content. Version 1 (never released) digested the line
# alone, so a digest could be copied into a later journal entry; version 2 binds it to
# the entry that carries it and to the line's id. The check accepts this version only.
VERSION = 2

# What a reader of the line relies on: what it says, when and where, what it links to,
# how far it is verified and handled, whether partners see it, the card behind it and the
# marks that the author edited or deleted the post. Left out: ``updated_at`` (bookkeeping
# the live pages follow) and ``created_by`` (set to NULL when an account is deleted; the
# creating journal entry names its author anyway).
FIELDS = (
    "activation",
    "number",
    "at",
    "created_at",
    "channel",
    "category",
    "commune_code",
    "commune_name",
    "text",
    "withdrawn_text",
    "source_url",
    "status",
    "verification",
    "for_partners",
    "card",
    "author_edited_at",
    "author_deleted_at",
)
TIMES = frozenset({"at", "created_at", "author_edited_at", "author_deleted_at"})

_KEY_LABEL = b"beffroi/main-courante-content/v1"
_KEY_ID_LABEL = b"beffroi/main-courante-content/key-id"


def derive_key(secret: bytes) -> bytes:
    """A key of its own for line digests, derived from the deployment's secret: a digest
    can never be mistaken for (or help compute) a pseudonym made with that secret."""
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A short public name for ``key``: the check tells "the key changed" (a restored
    server with another secret) from "the line changed"."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:12]


def _value(name: str, value: Any) -> Any:
    if name in TIMES:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{name}: an aware datetime or None is needed, not {value!r}")
        return timestamp(value)
    if name in ("activation", "number", "card"):
        return None if value is None else int(value)
    if name == "for_partners":
        return bool(value)
    return "" if value is None else str(value)


def canonical(line: Mapping[str, Any]) -> bytes:
    """The bytes digested: the line's fields as sorted-key JSON, times in UTC to the
    microsecond, absent text as "" (a nullable text column reads the same either way)."""
    return canonical_json({"v": VERSION, **{name: _value(name, line[name]) for name in FIELDS}})


def digest(key: bytes, line: Mapping[str, Any], *, seq: int, line_id: int) -> str:
    """HMAC-SHA-256 under ``key`` (from ``derive_key``), in hex, of ``canonical(line)``
    bound to its place: the ``seq`` of the journal entry that carries the digest and the
    line's database id. A digest copied into another entry, or onto another line, no
    longer matches (a replayed earlier state is caught). ``canonical`` is JSON, which
    never holds a raw newline, so the separator cannot be forged by the content."""
    place = canonical_json({"line": int(line_id), "seq": int(seq)})
    return hmac.new(key, canonical(line) + b"\n" + place, hashlib.sha256).hexdigest()


def matches(key: bytes, line: Mapping[str, Any], journaled: str, *, seq: int, line_id: int) -> bool:
    return hmac.compare_digest(digest(key, line, seq=seq, line_id=line_id), journaled)
