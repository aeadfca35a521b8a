"""The English audit report rounds its figures as the French one does (walkthrough,
session 7): Django's number_format cut a float's digits, so the English table said
225.5% where the French said 225,6 % and the English sentence 226%."""

from __future__ import annotations

from decimal import Decimal

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from beffroi.consult.views_i18n import ReportWords
from beffroi.integrity.report import FRENCH


def test_a_rate_is_rounded_not_cut_in_english() -> None:
    with translation.override("en"):
        words = ReportWords()
        assert words.number(100 * 379 / 168, 1) == "225.6"
        assert words.number(1.96, 1) == "2.0"
        assert words.number(99.96, 1) == "100.0"


@given(
    value=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    decimals=st.integers(min_value=0, max_value=3),
)
def test_english_and_french_figures_are_the_same_number(value: float, decimals: int) -> None:
    with translation.override("en"):
        english = ReportWords().number(value, decimals)
    french = FRENCH.number(value, decimals).replace(",", ".")
    # Same digits; Django writes a rounded -0 as "0", which is the same figure.
    assert Decimal(english.replace(",", "")) == Decimal(french)
    assert len(english.replace(",", "").lstrip("-")) == len(french.lstrip("-"))
