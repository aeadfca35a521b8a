from __future__ import annotations

import argparse

from beffroi.commands import bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", default="*", help="queue names to serve (default: all)")


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    bootstrap.migrate()
    import threading

    from django.core.management import call_command

    from beffroi.watch.worker import run_forever

    # The watch room's live sources and enrichment run next to the task queue.
    stop = threading.Event()
    watch = threading.Thread(target=run_forever, args=(stop,), name="watch", daemon=True)
    watch.start()
    try:
        # django-tasks' database worker runs background jobs (audits, exports…).
        call_command("db_worker", queue_name=args.queue, reload=False, verbosity=1)
    finally:
        stop.set()
        watch.join(10)
    return 0
