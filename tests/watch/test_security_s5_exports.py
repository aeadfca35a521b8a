"""Security of the main courante exports (session 5 audit)."""

from __future__ import annotations

import io

import openpyxl

from beffroi.watch import exports


def test_xlsx_title_is_never_a_formula():
    # The title starts with the activation's name, typed by a coordinator and sent to
    # partners of another organisation: a leading "=" must stay text.
    title = '=HYPERLINK("https://example.org/x","ouvrir") — main courante'
    data = [[1, "2026-01-01 10:00:00", "Téléphone", "Routes", "", "", "=1+1", "", "", "", "oui"]]
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(data, title)))
    sheet = book.active
    assert sheet["A1"].value == title
    assert sheet["A1"].data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
