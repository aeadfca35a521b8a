"""The `beffroi` command as a user runs it: real subprocesses, real exit codes."""

import os
import re
import socket
import subprocess
import sys

import pytest

from beffroi import __version__


def beffroi(*args, env=None, tmp_path=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    full_env.pop("DATABASE_URL", None)
    if tmp_path is not None:
        full_env["BEFFROI_DATA_DIR"] = str(tmp_path)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "beffroi.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_version():
    result = beffroi("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_help_lists_commands_without_importing_them():
    result = beffroi("--help")
    assert result.returncode == 0
    for name in ("serve", "demo", "journal", "audit", "verify", "watch"):
        assert name in result.stdout


def test_pure_cli_does_not_import_django():
    code = (
        "import sys; from beffroi.cli import make_parser; make_parser(['verify']); "
        "print('django' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://u@h/db"}, "unsupported scheme"),
        ({"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db"}, "cannot open the database"),
        ({"BEFFROI_DATA_DIR": "/proc/beffroi-cannot-write"}, "not writable"),
    ],
)
def test_bad_configuration_is_one_clear_line(tmp_path, env, message):
    result = beffroi("serve", "--port", "0", env=env, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = beffroi("serve", "--port", str(port), tmp_path=tmp_path)
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_demo_is_idempotent_and_journal_verifies(tmp_path):
    debug = {"BEFFROI_DEBUG": "1"}  # as `make run` sets it: refused with production settings
    first = beffroi(
        "demo", "--no-serve", "--port", "8765", env=debug, tmp_path=tmp_path, timeout=180
    )
    assert first.returncode == 0, first.stderr
    # The links it prints lead to the address it serves.
    assert "credential link: http://127.0.0.1:8765/c/mesures-ecoles-demo/#" in first.stdout
    second = beffroi("demo", "--no-serve", env=debug, tmp_path=tmp_path, timeout=180)
    assert second.returncode == 0, second.stderr
    verify = beffroi("journal", "verify", tmp_path=tmp_path)
    assert verify.returncode == 0 and "chain intact" in verify.stdout
    assert re.search(r"head [0-9a-f]{64}$", verify.stdout.strip())
    # WAL mode is a property of the database file: it outlives the process.
    import sqlite3

    with sqlite3.connect(tmp_path / "beffroi.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # The secret key was generated into the data dir, readable by its owner only.
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "BEFFROI_SECRET_KEY": "x" * 60 + "production-like-secret-key-for-the-check",
        "BEFFROI_ALLOWED_HOSTS": "beffroi.example.org",
    }
    result = beffroi(
        "manage", "check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
