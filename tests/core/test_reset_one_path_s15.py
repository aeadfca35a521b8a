"""A password-reset request takes the same path for a member's address and a stranger's:
the same queries, no account looked up, no token built and no mail sent in the request.
The worker then mails members only, and the queued job's row holds no address."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.forms import PasswordResetForm
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from beffroi.core import tasks

MEMBER = "c@example.org"
STRANGER = "nobody@example.org"


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_transaction(monkeypatch):
    # The real worker closes stale connections between jobs; inside the test's
    # transaction that would close it under us.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def _deliver() -> None:
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def _shape(sql: str) -> str:
    # The statements, without the values that differ by nature: counter keys, the
    # handle, the times, the job's id.
    sql = re.sub(r'"s\d+_x\d+"', "?", sql)  # savepoint names
    sql = re.sub(r"'[^']*'|\b\d+(\.\d+)?\b|[0-9a-f]{32}", "?", sql)
    return re.sub(r"\s*-\s*\?", "?", sql)  # PostgreSQL's negative advisory lock ids


def _request(email: str, address: str) -> tuple[list[str], list[str]]:
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        for name in ("get_users", "send_mail"):
            original = getattr(PasswordResetForm, name)

            def spy(*args, _name=name, _original=original, **kwargs):
                calls.append(_name)
                return _original(*args, **kwargs)

            patch.setattr(PasswordResetForm, name, spy)
        with CaptureQueriesContext(connection) as queries:
            response = Client(REMOTE_ADDR=address).post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302
    return [_shape(q["sql"]) for q in queries.captured_queries], calls


def test_a_members_request_and_a_strangers_run_the_same_queries(members):
    # Each on a fresh network, after one request to warm what is built once.
    _request("warm@example.org", "198.51.100.1")
    member_sql, member_calls = _request(MEMBER, "203.0.113.1")
    stranger_sql, stranger_calls = _request(STRANGER, "192.0.2.1")
    assert member_sql == stranger_sql
    assert member_calls == stranger_calls == []
    assert mail.outbox == []


def test_the_worker_mails_members_only(members):
    _request(MEMBER, "203.0.113.1")
    _request(STRANGER, "192.0.2.1")
    _deliver()
    assert [m.to for m in mail.outbox] == [[MEMBER]]
    assert "/mot-de-passe/nouveau/" in mail.outbox[0].body


def test_the_jobs_row_holds_no_address_and_the_cache_lets_it_go(members):
    from django_tasks_db.models import DBTaskResult

    _request(MEMBER, "203.0.113.1")
    job = DBTaskResult.objects.get(task_path__endswith="send_password_reset_task")
    assert "example.org" not in str(job.args_kwargs)
    handle = job.args_kwargs["args"][0]
    assert cache.get(f"reset-address:{handle}") == MEMBER
    _deliver()
    assert cache.get(f"reset-address:{handle}") is None
    assert "example.org" not in str(DBTaskResult.objects.get(pk=job.pk).args_kwargs)


def test_the_mail_is_in_the_requesters_language(members):
    client = Client(REMOTE_ADDR="203.0.113.1", HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("password_reset"), {"email": MEMBER})
    _deliver()
    assert len(mail.outbox) == 1
    assert "Bonjour" not in mail.outbox[0].body  # English catalogue: "Hello,"


def test_an_address_past_its_wait_sends_nothing(members):
    _request(MEMBER, "203.0.113.1")
    cache.clear()  # as if RESET_ADDRESS_SECONDS had passed
    _deliver()
    assert mail.outbox == []
    assert tasks.RESET_ADDRESS_SECONDS == 3600
