"""Shared fixtures: an organisation with one member per role."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def pytest_collection_modifyitems(config, items):
    # Tag every test that touches the database so the PostgreSQL run can select them.
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker(
            "django_db"
        ):
            item.add_marker(pytest.mark.usesdb)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    # Uploads of one test never meet those of another.
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture(autouse=True)
def _default_language():
    # A request in English leaves English active in the thread (LocaleMiddleware activates,
    # nothing deactivates); the next test would read actions' messages in English.
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def org(db):
    from beffroi.core import actions

    return actions.create_organisation("Mairie de Test", "test")


@pytest.fixture
def members(org):
    """{role: user} for each role, plus 'outsider' (member of nothing)."""
    from beffroi.core import actions
    from beffroi.core.models import Role

    users = {}
    coordinator = actions.create_account("coord", "pw-test-123456", email="c@example.org")
    actions.set_role(coordinator, org, Role.COORDINATOR, actor=None)
    users[Role.COORDINATOR.value] = coordinator
    for role in (Role.VOLUNTEER, Role.PARTNER, Role.SCRUTINEER):
        user = actions.create_account(role.value, "pw-test-123456", email=f"{role}@example.org")
        actions.set_role(user, org, role, actor=coordinator)
        users[role.value] = user
    users["outsider"] = actions.create_account("outsider", "pw-test-123456")
    return users


@pytest.fixture
def consult_writes_now(settings):
    """Ballots written in the request itself (no writer thread: the test database lives
    in the test's transaction), and no consultation spec cached by an earlier test."""
    from beffroi.consult import api

    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()


@pytest.fixture
def export_room(org, members, monkeypatch):
    """(activation, partner link, token): an activation « Crue » with one line shared with
    partners (« Route coupée », routes) and a partner link « COD »; every export goes to
    the background queue, so a test sees its job wait, run or die."""
    from beffroi.watch import actions, exports

    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    actions.add_log_entry(
        activation, actor=coord, text="Route coupée", channel="telephone", category="routes"
    )
    link, token = actions.create_partner_link(activation, label="COD", days=1, actor=coord)
    return activation, link, token


@pytest.fixture
def second_volunteer(org, members):
    """« veilleuse », a second volunteer of the organisation: two people at one queue."""
    from beffroi.core import actions
    from beffroi.core.models import Role

    other = actions.create_account("veilleuse", "pw-test-123456")
    actions.set_role(other, org, Role.VOLUNTEER, actor=members["coordinator"])
    return other


def _journal_triggers(enable: bool) -> None:
    """Drop or recreate the append-only triggers (the migration's own SQL)."""
    import importlib

    from django.db import connection

    migration = importlib.import_module("beffroi.core.migrations.0002_journal_append_only")
    vendor = connection.vendor
    if enable:
        statements = {"sqlite": migration.SQLITE, "postgresql": migration.POSTGRES}[vendor]
    else:
        statements = {"sqlite": migration.SQLITE_REVERSE, "postgresql": migration.POSTGRES_REVERSE}[
            vendor
        ]
    with connection.cursor() as cursor:
        for sql in statements:
            if enable and "CREATE TRIGGER" in sql:
                name = sql.split()[2]
                drop = (
                    f"DROP TRIGGER IF EXISTS {name}"
                    if vendor == "sqlite"
                    else f"DROP TRIGGER IF EXISTS {name} ON core_journalentry"
                )
                cursor.execute(drop)
            cursor.execute(sql)


@pytest.fixture(autouse=True)
def _flushable_journal(request):
    """Transactional tests end with a flush (DELETE/TRUNCATE of every table),
    which the journal's triggers refuse by design: lift them for that flush only."""
    if not {"transactional_db", "live_server"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("transactional_db")
    _journal_triggers(True)
    yield
    _journal_triggers(False)


@pytest.fixture
def paused_journal(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(reached, go): the thread named 'slow' stops as it is about to write its journal
    entry (its transaction has made its change and holds its locks), sets ``reached``
    and waits for ``go`` (30 s at most; set anyway when the test ends)."""
    from beffroi.core import journal

    real = journal.append
    reached, go = threading.Event(), threading.Event()

    def append(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "slow":
            reached.set()
            go.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, "append", append)
    yield reached, go
    go.set()
