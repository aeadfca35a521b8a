"""Signed ballots per second accepted by the served app, and their latency.

`beffroi serve` on 127.0.0.1 with SQLite, in a throwaway data directory, and a
real HTTP/1.1 client on loopback: a lean asyncio client (keep-alive
connections, each sending its next request as soon as the previous answer
arrived) in a separate process, so that on a 2-core machine the client takes
as little as possible of the CPU the server needs.  Ballots are signed ahead
of time, one credential each, so the client measures the server, not its own
signing.  A 200 response carries a receipt, which the server returns only
after the ballot's batch committed (group commit, fsync'd).

    .venv/bin/python bench/consult_load.py [--seconds 60] [--connections 64]

Prints accepted ballots/s (over the whole run and its slowest 10-second
window), p50/p95/p99 latency, the refusals, the CPU time the server and the
client used per ballot; then checks that the board holds exactly the ballots
whose receipts were returned, that the bundle verifies and that the instance
journal verifies.  Exit status 0 when those checks hold (the figures are
reported, not asserted: the machine's other load moves them).
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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CID = "bench-charge"
WINDOW = 10.0  # seconds: "sustained" means every window of this length meets the rate


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
# middleware stack and the `submit` view (no raw ASGI path for ballots).
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


# -- the client ----------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending one request at a time.

    It parses only what it needs of each response (status line,
    Content-Length, body), which keeps the client's CPU per request low.
    """

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buf = bytearray()
        self.sent_at = 0.0
        self.transport: Any = None  # asyncio's or uvloop's transport
        self.waiting = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.run.ready(self)

    def send_next(self) -> None:
        request = self.run.next_request()
        assert self.transport is not None
        if request is None:
            self.waiting = False
            self.transport.close()
            return
        self.waiting = True
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                raise SystemExit("response without Content-Length: " + head[:200].decode())
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop > 0 else None])
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4 : end + 4 + length])
            del self.buf[: end + 4 + length]
            now = time.perf_counter()
            self.run.record(now - self.sent_at, now, int(head[9:12]), body)
            self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.run.lost(self, exc)


class _Run:
    def __init__(self, requests: list[bytes], stop: float) -> None:
        self.requests = requests
        self.i = 0
        self.stop = stop
        self.started = False
        self.latencies: list[float] = []
        self.finished: list[float] = []
        self.statuses: list[int] = []
        self.bodies: list[bytes] = []
        self.errors: dict[str, int] = {}
        self.idle: list[_Connection] = []
        self.open = 0
        self.ran_out = False
        self.all_closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def ready(self, conn: _Connection) -> None:
        self.open += 1
        if self.started:
            conn.send_next()
        else:
            self.idle.append(conn)

    def start(self) -> None:
        self.started = True
        for conn in self.idle:
            conn.send_next()
        self.idle.clear()

    def next_request(self) -> bytes | None:
        if time.perf_counter() >= self.stop:
            return None
        if self.i >= len(self.requests):
            self.ran_out = True
            return None
        self.i += 1
        return self.requests[self.i - 1]

    def record(self, latency: float, at: float, status: int, body: bytes) -> None:
        self.latencies.append(latency)
        self.finished.append(at)
        self.statuses.append(status)
        self.bodies.append(body)

    def lost(self, conn: _Connection, exc: Exception | None) -> None:
        self.open -= 1
        if conn.waiting:  # the server dropped a request in flight: no answer, no receipt
            key = f"connection lost ({type(exc).__name__ if exc else 'closed'})"
            self.errors[key] = self.errors.get(key, 0) + 1
        if self.open == 0 and not self.all_closed.done():
            self.all_closed.set_result(None)


async def _client(
    port: int, path: str, bodies: list[bytes], connections: int, seconds: float, start_at: float
) -> dict[str, Any]:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    requests = [f"{head}Content-Length: {len(b)}\r\n\r\n".encode() + b for b in bodies]
    loop = asyncio.get_running_loop()
    run = _Run(requests, stop=float("inf"))
    for _ in range(connections):
        await loop.create_connection(lambda: _Connection(run), "127.0.0.1", port)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    run.stop = t0 + seconds
    run.start()
    await run.all_closed  # in-flight requests finish: every committed ballot is answered
    elapsed = time.perf_counter() - t0
    return {
        "elapsed": elapsed,
        "cpu": time.process_time() - cpu0,
        "latencies": run.latencies,
        "finished": [t - t0 for t in run.finished],
        "statuses": run.statuses,
        "bodies": run.bodies,
        "errors": run.errors,
        "ran_out": run.ran_out,
    }


def _client_proc(args: tuple[Any, ...], out: Any) -> None:
    try:  # libuv's loop (a dependency of the server) makes the client cheaper too
        import uvloop

        out.put(uvloop.run(_client(*args)))
    except ImportError:
        out.put(asyncio.run(_client(*args)))


# -- the report ----------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=64, help="in total, over the clients")
    ap.add_argument("--clients", type=int, default=1, help="client processes")
    ap.add_argument(
        "--rate-cap",
        type=int,
        default=2500,
        help="ballots prepared per second of the run (the client stops if it runs out)",
    )
    ap.add_argument(
        "--plain-django",
        action="store_true",
        help="baseline: serve Django's application without the raw ASGI path for ballots",
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
            + f", SQLite, {args.connections} connections from {args.clients} client process(es)",
            flush=True,
        )
        port = free_port()
        server = start_server(tmp, port, args.plain_django)
        try:
            path = f"/c/{CID}/bulletin/"
            start_at = time.time() + 2
            out: Any = mp.Queue()
            share = len(bodies) // args.clients
            per_client = max(1, args.connections // args.clients)
            procs = [
                mp.Process(
                    daemon=True,
                    target=_client_proc,
                    args=(
                        (
                            port,
                            path,
                            bodies[i * share : (i + 1) * share],
                            per_client,
                            args.seconds,
                            start_at,
                        ),
                        out,
                    ),
                )
                for i in range(args.clients)
            ]
            for p in procs:
                p.start()
            time.sleep(max(0.0, start_at - time.time()))
            cpu0 = cpu_seconds(server.pid)
            # A client that crashed never answers: give up after the run's length and a margin.
            results = [out.get(timeout=args.seconds + 300) for _ in procs]
            server_cpu = cpu_seconds(server.pid) - cpu0
            for p in procs:
                p.join()
            load = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(10)
        return report(args, results, server_cpu, load)


def report(
    args: argparse.Namespace, results: list[dict[str, Any]], server_cpu: float, load: float
) -> int:
    elapsed = max(r["elapsed"] for r in results)
    accepted: list[float] = []
    finished: list[float] = []
    receipts: set[str] = set()
    refused: dict[str, int] = {}
    for r in results:
        for lat, at, status, body in zip(
            r["latencies"], r["finished"], r["statuses"], r["bodies"], strict=True
        ):
            if status == 200:
                accepted.append(lat)
                finished.append(at)
                receipts.add(json.loads(body)["receipt"])
            else:
                try:
                    key = f"{status} {json.loads(body).get('error')}"
                except ValueError:
                    key = f"{status} (not JSON)"
                refused[key] = refused.get(key, 0) + 1
        for k, v in r["errors"].items():
            refused[k] = refused.get(k, 0) + v
    accepted.sort()
    rate = len(accepted) / elapsed
    span = min(WINDOW, elapsed)  # a run shorter than a window is one window
    windows = [0] * max(1, int(elapsed // span))
    for at in finished:
        if int(at // span) < len(windows):
            windows[int(at // span)] += 1
    slowest = min(windows) / span
    p99 = percentile(accepted, 0.99)
    print(
        f"accepted: {len(accepted)} signed ballots in {elapsed:.1f} s = {rate:.0f}/s; "
        f"slowest {span:.0f}-s window {slowest:.0f}/s "
        f"(target ≥ 1000/s sustained: {'met' if slowest >= 1000 else 'NOT met'})"
    )
    if any(r["ran_out"] for r in results):
        print(f"(the client used every prepared ballot: raise --rate-cap above {args.rate_cap})")
    p50, p95 = percentile(accepted, 0.5), percentile(accepted, 0.95)
    print(
        f"latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {p99:.1f} ms (target p99 ≤ 200 ms: {'met' if p99 <= 200 else 'NOT met'})"
    )
    print(f"refused or failed: {refused or 'none'}")
    requests = sum(len(r["statuses"]) for r in results)
    client_cpu = sum(r["cpu"] for r in results)
    if accepted:
        per = server_cpu / len(accepted) * 1000
        print(
            f"server CPU: {server_cpu:.1f} s for {len(accepted)} ballots = {per:.2f} ms/ballot "
            f"(one core at that cost: {1000 / per:.0f} ballots/s); client CPU: "
            f"{client_cpu / max(1, requests) * 1e6:.0f} µs/request; "
            f"machine load average {load:.1f} on {os.cpu_count()} cores"
        )
    return check(receipts)


def check(receipts: set[str]) -> int:
    from beffroi.consult import live
    from beffroi.consult.models import BoardEntry, Consultation
    from beffroi.consult.verify import verify_bundle
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry

    c = Consultation.objects.get(cid=CID)
    on_board = set(BoardEntry.objects.filter(consultation=c).values_list("receipt", flat=True))
    exact = on_board == receipts
    print(
        f"board: {len(on_board)} entries; exactly the returned receipts: {exact}"
        + (
            ""
            if exact
            else f" ({len(receipts - on_board)} missing, {len(on_board - receipts)} extra)"
        )
    )
    t0 = time.perf_counter()
    bundle_report = verify_bundle(live.bundle(c))
    print(f"bundle verifies: {bundle_report.ok} ({time.perf_counter() - t0:.1f} s)")
    batches = JournalEntry.objects.filter(action="consult.ballots").count()
    print(
        f"writer: {batches} batches (transactions, one journal entry each), "
        f"{len(on_board) / max(1, batches):.1f} ballots per batch on average"
    )
    broken = journal.verify()
    print(f"instance journal verifies: {broken is None}" + (f" ({broken})" if broken else ""))
    return 0 if exact and bundle_report.ok and broken is None else 1


if __name__ == "__main__":
    raise SystemExit(main())
