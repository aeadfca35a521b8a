"""Memory of an audit at the bound on responses (``BEFFROI_AUDIT_MAX_ROWS``, 1,000,000),
and the cost of refusing a file of tiny rows past it.

1. An export of exactly 1,000,000 responses (the simulator's honest model, as
   ``audit_speed.py``): a child process does what the audit worker does with it — reads
   and audits it, writes ``result.json``, renders the French report's HTML and PDF — and
   prints its wall time and peak resident memory.
2. A file of the upload limit (200 MB) made of the smallest LimeSurvey responses
   (``7,,`` — 4 bytes, 50 million rows): the loader refuses it; time and peak memory of
   that refusal.

3. For comparison, with ``--unbounded N``: N tiny rows read with the bound lifted, what
   every file of tiny rows cost before there was one.

Usage: .venv/bin/python bench/audit_row_bound.py [--rows 1000000] [--skip-report]
       [--unbounded 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from audit_speed import generate

# getrusage's ru_maxrss survives exec on Linux: a child forked from this process (which
# holds the generated export) would report our peak. VmHWM is the child's own.
PEAK = r"""
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

AUDIT = (
    PEAK
    + r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from beffroi.integrity.audit import run_audit
result = run_audit(Path(sys.argv[1]))
Path(sys.argv[2]).write_text(json.dumps(result.to_json(), ensure_ascii=False))
audited = time.perf_counter() - t0
if sys.argv[3] == "report":
    from beffroi.integrity.report import FRENCH, pdf_from_html, render_html
    page = render_html(result, FRENCH)
    pdf_from_html(page, Path(sys.argv[2]).with_suffix(".pdf"))
print(json.dumps({
    "rows": result.to_json()["summary"].get("n_responses", None),
    "audit_s": audited,
    "total_s": time.perf_counter() - t0,
    "peak_mib": peak(),
}))
"""
)

REFUSE = (
    PEAK
    + r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import load_limesurvey
try:
    load_limesurvey(Path(sys.argv[1]))
    said = "accepted!"
except InputError as exc:
    said = str(exc)
print(json.dumps({
    "said": said,
    "wall_s": time.perf_counter() - t0,
    "peak_mib": peak(),
}))
"""
)


def child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    if proc.returncode:
        print(proc.stderr)
        raise SystemExit(proc.returncode)
    return dict(json.loads(proc.stdout.splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-report", action="store_true", help="audit only, no HTML/PDF")
    ap.add_argument("--unbounded", type=int, default=0, help="tiny rows read with no bound")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export = folder / "export.csv"
        generate(export, args.rows)
        print(f"export: {args.rows:,} responses, {export.stat().st_size / 2**20:.0f} MiB")
        mode = "audit" if args.skip_report else "report"
        at_bound = child(AUDIT, str(export), str(folder / "result.json"), mode)
        print(
            f"at the bound ({mode}): {at_bound['total_s']:.1f} s "
            f"(audit {at_bound['audit_s']:.1f} s), peak RSS {at_bound['peak_mib']:.0f} MiB"
        )
        export.unlink()

        tiny = folder / "tiny.csv"
        with tiny.open("wb") as fh:
            fh.write(b"id,submitdate,Q1\n")
            block = b"7,,\n" * 1_000_000
            for _ in range(50):
                fh.write(block)
        print(f"tiny rows: {tiny.stat().st_size / 1e6:.0f} MB, 50,000,000 rows")
        t0 = time.perf_counter()
        refused = child(REFUSE, str(tiny))
        print(
            f"refused in {refused['wall_s']:.1f} s (child {time.perf_counter() - t0:.1f} s), "
            f"peak RSS {refused['peak_mib']:.0f} MiB: {str(refused['said'])[:60]}…"
        )
        if args.unbounded:
            with tiny.open("wb") as fh:
                fh.write(b"id,submitdate,Q1\n")
                for start in range(0, args.unbounded, 1_000_000):  # distinct ids
                    stop = min(start + 1_000_000, args.unbounded)
                    fh.write(b"".join(b"%d,,\n" % i for i in range(start, stop)))
            lifted = child(REFUSE, str(tiny), env={"BEFFROI_AUDIT_MAX_ROWS": str(10**12)})
            print(
                f"{args.unbounded:,} tiny rows with no bound: {lifted['wall_s']:.1f} s, "
                f"peak RSS {lifted['peak_mib']:.0f} MiB ({str(lifted['said'])[:50]})"
            )


if __name__ == "__main__":
    main()
