"""Keep partner links' tokens out of the server's logs.

A partner link is read-only access to a main courante with the token in the URL
(``…/partenaire/<token>/…``). Paths reach the log through several loggers: Django's
``django.request`` for every 4xx and 5xx answer ("Not Found: /…"), the CSRF check's
``django.security.csrf`` for a refused POST (a partner's export form sent without its
cookie), the development server's access lines (``django.server``), uvicorn's access
log when someone turns it on, and any traceback whose message quotes a URL. Log files
are read by more people, and kept longer, than the app's data.

A filter set on a logger sees only the records logged on that very logger, not those
that propagate to it, so ``settings.LOGGING`` sets ``PartnerTokenFilter`` on every
handler it defines; a deployment that writes logs through its own handlers (uvicorn's
``--log-config``, a syslog handler) adds the filter there too (docs/operations.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"(/partenaire/)[^/?#\s\"']+")
_MARK = "/partenaire/"


def redact_partner_tokens(text: str) -> str:
    """``text`` with each partner-link token replaced by "…"."""
    return _TOKEN.sub(r"\1…", text) if _MARK in text else text


def _redacted(value: Any) -> Any:
    return redact_partner_tokens(value) if isinstance(value, str) else value


def _redacted_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {key: _redacted(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(_redacted(value) for value in args)
    return args


class PartnerTokenFilter(logging.Filter):
    """Rewrites a record without the tokens; never drops a record.

    The message's arguments are redacted one by one where that is enough, so that a
    formatter reading them (uvicorn's access lines unpack the method, the path and the
    status from ``record.args``) still finds them; a token split between the format and
    an argument falls back to the formatted message. A traceback or stack quoting a
    token is formatted here, redacted, and left in ``exc_text`` for the formatter.
    """

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        self._message(record)
        if record.exc_text:
            record.exc_text = redact_partner_tokens(record.exc_text)
        elif record.exc_info:
            # Left to the formatter unless it quotes a token: a formatter of its own
            # (JSON lines) keeps its way of writing the ordinary tracebacks.
            text = self._traceback.formatException(record.exc_info)
            if _MARK in text:
                record.exc_text = redact_partner_tokens(text)
        if record.stack_info:
            record.stack_info = redact_partner_tokens(record.stack_info)
        return True

    @staticmethod
    def _message(record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            # A malformed call (too few arguments, "%d" given a str). Handler.handle
            # runs filters outside emit's try block, so raising here would reach the
            # code that logged; emit fails again below and logging's handleError
            # reports it as usual, with the arguments already redacted.
            record.msg, record.args = _redacted(record.msg), _redacted_args(record.args)
            return
        redacted = redact_partner_tokens(message)
        if redacted == message:
            return
        msg, args = _redacted(record.msg), _redacted_args(record.args)
        record.msg, record.args = msg, args
        try:
            structured = record.getMessage() == redacted
        except (TypeError, ValueError, KeyError):
            structured = False
        if not structured:
            record.msg, record.args = redacted, ()
