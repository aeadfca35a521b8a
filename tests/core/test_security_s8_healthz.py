"""/healthz is public: it says whether the server and its database answer, and nothing an
attacker could use to pick an exploit (version, database engine, exception class)."""

from __future__ import annotations

from django.db import OperationalError, connection

from beffroi import __version__


def test_healthz_says_only_what_a_load_balancer_needs(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    body = response.content.decode()
    assert __version__ not in body
    assert connection.vendor not in body


def test_healthz_failure_names_no_exception(client, db, monkeypatch):
    def broken() -> None:
        raise OperationalError("could not connect to server at /run/secret.sock")

    # Undone before the test database's teardown, which needs a cursor.
    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", broken)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "error"}
    assert "OperationalError" not in response.content.decode()
    assert "secret" not in response.content.decode()
