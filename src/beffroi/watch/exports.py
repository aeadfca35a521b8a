"""Exports of the main courante: CSV, ODS, XLSX and a PDF snapshot.

The rows come from ``visible_entries`` (the valve): a partner's export holds
exactly what a partner's page shows.  Cells that a spreadsheet would read as
a formula (=, +, -, @ at the start) are prefixed with an apostrophe in CSV,
and written as plain strings in ODS/XLSX, so a hostile post cannot run a
formula on the crisis cell's computer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from beffroi.watch.models import LogEntry

COLUMNS = (
    "N°",
    "Heure",
    "Canal",
    "Catégorie",
    "Commune",
    "Code INSEE",
    "Information",
    "Lien",
    "Vérification",
    "Statut",
    "Transmis aux partenaires",
)
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def rows(entries: Iterable[LogEntry]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for e in entries:
        out.append(
            [
                e.number,
                timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                e.get_channel_display(),
                e.get_category_display(),
                e.commune_name,
                e.commune_code,
                e.text,
                e.source_url,
                e.get_verification_display() if e.verification else "",
                e.get_status_display(),
                "oui" if e.for_partners else "non",
            ]
        )
    return out


def _formula_safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(data: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for row in data:
        writer.writerow([_formula_safe(v) for v in row])
    # The BOM makes spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buf.getvalue()).encode()


def to_xlsx(data: list[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="Main courante")
    ws.append([title])
    ws.append(list(COLUMNS))
    for row in data:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever it starts with
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_ods(data: list[list[Any]], title: str) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Main courante")

    def add(values: Iterable[Any]) -> None:
        tr = TableRow()
        for value in values:
            if isinstance(value, int):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)

    add([title])
    add(COLUMNS)
    for row in data:
        add(row)
    doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def to_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf


def filename(activation_name: str, fmt: str, now: datetime | None = None) -> str:
    from django.utils.text import slugify

    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M")
    return f"main-courante-{slugify(activation_name) or 'activation'}-{stamp}.{fmt}"
