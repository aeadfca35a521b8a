"""The format docs, the README and the operations guide are read by people outside the
project (a scrutineer, an operator): "since session 8" tells them nothing. They state facts
("files written before … lack it"), as the user guides already must."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READ_BY_OUTSIDERS = [
    REPO / "README.md",
    REPO / "docs" / "operations.md",
    *sorted((REPO / "docs" / "formats").glob("*.md")),
]


def test_no_session_numbers_outside_the_decisions():
    found = [
        f"{doc.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for doc in READ_BY_OUTSIDERS
        for text in [doc.read_text(encoding="utf-8")]
        for m in re.finditer(r"\bsessions? \d+", text, flags=re.I)
    ]
    assert not found, found


def test_the_list_is_not_empty():
    assert len(READ_BY_OUTSIDERS) > 5
