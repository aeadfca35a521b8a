"""Small RSS documents for the tests of the feed source."""

from __future__ import annotations


def rss_document(items: list[str], title: str = "Préfecture") -> bytes:
    """An RSS 2.0 document holding ``items`` (``<item>…</item>`` strings) in its channel."""
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()
