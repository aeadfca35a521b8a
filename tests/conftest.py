"""Shared fixtures: an organisation with one member per role."""

from __future__ import annotations

import pytest

DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def pytest_collection_modifyitems(config, items):
    # Tag every test that touches the database so the PostgreSQL run can select them.
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker(
            "django_db"
        ):
            item.add_marker(pytest.mark.usesdb)


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
