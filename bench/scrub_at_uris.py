"""Time of `scrub-handles` over Bluesky posts stored before DIDs were pseudonymised.

    .venv/bin/python bench/scrub_at_uris.py [--posts 20000]

Builds, in a database of its own (a temporary directory), an activation with ``--posts``
Bluesky posts whose ids and ``repost_of`` are raw AT-URIs (one card each, a tenth also
received again after the rule under their pseudonymised id), then times a dry run, the
repair, and a second run with nothing left to change. Prints the seconds and the counts.
"""

from __future__ import annotations

import argparse
import time

from bench_db import scratch_database, watch_room


def build(n: int):
    from datetime import UTC, datetime

    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source

    _, activation = watch_room("Submersion")
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    when = datetime(2026, 11, 8, tzinfo=UTC)
    uris = [f"at://did:plc:{i % 5000:024d}/app.bsky.feed.post/3k{i:08d}" for i in range(n)]
    cards = Card.objects.bulk_create(
        Card(
            activation=activation, group_id=f"g{i}", source=source, source_kind="bluesky",
            external_id=uri, text=f"Digue rompue {i}", posted_at=when,
        )
        for i, uri in enumerate(uris)
    )  # fmt: skip
    Post.objects.bulk_create(
        Post(
            activation=activation, source=source, external_id=uri,
            repost_of=uris[i - 1] if i % 7 == 0 else "", text=f"Digue rompue {i}",
            created_at=when, raw={"uri": uri}, card=card, processed=True,
        )
        for i, (uri, card) in enumerate(zip(uris, cards, strict=True))
    )  # fmt: skip
    key = actions.handle_key()
    Post.objects.bulk_create(
        Post(
            activation=activation, source=source, external_id=actions._stored_id(uri, key),
            text=f"Digue rompue {i}", created_at=when, processed=True,
        )
        for i, uri in enumerate(uris)
        if i % 10 == 0
    )  # fmt: skip
    return activation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20000)
    args = parser.parse_args()
    with scratch_database("scrub"):
        from beffroi.watch import actions

        activation = build(args.posts)
        for label, dry_run in (("dry run", True), ("repair", False), ("second run", False)):
            t0 = time.perf_counter()
            counts = actions.scrub_handles(activation, dry_run=dry_run)
            print(f"{label:<10} {time.perf_counter() - t0:6.1f} s  {counts.as_journal()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
