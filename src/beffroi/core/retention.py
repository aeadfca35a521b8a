"""Retention periods (DESIGN rule 7: "retention periods are settings").

Pure: read by ``beffroi.settings`` before Django is set up, so a bad value is refused at
start-up in one line (``config.ConfigError``) rather than at the first prune. The prune
actions themselves live in each app's ``actions.py``; the reasoning behind each default is
in docs/decisions/retention.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from beffroi.config import ConfigError

# A value that switches a period off: the data is then kept until an operator acts (a legal
# hold, a dispute before a court). Spelled as the operator would, in either language.
NEVER = frozenset({"never", "jamais"})
# A century: past it a value is a typo (hours or seconds), not a period.
MAX_DAYS = 36_500

# setting name -> default in days.
DEFAULTS: dict[str, int] = {
    # Client pseudonyms of a consultation's ballots, counted from its closing.
    "BEFFROI_RETENTION_PSEUDONYMS_DAYS": 180,
    # Raw posts of an activation (and its cards that no main courante line uses), from its end.
    "BEFFROI_RETENTION_WATCH_POSTS_DAYS": 180,
    # Invitations (with their e-mail address), from their acceptance, revocation or expiry.
    "BEFFROI_RETENTION_INVITATIONS_DAYS": 30,
    # Rows of finished background jobs (their arguments hold e-mail addresses).
    "BEFFROI_RETENTION_JOBS_DAYS": 7,
}


def parse_days(name: str, raw: str | None, default: int) -> int | None:
    """Days as a setting gives them; None means "never" (kept until someone acts)."""
    text = (raw or "").strip()
    if not text:
        return default
    if text.lower() in NEVER:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_DAYS:
        raise ConfigError(
            f"{name}={text!r} is not a retention period: give a whole number of days "
            f"from 0 to {MAX_DAYS} (e.g. {default}), or 'never' to keep the data until "
            "an operator removes it."
        )
    return int(text)


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, int | None]:
    """Every retention setting, checked: one refusal names the first bad one."""
    env = os.environ if environ is None else environ
    return {name: parse_days(name, env.get(name), default) for name, default in DEFAULTS.items()}


def cutoff(days: int | None, now: datetime) -> datetime | None:
    """What ended at or before this time has outlived ``days``; None when kept for ever."""
    return None if days is None else now - timedelta(days=days)


@dataclass
class Outcome:
    """What one prune did (or, dry, would do): counts only, never whose data it was, since
    the journal entry carries them and the journal is never purged."""

    kind: str
    days: int | None
    counts: dict[str, int] = field(default_factory=dict)
    # Ids of the consultations or activations touched: not personal, and they let an
    # organisation find in its journal why a page now shows less.
    scope: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def journal_data(self) -> dict[str, object]:
        return {"days": self.days, **self.counts, **({"scope": self.scope} if self.scope else {})}
