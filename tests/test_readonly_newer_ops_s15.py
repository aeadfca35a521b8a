"""A read-only command refuses a database a newer Beffroi has migrated (applied migrations
of Beffroi's apps this code does not know), as it refuses one behind the code. Real
processes, on the engine under test."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fresh_databases import fresh_database_env

pytestmark = [pytest.mark.slow, pytest.mark.usesdb]

BEFFROI = [sys.executable, "-m", "beffroi.cli"]
RECORD = (
    "import sys\n"
    "from beffroi.commands import bootstrap; bootstrap.setup_django()\n"
    "from django.db.migrations.recorder import MigrationRecorder\n"
    "MigrationRecorder.Migration.objects.create(app=sys.argv[1], name=sys.argv[2])\n"
)


def test_a_database_ahead_of_the_code_is_refused(tmp_path):
    data = tmp_path / "data"
    with fresh_database_env(data, BEFFROI_SECRET_KEY="k" * 50) as env:

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*BEFFROI, *args], env=env, cwd=tmp_path, text=True, capture_output=True
            )

        def record(app: str, name: str) -> None:
            subprocess.run([sys.executable, "-c", RECORD, app, name], env=env, check=True)

        assert run("manage", "migrate", "-v0").returncode == 0
        # Left alone: another project's app, and the row a deleted squash's replaced
        # migration leaves (numbered before the app's last migration).
        record("someoneelse", "9999_theirs")
        record("core", "0001_squashed_away")
        done = run("journal", "verify")
        assert done.returncode == 0, done.stderr

        record("core", "9999_future")
        done = run("journal", "verify")
        assert done.returncode == 2
        assert done.stderr.startswith("beffroi: La base Beffroi de ")
        assert done.stderr.endswith(" est plus récente que cette version de Beffroi.\n")
        assert "Traceback" not in done.stderr
