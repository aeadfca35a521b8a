"""Fuzzing the main courante exports and the activation form's keyword parser."""

from __future__ import annotations

import csv
import io
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch import exports

cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(cell, min_size=len(exports.COLUMNS), max_size=len(exports.COLUMNS)), max_size=8
    )
)
def test_csv_round_trips_and_never_starts_a_formula(data):
    parsed = list(csv.reader(io.StringIO(exports.to_csv(data).decode("utf-8-sig"), newline="")))
    assert parsed[0] == list(exports.COLUMNS)
    assert len(parsed) == len(data) + 1
    for row, original in zip(parsed[1:], data, strict=True):
        for got, value in zip(row, original, strict=True):
            if unicodedata.normalize("NFKC", value[:1])[:1] in ("=", "+", "-", "@", "\t", "\r"):
                assert got == "'" + value
            else:
                assert got == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_keyword_parser_accepts_or_explains(text):
    from beffroi.watch.forms import ActivationForm

    form = ActivationForm({"name": "x", "event_type": "inondation", "keywords": text})
    if form.is_valid():
        keywords = form.cleaned_data["keywords"]
        assert all(2 <= len(lang) <= 3 and lang.isascii() for lang in keywords)
        assert all(w and w == w.strip() for words in keywords.values() for w in words)
    else:
        # Either the parser names the line, or Django refuses the text itself (NUL).
        message = form.errors["keywords"][0]
        assert message.startswith("Ligne") or "caractère nul" in message
