from __future__ import annotations

import argparse
import os

from beffroi.commands import bootstrap, serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve.add_arguments(parser)
    parser.add_argument("--no-serve", action="store_true", help="load the demo data and exit")


def run(args: argparse.Namespace) -> int:
    # The demo prints links (credential letters, the public board) to the address it
    # is about to serve, whatever port `make run PORT=…` chose.
    os.environ.setdefault("BEFFROI_DEMO_URL", f"http://{args.host}:{args.port}")
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
