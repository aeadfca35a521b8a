"""A reset mail the SMTP server refuses is logged without the member's address (review
R16, informational note): Django's ``django.contrib.auth`` logger logged the
``SMTPRecipientsRefused`` traceback, whose text is ``{address: (code, reply)}``. The line
still says that the mail failed, for which account id, and why (class, SMTP codes)."""

from __future__ import annotations

import logging
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from beffroi.core import tasks


class Refusing(BaseEmailBackend):
    """An SMTP server that refuses every recipient, quoting the address in its reply
    the way Postfix does."""

    def send_messages(self, messages):
        to = [a for m in messages for a in m.to]
        raise smtplib.SMTPRecipientsRefused(
            {a: (550, f"5.1.1 <{a}>: Recipient address rejected".encode()) for a in to}
        )


class Disconnecting(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_transaction(monkeypatch):
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def _request_reset(email: str) -> None:
    Client().post(reverse("password_reset"), {"email": email})
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def _failure_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.contrib.auth"]


@pytest.mark.usesdb
@pytest.mark.django_db
def test_a_refused_reset_mail_is_logged_without_the_address(members, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.Refusing"
    member = members["coordinator"]
    with caplog.at_level(logging.INFO):
        _request_reset(member.email)
    records = _failure_lines(caplog)
    assert len(records) == 1
    # What every handler writes: the message and, were it kept, the traceback.
    assert member.email not in caplog.text
    assert "example.org" not in caplog.text  # nor its domain, from the server's reply
    line = records[0].getMessage()
    assert line.startswith(f"Failed to send password reset email to {member.pk}: ")
    assert "smtplib.SMTPRecipientsRefused (550 5.1.1)" in line
    assert records[0].exc_info is None and records[0].levelno == logging.ERROR


@pytest.mark.usesdb
@pytest.mark.django_db
def test_a_server_out_of_reach_is_logged_with_its_error_number(members, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.Disconnecting"
    with caplog.at_level(logging.INFO):
        _request_reset(members["coordinator"].email)
    [record] = _failure_lines(caplog)
    assert record.getMessage().endswith(": ConnectionRefusedError (errno 111)")


@pytest.mark.usesdb
@pytest.mark.django_db
def test_the_filter_is_gone_after_the_job(members, settings):
    settings.EMAIL_BACKEND = f"{__name__}.Refusing"
    _request_reset(members["coordinator"].email)
    filters = logging.getLogger("django.contrib.auth").filters
    assert not any(isinstance(f, tasks._WithoutAddress) for f in filters)


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (
            smtplib.SMTPSenderRefused(553, b"5.7.1 <a@b.fr> not allowed", "a@b.fr"),
            "smtplib.SMTPSenderRefused (553 5.7.1)",
        ),
        (smtplib.SMTPDataError(554, b"Transaction failed"), "smtplib.SMTPDataError (554)"),
        (
            smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
            "smtplib.SMTPServerDisconnected",
        ),
        (
            smtplib.SMTPRecipientsRefused({"x@y.fr": (450, "4.2.0 x@y.fr greylisted")}),
            "smtplib.SMTPRecipientsRefused (450 4.2.0)",
        ),
    ],
)
def test_each_failure_says_its_class_and_codes_only(exc, said):
    assert tasks._why(exc) == said
