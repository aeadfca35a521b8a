"""The main courante's PDF snapshot is a tagged PDF (PDF/UA-1): its language, its title,
a table whose every cell names its column, on every page (the header row repeats)."""

from __future__ import annotations

from beffroi.watch import exports
from pdf_structure import Pdf, tags


def _row(n: int) -> list[object]:
    return [
        n,
        "2026-11-24 05:30:00",
        "Téléphone",
        "Routes",
        "Luçon",
        "85128",
        f"Route D746 coupée au niveau du pont, ligne {n} " + "eau " * 20,
        "https://example.org/p/1",
        "Vérifiée",
        "Ouvert",
        "2026-11-24 05:41:00",
        "marie.dupont",
        "oui",
    ]


def test_the_main_courante_pdf_is_tagged_and_each_cell_names_its_column() -> None:
    title = "Crue du Lay — main courante — 24/11/2026 06:30"
    # Enough lines for several pages: the cells of the last page need their headers too.
    pdf = Pdf.read(exports.build("pdf", [_row(n) for n in range(1, 61)], title))
    catalog = pdf.catalog
    assert catalog.get("MarkInfo") == {"Marked": True} and catalog["Lang"] == "fr"
    assert pdf.info["Title"] == title and 'pdfuaid:part="1"' in pdf.xmp
    pages = sum(1 for o in pdf.objects.values() if isinstance(o, dict) and o.get("Type") == "Page")
    assert pages >= 2
    found = tags(pdf)
    assert found.count("H1") == 1 and found.count("Table") == pages
    headers = {e["ID"]: e for e in pdf.structure() if e["S"] == "TH"}
    assert len(headers) == len(exports.COLUMNS) * pages
    cells = [e for e in pdf.structure() if e["S"] == "TD"]
    assert len(cells) == 60 * len(exports.COLUMNS)
    for cell in cells:
        assert len(cell["A"]["Headers"]) == 1 and cell["A"]["Headers"][0] in headers
