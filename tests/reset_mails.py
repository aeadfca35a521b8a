"""Password-reset mails are sent by the worker (core/tasks.py): tests that read the
outbox run the queue first."""

from __future__ import annotations

from unittest import mock

from django.core.management import call_command


def deliver_reset_mails() -> None:
    # The real worker closes stale connections between jobs; inside a test's transaction
    # that would close it under the test.
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
