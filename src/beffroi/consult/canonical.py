"""Canonical JSON: the exact bytes that are hashed and signed.

The browser (static/consult/ballot.js) must produce the same bytes as this
module, so the encoding is deliberately narrow (a subset of RFC 8785):

* objects with keys sorted by UTF-16 code units (what JavaScript's default
  sort does), no whitespace, ``,`` and ``:`` separators;
* strings escaped exactly as ``JSON.stringify`` does (``\\"``, ``\\\\``, the
  short escapes ``\\b \\f \\n \\r \\t``, other controls as ``\\u00xx``
  lowercase; everything else, including non-ASCII, written raw in UTF-8);
* integers only, within JavaScript's safe range (|n| <= 2**53 - 1): floats
  have several textual forms across languages, so they are refused;
* ``true``, ``false``, ``null``, lists.

Lone surrogates are refused because they cannot be encoded in UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value that has no canonical encoding (float, huge int, bad string…)."""


def _utf16_key(s: str) -> bytes:
    return s.encode("utf-16-be", "surrogatepass")


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path or '/'}: entier hors de l'intervalle sûr (±2^53-1)")
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalError(f"{path or '/'}: chaîne non encodable en UTF-8") from exc
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}/{i}")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path or '/'}: clé non textuelle {key!r}")
            _check(key, f"{path}/{key}")
            _check(item, f"{path}/{key}")
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path or '/'}: nombre décimal refusé (entiers seulement)")
    raise CanonicalError(f"{path or '/'}: type non encodable {type(value).__name__}")


def _needs_utf16_sort(value: Any) -> bool:
    """True when some key is outside the BMP's lower part, where code-point
    order (Python) and UTF-16 order (JavaScript) can disagree."""
    if isinstance(value, dict):
        for key, item in value.items():
            if any(ord(c) >= 0xE000 for c in key) or _needs_utf16_sort(item):
                return True
        return False
    if isinstance(value, list | tuple):
        return any(_needs_utf16_sort(v) for v in value)
    return False


def _resort(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _resort(value[k]) for k in sorted(value, key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_resort(v) for v in value]
    return value


def canonical_bytes(value: Any) -> bytes:
    """Encode ``value`` canonically (see the module docstring)."""
    _check(value, "")
    if _needs_utf16_sort(value):
        # Rare path: pre-sort in UTF-16 order, then keep that order.
        text = json.dumps(
            _resort(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    else:
        # json's C encoder is ~10x faster than a hand-written walk; with keys
        # below U+E000 its code-point sort equals UTF-16 order.
        text = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        )
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    """SHA-256 (hex) of the canonical encoding."""
    return sha256_hex(canonical_bytes(value))
