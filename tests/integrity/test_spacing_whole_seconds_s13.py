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
    if low == high:
        assert f"une toutes les {low:.0f} s," in check.evidence


def test_the_jitter_is_seeded_and_keeps_sub_second_times_untouched() -> None:
    times = np.floor(np.cumsum(np.random.default_rng(0).exponential(1.0, 200)))
    assert _spacing(times).p == _spacing(times.copy()).p
    precise = times + 0.25
    assert d._unrounded(precise) is precise
