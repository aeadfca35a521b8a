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
import re
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value that has no canonical encoding (float, huge int, bad string…)."""


def _utf16_key(s: str) -> bytes:
    return s.encode("utf-16-be", "surrogatepass")


# Keys holding a character at or above U+D800 may sort differently by code
# point (Python) and by UTF-16 code unit (JavaScript).
_HIGH = re.compile("[\ud800-\U0010ffff]")


def _scan(value: Any, path: str) -> bool:
    """Refuse what has no canonical form; return True if a key needs UTF-16 sorting.

    Written for speed (it runs on every ballot a verifier reads): exact type
    tests, no per-string work (bad strings surface when encoding to UTF-8).
    """
    t = type(value)
    if t is str or t is bool or value is None:
        return False
    if t is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return False
        raise CanonicalError(f"{path or '/'}: entier hors de l'intervalle sûr (±2^53-1)")
    if t is dict:
        resort = False
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalError(f"{path or '/'}: clé non textuelle {key!r}")
            if _HIGH.search(key):
                resort = True
            ti = type(item)
            if ti is str or ti is bool or item is None:
                continue
            if _scan(item, f"{path}/{key}"):
                resort = True
        return resort
    if t is list or t is tuple:
        resort = False
        for i, item in enumerate(value):
            ti = type(item)
            if ti is str or ti is bool or item is None:
                continue
            if _scan(item, f"{path}/{i}"):
                resort = True
        return resort
    if t is float:
        raise CanonicalError(f"{path or '/'}: nombre décimal refusé (entiers seulement)")
    raise CanonicalError(f"{path or '/'}: type non encodable {t.__name__}")


def _resort(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _resort(value[k]) for k in sorted(value, key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_resort(v) for v in value]
    return value


# Built once: json.dumps with non-default options builds a new encoder per call.
_SORTED = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)
_IN_ORDER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical_bytes(value: Any) -> bytes:
    """Encode ``value`` canonically (see the module docstring)."""
    # Usual path: json's C encoder (~10x faster than a hand-written walk); with
    # keys below U+E000 its code-point sort equals UTF-16 order.  Rare path:
    # pre-sort in UTF-16 order, then keep that order.
    text = _IN_ORDER.encode(_resort(value)) if _scan(value, "") else _SORTED.encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError("chaîne non encodable en UTF-8 (demi-paire de substitution)") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    """SHA-256 (hex) of the canonical encoding."""
    return sha256_hex(canonical_bytes(value))


# -- fast path for values freshly parsed from JSON text -------------------------------


def _refuse_float(text: str) -> Any:
    raise CanonicalError(f"nombre non entier refusé ({text})")


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise CanonicalError(f"entier hors de l'intervalle sûr ({text})")
    return value


_STRICT = json.JSONDecoder(
    parse_float=_refuse_float, parse_int=_safe_int, parse_constant=_refuse_float
)


_STRICT_SCAN = _STRICT.scan_once  # type: ignore[attr-defined]


def loads_strict(data: bytes) -> Any:
    """JSON parsing that refuses what has no canonical form: floats, NaN, unsafe
    integers (CanonicalError); ValueError if the JSON itself is invalid."""
    text = data.decode("utf-8")
    # The scanner alone, when the text is one value with no surrounding space,
    # gives what decode() gives without its two whitespace matches (the verifier
    # parses every line of a board); anything else goes through decode(), which
    # also makes the error messages.
    try:
        value, end = _STRICT_SCAN(text, 0)
    except (StopIteration, json.JSONDecodeError):
        return _STRICT.decode(text)
    if end != len(text):
        return _STRICT.decode(text)
    return value


# json's C encoder with _SORTED's options, made once: JSONEncoder.encode builds a
# new one per call.  No circular-reference markers: parsed JSON has no cycles.
_C_SORTED = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if getattr(json.encoder, "c_make_encoder", None) is not None
    else None
)

# UTF-8 lead bytes of U+D000 and above.
_HIGH_BYTES = re.compile(rb"[\xed-\xf4]")


def _needs_scan(raw: bytes) -> bool:
    # Only characters from U+D000 up (raw, or written as a \u escape) can make
    # Python's and JavaScript's key orders differ or hide a lone surrogate.
    # Two C-speed tests first: a regex over every line costs ~10x more.
    return b"\\u" in raw or (not raw.isascii() and _HIGH_BYTES.search(raw) is not None)


def canonical_bytes_parsed(value: Any, raw: bytes) -> bytes:
    """Canonical bytes of ``value`` parsed by :func:`loads_strict` from ``raw``.

    Such a value can only hold dicts with str keys, lists, str, safe ints,
    bools and None, so the type scan is needed only when ``raw`` holds high
    characters; the verifier calls this for each of a board's ballots.
    """
    if _needs_scan(raw):
        return canonical_bytes(value)
    if _C_SORTED is not None:
        return "".join(_C_SORTED(value, 0)).encode("utf-8")
    return _SORTED.encode(value).encode("utf-8")
