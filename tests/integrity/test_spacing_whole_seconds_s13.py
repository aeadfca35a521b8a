"""The spacing test on whole-second timestamps (LimeSurvey's): honest Poisson arrivals,
rounded down to the second, are not "regular like a program", while scripts waiting
seconds between forms still are (review R7, finding 2)."""

from __future__ import annotations

import numpy as np
import pytest

from beffroi.integrity import detectors as d


def _spacing(times: np.ndarray) -> d.GroupCheck:
    return d._check_spacing(d.Burst(np.arange(len(times)), times[0], times[-1], 0.0, 0.0), times)


@pytest.mark.parametrize("rate", [0.2, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_whole_second_poisson_arrivals_are_not_called_regular(rate, seed) -> None:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(10):
        times = np.floor(np.cumsum(rng.exponential(1 / rate, 400)))
        hits += _spacing(times).significant
    assert hits == 0


@pytest.mark.parametrize(
    ("low", "high"), [(1.0, 30.0), (2.5, 3.5), (1.0, 5.0), (3.0, 3.0), (1.0, 1.0)]
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whole_second_scripts_are_still_found(low, high, seed) -> None:
    rng = np.random.default_rng(seed)
    times = np.floor(1_000_000.0 + np.cumsum(rng.uniform(low, high, 300)))
    check = _spacing(times)
    assert check.significant, check.evidence
    # The evidence speaks of the file's own gaps, not of the jitter.
    if low == high == 1.0:  # in words since session 14
        assert "une par seconde," in check.evidence
    elif low == high:
        assert f"une toutes les {low:.0f} s," in check.evidence


def test_the_jitter_is_seeded_and_keeps_sub_second_times_untouched() -> None:
    times = np.floor(np.cumsum(np.random.default_rng(0).exponential(1.0, 200)))
    assert _spacing(times).p == _spacing(times.copy()).p
    precise = times + 0.25
    assert d._unrounded(precise) is precise


def _rows(times: np.ndarray, rng: np.random.Generator, *, mobile: float) -> list[dict]:
    out = []
    for k, t in enumerate(times):
        who = int(rng.integers(0, 10**9))
        # A share on a mobile operator's dozen shared addresses (in 5 networks).
        shared = rng.random() < mobile
        where = {
            "ip": f"mob{who % 12}" if shared else f"ip{who}",
            "net": f"mobnet{who % 5}" if shared else f"net{who}",
        }
        out.append(_form(f"h{k}", float(t), where, rng))
        if rng.random() < 0.3:  # the second parent, same home, a few minutes later
            out.append(_form(f"h{k}b", float(np.floor(t + rng.uniform(20, 240))), where, rng))
    return out


def _form(rid: str, t: float, where: dict, rng: np.random.Generator) -> dict:
    return {
        "id": rid,
        "submitted": t,
        **where,
        "duration": float(rng.lognormal(4.8, 0.5)),
        "blouse[R1]": str(rng.choice(["oui", "oui", "non"])),
        "drapeau[R1]": str(rng.choice(["oui", "non"])),
    }


@pytest.mark.parametrize("families", [300, 600, 1200])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_audit_leaves_an_honest_whole_second_rush_unflagged(families, seed) -> None:
    from beffroi.integrity.audit import audit_dataset
    from beffroi.integrity.load import from_table

    rng = np.random.default_rng(seed)
    # A quiet week, then a mailing: families answer within minutes (peaks of 1 to 4 a
    # second), 4 in 10 from a mobile operator's shared addresses that the quiet week
    # never used; whole seconds, as LimeSurvey records them (review R7's rush600).
    week = np.floor(rng.uniform(0.0, 7 * 86400.0, 1000))
    rush = np.floor(3 * 86400.0 + 0.5 + rng.exponential(300.0, families))
    rows = _rows(week, rng, mobile=0.0) + _rows(rush, rng, mobile=0.4)
    for k, r in enumerate(rows):
        r["id"] = f"{r['id']}-{k}"
    result = audit_dataset(from_table(rows))
    assert int(result.flagged.sum()) == 0, result.summary["verdict"]
