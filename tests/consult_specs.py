"""The consultation the tests answer most: « Cantine scolaire », open now for a week, with
a required « Menu préféré » (Bio / Local) and the École Nord segment. A test names only
what its assertions depend on (more questions, other rules, other segments)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from beffroi.consult.spec import format_time

MENU = {
    "code": "menu",
    "label": "Menu préféré",
    "kind": "single",
    "required": True,
    "options": [{"code": "bio", "label": "Bio"}, {"code": "local", "label": "Local"}],
}
NORTH = {"code": "N", "label": "École Nord", "electorate": 40}
SOUTH = {"code": "S", "label": "École Sud", "electorate": 30}
LAST_ANSWER = {"code": "one_ballot_per_key", "label": "Dernière réponse", "params": {}}


def cantine_spec(
    cid: str,
    *,
    questions: Sequence[dict] = (MENU,),
    rules: Sequence[dict] = (LAST_ANSWER,),
    segments: Sequence[dict] = (NORTH,),
    access: str = "credentialed",
) -> dict:
    """A spec dict opened five minutes ago, closing in seven days; every part is a copy,
    so a test may change what it gets back."""
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "id": cid,
        "title": "Cantine scolaire",
        "opens": format_time(now - timedelta(minutes=5)),
        "closes": format_time(now + timedelta(days=7)),
        "access": access,
        "questions": copy.deepcopy(list(questions)),
        "segments": copy.deepcopy(list(segments)),
        "rules": copy.deepcopy(list(rules)),
    }
