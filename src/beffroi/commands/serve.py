from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

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


# The worker reads this to tie its life to ours (commands/worker.py).
PARENT_ENV = "BEFFROI_WORKER_PARENT_PID"


def _start_worker() -> subprocess.Popen[bytes]:
    # A separate process, so a long audit never slows down web requests.
    env = os.environ.copy()
    env[PARENT_ENV] = str(os.getpid())
    return subprocess.Popen([sys.executable, "-m", "beffroi.cli", "worker"], env=env)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn catches SIGTERM, shuts down, puts back the handler it found and raises the
    # signal again. With the default action the process would die there and skip the
    # `finally` that stops the worker (two writers left on SQLite); a requested stop is
    # a clean one, hence status 0.
    raise SystemExit(0)


def static_files_problem() -> str | None:
    """Why the collected static files do not match the code being served, or None.

    Collecting (hashing and compressing with Brotli) takes seconds, so it is a step of
    installing or upgrading, not of every start; a server started without it works,
    less well, and says so.
    """
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import ManifestStaticFilesStorage, staticfiles_storage

    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestStaticFilesStorage):
        return None
    advice = "run `beffroi manage collectstatic --noinput` (docs/operations.md)"
    manifest = Path(staticfiles_storage.path(staticfiles_storage.manifest_name))
    if not manifest.is_file():
        return (
            f"static files are not collected in {settings.STATIC_ROOT}: pages name them "
            f"unhashed, cached for a minute and sent uncompressed; {advice}"
        )
    collected_at = manifest.stat().st_mtime
    ignore = getattr(apps.get_app_config("staticfiles"), "ignore_patterns", [])
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore):
            prefix = getattr(storage, "prefix", None)
            name = f"{prefix}/{path}" if prefix else path
            if (
                name not in staticfiles_storage.hashed_files
                or Path(storage.path(path)).stat().st_mtime > collected_at
            ):
                return (
                    f"static files collected in {settings.STATIC_ROOT} are older than the "
                    f"code ({name}): pages would load the old ones; {advice}"
                )
    return None


def serve(host: str, port: int, workers: int = 1, *, with_worker: bool = True) -> int:
    import uvicorn

    bootstrap.check_port_free(host, port)
    problem = static_files_problem()
    if problem:
        print(f"beffroi: warning: {problem}", file=sys.stderr, flush=True)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    worker: subprocess.Popen[bytes] | None = None
    try:
        if with_worker:
            worker = _start_worker()
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
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        if previous is not None:  # None: a handler set outside Python, nothing to put back
            signal.signal(signal.SIGTERM, previous)
    return 0


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    bootstrap.check_port_free(args.host, args.port)
    bootstrap.migrate()
    return serve(args.host, args.port, args.workers, with_worker=not args.no_worker)
