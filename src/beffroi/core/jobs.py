"""What pages need of background jobs (django-tasks): progress they can poll, and a
word when a job waits with no worker to take it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus

# A job still waiting after this many seconds means no worker takes it.
STALE_AFTER = 120

Progress = Callable[[float, str], None]


def throttled(write: Progress, every: float = 0.3) -> Progress:
    """``write`` at most once every ``every`` seconds: pages poll once a second,
    they do not need every tick of a long job."""
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] > every:
            last[0] = now
            write(fraction, message)

    return progress


def cache_progress(key: str, timeout: int) -> Progress:
    """Progress carried from the worker to the page by the shared (database) cache."""
    return throttled(
        lambda fraction, message: cache.set(
            key, {"fraction": fraction, "message": message}, timeout
        )
    )


def waiting_too_long(status: Any, enqueued_at: datetime | None) -> bool:
    return (
        status == TaskResultStatus.READY
        and enqueued_at is not None
        and timezone.now() - enqueued_at > timedelta(seconds=STALE_AFTER)
    )


# One lock per kind of parent (an audit's upload, stored under it, must not hold up the
# watch room's exports).
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def one_step(parent: type[models.Model], pk: Any) -> Iterator[None]:
    """A count of ``parent``'s jobs waiting and the job queued after it, as one step, in
    one transaction: requests sent at once would each read a queue with room and each
    queue a job past the limit. The lock serialises this process's threads (SQLite runs
    one process); on PostgreSQL the parent's row, locked until the transaction commits,
    serialises the processes."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(parent._meta.label, threading.Lock())
    with lock, transaction.atomic():
        list(parent._default_manager.select_for_update().filter(pk=pk).values_list("pk"))
        yield
