"""The special-function statistics agree with scipy.stats."""

import numpy as np
import pytest
from scipy import stats

from beffroi.integrity import _stats


def test_poisson_binom_chi2() -> None:
    k = np.array([1, 3, 8, 40])
    lam = np.array([0.5, 2.0, 1.3, 10.0])
    assert _stats.poisson_sf_ge(k, lam) == pytest.approx(stats.poisson.sf(k - 1, lam))
    assert _stats.binom_cdf(12, 40, 0.5) == pytest.approx(stats.binom.cdf(12, 40, 0.5))
    assert _stats.chi2_sf(5.3, 1) == pytest.approx(stats.chi2.sf(5.3, 1))


@pytest.mark.parametrize(
    "table", [[[10, 20], [30, 5]], [[3, 4, 5], [9, 1, 0]], [[100, 80, 7], [60, 90, 12]]]
)
def test_contingency(table: list[list[int]]) -> None:
    t = np.array(table)
    assert _stats.chi2_contingency_p(t) == pytest.approx(stats.chi2_contingency(t)[1])


@pytest.mark.parametrize("seed", range(4))
def test_mannwhitney(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(0, 1, 30), 1)
    y = np.round(rng.normal(0.4, 1, 200), 1)
    ref = stats.mannwhitneyu(x, y, alternative="less", method="asymptotic").pvalue
    assert _stats.mannwhitney_less_p(x, y) == pytest.approx(ref, rel=1e-6)
