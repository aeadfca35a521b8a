"""A fresh, empty database of the engine under test, for commands run as real processes:
a SQLite file in a new data directory, or a new PostgreSQL database beside the test one
when DATABASE_URL names PostgreSQL (dropped afterwards)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _pg_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres:", "postgresql:")) else None


def is_postgres() -> bool:
    return _pg_url() is not None


# Takes the services' migration lock, says so, and keeps it until its stdin closes.
HOLD_MIGRATION_LOCK = (
    "import sys\n"
    "from beffroi.commands import bootstrap\n"
    "bootstrap.setup_django()\n"
    "with bootstrap.migration_lock():\n"
    "    print('locked', flush=True)\n"
    "    sys.stdin.read()\n"
)


def sqlite_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process whose database is the SQLite file of data_dir: none
    of the test run's BEFFROI_*/DJANGO_* settings nor DATABASE_URL, and extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    env.pop("DATABASE_URL", None)
    env.update(BEFFROI_DATA_DIR=str(data_dir), **extra)
    return env


def python_process(code: str, env: dict[str, str], *argv: str, **kw) -> subprocess.Popen[str]:
    """``python -c code argv…`` under env, its output captured as text."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


@contextmanager
def fresh_database_env(data_dir: Path, **extra: str) -> Iterator[dict[str, str]]:
    """The environment of a process that will find an empty database: none of the test
    run's BEFFROI_*/DJANGO_* settings, BEFFROI_DATA_DIR=data_dir, and extra."""
    env = sqlite_env(data_dir, **extra)
    url = _pg_url()
    if url is None:
        yield env
        return
    import psycopg

    name = f"beffroi_fresh_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
