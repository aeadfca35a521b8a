from __future__ import annotations

import argparse
import os
import subprocess
import sys

from beffroi.commands import bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers", type=int, default=1, help="app processes (use PostgreSQL for more than one)"
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start the background worker (run `beffroi worker` yourself)",
    )


def _start_worker() -> subprocess.Popen[bytes]:
    # A separate process, so a long audit never slows down web requests.
    return subprocess.Popen([sys.executable, "-m", "beffroi.cli", "worker"], env=os.environ.copy())


def serve(host: str, port: int, workers: int = 1, *, with_worker: bool = True) -> int:
    import uvicorn

    bootstrap.check_port_free(host, port)
    worker = _start_worker() if with_worker else None
    print(f"Beffroi: http://{host}:{port}/", flush=True)
    try:
        uvicorn.run(
            "beffroi.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    bootstrap.check_port_free(args.host, args.port)
    bootstrap.migrate()
    return serve(args.host, args.port, args.workers, with_worker=not args.no_worker)
