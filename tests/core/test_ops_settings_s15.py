"""Operator-facing settings: the health check over plain HTTP, the mail backend's short
names and TLS mistakes refused at start-up, owner-only data files and the deploy check
that warns about an older install's modes."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from beffroi import config
from beffroi.core.ops_checks import data_modes, mode_warnings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- /healthz in production ------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_over_plain_http_when_everything_else_is_redirected():
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()  # its handler, and SecurityMiddleware, built under the override
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        login = client.get("/login/")
        assert login.status_code == 301
        assert login["Location"].startswith("https://")


def test_the_host_check_still_applies_to_healthz(settings):
    # Not opened to any Host: a local probe names the public host (docs/operations.md).
    settings.ALLOWED_HOSTS = ["beffroi.example.org"]
    client = Client()
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 400


# --- mail ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "backend"),
    [
        (None, "django.core.mail.backends.console.EmailBackend"),
        ("", "django.core.mail.backends.console.EmailBackend"),
        ("smtp", "django.core.mail.backends.smtp.EmailBackend"),
        (" SMTP ", "django.core.mail.backends.smtp.EmailBackend"),
        ("console", "django.core.mail.backends.console.EmailBackend"),
        ("locmem", "django.core.mail.backends.locmem.EmailBackend"),
        ("my.own.Backend", "my.own.Backend"),
    ],
)
def test_email_backend_short_names(value, backend):
    assert config.email_backend(value) == backend


def test_an_unknown_short_name_is_refused():
    with pytest.raises(config.ConfigError, match="BEFFROI_EMAIL_BACKEND='smpt' is not a mail"):
        config.email_backend("smpt")


def test_starttls_and_ssl_together_are_refused():
    assert config.email_tls("1", None) == (True, False)
    assert config.email_tls("0", "yes") == (False, True)
    with pytest.raises(config.ConfigError, match="both set"):
        config.email_tls("1", "1")


def _check(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    full.pop("DATABASE_URL", None)
    full.update(BEFFROI_DATA_DIR=str(tmp_path), BEFFROI_SECRET_KEY="e" * 50, **env)
    return subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "manage", "check"],
        env=full,
        text=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BEFFROI_EMAIL_BACKEND": "smpt"}, "is not a mail backend"),
        ({"BEFFROI_EMAIL_STARTTLS": "1", "BEFFROI_EMAIL_SSL": "1"}, "both set"),
    ],
)
def test_a_mail_mistake_stops_the_start_in_one_line(env, message, tmp_path):
    done = _check(env, tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.slow
def test_smtp_is_accepted(tmp_path):
    done = _check({"BEFFROI_EMAIL_BACKEND": "smtp"}, tmp_path)
    assert done.returncode == 0, done.stderr


# --- file modes ------------------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual one, under which the files were readable by all
    yield
    os.umask(old)


def test_a_new_data_dir_and_database_are_owner_only(tmp_path, monkeypatch, umask_022):
    data = tmp_path / "new" / "var"
    monkeypatch.setenv("BEFFROI_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BEFFROI_SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "read_only", False)
    loaded = config.load()
    assert loaded.data_dir == data
    assert _mode(data) == 0o700
    db = data / "beffroi.sqlite3"
    assert not db.exists()  # loading the configuration makes no database (demo guard)
    config.create_sqlite_file(db)  # what bootstrap.migrate does first
    assert _mode(db) == 0o600
    assert _mode(data / "secret_key") == 0o600
    # SQLite takes the empty file as a database, and its WAL files take its mode.
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert _mode(Path(f"{db}-wal")) == 0o600
        assert _mode(Path(f"{db}-shm")) == 0o600
    # Loading again leaves the database and the key as they are.
    assert config.load().secret_key == loaded.secret_key
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT x FROM t").fetchone() == (1,)


def test_a_database_url_file_is_created_owner_only(tmp_path, monkeypatch, umask_022):
    monkeypatch.setenv("BEFFROI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.setattr(config, "read_only", False)
    path = config.sqlite_path(config.load().database_url)
    assert path == tmp_path / "elsewhere.db"
    config.create_sqlite_file(path)
    assert _mode(path) == 0o600


def test_check_deploy_warns_about_an_older_install_s_modes(tmp_path):
    data = tmp_path / "var"
    data.mkdir(mode=0o700)
    db = data / "beffroi.sqlite3"
    db.touch(mode=0o600)
    (data / "secret_key").touch(mode=0o600)
    assert mode_warnings(data, db) == []

    data.chmod(0o755)
    db.chmod(0o644)
    Path(f"{db}-wal").touch(mode=0o644)
    warnings = mode_warnings(data, db)
    assert [w.id for w in warnings] == ["beffroi.W001", "beffroi.W002"]
    assert warnings[0].hint == f"chmod 700 {data}"
    assert warnings[1].hint == f"chmod 600 {db} {db}-wal"
    # PostgreSQL: the directory and the key only.
    assert [w.id for w in mode_warnings(data, None)] == ["beffroi.W001"]


def test_the_check_runs_with_deploy_only():
    from django.core.checks.registry import registry

    assert data_modes in registry.get_checks(include_deployment_checks=True)
    assert data_modes not in registry.get_checks(include_deployment_checks=False)
