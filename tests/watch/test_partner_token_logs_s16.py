"""Every way a partner link's token can take to a log line, through the deployment's own
logging configuration (review R16, finding 4): the redaction sits on the handlers, so a
record is cleaned whatever logger it comes from. The first case was the leak: a partner's
export form refused by the CSRF check is logged by ``django.security.csrf``, which the
filter on ``django.request`` never saw."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client

from fresh_databases import sqlite_env

TOKEN = "Tk7-secret_partner-Token"
REDACTED = "/partenaire/…/"


@pytest.fixture
def configured():
    """The project's LOGGING applied, its handlers writing into buffers; put back after."""
    logging.config.dictConfig(django_settings.LOGGING)
    console = io.StringIO()
    server = io.StringIO()
    (root_handler,) = logging.getLogger().handlers
    (server_handler,) = logging.getLogger("django.server").handlers
    root_handler.setStream(console)  # type: ignore[attr-defined]
    server_handler.setStream(server)  # type: ignore[attr-defined]
    yield {"console": console, "server": server}
    logging.config.dictConfig(django_settings.LOGGING)


@pytest.fixture
def uvicorn_loggers():
    """uvicorn's loggers put back as they were: the tests below configure them."""
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


def _clean(text: str) -> None:
    assert text, "nothing was logged"
    assert TOKEN not in text


@pytest.mark.django_db
def test_a_partner_export_refused_by_the_csrf_check(configured, export_room):
    _activation, _link, token = export_room
    response = Client(enforce_csrf_checks=True).post(f"/partenaire/{token}/export.csv", {"q": ""})
    assert response.status_code == 403
    logged = configured["console"].getvalue()
    assert token not in logged
    assert f"Forbidden (CSRF cookie not set.): {REDACTED}export.csv" in logged


@pytest.mark.django_db
def test_a_wrong_address_under_a_partner_link(configured):
    assert Client().get(f"/partenaire/{TOKEN}/export.exe").status_code == 404
    logged = configured["console"].getvalue()
    _clean(logged)
    assert f"Not Found: {REDACTED}export.exe" in logged


@pytest.mark.parametrize(
    "logger", ["django.security.csrf", "django.security.SuspiciousOperation", "beffroi.watch", ""]
)
def test_any_logger_through_the_console(configured, logger):
    logging.getLogger(logger).warning("Refused: %s", f"/partenaire/{TOKEN}/lignes/?q=x")
    logged = configured["console"].getvalue()
    _clean(logged)
    assert f"Refused: {REDACTED}lignes/?q=x" in logged


def test_a_traceback_quoting_the_path(configured):
    try:
        raise ValueError(f"cannot read /partenaire/{TOKEN}/exports/1/fichier")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: %s", "/x/")
    logged = configured["console"].getvalue()
    _clean(logged)
    assert f"ValueError: cannot read {REDACTED}exports/1/fichier" in logged
    assert "Traceback (most recent call last)" in logged


def test_a_stack_or_a_traceback_already_formatted():
    from beffroi.watch.logfilter import PartnerTokenFilter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), None)
    record.stack_info = f"Stack (most recent call last):\n  serving /partenaire/{TOKEN}/"
    record.exc_text = f"Traceback (most recent call last):\nKeyError: '/partenaire/{TOKEN}'"
    PartnerTokenFilter().filter(record)
    assert record.stack_info.endswith(f"serving {REDACTED}")
    assert record.exc_text.endswith("KeyError: '/partenaire/…'")


def test_the_development_servers_access_lines(configured):
    # As django.core.servers.basehttp.WSGIRequestHandler.log_message writes them.
    logging.getLogger("django.server").warning(
        '"%s" %s %s',
        f"GET /partenaire/{TOKEN}/export.exe HTTP/1.1",
        "404",
        "1382",
        extra={"status_code": 404, "server_time": "25/Nov/2026 03:22:04"},
    )
    logged = configured["server"].getvalue()
    _clean(logged)
    assert f'"GET {REDACTED}export.exe HTTP/1.1" 404 1382' in logged
    assert configured["console"].getvalue() == ""  # once, not twice


def test_a_token_split_between_format_and_argument():
    from beffroi.watch.logfilter import PartnerTokenFilter

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "/partenaire/%s/", (TOKEN,), None)
    assert PartnerTokenFilter().filter(record)
    assert record.getMessage() == REDACTED
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "%(path)s %(n)d",
        ({"path": f"/partenaire/{TOKEN}", "n": 3},),
        None,
    )
    PartnerTokenFilter().filter(record)
    assert record.getMessage() == "/partenaire/… 3"
    assert record.args == {"path": "/partenaire/…", "n": 3}  # still arguments


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("a %s b %s", (f"/partenaire/{TOKEN}/",)),  # too few arguments
        ("bad %d", (f"/partenaire/{TOKEN}/",)),  # a str where a number goes
        (f"at /partenaire/{TOKEN}/ %(n)s", ({"m": 1},)),  # a missing key, token in the format
    ],
)
def test_a_malformed_log_call_does_not_raise_into_the_caller(configured, capsys, message, args):
    # Review R18, finding 1: filters run outside Handler.emit's try block, so an error
    # in the filter reached the code that logged (a view's 500, a worker's loop).
    # Logging's own report of the bad call still comes out, without the token. The
    # record goes straight to the project's handler: pytest's capture handler re-raises
    # logging errors on purpose, which would hide what a deployment sees.
    record = logging.getLogger("some.lib").makeRecord(
        "some.lib", logging.WARNING, __file__, 1, message, args, None
    )
    from beffroi.watch.logfilter import PartnerTokenFilter

    (console,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PartnerTokenFilter) for f in h.filters)
    ]
    assert console.handle(record)
    report = capsys.readouterr().err
    assert "--- Logging error ---" in report
    assert "/partenaire/…" in report and TOKEN not in report
    assert TOKEN not in configured["console"].getvalue()


def _uvicorn_then_project(access_log: bool) -> None:
    """The order `beffroi serve` configures logging in: uvicorn's own configuration when
    it starts, then Django's when the app is imported."""
    from uvicorn.config import Config

    Config("beffroi.asgi:application", log_level="warning", access_log=access_log)
    logging.config.dictConfig(django_settings.LOGGING)


def test_uvicorn_errors_go_through_the_redacting_handler(configured, uvicorn_loggers):
    _uvicorn_then_project(access_log=False)
    console = io.StringIO()
    logging.getLogger().handlers[0].setStream(console)  # type: ignore[attr-defined]
    try:
        raise RuntimeError(f"client gone during /partenaire/{TOKEN}/flux/")
    except RuntimeError as exc:
        logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=exc)
    logged = console.getvalue()
    _clean(logged)
    assert f"RuntimeError: client gone during {REDACTED}flux/" in logged
    # uvicorn's access log, which `beffroi serve` turns off, stays off: its access
    # lines would carry every path (and the client's address).
    assert not logging.getLogger("uvicorn.access").hasHandlers()


def _documented_uvicorn_config() -> dict:
    guide = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    (block,) = [b for b in re.findall(r"```json\n(.*?)```", guide, re.S) if "PartnerToken" in b]
    return json.loads(block)


def test_uvicorns_access_log_with_the_documented_filter_keeps_its_format(capsys, uvicorn_loggers):
    """For a deployment running uvicorn itself with its access log on, with the
    configuration operations.md gives: uvicorn's formatter reads the path from the
    record's arguments, which the filter must leave as arguments."""
    config = _documented_uvicorn_config()
    config["formatters"]["access"]["use_colors"] = False
    try:
        logging.config.dictConfig(config)
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/partenaire/{TOKEN}/", "1.1", 200
        )
        logged = capsys.readouterr().out
    finally:
        logging.config.dictConfig(django_settings.LOGGING)
    _clean(logged)
    assert f'127.0.0.1:5000 - "GET {REDACTED} HTTP/1.1" 200 OK' in logged


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_beffroi_serve_writes_no_token(tmp_path: Path):
    """The real server, its real output: a 404 and a CSRF refusal under a partner link's
    address, and a request uvicorn itself refuses."""
    env = sqlite_env(tmp_path, BEFFROI_HTTPS="0", BEFFROI_SECRET_KEY="logs-" + "s" * 40)
    port = _port()
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "beffroi.cli", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.2)
            assert httpx.get(f"{base}/partenaire/{TOKEN}/export.exe").status_code == 404
            assert httpx.post(f"{base}/partenaire/{TOKEN}/export.csv").status_code == 403
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.sendall(f"GET /partenaire/{TOKEN}/ HTTP/1.1\r\nHost: x\r\nBad\r\n\r\n".encode())
                assert raw.recv(100).startswith(b"HTTP/1.1 400")
            time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    logged = out.read_text() + err.read_text()
    _clean(logged)
    assert f"Not Found: {REDACTED}export.exe" in logged
    assert f"Forbidden (CSRF cookie not set.): {REDACTED}export.csv" in logged
    assert "Invalid HTTP request received." in logged
    assert "HTTP/1.1" not in logged  # no access line
