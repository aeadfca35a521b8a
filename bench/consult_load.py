"""Signed ballots per second accepted by the served app, and their latency.

A real HTTP client (httpx, several connections, in separate processes)
against `beffroi serve` on 127.0.0.1 with SQLite, in a throwaway data
directory.  Ballots are signed ahead of time with distinct credentials so the
client measures the server, not its own signing.  Every 200 response carries
a receipt, returned only after the ballot's batch committed (group commit).

    .venv/bin/python bench/consult_load.py [--seconds 60] [--connections 64]

Prints accepted ballots/s, p50/p95/p99 latency and the refusals, then checks
that the board holds exactly the accepted ballots and that the bundle verifies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CID = "bench-charge"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BEFFROI_DATA_DIR=tmp,
        DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
        BEFFROI_HTTPS="0",
        BEFFROI_SECRET_KEY="bench-" + "k" * 50,
        DJANGO_SETTINGS_MODULE="beffroi.settings",
    )
    return env


def prepare(tmp: str, n: int) -> list[bytes]:
    """Create the consultation with n credentials; return n signed request bodies."""
    os.environ.update(env_for(tmp))
    from beffroi.commands import bootstrap

    bootstrap.setup_django()
    bootstrap.migrate()
    from beffroi.consult.cli_example_bundle import prepare_signed_load
    from beffroi.core import actions as core_actions

    org = core_actions.create_organisation("Banc", "banc")
    return [json.dumps(b).encode() for b in prepare_signed_load(org, CID, n)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to separate the server's
    cost per ballot from the machine's other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The baseline: Django's own ASGI application, every request through the full
# middleware stack (what `beffroi serve` ran before asgi.py took the fast path).
PLAIN_SERVER = """
import sys, uvicorn
from beffroi.asgi import django_application
uvicorn.run(django_application, host="127.0.0.1", port=int(sys.argv[1]),
            lifespan="off", log_level="warning", access_log=False)
"""


def start_server(tmp: str, port: int, plain: bool = False) -> subprocess.Popen[bytes]:
    command = (
        [sys.executable, "-c", PLAIN_SERVER, str(port)]
        if plain
        else [sys.executable, "-m", "beffroi.cli", "serve", "--no-worker", "--port", str(port)]
    )
    proc = subprocess.Popen(
        command,
        env=env_for(tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start: " + (proc.stderr.read() or b"").decode()[-2000:])


async def _client(
    url: str, bodies: list[bytes], connections: int, seconds: float, start_at: float
) -> tuple[list[float], dict[str, int], list[str]]:
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    receipts: list[str] = []
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        while time.time() < start_at:
            await asyncio.sleep(0.01)
        stop = start_at + seconds

        async def worker() -> None:
            headers = {"Content-Type": "application/json"}
            for body in queue:
                if time.time() >= stop:
                    return
                t0 = time.perf_counter()
                try:
                    resp = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                dt = time.perf_counter() - t0
                if resp.status_code == 200:
                    latencies.append(dt)
                    receipts.append(resp.json()["receipt"])
                else:
                    key = f"{resp.status_code} {resp.json().get('error')}"
                    errors[key] = errors.get(key, 0) + 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, errors, receipts


def _client_proc(args: tuple[str, list[bytes], int, float, float], out: mp.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(_client(*args)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=64, help="in total, over the clients")
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument("--rate-cap", type=int, default=1600, help="ballots prepared per second")
    ap.add_argument(
        "--plain-django",
        action="store_true",
        help="baseline: serve Django's application without the ballot fast path",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="beffroi-bench-") as tmp:
        n = int(args.seconds * args.rate_cap)
        t0 = time.perf_counter()
        bodies = prepare(tmp, n)
        print(f"prepared {n} signed ballots in {time.perf_counter() - t0:.1f} s", flush=True)
        print(
            "server: "
            + ("uvicorn + plain Django (baseline)" if args.plain_django else "beffroi serve")
            + f", SQLite, {args.connections} connections from {args.clients} client processes",
            flush=True,
        )
        port = free_port()
        server = start_server(tmp, port, args.plain_django)
        try:
            url = f"http://127.0.0.1:{port}/c/{CID}/bulletin/"
            start_at = time.time() + 2
            out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
            share = len(bodies) // args.clients
            procs = [
                mp.Process(
                    target=_client_proc,
                    args=(
                        (
                            url,
                            bodies[i * share : (i + 1) * share],
                            max(1, args.connections // args.clients),
                            args.seconds,
                            start_at,
                        ),
                        out,
                    ),
                )
                for i in range(args.clients)
            ]
            cpu0 = cpu_seconds(server.pid)
            for p in procs:
                p.start()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
            server_cpu = cpu_seconds(server.pid) - cpu0
            load = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(10)
        lat = sorted(x for r in results for x in r[0])
        receipts = {x for r in results for x in r[2]}
        errors: dict[str, int] = {}
        for r in results:
            for k, v in r[1].items():
                errors[k] = errors.get(k, 0) + v

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

        rate = len(lat) / args.seconds
        print(
            f"accepted: {len(lat)} signed ballots in {args.seconds:.0f} s = {rate:.0f}/s "
            f"(target ≥ 1000/s: {'met' if rate >= 1000 else 'NOT met'})"
        )
        print(
            f"latency: p50 {pct(0.50):.1f} ms, p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms "
            f"(target p99 ≤ 200 ms: {'met' if pct(0.99) <= 200 else 'NOT met'})"
        )
        print(f"refused or failed: {errors or 'none'}")
        if lat:
            per = server_cpu / len(lat) * 1000
            print(
                f"server CPU: {server_cpu:.1f} s for {len(lat)} ballots = {per:.2f} ms/ballot "
                f"(one core at that cost: {1000 / per:.0f} ballots/s); "
                f"machine load average {load:.1f} on {os.cpu_count()} cores"
            )
        from beffroi.consult import live
        from beffroi.consult.models import BoardEntry, Consultation
        from beffroi.consult.verify import verify_bundle

        c = Consultation.objects.get(cid=CID)
        on_board = set(BoardEntry.objects.filter(consultation=c).values_list("receipt", flat=True))
        print(
            f"board: {len(on_board)} entries; every returned receipt on the board: "
            f"{receipts <= on_board}"
        )
        t0 = time.perf_counter()
        report = verify_bundle(live.bundle(c))
        print(f"bundle verifies: {report.ok} ({time.perf_counter() - t0:.1f} s)")
        return 0 if report.ok and receipts <= on_board else 1


if __name__ == "__main__":
    raise SystemExit(main())
