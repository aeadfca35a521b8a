"""A read-then-write of one entry of the shared cache, made one step across processes.

Rate counters and live-stream places are read, changed and written back in the database
cache; two requests doing that at once would both read the same value and one change
would be lost (Django's ``cache.incr`` on the database cache is such a get then set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


def _lock_key(name: str) -> int:
    """PostgreSQL's advisory locks take a 64-bit number: the name's hash."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@contextmanager
def one_at_a_time(name: str) -> Iterator[None]:
    """Run the block in a transaction that no other block under the same name overlaps.
    On PostgreSQL an advisory lock on the name serialises them until the transaction
    ends; SQLite's transactions begin IMMEDIATE here (one writer at a time for the whole
    database, ``settings.DATABASES``), which already does."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(name)])
        yield
