"""What `beffroi demo` prints is true: no demo password claimed for an account that kept
its own, and with --no-serve no link to a port nobody chose."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest


@pytest.fixture
def accounts_only(monkeypatch):
    """The demo's accounts without the consultation and the watch room (seconds each)."""
    from beffroi.core import demo

    monkeypatch.setattr(demo, "APPS", ())
    return demo


def test_an_admin_that_keeps_its_own_password_is_not_said_to_have_the_demos(db, accounts_only):
    from beffroi.core import actions

    actions.create_account("admin", "my-own-long-password", superuser=True)
    (line,) = accounts_only.load()
    assert "users coordination, veilleur, veilleuse, partenaire, observateur (password:" in line
    assert line.endswith("; admin existed before the demo and keeps its own password"), line

    # Loaded again: the accounts the demo made still have its password, admin still not.
    (again,) = accounts_only.load()
    assert again == line


def test_every_account_with_the_demo_password_is_listed_with_it(db, accounts_only):
    (first,) = accounts_only.load()
    (second,) = accounts_only.load()  # the accounts exist now, with the demo's password
    expected = (
        "demo organisation 'demo': users admin, coordination, veilleur, veilleuse, "
        "partenaire, observateur (password: beffroi-demo)"
    )
    assert first == second == expected


def test_when_no_account_has_the_demo_password_none_is_printed(db, accounts_only):
    from beffroi.core import actions

    for username, _role in accounts_only.USERS:
        actions.create_account(username, f"{username}-own-password-123")
    (line,) = accounts_only.load()
    assert accounts_only.PASSWORD not in line
    assert line.endswith("observateur existed before the demo and keep their own passwords")


def _args(argv):
    from beffroi.commands import demo

    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("argv", "url", "note"),
    [
        ([], "http://127.0.0.1:8000", False),  # serving: the address it serves
        (["--port", "8123"], "http://127.0.0.1:8123", False),
        (["--no-serve"], "", True),  # served elsewhere: paths only, said so
        (["--no-serve", "--port", "8072"], "http://127.0.0.1:8072", False),
        (["--no-serve", "--host", "0.0.0.0"], "http://0.0.0.0:8000", False),
    ],
)
def test_links_start_with_the_real_address_or_none(monkeypatch, argv, url, note):
    from beffroi.commands import demo

    monkeypatch.delenv("BEFFROI_DEMO_URL", raising=False)
    args = _args(argv)
    given = args.host is not None or args.port is not None
    args.host = args.host or "127.0.0.1"
    args.port = args.port or 8000
    said = demo._links_base(args, given=given)
    assert os.environ["BEFFROI_DEMO_URL"] == url
    assert (said is not None) == note


def test_an_address_in_the_environment_wins(monkeypatch):
    from beffroi.commands import demo

    monkeypatch.setenv("BEFFROI_DEMO_URL", "https://demo.example.org")
    args = _args(["--no-serve"])
    args.host, args.port = "127.0.0.1", 8000
    assert demo._links_base(args, given=False) is None
    assert os.environ["BEFFROI_DEMO_URL"] == "https://demo.example.org"


def test_the_serve_defaults_still_apply_when_serving():
    from beffroi.commands import demo

    defaults = demo._serve_defaults()
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8000)


@pytest.mark.slow
def test_no_serve_prints_no_guessed_port(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    env.pop("DATABASE_URL", None)
    env.update(BEFFROI_DATA_DIR=str(tmp_path), BEFFROI_DEBUG="1")
    result = subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "http://" not in out, out
    assert "links below are paths" in out.splitlines()[0]
    assert "board /c/mesures-ecoles-demo/tableau/" in out
    assert "partner link (read-only main courante, no account): /partenaire/" in out
    assert "replaying" in out  # the watch demo found its shipped file from a bare data dir
