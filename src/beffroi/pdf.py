"""Every PDF Beffroi writes goes through here: HTML laid out by WeasyPrint as a tagged
PDF (PDF/UA-1). Pure: no Django, usable by the integrity report and the CLI.

Tagged means a structure tree in reading order (headings, paragraphs, lists, tables whose
cells name their header cells, figures with their text alternative), the document's
language (``<html lang>``) and title (``<title>``, shown in the viewer's title bar) and
the PDF/UA identification in its XMP metadata: what a screen reader needs to read the
file as the web page is read (docs/decisions/accessibility.md). It costs a few percent
more layout time on prose, about a fifth on a large table (bench/pdf_tags.py).
"""

from __future__ import annotations

from pathlib import Path

VARIANT = "pdf/ua-1"


def write_pdf(html: str, *, base_url: str | None = None, target: Path | None = None) -> bytes:
    """The PDF of a complete HTML page; also written to ``target`` when given."""
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=base_url).write_pdf(pdf_variant=VARIANT)
    assert pdf is not None  # None only when WeasyPrint is handed a target itself
    if target is not None:
        target.write_bytes(pdf)
    return pdf
