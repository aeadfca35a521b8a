"""Throughput of each enrichment pipeline step on CrisisLexT26 posts (network excluded).

Prints posts/s per step and for the whole pipeline, on one process. Classification uses
beffroi.watch.classify.load_default() when it exists; otherwise a stand-in of the same
shape (hashed character n-grams + logistic regression trained here on CrisisLex), labelled
as such in the output.

Then the same posts through Pipeline.process_stream with --workers child processes
(default 2): stateless steps and the classifier's featurisation in the children, grouping,
the rest of classification and priority in the parent.

Usage: python bench/pipeline_steps.py [--posts N] [--batch B] [--workers W] [--stand-in]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from beffroi.geo.geocode import warm_up  # noqa: E402
from beffroi.watch.pipeline import Pipeline, PipelineConfig, PostIn, Prediction  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "crisislex" / "CrisisLexT26"


def load_posts(limit: int) -> tuple[list[PostIn], list[tuple[str, str, str]]]:
    posts: list[PostIn] = []
    labels: list[tuple[str, str, str]] = []
    t0 = datetime(2013, 6, 20, tzinfo=UTC)
    for path in sorted(DATA.glob("*/*-tweets_labeled.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for row in reader:
                if len(row) < 5:
                    continue
                posts.append(PostIn(id=row[0].strip('"'), text=row[1], created_at=t0))
                labels.append((row[2].strip(), row[3].strip(), row[4].strip()))
    # Interleave events so batches look like a mixed stream, then repeat to `limit`.
    order = sorted(range(len(posts)), key=lambda i: (i * 7919) % len(posts))
    posts = [posts[i] for i in order]
    labels = [labels[i] for i in order]
    out = [posts[i % len(posts)] for i in range(limit)]
    out = [
        PostIn(id=f"{p.id}-{i}", text=p.text, created_at=p.created_at) for i, p in enumerate(out)
    ]
    return out, labels


class StandIn:
    """Linear model of the classifier's shape, used only when none ships yet."""

    def __init__(self, posts: list[PostIn], labels: list[tuple[str, str, str]]) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vec = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**18)
        n = min(6000, len(posts))
        x = self.vec.transform([p.text for p in posts[:n]])
        self.inf = LogisticRegression(max_iter=200).fit(
            x, [lab[2] == "Related and informative" for lab in labels[:n]]
        )
        self.src = LogisticRegression(max_iter=200).fit(x, [lab[0] for lab in labels[:n]])

    def predict(self, texts: list[str]) -> list[Prediction]:
        x = self.vec.transform(texts)
        p_inf = self.inf.predict_proba(x)[:, 1]
        p_src = self.src.predict_proba(x)
        classes = list(self.src.classes_)
        out = []
        for pi, ps in zip(p_inf, p_src, strict=True):
            sp = {c: float(v) for c, v in zip(classes, ps, strict=True)}
            out.append(
                Prediction(
                    bool(pi >= 0.5), float(pi), "Not applicable", max(sp, key=sp.__getitem__), sp
                )
            )
        return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="children for process_stream")
    parser.add_argument("--repost-share", type=float, default=0.0, help="share of RT copies")
    parser.add_argument("--stand-in", action="store_true", help="use the stand-in classifier")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"CrisisLexT26 not found at {DATA}", file=sys.stderr)
        return 2
    posts, labels = load_posts(args.posts)
    if args.repost_share > 0:
        # Live crisis streams are mostly reposts: turn a share of the posts into "RT @x:"
        # copies of a recent post (deterministic choice).
        for i in range(1, len(posts)):
            if (i * 2654435761) % 1000 < args.repost_share * 1000:
                src = posts[max(0, i - 1 - (i * 7) % 200)]
                posts[i] = PostIn(id=posts[i].id, text=f"RT @x{i % 97}: {src.text}",
                                  created_at=src.created_at)  # fmt: skip
    classifier: object
    if args.stand_in:
        classifier, kind = StandIn(posts, labels), "STAND-IN (forced by --stand-in)"
    else:
        try:
            from beffroi.watch.classify import load_default

            classifier = load_default()
            kind = "beffroi.watch.classify.load_default()"
        except Exception as exc:  # a bench reports and carries on
            print(f"shipped classifier unavailable ({exc!r}): using the stand-in", file=sys.stderr)
            classifier = StandIn(posts, labels)
            kind = "STAND-IN (hashed char n-grams + logistic regression)"
    t = time.perf_counter()
    warm_up()
    pipe = Pipeline(PipelineConfig(area={"85", "44"}), classifier=classifier)  # type: ignore[arg-type]
    pipe.process(posts[:10])  # load the language model and matcher outside the timing
    pipe.timings.clear()
    pipe.cpu_timings.clear()
    print(f"warm-up (gazetteer, matcher, language model): {time.perf_counter() - t:.2f} s")
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    n_groups_before = len(pipe.dedup.groups)
    for i in range(0, len(posts), args.batch):
        pipe.process(posts[i : i + args.batch])
    total, cpu_total = time.perf_counter() - t0, time.process_time() - c0
    n = len(posts)
    print(
        f"{n} CrisisLexT26 posts ({args.repost_share:.0%} made reposts), batches of "
        f"{args.batch}, one process; classifier: {kind}"
    )
    print(f"load average at start: {load:.1f} on {os.cpu_count()} cores")
    print("  step        posts/CPU-s  µs CPU/post  posts/s wall")
    for name, cpu in pipe.cpu_timings.items():
        wall = pipe.timings[name]
        print(
            f"  {name:<10} {n / max(cpu, 1e-9):>12,.0f} {cpu * 1e6 / n:>12.0f} {n / wall:>13,.0f}"
        )
    print(
        f"  {'TOTAL':<10} {n / cpu_total:>12,.0f} {cpu_total * 1e6 / n:>12.0f} {n / total:>13,.0f}"
    )
    print(
        "  posts/CPU-s: what one core sustains when nothing else runs on it; the wall "
        "figure depends on the other jobs on the machine."
    )
    print(f"  groups: {len(pipe.dedup.groups) - n_groups_before} for {n} posts")
    if args.workers > 0:
        stream = Pipeline(PipelineConfig(area={"85", "44"}), classifier=classifier)  # type: ignore[arg-type]
        stream.process(posts[:10])
        batches = [posts[i : i + args.batch] for i in range(0, n, args.batch)]
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in stream.process_stream(batches, workers=args.workers):
            pass
        wall, main_cpu = time.perf_counter() - t0, time.process_time() - c0
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        kids_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
        all_cpu = main_cpu + kids_cpu
        print(
            f"process_stream, {args.workers} children: {n / wall:,.0f} posts/s wall; parent "
            f"(grouping, end of classification, priority) {n / main_cpu:,.0f} posts/CPU-s"
        )
        print(
            f"  all processes: {all_cpu * 1e6 / n:.0f} µs CPU/post -> "
            f"{2 * n / all_cpu:,.0f} posts/s when 2 cores are free for it"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
