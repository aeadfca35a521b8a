"""The environment of a ``beffroi`` process a test starts (``serve``, a worker) on the
test's own database, so the test sees what the process writes and the reverse."""

from __future__ import annotations

import os


def env_on_test_database(**settings: str) -> dict[str, str]:
    """This process's environment without Django's settings module (the child reads
    ``beffroi.settings``), with DATABASE_URL naming the database the test uses (SQLite
    or PostgreSQL), HTTPS off, then ``settings``."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}"
            f"/{db['NAME']}"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL=url, BEFFROI_HTTPS="0", **settings)
    return env
