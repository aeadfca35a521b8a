"""Speed and memory of `beffroi audit` on a 1,000,000-response export (issue 3, item 9).

Generates a LimeSurvey-format export with the simulator's honest model (vectorised,
written with pyarrow; generation time is not part of the figure), then runs
`beffroi audit FILE --json OUT` in a child process and prints its wall time and
peak resident memory (target: ≤ 10 s and ≤ 2 GiB on the 2-core machine).

Usage: .venv/bin/python bench/audit_speed.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from beffroi.integrity.simulate import HEADER, OPEN, _fake, _honest


def generate(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    fakes = max(250, rows // 400)
    honest = _honest(rng, rows - fakes)
    fake = _fake(rng, fakes, "seedlike")
    start = np.concatenate([honest.start, fake.start])
    submit = np.concatenate([honest.submit, fake.submit])
    order = np.argsort(start, kind="stable")
    base = np.datetime64(OPEN.isoformat(), "s")

    def stamp(x: np.ndarray) -> pa.Array:
        t = base + np.nan_to_num(x).astype("int64").astype("timedelta64[s]")
        s = np.char.replace(np.datetime_as_string(t, unit="s"), "T", " ")
        return pa.array(np.where(np.isnan(x), "", s))

    ans = np.concatenate([honest.answers, fake.answers])[order]
    letters = np.array(["", "Y", "N"])
    codes = ["A1", "A2", "A3", "A4"]
    school = np.concatenate([honest.school, fake.school])[order]
    ip = np.array(honest.ip + fake.ip, dtype=object)[order]
    dur = (submit - start)[order]
    cols: dict[str, pa.Array] = {
        "id": pa.array(np.arange(1, rows + 1).astype(str)),
        "submitdate": stamp(submit[order]),
        "lastpage": pa.array(np.where(np.isnan(submit[order]), "1", "2")),
        "startlanguage": pa.array(np.full(rows, "fr")),
        "seed": pa.array(rng.integers(10**8, 10**9, rows).astype(str)),
        "startdate": stamp(start[order]),
        "datestamp": stamp(np.where(np.isnan(submit), start, submit)[order]),
        "ipaddr": pa.array(ip, pa.string()),
        "refurl": pa.array(np.full(rows, "")),
        "ECOLE": pa.array(np.array(codes)[school]),
    }
    k = 0
    for m in range(3):
        for p in range(2):
            cols[HEADER[10 + k]] = pa.array(letters[ans[:, m, p]])
            k += 1
    cols["interviewtime"] = pa.array(np.where(np.isnan(dur), "", np.round(dur, 2).astype(str)))
    table = pa.table(cols)
    assert table.column_names == HEADER
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="all_valid"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        export = folder / "export-1m.csv"
        t0 = time.perf_counter()
        generate(export, args.rows)
        size = export.stat().st_size / 2**20
        gen = time.perf_counter() - t0
        print(f"generated {args.rows:,} responses ({size:.0f} MiB) in {gen:.1f} s")
        cmd = [
            *(sys.executable, "-m", "beffroi.cli", "audit", str(export)),
            *("--json", str(folder / "audit.json"), "--no-progress"),
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak = usage.ru_maxrss / 2**20  # KiB -> GiB
        cpu = usage.ru_utime + usage.ru_stime
        if proc.returncode != 0:
            print(proc.stderr)
            raise SystemExit(proc.returncode)
        print(proc.stdout.splitlines()[0])
        print(f"audit wall time: {wall:.1f} s (target ≤ 10 s)")
        # The machine is shared: CPU time and load say how much of the wall time was ours.
        load = os.getloadavg()[0]
        cores = os.cpu_count()
        print(f"audit CPU time:  {cpu:.1f} s (user+system; load {load:.1f} on {cores} cores)")
        print(f"audit peak RSS:  {peak:.2f} GiB (target ≤ 2 GiB)")


if __name__ == "__main__":
    main()
