"""A real ``beffroi worker`` beats in the shared cache under the id it gives django-tasks,
says goodbye when stopped cleanly, and falls silent when killed (its last beat then runs
out, ``core.jobs.ALIVE_SECONDS`` later). Real processes on the test database."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from beffroi.core import jobs
from child_processes import env_on_test_database

pytestmark = [pytest.mark.slow]


def _env() -> dict[str, str]:
    return env_on_test_database(BEFFROI_WATCH_PIPELINE_PROCESSES="0")


def _known_ids() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cache_key FROM beffroi_cache WHERE cache_key LIKE %s", ["%worker-known:%"]
        )
        return [row[0].split("worker-known:", 1)[1] for row in cursor.fetchall()]


def _alive_expiry(worker_id: str) -> datetime | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT expires FROM beffroi_cache WHERE cache_key LIKE %s",
            [f"%worker-alive:{worker_id}"],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    value = row[0]
    if isinstance(value, str):  # SQLite hands the text back
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _start() -> tuple[subprocess.Popen[bytes], str]:
    before = set(_known_ids())
    proc = subprocess.Popen(
        [sys.executable, "-m", "beffroi.cli", "worker"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = set(_known_ids()) - before
        if new:
            (worker_id,) = new
            return proc, worker_id
        time.sleep(0.3)
    proc.kill()
    pytest.fail("the worker never said it was alive")


def test_a_worker_beats_says_goodbye_and_falls_silent_when_killed(transactional_db):
    proc, worker_id = _start()
    try:
        assert jobs.worker_alive(worker_id) is True and jobs.any_worker_alive()
        proc.send_signal(signal.SIGTERM)  # a clean stop: the goodbye
        proc.wait(30)
        assert jobs.worker_alive(worker_id) is False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    proc, worker_id = _start()
    try:
        proc.send_signal(signal.SIGKILL)  # no goodbye: its last beat must run out
        proc.wait(10)
        expiry = _alive_expiry(worker_id)
        assert expiry is not None
        ahead = (expiry - datetime.now(UTC)).total_seconds()
        assert 0 < ahead <= jobs.ALIVE_SECONDS + 1
        time.sleep(jobs.BEAT_SECONDS + 2)
        assert _alive_expiry(worker_id) == expiry  # nobody beats for it any more
        assert jobs.worker_alive(worker_id) is True  # until the beat runs out (60 s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
