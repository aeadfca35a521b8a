from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys

from beffroi.commands import bootstrap, serve

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", default="*", help="queue names to serve (default: all)")


def _end_with_parent() -> None:
    """When `beffroi serve` started us, end when it ends, however it ends.

    Its `finally` stops us on a clean exit, but not if it is SIGKILLed or dies some
    other way: a worker left behind is a second writer on SQLite. The kernel's
    parent-death signal (Linux prctl) is chosen over polling the parent's pid: it
    arrives even after a SIGKILL, with no thread to wake up, and as SIGTERM it goes
    through db_worker's own handler, so a running task ends before the worker does.
    Elsewhere the `finally` alone stops us.
    """
    raw = os.environ.pop(serve.PARENT_ENV, "")
    if not (raw.isascii() and raw.isdigit()):
        return  # started by hand or by a service manager: our life is theirs to manage
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        # The signal is tied to the thread that started us: serve() does from its
        # main thread, which lives as long as the server.
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return
    if os.getppid() != int(raw):
        # The parent was gone before the request above took effect.
        raise SystemExit(0)


def run(args: argparse.Namespace) -> int:
    _end_with_parent()
    bootstrap.setup_django()
    bootstrap.check_database()
    bootstrap.migrate()
    import threading

    from django.core.management import call_command
    from django.utils.crypto import get_random_string

    from beffroi.core import jobs
    from beffroi.watch.worker import run_forever

    # The watch room's live sources and enrichment run next to the task queue.
    stop = threading.Event()
    watch = threading.Thread(target=run_forever, args=(stop,), name="watch", daemon=True)
    # Until django-tasks' worker puts in its own handler, a SIGTERM would end the process
    # at once, before the heartbeat says goodbye: it ends it through the finally below.
    signal.signal(signal.SIGTERM, _stop_before_the_queue_runs)
    beating: threading.Thread | None = None
    try:
        watch.start()
        # The id django-tasks writes on each job it claims: pages ask whether it still beats.
        worker_id = get_random_string(32)
        beating = jobs.heartbeat(worker_id, stop)
        # django-tasks' database worker runs background jobs (audits, exports…).
        call_command(
            "db_worker", queue_name=args.queue, reload=False, verbosity=1, worker_id=worker_id
        )
    finally:
        stop.set()
        if watch.is_alive():
            watch.join(10)
        if beating is not None:
            beating.join(5)
    return 0


def _stop_before_the_queue_runs(signum: int, frame: object) -> None:
    raise SystemExit(0)
