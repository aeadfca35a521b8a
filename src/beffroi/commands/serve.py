from __future__ import annotations

import argparse

from beffroi.commands import bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers", type=int, default=1, help="app processes (use PostgreSQL for more than one)"
    )


def serve(host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    bootstrap.check_port_free(host, port)
    print(f"Beffroi: http://{host}:{port}/", flush=True)
    uvicorn.run(
        "beffroi.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    bootstrap.check_port_free(args.host, args.port)
    bootstrap.migrate()
    return serve(args.host, args.port, args.workers)
