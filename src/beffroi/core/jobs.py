"""What pages need of background jobs (django-tasks): progress they can poll, and a
word when a job waits with no worker to take it or lost the worker that ran it.

Whether a worker is alive is one rule, for both: ``beffroi worker`` says so in the shared
cache every ``BEAT_SECONDS`` (``heartbeat``); a worker silent for ``ALIVE_SECONDS`` is
dead (killed for its memory, its host lost, stopped past its grace period). A job waiting
with no live worker is said to wait for nothing; a job RUNNING under a dead worker is
interrupted, since django-tasks never takes a RUNNING job up again. A worker the cache
never heard of (django-tasks' own ``db_worker`` started by hand) can be judged only by
its job's age: past the longest such a job takes, it is taken for dead.

A live worker can still hold a job that no longer advances (a network read that never
returns, a deadlock). The progress a job writes says when it last changed
(``cache_progress``, ``noting_moves``); a RUNNING job whose progress has stood still for
``BEFFROI_JOB_STALL_MINUTES`` is said to be stalled (``stalled_minutes``): a warning on
its page, not a failure, since a slow step (a long PDF's layout) reports nothing either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus

# A job still waiting after this many seconds, with no worker alive, waits for nothing.
STALE_AFTER = 120
BEAT_SECONDS = 15
ALIVE_SECONDS = 60
# A worker is remembered this long after its last word: one heard of and now silent is
# dead, one never heard of is judged by its job's age.
KNOWN_SECONDS = 7 * 24 * 3600
_ANY = "worker-alive:any"

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)


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
    """Progress carried from the worker to the page by the shared (database) cache, with
    ``moved_at``: when it last changed (``stalled_minutes``)."""
    last: dict[str, Any] = {"state": None, "moved_at": 0.0}

    def write(fraction: float, message: str) -> None:
        if (fraction, message) != last["state"]:
            last["state"], last["moved_at"] = (fraction, message), time.time()
        value = {"fraction": fraction, "message": message, "moved_at": last["moved_at"]}
        cache.set(key, value, timeout)

    return throttled(write)


def moved_key(name: str) -> str:
    """Where ``noting_moves`` keeps when the progress of job ``name`` last changed."""
    return f"job-moved:{name}"


def noting_moves(name: str, timeout: int, write: Progress) -> Progress:
    """``write``, noting in the shared cache when the progress (fraction or message)
    last changed: for a job whose progress lives elsewhere (an audit's row). Put it
    under ``throttled``: it writes the cache only when the progress changes."""
    last: list[tuple[float, str] | None] = [None]

    def progress(fraction: float, message: str) -> None:
        if (fraction, message) != last[0]:
            last[0] = (fraction, message)
            cache.set(moved_key(name), time.time(), timeout)
        write(fraction, message)

    return progress


def last_moved(name: str) -> float | None:
    """When the progress noted by ``noting_moves`` last changed (epoch seconds)."""
    value = cache.get(moved_key(name))
    return float(value) if value is not None else None


def stall_after() -> timedelta:
    """How long a running job's progress may stand still before its page says so
    (setting ``BEFFROI_JOB_STALL_MINUTES``). Longer than the longest step that reports
    nothing: a 10,000-line PDF's layout, four to five minutes on an idle machine."""
    return timedelta(minutes=getattr(settings, "BEFFROI_JOB_STALL_MINUTES", 15))


def stalled_minutes(
    status: Any,
    moved_at: float | None,
    started_at: datetime | None,
    *,
    now: float | None = None,
) -> int | None:
    """Whole minutes a RUNNING job's progress has stood still, once that is at least
    ``stall_after()``; None otherwise. ``moved_at``: when its progress last changed
    (epoch seconds); a job that never reported any counts from ``started_at``."""
    threshold = stall_after().total_seconds()
    if status != TaskResultStatus.RUNNING or threshold <= 0:  # 0: the operator's "never"
        return None
    since = moved_at if moved_at is not None else (started_at and started_at.timestamp())
    if not since:
        return None
    still = (time.time() if now is None else now) - since
    if still < threshold:
        return None
    return int(still // 60)


def _alive_key(worker_id: str) -> str:
    return f"worker-alive:{worker_id}"


def _known_key(worker_id: str) -> str:
    return f"worker-known:{worker_id}"


def beat(worker_id: str) -> None:
    """Say that ``worker_id`` is alive, for ``ALIVE_SECONDS``."""
    now = time.time()
    cache.set_many({_alive_key(worker_id): now, _ANY: now}, timeout=ALIVE_SECONDS)
    cache.set(_known_key(worker_id), now, timeout=KNOWN_SECONDS)


def heartbeat(worker_id: str, stop: threading.Event) -> threading.Thread:
    """A thread that beats for ``worker_id`` every ``BEAT_SECONDS`` until ``stop``, then
    says the worker is gone (a clean stop finishes its running job first)."""
    from django.db import connection

    def run() -> None:
        try:
            while True:
                try:
                    beat(worker_id)
                except Exception:  # the database is away: the next beat will tell
                    log.warning("worker heartbeat failed", exc_info=True)
                    connection.close()
                if stop.wait(BEAT_SECONDS):
                    break
            cache.delete(_alive_key(worker_id))
        except Exception:
            log.warning("worker heartbeat could not say goodbye", exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="beffroi-heartbeat", daemon=True)
    thread.start()
    return thread


def worker_alive(worker_id: str) -> bool | None:
    """True if ``worker_id`` beat within ``ALIVE_SECONDS``, False if it beat before and
    has been silent since, None if it never beat (a worker that does not say)."""
    if cache.get(_alive_key(worker_id)) is not None:
        return True
    return False if cache.get(_known_key(worker_id)) is not None else None


def any_worker_alive() -> bool:
    return cache.get(_ANY) is not None


def interrupted(
    status: Any, worker_ids: Sequence[str], started_at: datetime | None, longest: timedelta
) -> bool:
    """A RUNNING job whose worker is dead: its worker stopped beating, or, for a worker
    that never beat, the job has run for longer than ``longest`` (far more than any job of
    its kind takes)."""
    if status != TaskResultStatus.RUNNING:
        return False
    alive = worker_alive(worker_ids[-1]) if worker_ids else None
    if alive is not None:
        return not alive
    return started_at is not None and timezone.now() - started_at > longest


def waiting_too_long(status: Any, enqueued_at: datetime | None) -> bool:
    """A job waiting for ``STALE_AFTER`` seconds with no worker alive to take it. (With a
    worker alive it waits its turn behind a long job: nothing to say.)"""
    return (
        status == TaskResultStatus.READY
        and enqueued_at is not None
        and timezone.now() - enqueued_at > timedelta(seconds=STALE_AFTER)
        and not any_worker_alive()
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
        # FOR NO KEY UPDATE: a row inserted meanwhile that references the parent (a line of
        # the activation, an activation of the organisation) checks its foreign key as it
        # commits, holding the journal's head; FOR UPDATE made it wait for this step, and
        # deadlocked when the step journals (an audit's upload). docs/decisions/0002.
        list(parent._default_manager.select_for_update(no_key=True).filter(pk=pk).values_list("pk"))
        yield


# -- how a job's last run ended, kept past the pruning of django-tasks' rows ----------


def keep_outcome(name: str, value: Any, *, failed: bool = False) -> None:
    """Record how the run of job ``name`` that is ending ended (its return value, or a
    failure), replacing the previous run's: what its page shows once django-tasks' row
    is pruned (``models.JobOutcome``)."""
    from beffroi.core.models import JobOutcome

    JobOutcome.objects.update_or_create(
        name=name,
        defaults={
            "status": TaskResultStatus.FAILED if failed else TaskResultStatus.SUCCESSFUL,
            "finished_at": timezone.now(),
            "return_value": None if failed else value,
        },
    )


def last_outcome(name: str) -> Any:
    """The ``JobOutcome`` of job ``name``'s last finished run, or None."""
    from beffroi.core.models import JobOutcome

    return JobOutcome.objects.filter(name=name).first()
