"""Cost of cutting a huge feed to its newest entries (``rss.newest_entries``), and of
the whole parse that follows, for feeds in both orders.

    .venv/bin/python bench/rss_cut.py [--entries 340000]

Builds, in memory, feeds of ``--entries`` small entries: RSS with RFC 822 dates, Atom
with ISO 8601 dates, and RSS without dates, each newest first and oldest first. Prints
for each the body's size, the CPU seconds of the cut alone and of ``RssSource.parse``
(cut, feedparser on the 1,000 kept, posts), and with ``--peak`` the peak memory the
cut allocates besides the body (tracemalloc, a second run, several times slower).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def rss(n: int, dated: bool) -> list[bytes]:
    items = []
    for i in range(n):
        when = NOW - timedelta(seconds=i)
        date = f"<pubDate>{when:%a, %d %b %Y %H:%M:%S +0000}</pubDate>" if dated else ""
        items.append(f"<item><guid>n{i}</guid><title>crue {i}</title>{date}</item>".encode())
    return items


def atom(n: int) -> list[bytes]:
    return [
        f"<entry><id>n{i}</id><title>crue {i}</title>"
        f"<updated>{(NOW - timedelta(seconds=i)).isoformat()}</updated></entry>".encode()
        for i in range(n)
    ]


def document(kind: str, entries: list[bytes]) -> bytes:
    if kind == "atom":
        head = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>P</title>'
        return head + b"".join(entries) + b"</feed>"
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>'
    return head + b"".join(entries) + b"</channel></rss>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=340_000)
    parser.add_argument("--peak", action="store_true")
    args = parser.parse_args()
    n = args.entries

    from beffroi.watch.sources.base import handle_pseudonymiser
    from beffroi.watch.sources.rss import RssConfig, RssSource, newest_entries

    source = RssSource(
        "bench",
        RssConfig(url="https://bench.invalid/flux.xml"),
        pseudonymise=handle_pseudonymiser(b"bench-key"),
        clock=lambda: NOW,
    )
    cases = {
        "RSS, RFC 822 dates": ("rss", rss(n, True)),
        "Atom, ISO 8601 dates": ("atom", atom(n)),
        "RSS, no dates": ("rss", rss(n, False)),
    }
    print(f"{n} entries; CPU seconds (time.process_time)")
    for name, (kind, entries) in cases.items():
        for order, listed in (("newest first", entries), ("oldest first", entries[::-1])):
            body = document(kind, listed)
            started = time.process_time()
            newest_entries(body, now=NOW)
            cut_s = time.process_time() - started
            started = time.process_time()
            batch = source.parse(body, {}, {})
            parse_s = time.process_time() - started
            newest = any(p.external_id == "n0" for p in batch.posts)
            peak = ""
            if args.peak:
                tracemalloc.start()
                newest_entries(body, now=NOW)
                peak = f"  peak {tracemalloc.get_traced_memory()[1] / 1e6:5.1f} MB"
                tracemalloc.stop()
            print(
                f"{name:22} {order:13} {len(body) / 1e6:6.1f} MB  cut {cut_s:5.2f} s  "
                f"parse {parse_s:5.2f} s{peak}  posts {len(batch.posts)}  newest kept {newest}"
            )


if __name__ == "__main__":
    main()
