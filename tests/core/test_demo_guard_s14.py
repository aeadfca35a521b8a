"""`beffroi demo` creates a superuser whose password is in the README: it loads only with
BEFFROI_DEBUG=1 (as `make run` sets it) or --public-passwords, never next to other
organisations when DEBUG is off."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from beffroi.commands.demo import check_allowed


def _demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    env.pop("DATABASE_URL", None)
    env["BEFFROI_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_refuses_production_settings_before_touching_the_database(tmp_path):
    result = _demo(tmp_path)
    assert result.returncode == 2
    assert "BEFFROI_DEBUG=1" in result.stderr and "--public-passwords" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "beffroi.sqlite3").exists()


def test_without_debug_only_an_explicit_flag_lets_it_load(db, settings):
    settings.DEBUG = False
    with pytest.raises(SystemExit) as refused:
        check_allowed(public_passwords=False)
    assert refused.value.code == 2
    check_allowed(public_passwords=True)  # an empty database, said on purpose


def test_never_next_to_other_organisations_without_debug(org, settings, capsys):
    settings.DEBUG = False
    with pytest.raises(SystemExit):
        check_allowed(public_passwords=True)
    assert "other organisations" in capsys.readouterr().err
    settings.DEBUG = True  # a developer's machine: make run on a database with test orgs
    check_allowed(public_passwords=False)
