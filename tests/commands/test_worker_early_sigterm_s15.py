"""A SIGTERM that reaches ``beffroi worker`` before django-tasks' worker has put in its own
handler still stops it cleanly: the heartbeat says goodbye. Before, the default action
ended the process at once and its beat stayed in the cache for a minute (an intermittent
failure of test_worker_heartbeat_process_s10 on a loaded machine). Here the task queue
never starts (it sleeps instead), which holds that window open."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from beffroi.core import jobs
from child_processes import env_on_test_database

pytestmark = [pytest.mark.slow]

NO_QUEUE = (
    "import time, django.core.management as m\n"
    "real = m.call_command\n"
    "m.call_command = lambda name, *a, **k: (\n"
    "    time.sleep(600) if name == 'db_worker' else real(name, *a, **k)\n"
    ")\n"
    "from beffroi.cli import main\n"
    "raise SystemExit(main(['worker']))\n"
)


def _known_ids() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cache_key FROM beffroi_cache WHERE cache_key LIKE %s", ["%worker-known:%"]
        )
        return {row[0].split("worker-known:", 1)[1] for row in cursor.fetchall()}


def test_a_sigterm_before_the_queue_runs_still_says_goodbye(transactional_db):
    before = _known_ids()
    proc = subprocess.Popen(
        [sys.executable, "-c", NO_QUEUE],
        env=env_on_test_database(BEFFROI_WATCH_PIPELINE_PROCESSES="0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (new := _known_ids() - before) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert new, "the worker never said it was alive"
        (worker_id,) = new
        assert jobs.worker_alive(worker_id) is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0  # a clean exit, not killed by the signal (-15)
        assert jobs.worker_alive(worker_id) is False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
