"""Background jobs of the core: the password-reset mail.

The reset request (``forms.ThrottledPasswordResetForm.save``) does the same work whether
the address belongs to a member or not: it leaves the address in the shared cache under a
random handle and queues this job, which looks the address up and sends the mails. Looking
up, building a token and sending inline for members only made a member's request
measurably slower than a stranger's: a timing oracle on who has an account
(docs/decisions/0003-login-throttling.md, "Reset requests take one path").

A mail the server refuses is logged without the address: see ``_WithoutAddress``."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import smtplib
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.utils import translation
from django_tasks import task

# How long an address waits in the cache for the worker. Past it, no mail: the person asks
# again, as they would for a mail that never came. Kept out of the job's own row, which
# django-tasks keeps after the job ends: a stranger's address would stay in the database.
RESET_ADDRESS_SECONDS = 3600


def _key(handle: str) -> str:
    return f"reset-address:{handle}"


def hold_address(email: str) -> str:
    """Keep ``email`` for the worker; the handle that names it."""
    handle = secrets.token_urlsafe(16)
    cache.set(_key(handle), email, timeout=RESET_ADDRESS_SECONDS)
    return handle


class _ResetForm(PasswordResetForm):
    def get_users(self, email: str) -> Iterator[Any]:
        """Django's choice (active accounts with a usable password whose address is the
        same without case), compared in Python: Django's ``email__iexact`` upper-cases
        accented letters in a UTF-8 locale only, so ``ÉLODIE@…`` was mailed to
        ``élodie@…`` on some servers only."""
        key = _folded(email)
        User = get_user_model()
        field = User.get_email_field_name()
        addresses = User._default_manager.filter(is_active=True).exclude(**{field: ""})
        chosen = [
            pk for pk, address in addresses.values_list("pk", field) if _folded(address) == key
        ]
        return (u for u in User._default_manager.filter(pk__in=chosen) if u.has_usable_password())


def _folded(address: str) -> str:
    return unicodedata.normalize("NFKC", address).casefold()


# Where Django's PasswordResetForm.send_mail logs a mail it could not send.
_RESET_FAILURES = logging.getLogger("django.contrib.auth")
# An RFC 3463 status ("5.1.1 mailbox unavailable"): what kind of refusal, never whose.
_ENHANCED_STATUS = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b")


class _WithoutAddress(logging.Filter):
    """Rewrites a failure's record as one line naming the failure, with no traceback.

    Django logs a refused reset mail with ``logger.exception``, and the exception's text
    names the address (``SMTPRecipientsRefused`` holds ``{address: (code, reply)}``; a
    server's reply often quotes it too, "<x@y>: Recipient address rejected"). The
    record's message (the account's id) is kept, followed by the exception's class and
    SMTP codes, so the log still says which mail failed and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            record.msg, record.args = f"{record.getMessage()}: {_why(exc)}", ()
            record.exc_info = record.exc_text = None
        return True


def _why(exc: BaseException) -> str:
    """``exc``'s class and, for SMTP, its reply codes, without the reply's text."""
    kind = type(exc).__qualname__
    if type(exc).__module__ not in ("builtins", "socket"):
        kind = f"{type(exc).__module__}.{kind}"
    replies: list[tuple[int, Any]] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        replies = [(exc.smtp_code, exc.smtp_error)]
    elif isinstance(exc, OSError) and exc.errno is not None:
        return f"{kind} (errno {exc.errno})"
    codes = sorted({" ".join(_codes(code, reply)) for code, reply in replies})
    return f"{kind} ({', '.join(codes)})" if codes else kind


def _codes(code: int, reply: Any) -> list[str]:
    if isinstance(reply, bytes):
        reply = reply.decode("ascii", "replace")
    status = _ENHANCED_STATUS.match(reply) if isinstance(reply, str) else None
    return [str(code), status.group(1)] if status else [str(code)]


@contextlib.contextmanager
def _failures_logged_without_address() -> Iterator[None]:
    # Set for the mail's sending only, on the logger itself (a handler's filter would
    # miss a deployment's own handlers), and set again each time, since a logging
    # configuration naming this logger drops the filters it had.
    without = _WithoutAddress()
    _RESET_FAILURES.addFilter(without)
    try:
        yield
    finally:
        _RESET_FAILURES.removeFilter(without)


@task()
def send_password_reset_task(
    handle: str,
    domain: str,
    use_https: bool,
    language: str,
    subject_template_name: str,
    email_template_name: str,
) -> None:
    email = cache.get(_key(handle))
    cache.delete(_key(handle))
    if not isinstance(email, str):
        return  # waited past RESET_ADDRESS_SECONDS, or already sent
    form = _ResetForm({"email": email})
    if not form.is_valid():
        return
    with translation.override(language), _failures_logged_without_address():
        # Django's own lookup and mail: active accounts with a usable password whose
        # address matches without case.
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name=subject_template_name,
            email_template_name=email_template_name,
        )
