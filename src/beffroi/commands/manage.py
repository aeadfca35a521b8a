from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER)


def run_manage(argv: list[str]) -> int:
    from beffroi.commands import bootstrap

    bootstrap.setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["beffroi manage", *argv])
    return 0


def run(args: argparse.Namespace) -> int:
    return run_manage(list(args.args))
