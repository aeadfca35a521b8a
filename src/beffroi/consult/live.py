"""The live board: reading it (entries, results, bundle) and writing to it.

Reading builds the published views from the allow-listed fields only and
hands them to the pure core (tally, bundle), so the server's results and a
scrutineer's recount come from the same code.

Writing goes through :class:`GroupCommitter`: request handlers (async) put
their checked submission on a queue; one writer thread takes whatever is
waiting (up to ``max_batch``), commits it with
:func:`beffroi.consult.actions.submit_ballots` in one transaction, and only
then resolves each request's future.  With SQLite's single writer this turns
a thousand small transactions per second into a few dozen larger ones, and a
receipt is never returned for a ballot that is not durably on the board.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Iterable
from typing import Any

from beffroi.consult import actions
from beffroi.consult.bundle import (
    build_bundle,
    credentials_for_tally,
    flags_from_journal,
)
from beffroi.consult.models import PUBLIC_ENTRY_FIELDS, BoardEntry, Consultation, Status
from beffroi.consult.spec import format_time
from beffroi.consult.tally import tally

# -- reading -----------------------------------------------------------------------


def entries(c: Consultation) -> list[dict[str, Any]]:
    """Every board entry as published, in chain order."""
    rows = BoardEntry.objects.filter(consultation=c).order_by("n").values_list(*PUBLIC_ENTRY_FIELDS)
    return [dict(zip(PUBLIC_ENTRY_FIELDS, r, strict=True)) for r in rows.iterator(2000)]


def credential_records(c: Consultation) -> list[dict[str, Any]]:
    out = []
    for cred in c.credentials.order_by("public_key"):
        out.append(
            {
                "public_key": cred.public_key,
                "segment": cred.segment,
                "revoked": None
                if cred.revoked_at is None
                else {
                    "at": format_time(cred.revoked_at),
                    "reason": cred.revoke_reason,
                    "replaced_by": cred.replaced_by,
                },
            }
        )
    return out


def journal_lines(c: Consultation) -> list[dict[str, Any]]:
    return [ev.line() for ev in c.events.order_by("n")]


def flags(c: Consultation) -> list[dict[str, Any]]:
    """Integrity flags raised on entries (the ``flag`` events' data)."""
    return [ev.data for ev in c.events.filter(kind="flag").order_by("n")]


def results(
    c: Consultation,
    *,
    disabled: Iterable[str] = (),
    board: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``results.json``: the pure tally over the stored board."""
    spec = c.get_spec()
    return tally(
        spec,
        credentials_for_tally(credential_records(c)),
        board if board is not None else entries(c),
        flags_from_journal(journal_lines(c)),
        disabled=disabled,
    )


def bundle(c: Consultation) -> bytes:
    """The scrutineer bundle (the pure writer over the stored data)."""
    if c.status == Status.DRAFT or c.opened_at is None:
        raise ValueError("a draft consultation has no bundle")
    return build_bundle(
        c.get_spec(),
        c.opened_at,
        credential_records(c),
        entries(c),
        journal_lines(c),
    )


# -- writing -------------------------------------------------------------------------


class GroupCommitter:
    """One writer thread per process committing submissions in small batches.

    Requests (on the event loop) put their checked submission on a queue and
    await a future; the writer takes whatever is waiting (up to
    ``max_batch``), commits it with ``actions.submit_ballots``, and resolves
    the batch's futures with one wake-up of each event loop.  On SQLite its
    connection commits with ``synchronous=FULL``: the WAL is flushed to disk
    before a receipt leaves, so a returned receipt survives a power cut, not
    only a crash of the process.  Batching makes that one fsync per batch.
    """

    def __init__(self, max_batch: int = 256) -> None:
        self.max_batch = max_batch
        # (cid, submission, its event loop, its future), or (None, None, None, event)
        # asking the writer to close its database connection.
        self._queue: queue.SimpleQueue[tuple[Any, Any, Any, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._tuned: Any = None  # the DB-API connection PRAGMAs were set on

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="beffroi-ballot-writer", daemon=True
                )
                self._thread.start()

    async def submit(self, cid: str, item: actions.Incoming) -> actions.Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[actions.Outcome] = loop.create_future()
        self._ensure_thread()
        self._queue.put((cid, item, loop, future))
        return await future

    def close_connection(self, timeout: float = 10) -> None:
        """Have the writer close its database connection (it reopens on the next
        batch); returns once done.  For shutdowns and test databases."""
        if self._thread is None or not self._thread.is_alive():
            return
        done = threading.Event()
        self._queue.put((None, None, None, done))
        done.wait(timeout)

    def _durable_connection(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        if connection.vendor == "sqlite" and connection.connection is not self._tuned:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=FULL")
            self._tuned = connection.connection

    def _run(self) -> None:
        from django.db import connection

        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            by_cid: dict[str, list[tuple[actions.Incoming, Any, Any]]] = {}
            closing: list[threading.Event] = []
            for cid, item, loop, fut in batch:
                if cid is None:
                    closing.append(fut)
                else:
                    by_cid.setdefault(cid, []).append((item, loop, fut))
            done: dict[Any, list[tuple[Any, Any, bool]]] = {}
            for cid, group in by_cid.items():
                try:
                    # The writer keeps its connection across batches (no reconnect per batch).
                    self._durable_connection()
                    outcomes: list[Any] = actions.submit_ballots(cid, [g[0] for g in group])
                    ok = True
                except Exception as exc:  # the requests get the error, the writer lives on
                    connection.close()
                    outcomes, ok = [exc] * len(group), False
                for (_, loop, fut), outcome in zip(group, outcomes, strict=True):
                    done.setdefault(loop, []).append((fut, outcome, ok))
            for loop, results in done.items():
                # A closed loop (its requests are gone) must not stop the writer.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, results)
            if closing:
                connection.close()
                for event in closing:
                    event.set()


def _settle(results: list[tuple[asyncio.Future[Any], Any, bool]]) -> None:
    for fut, value, ok in results:
        if fut.done():  # the request was cancelled (client gone): its ballot is committed
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


COMMITTER = GroupCommitter()
