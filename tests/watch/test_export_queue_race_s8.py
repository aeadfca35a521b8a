"""The limit of exports waiting per view was read, then a job queued, with nothing
between them: requests sent at once (a partner link's holder firing POSTs in parallel)
each read a queue with room and each queued a job, past the limit. The count and the
queueing are now one step per activation."""

from __future__ import annotations

import contextlib
import threading

from django.db import connection


def test_parallel_requests_do_not_queue_past_the_limit(
    transactional_db, org, members, monkeypatch, settings
):
    # Real transactions: each thread's connection sees what the others commit.
    from django_tasks_db.models import DBTaskResult

    from beffroi.watch import actions, tasks

    settings.BEFFROI_WATCH_MAX_PENDING_EXPORTS = 2
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    limit = tasks.max_pending_exports
    read = threading.Barrier(6, timeout=2)

    def slow_limit() -> int:
        # Read between the queue's count and the new job: every request gets there before
        # any of them queues (unless they are serialised, when the barrier gives up).
        with contextlib.suppress(threading.BrokenBarrierError):
            read.wait()
        return limit()

    monkeypatch.setattr(tasks, "max_pending_exports", slow_limit)
    outcomes: list[str] = []

    def ask(n: int) -> None:
        try:
            tasks.request_export(
                activation.pk, "pdf", {"q": f"mot-{n}"}, partner=True, filename="x.pdf"
            )
            outcomes.append("queued")
        except tasks.ExportsBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["busy"] * 4 + ["queued"] * 2
    assert DBTaskResult.objects.filter(status="READY").count() == 2
