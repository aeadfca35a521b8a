"""Time of the watch posts' retention prune over an ended activation.

    .venv/bin/python bench/prune_posts.py [--posts 50000]

Builds, in a database of its own (a temporary directory), an activation ended a year ago
with ``--posts`` posts grouped two by two into cards, a twentieth of the cards named by a
main courante line, then times a dry run, the prune, and a second run with nothing left.
Prints the seconds and the counts.
"""

from __future__ import annotations

import argparse
import time

from bench_db import scratch_database, watch_room


def build(n: int):
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from beffroi.watch.models import Card, LogEntry, Post, Source

    _, activation = watch_room("Submersion")
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    when = datetime(2025, 11, 8, tzinfo=UTC)
    cards = Card.objects.bulk_create(
        Card(
            activation=activation, group_id=f"g{i}", source=source, source_kind="file",
            external_id=str(i), text=f"Digue rompue {i}", posted_at=when,
        )
        for i in range(n // 2)
    )  # fmt: skip
    Post.objects.bulk_create(
        Post(
            activation=activation, source=source, external_id=str(i),
            text=f"Digue rompue {i}", created_at=when, raw={"id": i},
            card=cards[i // 2], processed=True,
        )
        for i in range(n)
    )  # fmt: skip
    LogEntry.objects.bulk_create(
        LogEntry(activation=activation, number=k + 1, category="autre", text=card.text, card=card)
        for k, card in enumerate(cards[::20])
    )
    activation.ends_at = timezone.now() - timedelta(days=365)
    activation.save(update_fields=["ends_at"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=50000)
    args = parser.parse_args()
    with scratch_database("prune"):
        from beffroi.watch import actions

        build(args.posts)
        for label, dry_run in (("dry run", True), ("prune", False), ("second run", False)):
            t0 = time.perf_counter()
            outcome = actions.prune_posts(dry_run=dry_run)
            print(f"{label:<10} {time.perf_counter() - t0:6.1f} s  {outcome.counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
