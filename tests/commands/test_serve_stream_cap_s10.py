"""The cap on a partner link's live streams holds across web processes: two real
``beffroi serve`` (two hosts behind a proxy, or the processes of ``--workers 2``) on the
test database, streams opened on each in turn, the cap counted once for all. Before the
count was shared, each process admitted its own cap. (``--workers 2`` alone would not
prove it: the kernel may hand every connection to the same process.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack

import httpx
import pytest
from django.urls import reverse

from child_processes import env_on_test_database

pytestmark = [pytest.mark.slow]
CAP = 2


def _env() -> dict[str, str]:
    return env_on_test_database(BEFFROI_PARTNER_LINK_MAX_STREAMS=str(CAP))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_PORTS: dict[int, int] = {}


def _port_of(server: subprocess.Popen[bytes]) -> int:
    return _PORTS[server.pid]


def _serve(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "beffroi.cli", "serve", "--port", str(port), "--no-worker"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its uvicorn processes are stopped with it
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                _PORTS[proc.pid] = port
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the server did not start")


def test_the_cap_holds_across_two_server_processes(transactional_db, org, members):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    _link, token = actions.create_partner_link(
        activation, label="COD", days=1, actor=members["coordinator"]
    )
    servers: list[subprocess.Popen[bytes]] = []
    try:
        servers += [_serve(_port()), _serve(_port())]
        path = reverse("watch-partner-stream", args=[token])
        urls = [f"http://127.0.0.1:{_port_of(server)}{path}" for server in servers]
        with ExitStack() as open_streams:
            statuses = []
            # Each stream's line iterator is kept: dropping it would close its connection.
            readers = []
            for n in range(3 * CAP):
                client = open_streams.enter_context(httpx.Client(timeout=10))
                response = open_streams.enter_context(client.stream("GET", urls[n % 2]))
                statuses.append(response.status_code)
                if response.status_code == 200:
                    readers.append(response.iter_lines())
                    assert next(readers[-1]).startswith("retry:")  # the stream is running
                else:
                    assert "avec ce lien (2 au plus)" in response.read().decode()
            assert statuses.count(200) == CAP, statuses
            assert statuses.count(429) == 2 * CAP, statuses
        # All closed: the places free (each process notices its client left) and a
        # new stream is let in again, on either server.
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                with httpx.Client(timeout=10) as client, client.stream("GET", url) as response:
                    if response.status_code == 200:
                        break
                assert time.monotonic() < deadline, "no place freed after the streams closed"
                time.sleep(0.5)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
