"""CSV cells that start with a full-width or small form of a formula sign (＝ ＋ － ＠ ﹦)
are neutralised like the ASCII signs (review R16, informational note): some spreadsheet
programs fold those forms to ASCII before they decide whether a cell is a formula."""

from __future__ import annotations

import csv
import io

import pytest

from beffroi.watch import exports


@pytest.mark.parametrize(
    "text",
    [
        '＝HYPERLINK("https://evil.example";"clic")',
        "＋33 6 12 34 56 78",
        "－1+1",
        "＠SUM(A1)",
        "﹦1+1",  # small equals sign
        "﹢1",  # small plus sign
        '=HYPERLINK("x")',
    ],
)
def test_a_cell_starting_with_a_folded_formula_sign_is_prefixed(text):
    assert exports._formula_safe(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Route coupée", "≠ prévu", "'déjà cité", "Ｒoute", "", "＃3", 42, None]
)
def test_other_cells_are_left_alone(value):
    assert exports._formula_safe(value) == value


def test_both_csv_forms_carry_the_prefix():
    row = ["＝1+1"] + ["x"] * (len(exports.COLUMNS) - 1)
    for delimiter in (",", ";"):
        text = exports.to_csv([row], delimiter=delimiter).decode("utf-8-sig")
        parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        assert parsed[1][0] == "'＝1+1"
