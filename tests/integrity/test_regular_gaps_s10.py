"""A script with a fixed delay sends answers whose gaps are equal but for rounding: the
spacing test must call that the most regular of arrivals, not lose it to a NaN."""

import warnings

import numpy as np

from beffroi.integrity.detectors import Burst, _check_spacing, _gamma_shape


def _clock(n=60, delay=1.7, start=1_732_430_000.0):
    # Epoch seconds as a float: adding the same delay leaves gaps that differ in their
    # last bits, the case where Newton's step divided by zero.
    return start + delay * np.arange(n, dtype=float)


def test_gaps_equal_but_for_rounding_give_the_largest_shape_without_warnings():
    gaps = np.diff(_clock())
    assert np.ptp(gaps) > 0  # rounding did make them differ
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shape = _gamma_shape(gaps)
    assert shape == 1e6


def test_a_fixed_delay_script_is_flagged_as_regular():
    times = _clock()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = _check_spacing(Burst(np.arange(len(times)), times[0], times[-1], 0.01, 1e-9), times)
    assert check.significant
    assert "arrivées régulières" in check.evidence


def test_independent_arrivals_keep_a_shape_near_one():
    rng = np.random.default_rng(5)
    gaps = rng.exponential(30.0, 2000)
    assert 0.9 < _gamma_shape(gaps) < 1.1


def test_the_shape_is_capped_and_finite_for_any_positive_gaps():
    rng = np.random.default_rng(6)
    for spread in (0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1.0):
        gaps = 5.0 + spread * rng.random(40)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            shape = _gamma_shape(gaps)
        assert np.isfinite(shape) and 0 < shape <= 1e6
