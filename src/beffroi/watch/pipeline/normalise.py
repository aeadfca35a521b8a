"""Normalisation: Unicode NFC, whitespace, URLs, mentions, hashtags, repost prefixes.

Handles of other accounts mentioned in a post are personal data (DESIGN rule 7). By default
the display text keeps "@…" in their place and `mentions` stays empty; an organiser may keep
them (`keep_handles=True`) or keep keyed pseudonyms (`handle_key=...`, HMAC-SHA256), which
still let volunteers see that two posts mention the same account.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import unicodedata

from beffroi.watch.mentions import MENTION as _MENTION
from beffroi.watch.pipeline.model import Enriched

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w#&])#([^\W_][\w]*)")
_RT_PREFIX = re.compile(r"^(?:\s*(?:RT|MT)\s*:?\s*@[^\s:]+\s*:?\s*)+", re.IGNORECASE)
_VIA_SUFFIX = re.compile(r"\s*\(?\bvia\s+@[^\s)]+\)?\s*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = ".,;:!?)]}'\"»”’"
REDACTED = "@…"


def _clean_url(url: str) -> str:
    return url.rstrip(_TRAILING_PUNCT)


class Normaliser:
    def __init__(self, *, keep_handles: bool = False, handle_key: bytes | None = None) -> None:
        self.keep_handles = keep_handles
        self.handle_key = handle_key

    def _handle(self, handle: str) -> str:
        handle = handle.lower()
        if self.keep_handles:
            return handle
        assert self.handle_key is not None
        digest = hmac.new(self.handle_key, handle.encode("utf-8"), hashlib.sha256).hexdigest()
        return "h:" + digest[:16]

    def __call__(self, items: list[Enriched]) -> list[Enriched]:
        # Each pattern needs a character that most posts lack ("@", "#", "&", "://"):
        # testing for it first skips most regex passes, with the same result.
        for item in items:
            raw = item.post.text or ""
            text = unicodedata.normalize("NFC", html.unescape(raw) if "&" in raw else raw)
            text = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
            at = "@" in text
            links = "://" in text or "www." in text.lower()
            item.is_repost = bool(item.post.repost_of) or (at and bool(_RT_PREFIX.match(text)))
            item.urls = (
                tuple(dict.fromkeys(_clean_url(u) for u in _URL.findall(text))) if links else ()
            )
            handles = [m.rstrip(".") for m in _MENTION.findall(text)] if at else []
            if self.keep_handles or self.handle_key is not None:
                item.mentions = tuple(dict.fromkeys(self._handle(h) for h in handles))
            else:
                item.mentions = ()
            item.hashtags = (
                tuple(dict.fromkeys(h.lower() for h in _HASHTAG.findall(text)))
                if "#" in text
                else ()
            )
            item.text = text if self.keep_handles or not at else _MENTION.sub(REDACTED, text)
            # What matching and grouping see: the post's own words, not who it quotes.
            clean = text
            if at:
                clean = _VIA_SUFFIX.sub("", _RT_PREFIX.sub("", clean))
            if links:
                clean = _URL.sub(" ", clean)
            if at:
                clean = _MENTION.sub(" ", clean)
            item.clean_text = _SPACES.sub(" ", clean).strip()
        return items


def normalise(
    items: list[Enriched], *, keep_handles: bool = False, handle_key: bytes | None = None
) -> list[Enriched]:
    return Normaliser(keep_handles=keep_handles, handle_key=handle_key)(items)
