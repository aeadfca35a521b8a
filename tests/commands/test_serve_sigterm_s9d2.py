"""`beffroi serve` stopped from outside must not leave its worker behind: on SQLite a
worker left running is a second writer. Real processes, a temporary database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    env.update(
        BEFFROI_DATA_DIR=str(data),
        DATABASE_URL=f"sqlite:///{data / 'db.sqlite3'}",
        BEFFROI_HTTPS="0",
        BEFFROI_SECRET_KEY="sigterm-" + "s" * 40,
    )
    return env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _state(pid: int) -> str | None:
    """The process's state letter, None once it no longer exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _alive(pid: int) -> bool:
    # A zombie has ended; only its exit status waits for whoever reaps it.
    return _state(pid) not in (None, "Z", "X")


def _worker_of(server: int) -> int:
    """The `beffroi worker` process that the server started."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
            if int(ppid) == server and b"worker" in cmdline:
                return int(entry.name)
        time.sleep(0.2)
    pytest.fail("the server started no worker")


def _serve(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "beffroi.cli", "serve", "--port", str(port)],
        env=_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, _worker_of(proc.pid)
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("the server did not start")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_worker_ends_with_the_server(data: Path, how: signal.Signals) -> None:
    server, worker = _serve(data)
    try:
        assert _alive(worker)
        server.send_signal(how)
        server.wait(20)
        assert _gone_within(worker, 15), f"the worker outlived the server ({how.name})"
        if how == signal.SIGTERM:
            # A requested stop is a clean exit, not « Error 143 » under make.
            assert server.returncode == 0
    finally:
        for pid in (server.pid, worker):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        server.wait(10)
