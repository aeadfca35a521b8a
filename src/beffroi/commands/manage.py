from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER)


def run_manage(argv: list[str]) -> int:
    from beffroi.commands import bootstrap

    bootstrap.setup_django()
    from django.core.management import execute_from_command_line

    if argv[:1] == ["migrate"]:
        # The same lock as serve and worker, so a migrate run by hand while a service
        # starts waits instead of racing it; it also makes a new SQLite file owner-only.
        with bootstrap.migration_lock():
            execute_from_command_line(["beffroi manage", *argv])
        return 0
    # Any other command may connect first (createsuperuser on a fresh install, as the
    # guide suggests), and SQLite would create the file with the umask's mode.
    bootstrap._owner_only_sqlite_file()
    execute_from_command_line(["beffroi manage", *argv])
    return 0


def run(args: argparse.Namespace) -> int:
    return run_manage(list(args.args))
