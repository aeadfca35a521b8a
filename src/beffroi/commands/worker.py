from __future__ import annotations

import argparse

from beffroi.commands import bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", default="*", help="queue names to serve (default: all)")


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    bootstrap.migrate()
    from django.core.management import call_command

    # django-tasks' database worker runs background jobs (audits, exports…).
    call_command("db_worker", queue_name=args.queue, reload=False, verbosity=1)
    return 0
