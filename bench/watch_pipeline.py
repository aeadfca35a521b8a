"""Ingest → triage queue: sustained throughput and arrival-to-queue latency.

Runs the worker itself on a fresh SQLite (WAL) database in a temporary data
directory: ``beffroi.watch.worker.Worker.run`` in its thread, exactly as
``beffroi worker`` starts it (the pipeline's stateless steps in
``BEFFROI_WATCH_PIPELINE_PROCESSES`` child processes, 2 by default; grouping,
the online classifier, priority and ``actions.store_cards`` in the worker),
while this thread plays the sources: it calls ``actions.receive_posts``, the
sink every source's runner calls (raw posts + checkpoint in one
transaction).  Network is excluded: posts come from CrisisLexT26 in memory.

Two runs, printed honestly:

1. sustained: the whole corpus offered as fast as the sink takes it (batches
   of 500, as the runner delivers them); posts/s from first arrival to the
   last post committed in the queue.  Also printed: CPU seconds per post of
   this process (sources + worker threads) and of the pipeline's children,
   and the rate the two cores would sustain from CPU time alone.
2. latency: posts offered at a fixed rate (default 500/s) in 50 ms ticks;
   for each post, time from its arrival (before the sink) to the commit of
   the batch that put it in the queue; p50/p95/max.

Usage: .venv/bin/python bench/watch_pipeline.py [--posts N] [--rate R] [--seconds S]
       [--processes P]   (0: the whole pipeline in the worker's thread)
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (Linux /proc), 0 if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(items, rate: float | None, processes: int):  # type: ignore[no-untyped-def]
    from django.db import connection

    from beffroi.watch import actions, worker
    from beffroi.watch.models import Card, Post

    activation, source = make_activation(f"bench {rate or 'max'} {time.time()}")
    posts = raw_posts(items, source.pk)
    arrivals: dict[str, float] = {}
    queued_at: dict[int, float] = {}
    store_cards = actions.store_cards

    worker_cpu = [0.0]

    def timed_store(activation, updates, **kwargs):  # type: ignore[no-untyped-def]
        # The commit time of each post's batch (store_cards is one transaction).
        n = store_cards(activation, updates, **kwargs)
        t = time.perf_counter()
        for u in updates:
            queued_at[u.post_id] = t
        worker_cpu[0] = time.thread_time()  # the worker thread's own CPU so far
        return n

    actions.store_cards = timed_store  # type: ignore[assignment]
    stop = threading.Event()
    w = worker.Worker(stop, processes=processes)
    # Start the children and load their models before the clock runs: a real
    # worker starts once and then runs for days.
    preparer = w._preparer()
    if preparer is not None:
        from beffroi.watch.pipeline import PostIn

        # The activation's own settings: the children's steps are cached per config.
        config = worker.pipeline_config(activation)
        warm = [PostIn(str(i), text, datetime(2024, 1, 1, tzinfo=UTC)) for i, text in items[:200]]
        for result in [preparer.submit(warm, config) for _ in range(2 * processes)]:
            result.get(timeout=300)
    thread = threading.Thread(target=w.run, name="watch")
    thread.start()
    pids = [p.pid for p in preparer._pool._pool] if preparer is not None else []
    cpu0 = time.process_time()
    sink0 = time.thread_time()
    children0 = sum(cpu_seconds(pid) for pid in pids)
    start = time.perf_counter()
    chunk_size = 500 if rate is None else max(1, int(rate * 0.05))
    next_at = start
    for i in range(0, len(posts), chunk_size):
        if rate is not None:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += 0.05
        chunk = posts[i : i + chunk_size]
        t = time.perf_counter()
        for p in chunk:
            arrivals[p.external_id] = t
        actions.receive_posts(source.pk, chunk, {"v": 1, "state": {"i": i}, "seen": []})
    offered = time.perf_counter() - start
    cpu_sink = time.thread_time() - sink0
    while len(queued_at) < len(posts) and thread.is_alive():
        time.sleep(0.02)
    elapsed = max(queued_at.values(), default=start) - start
    cpu_main = time.process_time() - cpu0
    cpu_children = sum(cpu_seconds(pid) for pid in pids) - children0
    stop.set()
    thread.join()
    actions.store_cards = store_cards  # type: ignore[assignment]
    ids = dict(Post.objects.filter(activation=activation).values_list("pk", "external_id"))
    latencies = [t - arrivals[ids[pk]] for pk, t in queued_at.items()]
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
        "cpu_main": cpu_main,
        "cpu_sink": cpu_sink,
        "cpu_worker_thread": worker_cpu[0],
        "cpu_children": cpu_children,
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
        "--processes", type=int, default=None, help="pipeline child processes (default: 2)"
    )
    args = parser.parse_args()
    setup()
    from beffroi.watch.worker import PIPELINE_PROCESSES, base_classifier

    processes = PIPELINE_PROCESSES if args.processes is None else args.processes
    classifier = base_classifier()
    print(
        f"classifier: {'shipped model' if classifier is not None else 'none'}; "
        f"pipeline child processes: {processes}; cores: {os.cpu_count()}"
    )
    sustained = run(corpus(args.posts), None, processes)
    n = sustained["queued"]
    rate = n / sustained["elapsed"]
    cpu_main = sustained["cpu_main"] / n * 1e6
    cpu_children = sustained["cpu_children"] / n * 1e6
    # What the cores sustain if the work spreads over them (CPU time, not the
    # other jobs' load): the busiest side bounds it.
    cores = min(os.cpu_count() or 1, 1 + processes)
    bound = min(
        1e6 * cores / (cpu_main + cpu_children),
        1e6 / cpu_main,
        1e6 * processes / cpu_children if processes else float("inf"),
    )
    print(
        f"sustained: {n}/{sustained['posts']} posts into the queue "
        f"({sustained['cards']} cards) in {sustained['elapsed']:.1f} s = {rate:,.0f} posts/s "
        f"(target ≥ 2,000)"
    )
    print(
        f"CPU per post: worker process {cpu_main:.0f} µs (sources' sink, grouping, "
        f"classifier's online part, priority, storage), pipeline children "
        f"{cpu_children:.0f} µs; from CPU time {cores} free cores sustain "
        f"≈ {bound:,.0f} posts/s"
    )
    sink, thread = sustained["cpu_sink"], sustained["cpu_worker_thread"]
    rest = sustained["cpu_main"] - sink - thread
    print(
        f"  of which: sources' sink {sink / n * 1e6:.0f} µs, worker thread "
        f"{thread / n * 1e6:.0f} µs, the rest (the pool's pickling threads) "
        f"{rest / n * 1e6:.0f} µs"
    )
    paced = run(corpus(int(args.rate * args.seconds)), args.rate, processes)
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
