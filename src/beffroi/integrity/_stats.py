"""The few statistical tests the detectors need, on scipy.special only.

`scipy.stats` costs most of a second to import, a noticeable share of a
command-line audit; these are the textbook formulas, checked against
`scipy.stats` in the tests.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def poisson_sf_ge(count: np.ndarray | float, lam: np.ndarray | float) -> np.ndarray:
    """P(X >= count) for X ~ Poisson(lam), count >= 1."""
    return np.asarray(special.pdtrc(np.asarray(count) - 1, lam))


def chi2_sf(x: float, df: float) -> float:
    return float(special.chdtrc(df, x))


def binom_cdf(k: float, n: float, p: float) -> float:
    return float(special.bdtr(k, n, p))


def chi2_contingency_p(table: np.ndarray) -> float:
    """p-value of Pearson's test of independence (Yates-corrected for 2×2, as scipy)."""
    obs = np.asarray(table, dtype=float)
    total = obs.sum()
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / total
    dof = (obs.shape[0] - 1) * (obs.shape[1] - 1)
    if dof == 0:
        return 1.0
    diff = obs - expected
    if dof == 1:
        diff = np.sign(diff) * np.maximum(np.abs(diff) - 0.5, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.nansum(np.where(expected > 0, diff**2 / expected, 0.0)))
    return chi2_sf(stat, dof)


def mannwhitney_less_p(x: np.ndarray, y: np.ndarray) -> float:
    """One-sided Mann–Whitney U p-value that x tends to be smaller than y (normal
    approximation with tie and continuity corrections, as scipy's asymptotic method)."""
    n1, n2 = len(x), len(y)
    both = np.concatenate([x, y])
    _, inv, counts = np.unique(both, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts
    ranks = (starts + (counts + 1) / 2.0)[inv.ravel()]
    u1 = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    tie = float((counts**3 - counts).sum()) / (n * (n - 1)) if n > 1 else 0.0
    sigma = np.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie))
    if sigma == 0:
        return 1.0
    z = (u1 - n1 * n2 / 2.0 + 0.5) / sigma
    return float(special.ndtr(z))
