"""The commands that only read (`journal verify`, `watch courante-verify`), run where there
is no Beffroi database (cron starts in $HOME, where BEFFROI_DATA_DIR's default ./var is
nobody's): one French line, exit 2, nothing created. Real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fresh_databases import fresh_database_env, is_postgres

pytestmark = [pytest.mark.slow]

READERS = [["journal", "verify"], ["watch", "courante-verify"]]
# They write, but only to an install that exists: they create nothing either.
EXISTING_ONLY = [["watch", "scrub-handles", "--dry-run"], ["watch", "scrub-handles"]]
BEFFROI = [sys.executable, "-m", "beffroi.cli"]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BEFFROI, *args], env=env, cwd=cwd, text=True, capture_output=True, timeout=300
    )


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("args", READERS + EXISTING_ONLY, ids=" ".join)
def test_in_an_empty_directory_a_reader_refuses_in_one_line_and_creates_nothing(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    env.pop("DATABASE_URL", None)
    done = _run(args, env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"beffroi: Aucune base Beffroi dans {tmp_path / 'var'} : "
        "définissez BEFFROI_DATA_DIR ou DATABASE_URL.\n"
    )
    assert done.stdout == ""
    assert _files(tmp_path) == []


@pytest.mark.usesdb
@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_an_empty_database_is_no_beffroi_database(args, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with fresh_database_env(data, BEFFROI_SECRET_KEY="k" * 50) as env:
        if not is_postgres():
            (data / "beffroi.sqlite3").touch()  # an empty file: SQLite's empty database
        done = _run(args, env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("beffroi: Aucune base Beffroi dans ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


@pytest.mark.usesdb
def test_a_migrated_database_is_read_the_key_is_required_where_it_matters(tmp_path):
    data = tmp_path / "data"
    with fresh_database_env(data) as env:
        keyed = {**env, "BEFFROI_SECRET_KEY": "k" * 50}
        migrate = subprocess.run(
            [*BEFFROI, "manage", "migrate", "-v0"], env=keyed, text=True, capture_output=True
        )
        assert migrate.returncode == 0, migrate.stderr
        before = _files(tmp_path)
        assert "data/secret_key" not in before

        # The journal needs no key: read without one, and still nothing is written.
        done = _run(["journal", "verify"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("journal OK: 0 entries")
        # The main courante's digests do: a made-up key would call every line altered.
        done = _run(["watch", "courante-verify"], env, tmp_path)
        assert done.returncode == 2
        assert done.stderr.startswith("beffroi: Aucune clé secrète : ni BEFFROI_SECRET_KEY")
        assert not (data / "secret_key").exists()
        done = _run(["watch", "courante-verify"], keyed, tmp_path)
        assert done.returncode == 0, done.stderr
        done = _run(
            ["watch", "courante-verify"], {**env, "BEFFROI_PSEUDONYM_KEY": "p" * 50}, tmp_path
        )
        assert done.returncode == 0, done.stderr

        # A database behind the code (upgraded, not migrated) is named as such.
        forget = (
            "from beffroi.commands import bootstrap; bootstrap.setup_django()\n"
            "from django.db.migrations.recorder import MigrationRecorder\n"
            "last = MigrationRecorder.Migration.objects.filter(app='core').latest('id')\n"
            "last.delete()\n"
        )
        subprocess.run([sys.executable, "-c", forget], env=keyed, check=True)
        done = _run(["journal", "verify"], keyed, tmp_path)
        assert done.returncode == 2
        assert "n'est pas à jour pour cette version" in done.stderr
        assert done.stderr.count("\n") == 1
