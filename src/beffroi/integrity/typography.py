"""French typography at display: no line break inside « … », nor before : ; ? ! %.

A narrow no-break space (U+202F) for the guillemets and ; ? ! %, a no-break space
(U+00A0) before the colon. The audit's sentences are stored, journaled and published
with plain spaces (and flags' evidence joined by "; "); they keep those bytes, and only
what a French reader sees is set this way: the audit report (``french_spacing`` over
the page) and the evidence and verdict on the consultation's pages (``french_text``,
through ``consult.views_i18n.evidence`` and ``verdict``). Pure: no Django.
"""

from __future__ import annotations

import re

NARROW, NO_BREAK = "\u202f", "\u00a0"
_MARKUP = re.compile(r"(<style\b.*?</style>|<!--.*?-->|<[^>]*>)", re.S | re.I)
_AFTER_OPENING = re.compile(r"« +")
_BEFORE_MARK = re.compile(r" +([»;?!%])")
_BEFORE_COLON = re.compile(r" +:")


def french_text(text: str) -> str:
    """Plain text with its existing spaces before : ; ? ! % and inside « » made
    no-break (a mark with no space before it is left as written)."""
    text = _AFTER_OPENING.sub("«" + NARROW, text)
    text = _BEFORE_MARK.sub(NARROW + r"\1", text)
    return _BEFORE_COLON.sub(NO_BREAK + ":", text)


def french_spacing(page: str) -> str:
    """The page with French no-break spaces in its text; tags, comments and styles
    are left as they are (CSS and attributes have their own colons)."""
    pieces = _MARKUP.split(page)
    # split() with one group alternates text and markup: text at even positions.
    return "".join(p if i % 2 else french_text(p) for i, p in enumerate(pieces))
