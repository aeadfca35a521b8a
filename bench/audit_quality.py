"""Detection quality of `beffroi audit` on simulated consultations (issue 3, item 8).

For each attack (seedlike, none, drip) and several seeds, simulate ~1,500 honest
forms (+ 250 fake ones), audit the export, and compare with the ground truth:

- recall: share of fake forms flagged; FPR: share of honest forms flagged;
- error: per question, |share of "no" after filtering - share among honest forms|,
  in percentage points (the honest truth is the honest complete forms, all rows);
- the same figures for the naive "one response per IP address" filter;
- for drip: how many runs claim a cluster, and how many say a result is fragile.

The seeds (1000+) are not the ones the detectors were developed on.

Usage: .venv/bin/python bench/audit_quality.py [--seeds 5] [--forms 1500]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from pathlib import Path

import numpy as np

from beffroi.integrity.audit import run_audit
from beffroi.integrity.simulate import MEASURES, simulate


def _one_per_ip_dropped(export: Path) -> set[str]:
    """Ids the town's filter drops: every complete form after the first of its address."""
    with export.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["submitdate"]]
    rows.sort(key=lambda r: r["submitdate"])
    seen: set[str] = set()
    dropped = set()
    for r in rows:
        ip = r.get("ipaddr")
        if ip is None:
            continue
        if ip in seen:
            dropped.add(r["id"])
        seen.add(ip)
    return dropped


def _honest_truth(export: Path, truth: dict[str, bool]) -> dict[str, float]:
    no = dict.fromkeys(MEASURES, 0)
    tot = dict.fromkeys(MEASURES, 0)
    with export.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if truth[row["id"]] or not row["submitdate"]:
                continue
            for m in MEASURES:
                for p in ("SQ001", "SQ002"):
                    v = row[f"{m}[{p}]"]
                    if v:
                        tot[m] += 1
                        no[m] += v == "N"
    return {m: no[m] / tot[m] for m in MEASURES}


def _shares(scenario: dict) -> dict[str, float]:
    out = {}
    for q in scenario["questions"]:
        out[q["question"]] = q["shares"].get("N") or 0.0
    return out


def _strip(export: Path, drop: tuple[str, ...]) -> None:
    """Rewrite the export without some meta columns (exports often lack them)."""
    with export.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keep = [k for k in rows[0] if k not in drop]
    with export.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, keep, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def run(attack: str, seeds: list[int], forms: int, drop: tuple[str, ...] = ()) -> None:
    rec, fpr, err, ip_rec, ip_fpr, ip_err, raw_err = [], [], [], [], [], [], []
    per_q: dict[str, dict[str, list[float]]] = {
        k: {m: [] for m in MEASURES} for k in ("beffroi", "brut", "une_par_ip")
    }
    claims = fragile_runs = 0
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            sim = simulate(Path(tmp), attack=attack, forms=forms, seed=seed)
            if drop:
                _strip(sim.export, drop)
            with sim.truth.open() as fh:
                truth = {r["id"]: r["fake"] == "1" for r in csv.DictReader(fh)}
            honest = _honest_truth(sim.export, truth)
            ip_dropped = _one_per_ip_dropped(sim.export)
            res = run_audit(sim.export)
            data = res.to_json()
        ids = [r["id"] for r in data["responses"]]
        flagged = np.array([r["flagged"] for r in data["responses"]])
        fake = np.array([truth[i] for i in ids])
        dropped = np.array([i in ip_dropped for i in ids])
        if fake.any():
            rec.append(float((flagged & fake).sum() / fake.sum()))
        fpr.append(float((flagged & ~fake).sum() / (~fake).sum()))
        scen = {s["scenario"]: s for s in data["scenarios"]}
        filt = _shares(scen["beffroi"])
        raw = _shares(scen["brut"])
        ipf = _shares(scen.get("une_par_ip", scen["brut"]))
        for name, got in (("beffroi", filt), ("brut", raw), ("une_par_ip", ipf)):
            for m in MEASURES:
                per_q[name][m].append((got[m] - honest[m]) * 100)
        err.append(max(abs(filt[m] - honest[m]) * 100 for m in MEASURES))
        raw_err.append(max(abs(raw[m] - honest[m]) * 100 for m in MEASURES))
        ip_err.append(max(abs(ipf[m] - honest[m]) * 100 for m in MEASURES))
        if fake.any():
            ip_rec.append(float((dropped & fake).sum() / fake.sum()))
        ip_fpr.append(float((dropped & ~fake).sum() / (~fake).sum()))
        claims += data["summary"]["clusters"] > 0
        fragile_runs += bool(data["summary"]["fragile_questions"])

    def f(xs: list[float]) -> str:
        if not xs:
            return "   n/a"
        return f"{statistics.mean(xs):.3f} (min {min(xs):.3f}, max {max(xs):.3f})"

    extra = "" if attack == "none" else " + 250 fake"
    without = f", export WITHOUT {'/'.join(drop)}" if drop else ""
    print(f"== {attack}: {len(seeds)} seeds, {forms} honest forms{extra}{without}")
    if attack != "none":
        print(f"  Beffroi recall              {f(rec)}")
    print(f"  Beffroi false-positive rate {f(fpr)}")
    print(f"  Beffroi max |error| (pts)   {f(err)}")
    print(f"  raw     max |error| (pts)   {f(raw_err)}")
    if "ipaddr" in drop:
        print("  one-per-IP                  n/a (no address column)")
    elif attack != "none":
        print(f"  one-per-IP recall           {f(ip_rec)}")
    if "ipaddr" not in drop:
        print(f"  one-per-IP honest dropped   {f(ip_fpr)}  (its 'false-positive rate')")
        print(f"  one-per-IP max |error| (pts){f(ip_err)}")
    for name, label in (("beffroi", "Beffroi"), ("brut", "raw"), ("une_par_ip", "one-per-IP")):
        if name == "une_par_ip" and "ipaddr" in drop:
            continue
        parts = [
            f"{m} {statistics.mean(v):+.2f} (worst {max(v, key=abs):+.2f})"
            for m, v in per_q[name].items()
        ]
        print(f"  {label:<10} error of 'no' share vs honest truth, pts: " + "; ".join(parts))
    print(f"  runs claiming a cluster     {claims}/{len(seeds)}")
    print(f"  runs calling a result fragile {fragile_runs}/{len(seeds)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--forms", type=int, default=1500)
    args = ap.parse_args()
    seeds = list(range(1000, 1000 + args.seeds))
    for attack in ("seedlike", "none", "drip"):
        run(attack, seeds, args.forms)
    # The same attack when the export has no address and no timings at all.
    run("seedlike", seeds, args.forms, drop=("ipaddr", "startdate", "interviewtime"))
    run("none", seeds, args.forms, drop=("ipaddr", "startdate", "interviewtime"))


if __name__ == "__main__":
    main()
