"""The watch pipeline's benchmark still runs against the code it measures.

It replaces ``store_cards`` with a timed wrapper; when ``store_cards`` gained a keyword
argument, the wrapper refused it and the benchmark died before printing a figure. A tiny
run (a few hundred posts, two seconds of offered load) checks the whole path, not speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_puts_every_post_in_the_queue_and_prints_its_figures() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "bench/watch_pipeline.py",
            "--posts",
            "300",
            "--rate",
            "50",
            "--seconds",
            "2",
        ],
        cwd=ROOT,
        # Its own settings and temporary database, not the test run's.
        env={
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert "sustained: 300/300 posts into the queue" in run.stdout, run.stdout[-2000:]
    assert "latency at 50 posts/s offered" in run.stdout
