"""Cost of each main courante export, per line: which ones fit in a request.

    .venv/bin/python bench/watch_exports.py [--lines 5000] [--pdf-lines 300]

Builds an in-memory main courante (no database) and times ``exports.rows`` and
``exports.build`` for CSV, XLSX, ODS and PDF, printing wall and CPU seconds,
CPU per line, and whether ``exports.runs_inline`` keeps that size in the
request (estimated CPU under ``INLINE_BUDGET``).  The PDF is timed on fewer
lines (``--pdf-lines``; its cost is linear, ~25 ms a line) and extrapolated.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing_settings")

WORDS = [
    "eau",
    "route",
    "coupée",
    "pont",
    "Luçon",
    "digue",
    "évacuation",
    "toit",
    "pompiers",
    "rue",
    "habitants",
    "école",
    "secours",
    "crue",
    "camping",
    "gymnase",
    "hébergement",
    "électricité",
    "coupure",
    "D746",
    "Chasnais",
]


def _entries(n: int) -> list:
    from django.utils import timezone

    from beffroi.watch.models import LogEntry

    rng = random.Random(5000)
    now = timezone.now()
    return [
        LogEntry(
            number=i + 1,
            at=now,
            channel=rng.choice(["reseaux-sociaux", "telephone", "observation"]),
            category=rng.choice(["routes", "degats", "personnes", "reseaux"]),
            commune_code="85128",
            commune_name="Luçon",
            text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))),
            source_url=f"https://example.org/p/{i}",
            verification=rng.choice(["verified", "to_verify", ""]),
            status="ouvert",
            for_partners=True,
        )
        for i in range(n)
    ]


def _time(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--pdf-lines", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from beffroi.watch import exports

    entries = _entries(args.lines)
    data, wall, cpu = _time(lambda: exports.rows(entries))
    print(f"main courante of {args.lines} lines (CPU figures guide; wall depends on load)")
    print(f"{'step':<6} {'lines':>6} {'wall s':>8} {'CPU s':>8} {'CPU µs/line':>12}  in request?")
    print(f"{'rows':<6} {args.lines:>6} {wall:>8.3f} {cpu:>8.3f} {cpu / args.lines * 1e6:>12.1f}")
    # The first PDF of a process loads fonts: warm WeasyPrint up, as a server would be.
    exports.build("pdf", data[:5], "warm-up", base_url="http://localhost/")
    for fmt in ("csv", "xlsx", "ods", "pdf"):
        n = args.pdf_lines if fmt == "pdf" else args.lines
        _out, wall, cpu = _time(
            lambda fmt=fmt, n=n: exports.build(fmt, data[:n], "bench", base_url="http://localhost/")
        )
        per_line = cpu / n
        inline = "yes" if exports.runs_inline(fmt, args.lines) else "no: background task"
        print(f"{fmt:<6} {n:>6} {wall:>8.3f} {cpu:>8.3f} {per_line * 1e6:>12.1f}  {inline}")
        if n != args.lines:
            print(f"{'':<6} {args.lines:>6} {'':>8} {per_line * args.lines:>8.1f}  (extrapolated)")
    print(
        "largest export kept in the request: "
        + ", ".join(
            f"{fmt} {_largest_inline(exports, fmt)} lines" for fmt in ("csv", "xlsx", "ods", "pdf")
        )
    )
    return 0


def _largest_inline(exports, fmt: str) -> int:  # type: ignore[no-untyped-def]
    lo, hi = 0, 10**7
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if exports.runs_inline(fmt, mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


if __name__ == "__main__":
    raise SystemExit(main())
