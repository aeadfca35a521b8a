"""Whether a value holds a NUL character anywhere.

PostgreSQL's text and jsonb cannot store one (psycopg refuses to send it), so input from
outside — a ballot's JSON, a remote post — is looked at before it reaches a write.
Pure: no Django.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def holds_nul(value: Any) -> bool:
    """Whether a NUL is in any string of ``value``: dict keys and values, lists, tuples,
    dataclass fields. A loop, not a recursion: parsed JSON may be nested as deep as its
    parser allowed."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return False
