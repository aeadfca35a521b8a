"""A script with a fixed delay: its spacing evidence reads as evidence, not as a bug
(« une toutes les 2 s à 2 s (médiane 2 s) … indice de régularité 1000000,0 »), in
French as the core writes it and in English as the pages say it."""

import numpy as np

from beffroi.consult.views_i18n import evidence
from beffroi.integrity.detectors import Burst, _check_spacing
from english_catalogue import english


def _spacing(times):
    return _check_spacing(Burst(np.arange(len(times)), times[0], times[-1], 0.01, 1e-9), times)


def test_a_fixed_delay_reads_as_one_gap_and_gaps_all_equal():
    times = 1_732_430_000.0 + 1.7 * np.arange(60, dtype=float)
    text = _spacing(times).evidence
    assert text.startswith("arrivées régulières : une toutes les 2 s, alors que des personnes")
    assert text.endswith(
        "(écarts presque tous égaux : indice de régularité de plus de 1000 au lieu de 1)"
    )
    assert "à 2 s" not in text and "médiane" not in text and "1000000" not in text
    with english():
        said = evidence(text)
    assert said != text and "é" not in said
    assert "1,000" in said and "2 s" in said


def test_spread_gaps_keep_their_range_median_and_index():
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(1, 30, 80))
    text = _spacing(times).evidence
    assert " à " in text and "(médiane " in text
    assert "indice de régularité " in text and "plus de 1000" not in text
    with english():
        said = evidence(text)
    assert said != text and "é" not in said and "median" in said


def test_gaps_nearly_equal_but_over_a_range_say_both():
    # A long fixed delay with a little jitter: the index is over 1000, but the 5th and
    # 95th percentiles of the gaps print differently.
    rng = np.random.default_rng(4)
    times = np.cumsum(60.0 + rng.uniform(0, 1.5, 80))
    text = _spacing(times).evidence
    with english():
        said = evidence(text)
    assert said != text and "é" not in said, (text, said)
