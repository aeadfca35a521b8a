"""Exports of the main courante: CSV, CSV for Excel, ODS, XLSX and a PDF snapshot.

``csv`` is RFC 4180 (comma, CRLF, UTF-8 with a BOM), for scripts and most
spreadsheets; ``excel.csv`` is the same with semicolons, which is what Excel
expects where the decimal separator is a comma (France): it opens the comma one
in a single column (docs/decisions/watch-export-csv-excel.md,
docs/formats/courante-export.md).

The rows come from ``visible_entries`` (the valve): a partner's export holds
exactly what a partner's page shows.  Cells that a spreadsheet would read as
a formula (=, +, -, @ at the start) are prefixed with an apostrophe in CSV,
and written as plain strings in ODS/XLSX, so a hostile post cannot run a
formula on the crisis cell's computer.

Small exports are built inside the request; those estimated over
``INLINE_BUDGET`` seconds run as a background task (``watch.tasks``), the page
showing their progress: the costs per line below were measured on a
5,000-line main courante (docs/decisions/watch-exports.md).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from beffroi.watch.models import Activation, Decision, LogCategory, LogChannel, LogEntry, LogStatus

# fraction done in [0, 1], and what is being done: one of the stages below.
Progress = Callable[[float, str], None]

# The worker runs in no reader's language, so a stage travels as its French msgid and
# the status page translates it for whoever reads it (``views._job_page``).
STAGE_PDF_LAYOUT = gettext_noop("mise en page du PDF")
STAGE_WRITING = gettext_noop("écriture du classeur")
STAGE_COMPRESSING = gettext_noop("compression du fichier")
STAGES = (STAGE_PDF_LAYOUT, STAGE_WRITING, STAGE_COMPRESSING)

# The team's files. « Saisie » is when the line was typed (« Heure » is when it
# happened: a call logged late), « Saisie par » who typed it. Both sit before the last
# column so the ones before keep their places; scripts should read names anyway
# (docs/formats/courante-export.md).
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
    "Saisie",
    "Saisie par",
    "Transmis aux partenaires",
)
# The partners' files: the typing time (a préfecture must see that a 09:00 line was
# typed at 15:00) but never a volunteer's name, which stays inside the team.
AUTHOR_COLUMN = "Saisie par"
PARTNER_COLUMNS = tuple(c for c in COLUMNS if c != AUTHOR_COLUMN)
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "excel.csv": "text/csv; charset=utf-8",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


# CPU seconds per line and per file, measured with bench/watch_exports.py.  The
# budget is half the one-second rule of DESIGN rule 9, in CPU time: on two busy
# cores a request takes about twice its CPU time.  A PDF never fits (WeasyPrint
# alone needs 0.25 s warm, 0.75 s cold), so it always runs in the background; its
# per-line cost includes the tagging (PDF/UA), about a quarter more (bench/pdf_tags.py).
# The « Saisie » and « Saisie par » columns made XLSX lines about 17 % dearer and ODS
# lines about 45 % (same machine, before and after: docs/decisions/watch-exports.md).
COST_PER_ROW = {"csv": 2e-5, "excel.csv": 2e-5, "xlsx": 3.5e-4, "ods": 1.3e-3, "pdf": 3.2e-2}
COST_BASE = {"csv": 0.02, "excel.csv": 0.02, "xlsx": 0.1, "ods": 0.1, "pdf": 0.6}
INLINE_BUDGET = 0.5


def estimate_seconds(fmt: str, n_rows: int) -> float:
    return COST_BASE[fmt] + COST_PER_ROW[fmt] * n_rows


def runs_inline(fmt: str, n_rows: int) -> bool:
    return estimate_seconds(fmt, n_rows) <= INLINE_BUDGET


# The name each member's row carries of the person who typed the line (``TYPED_BY``).
TYPED_BY = "typed_by"


def visible_entries(activation: Activation, *, partner: bool) -> QuerySet[LogEntry]:
    """The valve: partners (and partner links) get only what was sent to them, and never
    who typed a line. Only the team's rows carry that name (``TYPED_BY``), so the page
    and every export, inline or from the worker, show it exactly where these rows go."""
    entries = LogEntry.objects.filter(activation=activation)
    if partner:
        return entries.filter(for_partners=True)
    username = get_user_model().USERNAME_FIELD
    return entries.annotate(**{TYPED_BY: F(f"created_by__{username}")})


def carries_author(entries: Iterable[LogEntry]) -> bool:
    """Whether these rows come from the team's view (``visible_entries``): known even
    for an empty selection, whose file still needs its header. Lines built in memory (the
    benchmarks) are the team's; they carry no name (the name only ever comes from the
    team's query, so no other path can leak it)."""
    query = getattr(entries, "query", None)
    return query is None or TYPED_BY in query.annotations


def filtered(entries: QuerySet[LogEntry], params: Mapping[str, Any]) -> QuerySet[LogEntry]:
    """The main courante's search and filters, as the page and its exports apply them."""
    if any("\x00" in str(params.get(name, "")) for name in FILTER_PARAMS):
        # PostgreSQL refuses to compare text with a NUL (a 500 for anyone typing %00 in a
        # partner link's address); no line can hold one there, so none matches.
        return entries.none()
    if q := str(params.get("q", "")).strip():
        entries = entries.filter(Q(text__icontains=q) | Q(commune_name__icontains=q))
    if category := str(params.get("categorie", "")).strip():
        entries = entries.filter(category=category)
    if status := str(params.get("statut", "")).strip():
        entries = entries.filter(status=status)
    if commune := str(params.get("commune", "")).strip():
        entries = entries.filter(Q(commune_code=commune) | Q(commune_name__iexact=commune))
    return entries.order_by("-at", "-number")


FILTER_PARAMS = ("q", "categorie", "statut", "commune")


class Rows(list[list[Any]]):
    """An export's rows and the column names they go under (``COLUMNS`` for the team,
    ``PARTNER_COLUMNS`` for partners)."""

    def __init__(self, data: Iterable[list[Any]] = (), columns: tuple[str, ...] = COLUMNS):
        super().__init__(data)
        self.columns = columns


def rows(entries: Iterable[LogEntry]) -> Rows:
    """The file's rows, with their columns: the team's rows (``visible_entries``) have
    the « Saisie par » column, the partners' have not."""
    author = carries_author(entries)
    # Labels looked up once: get_FOO_display() rebuilds its choices dict on every
    # call, which made this loop cost more than writing the spreadsheet. In French
    # whatever the reader's language: the files are one fixed format (the English page
    # gave English labels under the French column names, a background job French ones).
    with translation.override("fr"):
        channels = {k: str(v) for k, v in LogChannel.choices}
        categories = {k: str(v) for k, v in LogCategory.choices}
        verifications = {k: str(v) for k, v in Decision.choices}
        statuses = {k: str(v) for k, v in LogStatus.choices}
    tz = timezone.get_current_timezone()
    out = Rows(columns=COLUMNS if author else PARTNER_COLUMNS)
    for e in entries:
        typed = [e.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")]
        if author:
            # Empty for an account since deleted (the line keeps no other trace of it).
            typed.append(getattr(e, TYPED_BY, None) or "")
        out.append(
            [
                e.number,
                e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                channels.get(e.channel, e.channel),
                categories.get(e.category, e.category),
                e.commune_name,
                e.commune_code,
                e.text,
                e.source_url,
                verifications.get(e.verification, e.verification),
                statuses.get(e.status, e.status),
                *typed,
                "oui" if e.for_partners else "non",
            ]
        )
    return out


def _columns(data: list[list[Any]]) -> tuple[str, ...]:
    # Rows built by hand (tests, benchmarks) are the team's.
    return getattr(data, "columns", COLUMNS)


def _quiet(_fraction: float, _message: str) -> None:
    pass


def build(
    fmt: str,
    data: list[list[Any]],
    title: str,
    *,
    base_url: str = "",
    progress: Progress = _quiet,
) -> bytes:
    """One export file from the rows; ``progress`` hears how far it got."""
    if fmt == "csv":
        return to_csv(data)
    if fmt == "excel.csv":
        return to_csv(data, delimiter=";")
    if fmt == "xlsx":
        return to_xlsx(data, title, progress=progress)
    if fmt == "ods":
        return to_ods(data, title, progress=progress)
    if fmt == "pdf":
        from django.template.loader import render_to_string

        html = render_to_string(
            "watch/courante_pdf.html", {"title": title, "rows": data, "columns": _columns(data)}
        )
        # WeasyPrint reports nothing while it lays pages out (most of the time).
        progress(0.1, STAGE_PDF_LAYOUT)
        return to_pdf(html, base_url)
    raise ValueError(f"unknown export format {fmt!r}")


def _formula_safe(value: Any) -> Any:
    # The first character is compared in its NFKC form: some spreadsheet programs fold
    # the full-width and small forms (＝ ＋ － ＠, ﹦) to the ASCII sign before they parse.
    first = unicodedata.normalize("NFKC", value[:1])[:1] if isinstance(value, str) else ""
    if first in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(data: list[list[Any]], *, delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(_columns(data))
    for row in data:
        writer.writerow([_formula_safe(v) for v in row])
    # The BOM makes spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buf.getvalue()).encode()


def _ticker(n: int, progress: Progress, message: str) -> Callable[[int], None]:
    step = max(1, n // 50)

    def tick(i: int) -> None:
        if i % step == 0:
            progress(i / max(n, 1), message)

    return tick


def to_xlsx(data: list[list[Any]], title: str, progress: Progress = _quiet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="Main courante")

    def cells(values: Iterable[Any]) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever it starts with
            out.append(cell)
        return out

    # The title too: it starts with the activation's name.
    ws.append(cells([title]))
    ws.append(cells(_columns(data)))
    tick = _ticker(len(data), progress, STAGE_WRITING)
    for i, row in enumerate(data):
        tick(i)
        ws.append(cells(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_ods(data: list[list[Any]], title: str, progress: Progress = _quiet) -> bytes:
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
    add(_columns(data))
    tick = _ticker(len(data), progress, STAGE_WRITING)
    for i, row in enumerate(data):
        tick(i)
        add(row)
    progress(0.95, STAGE_COMPRESSING)
    doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def to_pdf(html: str, base_url: str) -> bytes:
    from beffroi.pdf import write_pdf

    # Tagged, as every PDF Beffroi writes: a screen reader reads the table cell by cell
    # with its column's name, in French (the template's lang), under the snapshot's title.
    return write_pdf(html, base_url=base_url)


def filename(activation_name: str, fmt: str, now: datetime | None = None) -> str:
    from django.utils.text import slugify

    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M")
    return f"main-courante-{slugify(activation_name) or 'activation'}-{stamp}.{fmt}"
