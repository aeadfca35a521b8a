"""`beffroi manage …` on a fresh SQLite install: the database file it creates is
owner-only whatever the umask (`migrate` under the services' migration lock, any other
command before its first connection), as docs/operations.md says."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from fresh_databases import HOLD_MIGRATION_LOCK, python_process, sqlite_env

pytestmark = [pytest.mark.slow]

# The `beffroi` entry point, run under a umask that would leave other users a reading
# right.
CLI = (
    "import os, sys\nos.umask(0o022)\nfrom beffroi.cli import main\nsys.exit(main(sys.argv[1:]))\n"
)


def _tables(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def _env(tmp_path: Path) -> dict[str, str]:
    return sqlite_env(tmp_path / "data", BEFFROI_SECRET_KEY="m" * 50)


def _beffroi(env: dict[str, str], *argv: str) -> subprocess.Popen[str]:
    return python_process(CLI, env, *argv)


def test_manage_migrate_creates_an_owner_only_database(tmp_path):
    proc = _beffroi(_env(tmp_path), "manage", "migrate", "--verbosity", "0")
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert (tmp_path / "data" / "beffroi.sqlite3").stat().st_mode & 0o777 == 0o600


def test_another_manage_command_first_leaves_an_owner_only_database(tmp_path):
    # createsuperuser before any migration fails (no table), but its connection made the
    # file; the migration that follows keeps the file's mode.
    env = _env(tmp_path)
    first = _beffroi(env, "manage", "createsuperuser", "--noinput", "--username", "x")
    first.communicate(timeout=120)
    db = tmp_path / "data" / "beffroi.sqlite3"
    assert db.stat().st_mode & 0o777 == 0o600
    proc = _beffroi(env, "manage", "migrate", "--verbosity", "0")
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert db.stat().st_mode & 0o777 == 0o600


def test_manage_migrate_waits_for_the_migration_in_progress(tmp_path):
    env = _env(tmp_path)
    holder = python_process(HOLD_MIGRATION_LOCK, env, stdin=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked", holder.stderr
        waiting = _beffroi(env, "manage", "migrate", "--verbosity", "0")
        # Unlocked, migrate would have made its first table well within this time.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert "django_migrations" not in _tables(tmp_path / "data" / "beffroi.sqlite3")
            time.sleep(0.5)
        assert waiting.poll() is None
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    _out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err[-2000:]
