"""The count of open-mode answers refused by the rate limit is what the organiser and the
scrutineers read as « au moins N envois refusés ces dernières 24 heures »: it must still be
there hours later, and answers refused at the same instant must each count.

It was written with ``cache.incr``, a get then a set on the database cache whose set gave
the entry the cache's default timeout: the count was gone 5 minutes after the last refusal.
"""

from __future__ import annotations

import datetime
import threading
import time

import django.core.cache.backends.db as database_cache
import pytest
from django.core.cache import cache
from django.db import connections

from beffroi.consult import api

pytestmark = pytest.mark.usesdb


@pytest.fixture(autouse=True)
def _committed(transactional_db: None):
    cache.clear()
    yield
    cache.clear()


def _later(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    """The database cache's clock, moved on: what it would expire by then, it expires."""
    now = database_cache.tz_now
    monkeypatch.setattr(
        database_cache, "tz_now", lambda: now() + datetime.timedelta(minutes=minutes)
    )


def test_refusals_are_still_counted_hours_later(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        api._count_refusal("c-later")
    assert api.refused_lately("c-later") == 3
    _later(monkeypatch, 10)
    assert api.refused_lately("c-later") == 3
    _later(monkeypatch, 20 * 60)  # 20 hours on: the entry lives 25 hours
    assert cache.get(api._refused_key("c-later", int(time.time() // 3600))) == 3


def test_refusals_at_the_same_instant_each_count() -> None:
    errors: list[BaseException] = []

    def refuse() -> None:
        try:
            for _ in range(10):
                api._count_refusal("c-salvo")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refuse) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert api.refused_lately("c-salvo") == 50
