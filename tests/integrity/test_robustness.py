"""Scenario and robustness arithmetic on cases small enough to check by hand."""

import numpy as np
import pytest

from beffroi.integrity import robustness as rb
from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.load import from_table


def test_flip_by_removal_counts_whole_forms() -> None:
    # Forms (Y, N) counts: totals Y=7, N=3, margin 4.
    counts = np.array([[2, 0], [2, 0], [1, 1], [1, 0], [1, 0], [0, 2]])
    # Removing two (2,0) forms leaves Y=3, N=3 (tie); a third Y-leaning form flips it.
    assert rb.flip_by_removal(counts, 0, 1) == 3


def test_flip_by_addition() -> None:
    # Margin 4, each added form gives two rows to the runner-up: 3 forms make N ahead.
    assert rb.flip_by_addition(4, 2) == 3
    assert rb.flip_by_addition(5, 1) == 6


def test_share_range_single_row() -> None:
    # 6 Y, 4 N, one row per form: removing 2 Y gives 4/8, removing 2 N gives 6/8.
    counts = np.array([[1, 0]] * 6 + [[0, 1]] * 4)
    lo, hi = rb.share_range(counts, 0, 2)
    assert lo == pytest.approx(0.5)
    assert hi == pytest.approx(0.75)
    assert rb.share_range(counts, 0, 0) == (pytest.approx(0.6), pytest.approx(0.6))


def test_participation_impossible_and_claimed() -> None:
    out = rb.participation({"A1": 250, "A2": 100}, {"A1": 212, "A2": 168}, 62.0)
    seg = {s["segment"]: s for s in out["segments"]}
    assert seg["A1"]["impossible"] and not seg["A2"]["impossible"]
    assert seg["A1"]["rate"] == pytest.approx(250 / 212, rel=1e-5)
    text = " ".join(out["statements"])
    assert "212" in text and "impossible" in text
    assert "ne peut pas être connu" in text
    over = rb.participation({"A1": 10}, {"A1": 20}, 140.0)
    assert "supérieur à 100 % est impossible" in " ".join(over["statements"])


def _table() -> list[dict[str, object]]:
    rows = []
    # Three forms on one address (a household and a neighbour), two elsewhere.
    spec = [
        ("a", "1.1.1.1", "A1", "Y", "Y"),
        ("b", "1.1.1.1", "A1", "N", "N"),
        ("c", "1.1.1.1", "A2", "N", None),
        ("d", "2.2.2.2", "A2", "Y", "N"),
        ("e", "3.3.3.3", "A1", "Y", None),
    ]
    for i, (rid, ip, seg, p1, p2) in enumerate(spec):
        rows.append(
            {"id": rid, "submitted": 1000.0 + 60 * i, "ip": ip, "S": seg, "Q[P1]": p1, "Q[P2]": p2}
        )
    return rows


def test_scenarios_hand_checked() -> None:
    ds = from_table(_table(), segment="S")
    res = audit_dataset(ds, electorate={"A1": 2, "A2": 5})
    scen = {s["scenario"]: s for s in res.scenarios}
    raw = scen["brut"]["questions"][0]
    # Rows: Y,Y,N,N,N,Y,N,Y -> Y=4, N=4.
    assert raw["counts"] == {"Y": 4, "N": 4}
    seg = {s["segment"]: s["counts"] for s in raw["segments"]}
    assert seg["A1"] == {"Y": 3, "N": 2} and seg["A2"] == {"Y": 1, "N": 2}
    rows = {r["row"]: r["counts"] for r in raw["rows"]}
    assert rows["P1"] == {"Y": 3, "N": 2} and rows["P2"] == {"Y": 1, "N": 2}
    ip = scen["une_par_ip"]
    assert ip["forms"] == 3 and ip["details"]["dropped"] == 2
    assert ip["details"]["dropped_small_shared_addresses"] == 2
    # Kept: a (Y, Y), d (Y, N), e (Y).
    assert ip["questions"][0]["counts"] == {"Y": 4, "N": 1}
    part = res.robustness["participation"]
    a1 = next(s for s in part["segments"] if s["segment"] == "A1")
    assert a1["forms"] == 3 and a1["impossible"]


def _brute_range(counts: np.ndarray, a: int, k: int) -> tuple[float, float]:
    from itertools import combinations

    shares = []
    n = len(counts)
    for size in range(k + 1):
        for drop in combinations(range(n), size):
            keep = np.delete(counts, list(drop), axis=0)
            tot = keep.sum()
            if tot:
                shares.append(keep[:, a].sum() / tot)
    return min(shares), max(shares)


@pytest.mark.parametrize("seed", range(12))
def test_share_range_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    counts = rng.integers(0, 3, (n, 2))
    counts[0] = [1, 1]  # at least one answer of each kind
    k = int(rng.integers(0, 4))
    lo, hi = rb.share_range(counts, 0, k)
    blo, bhi = _brute_range(counts, 0, k)
    assert lo == pytest.approx(blo) and hi == pytest.approx(bhi)


def test_statement_when_removal_cannot_flip() -> None:
    from beffroi.integrity.detectors import Encoded
    from beffroi.integrity.load import Question

    q = Question("Q1.", "Q. 1", [("Q[1]", "1"), ("Q[2]", "2")])
    # Forms: (Y, N), (Y, Y), (N, Y) -> Y 4, N 2; removing (Y, Y) only ties.
    codes = np.array([[0, 1], [0, 0], [1, 0]], dtype=np.int16)
    res = rb.question_robustness(Encoded(q, ["Y", "N"], codes), np.ones(3, bool), [1])
    assert res is not None
    assert res["flip_by_removal"] is None and res["flip_by_addition"] == 2
    assert "aucun retrait" in res["statement"] and "66,7 %" in res["statement"]
    assert res["statement"].startswith("Q. 1 : ")
