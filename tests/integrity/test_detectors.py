"""Each detector on small synthetic tables built in memory (the live ballot-box path)."""

from typing import Any

import numpy as np
import pytest

from beffroi.integrity import detectors as d
from beffroi.integrity.load import from_table

T0 = 1_772_470_000.0


def _honest(rng: np.random.Generator, n: int, days: float = 5.0) -> list[dict[str, Any]]:
    t = np.sort(rng.uniform(0, days * 86400, n)) + T0
    rows = []
    for i in range(n):
        p1 = "N" if rng.random() < 0.4 else "Y"
        p2 = p1 if rng.random() < 0.9 else ("N" if p1 == "Y" else "Y")
        q1 = "N" if rng.random() < 0.3 else "Y"
        q2 = q1 if rng.random() < 0.9 else ("N" if q1 == "Y" else "Y")
        rows.append(
            {
                "id": f"h{i}",
                "submitted": float(t[i]),
                "duration": float(rng.lognormal(np.log(120), 0.5)),
                "ip": f"ip{rng.integers(0, 10 * n)}",
                "net": f"net{rng.integers(0, n)}",
                "S": "A1" if rng.random() < 0.5 else "A2",
                "M1[P1]": p1,
                "M1[P2]": p2,
                "M2[P1]": q1,
                "M2[P2]": q2,
            }
        )
    return rows


def _salvo(
    rng: np.random.Generator,
    n: int,
    at: float,
    *,
    regular: bool = True,
    fast: bool = True,
    vpn: bool = True,
    skewed: bool = True,
) -> list[dict[str, Any]]:
    gaps = rng.uniform(1, 30, n) if regular else rng.exponential(15.5, n)
    t = T0 + at + np.cumsum(gaps)
    rows = []
    for i in range(n):
        # The affair's script aimed at 80 % and 35 % "no", each line on its own.
        p_no = {"M1": 0.8, "M2": 0.35} if skewed else {"M1": 0.4, "M2": 0.3}
        line = {
            k: "N" if rng.random() < p_no[k[:2]] else "Y"
            for k in ("M1[P1]", "M1[P2]", "M2[P1]", "M2[P2]")
        }
        if not skewed:
            # Like a household: parent 2 mostly agrees.
            line["M1[P2]"] = line["M1[P1]"] if rng.random() < 0.9 else line["M1[P2]"]
            line["M2[P2]"] = line["M2[P1]"] if rng.random() < 0.9 else line["M2[P2]"]
        rows.append(
            {
                "id": f"f{i}",
                "submitted": float(t[i]),
                "duration": float(rng.uniform(1, 5) if fast else rng.lognormal(np.log(120), 0.5)),
                "ip": f"vpn{rng.integers(0, 10)}" if vpn else f"ipx{i}",
                "net": f"vpnnet{rng.integers(0, 2)}" if vpn else f"netx{i}",
                "S": "A1",
                **line,
            }
        )
    return rows


def _run(rows: list[dict[str, Any]], off: tuple[str, ...] = ()) -> tuple[d.Analysis, d.Scores]:
    ds = from_table(rows, segment="S")
    a = d.analyse(ds)
    return a, d.combine(a, off)


def _flag_ids(rows: list[dict[str, Any]], sc: d.Scores) -> set[str]:
    return {r["id"] for r, f in zip(rows, sc.flagged, strict=True) if f}


def test_salvo_found_and_flagged_with_readable_evidence() -> None:
    rng = np.random.default_rng(1)
    rows = _honest(rng, 600) + _salvo(rng, 100, 2.3 * 86400)
    a, sc = _run(rows)
    fakes = {r["id"] for r in rows if r["id"].startswith("f")}
    flagged = _flag_ids(rows, sc)
    assert len(flagged & fakes) >= 95
    assert len(flagged - fakes) <= 3
    big = max(a.bursts, key=lambda b: len(b.rows))
    keys = {c.key for c in big.checks if c.significant}
    assert {"duree", "reseau", "deplacement", "coherence", "espacement"} <= keys
    i = next(i for i, r in enumerate(rows) if r["id"] == "f10")
    text = " ".join(d.reasons_for(a, sc, i))
    assert "réponses en" in text and "ailleurs" in text
    assert sc.cluster[i] >= 1 and sc.clusters[sc.cluster[i] - 1]["flagged"] >= 95


def test_honest_poisson_burst_is_not_flagged() -> None:
    rng = np.random.default_rng(2)
    # A message in a parents' group: a burst of ordinary households.
    burst = _honest(rng, 80, days=40 / 1440)
    for i, r in enumerate(burst):
        r["id"] = f"b{i}"
        r["submitted"] += 2 * 86400
    rows = _honest(rng, 600) + burst
    a, sc = _run(rows)
    assert any(len(b.rows) >= 60 for b in a.bursts)  # it is a burst…
    assert sc.flagged.sum() == 0  # …but nothing else is wrong with it


def test_invitation_wave_is_tolerated() -> None:
    rng = np.random.default_rng(3)
    rows = _honest(rng, 300)
    # Mail at day 1: a jump then a slow decay.
    t = T0 + 86400 + rng.exponential(0.7 * 86400, 700)
    for i, r in enumerate(_honest(rng, 700)):
        r["id"], r["submitted"] = f"w{i}", float(t[i])
        rows.append(r)
    _, sc = _run(rows)
    assert sc.flagged.sum() == 0


@pytest.mark.parametrize(
    "kw,check",
    [
        ({"fast": False, "vpn": False, "skewed": False}, "espacement"),
        ({"regular": False, "vpn": False, "skewed": False}, "duree"),
        ({"regular": False, "fast": False, "skewed": False}, "reseau"),
    ],
)
def test_each_group_check_alone(kw: dict[str, bool], check: str) -> None:
    rng = np.random.default_rng(4)
    rows = _honest(rng, 600) + _salvo(rng, 100, 2.3 * 86400, **kw)
    a, sc = _run(rows)
    big = max(a.bursts, key=lambda b: len(b.rows))
    sig = {c.key for c in big.checks if c.significant}
    assert check in sig
    # One anomaly (besides the burst) is not enough to flag anyone.
    assert len(sig) == 1 and sc.flagged.sum() == 0


def test_shift_and_coherence_of_an_independent_line_script() -> None:
    rng = np.random.default_rng(5)
    rows = _honest(rng, 800) + _salvo(rng, 120, 3.3 * 86400, regular=False, fast=False, vpn=False)
    a, sc = _run(rows)
    big = max(a.bursts, key=lambda b: len(b.rows))
    sig = {c.key: c for c in big.checks if c.significant}
    assert {"deplacement", "coherence"} <= set(sig)
    assert "concordent" in sig["coherence"].evidence
    # Two group anomalies make a cluster; without repeated rows it falls apart.
    assert sc.flagged.sum() >= 60
    _, sc_off = _run(rows, off=("coherence",))
    assert sc_off.flagged.sum() == 0


def test_switching_off_bursts_removes_cluster_flags() -> None:
    rng = np.random.default_rng(6)
    rows = _honest(rng, 500) + _salvo(rng, 80, 1.5 * 86400)
    a, _ = _run(rows)
    assert d.combine(a).flagged.sum() >= 75
    assert d.combine(a, ["rafales"]).flagged.sum() < 10


def test_reused_tokens() -> None:
    rng = np.random.default_rng(7)
    rows = _honest(rng, 100)
    for i, r in enumerate(rows):
        r["token"] = f"tok{i}"
    rows[5]["token"] = "tok4"
    a, sc = _run(rows)
    assert _flag_ids(rows, sc) == {"h4", "h5"}
    assert "jeton" in " ".join(d.reasons_for(a, sc, 5))


def test_rare_exact_duplicates() -> None:
    rng = np.random.default_rng(8)
    cols = [f"Q{k}" for k in range(12)]
    rows = [{"id": str(i), **{c: str(rng.integers(0, 4)) for c in cols}} for i in range(300)]
    for i in range(5):
        rows[i].update({c: "3" for c in cols})
    _, sc = _run(rows)
    assert set(np.flatnonzero(sc.flagged).tolist()) == {0, 1, 2, 3, 4}
    # Near-duplicates: all answers equal but one.
    for i in range(10, 14):
        rows[i].update({c: "2" for c in cols})
        rows[i][cols[0]] = str(i - 10)
    a2, sc2 = _run(rows)
    assert set(np.flatnonzero(sc2.flagged).tolist()) == {0, 1, 2, 3, 4, 10, 11, 12, 13}
    assert "sauf une case" in " ".join(d.reasons_for(a2, sc2, 11))
    # A short questionnaire repeats itself honestly: not evidence.
    short = [{"id": str(i), "Q": str(i % 2), "R": "x"} for i in range(300)]
    _, sc3 = _run(short)
    assert sc3.flagged.sum() == 0


def test_scores_in_unit_interval_and_no_times() -> None:
    rows = [{"id": str(i), "Q": "Y" if i % 3 else "N"} for i in range(50)]
    ds = from_table(rows)
    a = d.analyse(ds)
    sc = d.combine(a)
    assert ((sc.score >= 0) & (sc.score <= 1)).all()
    assert {c["check"] for c in ds.checks_skipped} >= {"arrivées et rafales"}
