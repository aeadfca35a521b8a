"""Keep partner links' tokens out of the server's logs.

A partner link is read-only access to a main courante with the token in the URL
(``…/partenaire/<token>/…``). Django logs the path of every 4xx and 5xx answer
(logger ``django.request``: "Not Found: /…"), so a valid token used on a wrong
address (an unknown export format, an expired export, past the hourly limit) would
land in clear in log files, which more people read, and for longer, than the app.
``settings.LOGGING`` puts ``PartnerTokenFilter`` on that logger.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(/partenaire/)[^/?#\s]+")


def redact_partner_tokens(text: str) -> str:
    """``text`` with each partner-link token replaced by "…"."""
    return _TOKEN.sub(r"\1…", text) if "/partenaire/" in text else text


class PartnerTokenFilter(logging.Filter):
    """Rewrites a record's message without the tokens; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_partner_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
