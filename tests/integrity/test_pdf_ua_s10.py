"""Every PDF Beffroi writes is tagged (PDF/UA-1), with its language and title: the audit
report (both languages), the credential letters. Read back from the file itself
(tests/pdf_structure.py), not from what was asked of WeasyPrint. The main courante's
snapshot: tests/watch/test_courante_pdf_ua_s10.py."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from beffroi.consult.credentials import generate, write_pdf
from beffroi.integrity.audit import AuditResult, run_audit
from beffroi.integrity.report import FRENCH, French, pdf_from_html, render_html, render_pdf
from beffroi.integrity.simulate import simulate
from beffroi.pdf import write_pdf as tagged_pdf
from pdf_structure import Pdf, tags


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    folder = tmp_path_factory.mktemp("sim")
    sim = simulate(folder, attack="seedlike", forms=300, fakes=80, seed=3)
    return run_audit(sim.export, structure=folder / "survey.lss")


@pytest.fixture(scope="module")
def report_pdf(audit: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Pdf:
    out = tmp_path_factory.mktemp("pdf") / "rapport.pdf"
    render_pdf(audit, out)
    return Pdf.read(out.read_bytes())


class English(French):
    """The report's own words left as they are, under another language: enough to see
    that the PDF's language follows the page's (the catalogue is tested elsewhere)."""

    language = "en"


def _is_tagged(pdf: Pdf, lang: str, title: str) -> None:
    catalog = pdf.catalog
    assert catalog.get("MarkInfo") == {"Marked": True}
    assert catalog["Lang"] == lang
    assert catalog["ViewerPreferences"] == {"DisplayDocTitle": True}
    assert pdf.info["Title"] == title
    # PDF/UA identification and the title again, in the XMP metadata.
    assert 'pdfuaid:part="1"' in pdf.xmp
    assert f">{html.escape(title, quote=False)}</rdf:li>" in pdf.xmp
    assert tags(pdf)[0] == "Document"


def test_the_audit_report_pdf_is_tagged_with_its_language_and_title(
    audit: AuditResult, report_pdf: Pdf
) -> None:
    _is_tagged(report_pdf, "fr", f"Audit d'enquête — {Path(audit.source).name}")
    found = tags(report_pdf)
    assert found.count("H1") == 1 and found.count("H2") >= 7
    assert found.count("Table") >= 4 and "TH" in found and "L" in found


def test_each_chart_of_the_pdf_report_is_a_figure_with_its_text_alternative(
    audit: AuditResult, report_pdf: Pdf
) -> None:
    page = render_html(audit)
    said = [html.unescape(m) for m in re.findall(r"<svg role='img' aria-label='([^']*)'", page)]
    figures = [e for e in report_pdf.structure() if e["S"] == "Figure"]
    assert len(said) == 4
    # French typography puts its own spaces in the page; the PDF carries the page's text.
    assert [e.get("Alt") for e in figures] == said
    # The web page itself keeps one name per chart, no <title> read twice.
    assert "<title>" not in page.split("</title>", 1)[1]


def test_every_data_cell_of_the_pdf_report_names_its_header_cells(report_pdf: Pdf) -> None:
    cells = [e for e in report_pdf.structure() if e["S"] == "TD"]
    headers = {e["ID"] for e in report_pdf.structure() if e["S"] == "TH"}
    assert cells
    for cell in cells:
        named = cell["A"]["Headers"]
        assert named and set(named) <= headers, cell


def test_the_english_report_pdf_says_it_is_in_english(audit: AuditResult, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    pdf_from_html(render_html(audit, English()), out)
    assert Pdf.read(out.read_bytes()).catalog["Lang"] == "en"


def test_credential_letters_are_tagged_with_the_qr_code_named(tmp_path: Path) -> None:
    private, _public = generate(3, None, "ecole-2026", "https://vote.example.org")
    out = tmp_path / "lettres.pdf"
    write_pdf(private, out, "Consultation « cantine »")
    pdf = Pdf.read(out.read_bytes())
    _is_tagged(pdf, "fr", "Consultation « cantine »")
    found = tags(pdf)
    # One section per letter, each with its heading and its QR code named.
    assert found.count("Sect") == 3 and found.count("H1") == 3
    figures = [e for e in pdf.structure() if e["S"] == "Figure"]
    assert [e.get("Alt") for e in figures] == ["QR code du lien de réponse"] * 3


def test_a_page_without_language_or_title_is_not_passed_off_as_one_with() -> None:
    """What the reader checks must fail on an untagged file, else the tests above prove
    nothing: WeasyPrint without the variant writes no structure tree, no MarkInfo."""
    from weasyprint import HTML

    page = "<!doctype html><html lang=fr><title>T</title><h1>Titre</h1></html>"
    plain = Pdf.read(HTML(string=page).write_pdf())
    assert "StructTreeRoot" not in plain.catalog and "MarkInfo" not in plain.catalog
    with pytest.raises(AssertionError):
        _is_tagged(plain, "fr", "T")
    _is_tagged(Pdf.read(tagged_pdf(page)), "fr", "T")


def _shares(audit: AuditResult) -> Any:
    assert audit.timeline is not None
    return audit.timeline["shares_by_day"]


def test_the_answer_shares_chart_is_followed_by_its_figures_day_by_day(
    audit: AuditResult,
) -> None:
    page = render_html(audit, FRENCH)
    series = _shares(audit)
    days = len(series[0]["brut"])
    assert days >= 2 and len(series) >= 2
    chart = page.index("Graphique, une question par ligne")
    table = page[page.index("<table", chart) : page.index("</table>", chart)]
    # Nothing between the chart and its table but the chart's end.
    assert "<h2>" not in page[chart : page.index("<table", chart)]
    assert table.count("<th colspan=2 scope=colgroup>") == len(series)
    rows = re.findall(r"<tr><th scope=row>(\d{4}-\d\d-\d\d)</th>(.*?)</tr>", table)
    assert len(rows) == days
    # Each figure is the chart's: the share as a French percentage, and its count.
    first = series[0]
    for i, (_day, cells) in enumerate(rows):
        values = re.findall(r"<td class=n>(.*?)</td>", cells)
        assert len(values) == 2 * len(series)
        for value, key in zip(values[:2], ("brut", "beffroi"), strict=True):
            share = first[key][i]
            expected = "—" if share is None else f"{100 * share:.1f}".replace(".", ",")
            assert value.startswith(expected), (i, key, value)
            assert value.endswith(f"({first[key + '_n'][i]})")
    label = re.search(r"aria-label='(Graphique, une question par ligne[^']*)'", page)
    assert label and "tableau qui suit" in html.unescape(label[1])
