from __future__ import annotations

import argparse

from beffroi.commands import bootstrap, serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve.add_arguments(parser)
    parser.add_argument("--no-serve", action="store_true", help="load the demo data and exit")


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    if not args.no_serve:
        bootstrap.check_port_free(args.host, args.port)
    bootstrap.migrate()
    from beffroi.core import demo

    for line in demo.load():
        print(line, flush=True)
    if args.no_serve:
        return 0
    return serve.serve(args.host, args.port, args.workers, with_worker=not args.no_worker)
