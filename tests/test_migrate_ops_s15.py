"""`serve` and `worker` both migrate when they start: two processes at once on a fresh
database must both succeed, the second waiting for the first (bootstrap.migration_lock).
Real processes, a fresh database of the engine under test (SQLite file, or a new
PostgreSQL database beside the test one when DATABASE_URL names PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fresh_databases import (
    HOLD_MIGRATION_LOCK,
    fresh_database_env,
    python_process,
    sqlite_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.usesdb]

MIGRATE = "from beffroi.commands import bootstrap; bootstrap.setup_django(); bootstrap.migrate()"
TABLES = (
    "from beffroi.commands import bootstrap; bootstrap.setup_django()\n"
    "from django.db import connection\n"
    "print(sorted(connection.introspection.table_names()))\n"
)


@pytest.fixture
def fresh_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with fresh_database_env(tmp_path / "data", BEFFROI_SECRET_KEY="m" * 50) as env:
        yield env


def test_two_processes_migrating_a_fresh_database_at_once_both_succeed(fresh_env):
    procs = [python_process(MIGRATE, fresh_env) for _ in range(3)]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]


def test_a_migration_waits_for_the_one_in_progress(fresh_env):
    holder = python_process(HOLD_MIGRATION_LOCK, fresh_env, stdin=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked", holder.stderr
        waiting = python_process(MIGRATE, fresh_env)
        time.sleep(4)
        # Still waiting, and it created no table meanwhile.
        assert waiting.poll() is None
        tables = subprocess.run(
            [sys.executable, "-c", TABLES], env=fresh_env, text=True, capture_output=True
        )
        assert tables.returncode == 0, tables.stderr
        assert "django_migrations" not in tables.stdout
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    _out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err[-2000:]


def test_the_database_a_migration_creates_is_owner_only(tmp_path):
    """The SQLite file is made owner-only by the migrating command, not by loading the
    configuration (which a refused or read-only command also does). SQLite in both runs:
    the mode of a database file is what is checked."""
    env = sqlite_env(tmp_path / "data", BEFFROI_SECRET_KEY="m" * 50)
    db = tmp_path / "data" / "beffroi.sqlite3"
    umask = "import os\nos.umask(0o022)\n"
    setup = python_process(
        umask + "from beffroi.commands import bootstrap\nbootstrap.setup_django()", env
    )
    _out, err = setup.communicate(timeout=120)
    assert setup.returncode == 0, err[-2000:]
    assert not db.exists()
    # As serve, worker and demo start: the database is checked (a first connection), then
    # migrated.
    checked = "bootstrap.check_database(); bootstrap.migrate()"
    start = MIGRATE.replace("bootstrap.migrate()", checked)
    migrate = python_process(umask + start.replace("; ", "\n"), env)
    _out, err = migrate.communicate(timeout=300)
    assert migrate.returncode == 0, err[-2000:]
    assert db.stat().st_mode & 0o777 == 0o600
