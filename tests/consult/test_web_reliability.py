"""Reliability: SIGKILL the served app in the middle of a load of signed ballots,
restart it, and check that every ballot whose receipt was returned is on the
board and that the published bundle still verifies (chain, signatures, tally)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from beffroi.consult.verify import verify_bundle

CID = "fiabilite"
PREPARE = """
import json, sys
from beffroi.commands import bootstrap
bootstrap.setup_django(); bootstrap.migrate()
from beffroi.consult.cli_example_bundle import prepare_signed_load
from beffroi.core import actions
org = actions.create_organisation("Fiabilité", "fiabilite")
bodies = prepare_signed_load(org, sys.argv[1], int(sys.argv[2]))
with open(sys.argv[3], "w") as fh:
    for b in bodies:
        fh.write(json.dumps(b) + "\\n")
"""


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        BEFFROI_DATA_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        BEFFROI_HTTPS="0",
        BEFFROI_SECRET_KEY="reliability-" + "s" * 40,
        DJANGO_SETTINGS_MODULE="beffroi.settings",
    )
    return env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        # No task worker: SIGKILL would orphan it, and signed ballots schedule no task.
        [sys.executable, "-m", "beffroi.cli", "serve", "--no-worker", "--port", str(port)],
        env=_env(tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("the server did not start")


@pytest.mark.slow
def test_sigkill_mid_load_loses_no_acknowledged_ballot(tmp_path):
    bodies_file = tmp_path / "bodies.jsonl"
    subprocess.run(
        [sys.executable, "-c", PREPARE, CID, "1500", str(bodies_file)],
        env=_env(tmp_path),
        check=True,
        timeout=300,
    )
    bodies = [line.encode() for line in bodies_file.read_text().splitlines()]
    port = _port()
    server = _serve(tmp_path, port)
    url = f"http://127.0.0.1:{port}/c/{CID}/bulletin/"
    acknowledged: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(share: list[bytes]) -> None:
        with httpx.Client(timeout=10) as client:
            for body in share:
                if stop.is_set():
                    return
                try:
                    resp = client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                except httpx.HTTPError:
                    continue  # the server died under this request: no receipt, no promise
                with lock:
                    if resp.status_code == 200:
                        acknowledged.append(resp.json()["receipt"])
                    else:
                        failures.append(resp.text)

    threads = [threading.Thread(target=sender, args=(bodies[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    # Kill once a good number of ballots went through, while requests are in flight.
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert not failures, failures[:3]
    assert len(acknowledged) >= 40

    server = _serve(tmp_path, port)
    try:
        board = httpx.get(f"http://127.0.0.1:{port}/c/{CID}/tableau.jsonl", timeout=30).text
        receipts = {json.loads(line)["receipt"] for line in board.splitlines()}
        missing = set(acknowledged) - receipts
        assert not missing, f"{len(missing)} acknowledged ballot(s) lost"
        # The restarted server keeps accepting and extending the same chain.
        late = httpx.post(url, content=bodies[-1], headers={"Content-Type": "application/json"})
        assert late.status_code == 200, late.text
        bundle = httpx.get(f"http://127.0.0.1:{port}/c/{CID}/dossier.zip", timeout=60).content
        report = verify_bundle(bundle)
        assert report.ok, report.lines()
        assert report.stats["entries"] >= len(acknowledged) + 1
    finally:
        server.terminate()
        server.wait(10)
    # The instance journal (one entry per committed batch) survived the kill intact.
    check = subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "journal", "verify"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_example_bundle_cli_builds_a_bundle_beffroi_verify_accepts(tmp_path):
    out = tmp_path / "dossier.zip"
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "beffroi.cli",
            "consult",
            "example-bundle",
            "--out",
            str(out),
            "--ballots",
            "60",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "verify: OK" in built.stdout
    checked = subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "verify", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert verify_bundle(out.read_bytes()).stats["entries"] == 60
