"""Ingest → triage queue: sustained throughput and arrival-to-queue latency.

Runs the real path of the worker on a fresh SQLite (WAL) database in a
temporary data directory: ``actions.receive_posts`` (what every source's
sink calls: raw posts + checkpoint in one transaction) in one thread, and
``ActivationProcessor.process`` (pipeline in batches, then
``actions.store_cards``) in another, exactly as ``beffroi worker`` does.
Network is excluded: posts come from CrisisLexT26 in memory.

Two runs, printed honestly:

1. sustained: the whole corpus offered as fast as the sink takes it (batches
   of 500, as the runner delivers them); posts/s from first arrival to the
   last post in the queue.
2. latency: posts offered at a fixed rate (default 500/s) in 50 ms ticks;
   for each post, time from its arrival (before the sink) to the commit of
   the batch that put it in the queue; p50/p95/max.

Usage: .venv/bin/python bench/watch_pipeline.py [--posts N] [--rate R] [--seconds S]

Tried and measured slower on this 2-core machine: enriching through
``Pipeline.process_stream(workers=2)`` (child processes) while the parent
stores — 775 posts/s against 978 in one thread for 10,000 posts, because
the parent still holds the GIL for ingest, grouping, the online classifier
and the writes, and pays for pickling every enriched post back.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "crisislex" / "CrisisLexT26"


def corpus(limit: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for path in sorted(DATA.glob("*/*-tweets_labeled.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for row in reader:
                if len(row) >= 2 and row[1].strip():
                    rows.append((row[0].strip('"'), row[1]))
    if not rows:
        sys.exit(f"no CrisisLexT26 data under {DATA}")
    out = []
    i = 0
    while len(out) < limit:  # cycle with a suffix so every post id is new
        tid, text = rows[i % len(rows)]
        out.append((f"{tid}-{i // len(rows)}", text))
        i += 1
    return out


def setup() -> None:
    tmp = tempfile.mkdtemp(prefix="beffroi-bench-")
    os.environ["BEFFROI_DATA_DIR"] = tmp
    os.environ.pop("DATABASE_URL", None)
    os.environ["BEFFROI_HTTPS"] = "0"
    sys.path.insert(0, str(ROOT / "src"))
    from beffroi.commands import bootstrap

    bootstrap.setup_django()
    bootstrap.migrate()


def make_activation(name: str):  # type: ignore[no-untyped-def]
    from beffroi.core import actions as core_actions
    from beffroi.core.models import Organisation
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    org = Organisation.objects.filter(slug="bench").first() or core_actions.create_organisation(
        "Bench", "bench"
    )
    activation = actions.create_activation(org, name=name, event_type="exercice")
    source = Source.objects.create(activation=activation, kind="file", name="bench", config={})
    return activation, source


def raw_posts(items: list[tuple[str, str]], source_id: int):  # type: ignore[no-untyped-def]
    from beffroi.watch.sources import RawPost

    base = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        RawPost("file", str(source_id), ext, text, base + timedelta(seconds=i))
        for i, (ext, text) in enumerate(items)
    ]


def processing_loop(activation, stop, arrivals, latencies, classifier):  # type: ignore[no-untyped-def]
    from django.db import connection

    from beffroi.watch.models import Post
    from beffroi.watch.worker import BATCH_SIZE, ActivationProcessor

    proc = ActivationProcessor(activation, classifier)
    done = 0
    try:
        while True:
            pending = list(
                Post.objects.filter(activation=activation, processed=False)
                .order_by("pk")
                .values_list("external_id", flat=True)[:BATCH_SIZE]
            )
            if not pending:
                if stop.is_set():
                    break
                time.sleep(0.01)
                continue
            n = proc.process(BATCH_SIZE)
            now = time.perf_counter()
            for ext in pending[:n]:
                latencies.append(now - arrivals[ext])
            done += n
    finally:
        connection.close()
    return done


def run(items, rate: float | None, classifier):  # type: ignore[no-untyped-def]
    from django.db import connection

    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post

    activation, source = make_activation(f"bench {rate or 'max'} {time.time()}")
    posts = raw_posts(items, source.pk)
    arrivals: dict[str, float] = {}
    latencies: list[float] = []
    stop = threading.Event()
    result: dict[str, int] = {}

    def consume() -> None:
        result["done"] = processing_loop(activation, stop, arrivals, latencies, classifier)

    worker = threading.Thread(target=consume)
    worker.start()
    start = time.perf_counter()
    if rate is None:
        batch = 500
        for i in range(0, len(posts), batch):
            chunk = posts[i : i + batch]
            t = time.perf_counter()
            for p in chunk:
                arrivals[p.external_id] = t
            actions.receive_posts(source.pk, chunk, {"v": 1, "state": {"i": i}, "seen": []})
    else:
        tick = 0.05
        per_tick = max(1, int(rate * tick))
        next_at = start
        for i in range(0, len(posts), per_tick):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            chunk = posts[i : i + per_tick]
            t = time.perf_counter()
            for p in chunk:
                arrivals[p.external_id] = t
            actions.receive_posts(source.pk, chunk, {"v": 1, "state": {"i": i}, "seen": []})
            next_at += tick
    offered = time.perf_counter() - start
    stop.set()
    worker.join()
    elapsed = time.perf_counter() - start
    queued = Post.objects.filter(activation=activation, processed=True).count()
    cards = Card.objects.filter(activation=activation).count()
    connection.close()
    return {
        "posts": len(posts),
        "queued": queued,
        "cards": cards,
        "elapsed": elapsed,
        "offered": offered,
        "latencies": latencies,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000, help="posts for the sustained run")
    parser.add_argument("--rate", type=float, default=500.0, help="posts/s for the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency run")
    parser.add_argument(
        "--no-classifier", action="store_true", help="skip the classifier (to see its cost)"
    )
    args = parser.parse_args()
    setup()
    from beffroi.watch.worker import base_classifier

    classifier = None if args.no_classifier else base_classifier()
    print(f"classifier: {'shipped model' if classifier is not None else 'none'}")
    # Warm the gazetteer, language model and classifier outside the timings.
    run(corpus(300), None, classifier)

    sustained = run(corpus(args.posts), None, classifier)
    rate = sustained["queued"] / sustained["elapsed"]
    print(
        f"sustained: {sustained['queued']}/{sustained['posts']} posts into the queue "
        f"({sustained['cards']} cards) in {sustained['elapsed']:.1f} s = {rate:,.0f} posts/s "
        f"(target ≥ 2,000)"
    )
    n = int(args.rate * args.seconds)
    paced = run(corpus(n), args.rate, classifier)
    lat = paced["latencies"]
    achieved = paced["posts"] / paced["offered"]
    print(
        f"latency at {args.rate:g} posts/s offered ({achieved:,.0f}/s achieved, "
        f"{paced['queued']}/{paced['posts']} queued): p50 {pct(lat, 0.5):.2f} s, "
        f"p95 {pct(lat, 0.95):.2f} s, max {max(lat):.2f} s (target p95 ≤ 2 s)"
    )
    ok = rate >= 2000 and pct(lat, 0.95) <= 2.0
    print("result:", "targets met" if ok else "targets NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
