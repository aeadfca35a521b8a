"""Import survey exports into the normalised table the detectors read.

Normalised columns (all optional except ``id``; a missing one disables the
checks that need it and is listed in ``Dataset.checks_skipped``; a file export
must also have the submission date and an answer column, or it is refused: see
docs/decisions/audit-minimal-export.md):

========== ========= ======================================================
column     type      meaning
========== ========= ======================================================
id         string    the response id exactly as in the input
submitted  float64   submission time, seconds since the epoch (null: incomplete)
started    float64   start time, seconds since the epoch
duration   float64   completion time in seconds
ip         any       pseudonym of the network address (the loader numbers them)
net        any       pseudonym of its /24 (IPv4) or /48 (IPv6) prefix
ua         any       pseudonym of the user agent
lang       string    start language
ref        string    referrer URL
token      any       pseudonym of the access token
========== ========= ======================================================

Every other column is an answer column, named ``Q`` or ``Q[ROW]``
(LimeSurvey's question-code headings); a value is the answer code, null for no
answer.  ``Dataset.questions`` groups those columns into questions, and marks
questions whose rows are *repeated rows* (the same question answered by
parent 1 and parent 2 of one form).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import socket
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from beffroi.integrity.errors import InputError
from beffroi.integrity.lss import COMMENT_ROWS, OTHER_ROWS
from beffroi.integrity.toml_depth import max_nesting

if TYPE_CHECKING:
    from beffroi.integrity.lss import HeadingIndex

META = ("id", "submitted", "started", "duration", "ip", "net", "ua", "lang", "ref", "token")

# LimeSurvey meta columns -> normalised role.
_LS_META = {
    "id": "id",
    "submitdate": "submitted",
    "startdate": "started",
    "datestamp": "datestamp",
    "lastpage": "lastpage",
    "startlanguage": "lang",
    "seed": "seed",
    "token": "token",
    "ipaddr": "ip",
    "refurl": "ref",
    "interviewtime": "duration",
}
# Full-text headings of the same columns (LimeSurvey in French and English).
_LS_FULL = {
    "response id": "id",
    "id de la réponse": "id",
    "id réponse": "id",
    "date submitted": "submitdate",
    "date de soumission": "submitdate",
    "date d'envoi": "submitdate",
    "date de validation": "submitdate",
    "last page": "lastpage",
    "dernière page": "lastpage",
    "start language": "startlanguage",
    "langue de départ": "startlanguage",
    "seed": "seed",
    "graine": "seed",
    "token": "token",
    "access code": "token",
    "code d'accès": "token",
    "jeton": "token",
    "date started": "startdate",
    "date de début": "startdate",
    "date de départ": "startdate",
    "date last action": "datestamp",
    "date de la dernière action": "datestamp",
    "ip address": "ipaddr",
    "adresse ip": "ipaddr",
    "referrer url": "refurl",
    "url de provenance": "refurl",
    "url de référence": "refurl",
    "url référente": "refurl",
    "total time": "interviewtime",
    "durée totale": "interviewtime",
    "temps total": "interviewtime",
}
# LimeSurvey's "other" choice is an answer of its own (its text, in the ``[other]``
# column, is free text and never counted): it is not a blank.
_NO_ANSWER = {"", "n/a", "no answer", "sans réponse", "pas de réponse"}
OTHER_CODE = "-oth-"
OTHER_LABEL = "Autre"
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)
_CODE_HEADING = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(?:\[[^\]]+\]){0,2})(?:\.|:)\s")
# A dual-scale column under LimeSurvey's question-code headings: « Q[SQ001][1] » and
# « Q[SQ001][2] » since 2.0 (scales counted from 1), « Q [SQ001][0] » and « …[1] » in
# 1.92 (a space before the row, scales counted from 0).
_DUAL_CODE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)( ?)\[([A-Za-z0-9_]+)\]\[([0-2])\]$")


def _dual_code(code: str) -> str:
    """A dual-scale code heading as the loader names its column (« Q[SQ001#0] »);
    any other code as it is."""
    m = _DUAL_CODE.match(code)
    if not m:
        return code
    scale = int(m.group(4)) - (0 if m.group(2) else 1)
    return f"{m.group(1)}[{m.group(3)}#{scale}]" if scale in (0, 1) else code


_TIMING = re.compile(r"(?:Time|groupTime\d+)$")
# The same timings under full-text headings: « Question time: Q1 », « Group time: G1 »,
# and their French « Temps pour la question : … », « Temps du groupe : … ».
_TIMING_TEXT = re.compile(
    r"^(?:(?:question|group)\s+time|time\s+for|temps\s+(?:pour|de\s+la|du)(?:\s+(?:la|le))?"
    r"\s+(?:question|groupe))\b",
    re.IGNORECASE,
)


@dataclass
class Question:
    code: str
    label: str
    # (column in the table, row label); a single-choice question has one row, label "".
    rows: list[tuple[str, str]]
    options: dict[str, str] = field(default_factory=dict)
    repeated: bool = False
    # An item of an array or multiple-choice question ``item_of``, tallied on its own.
    item_of: str | None = None
    # A multiple-choice item: « Y » ticked, « N » left unticked by a response that
    # ticked another item of its question.
    multiple: bool = False


@dataclass
class Dataset:
    """A normalised survey table plus what is known about its structure."""

    table: pa.Table
    questions: list[Question]
    segment: str | None = None
    segment_labels: dict[str, str] = field(default_factory=dict)
    checks_skipped: list[dict[str, str]] = field(default_factory=list)
    source: str = ""
    n_incomplete: int = 0
    text_columns: list[str] = field(default_factory=list)

    def skip(self, check: str, reason: str) -> None:
        self.checks_skipped.append({"check": check, "reason": reason})


def pseudonymise(values: pa.Array) -> pa.Array:
    """Replace each distinct value by a number (its rank of first appearance).

    Detectors only need to know which responses share an address, a prefix or a
    user agent, never the value itself; numbering the distinct values inside one
    audit keeps that and nothing else (the numbers mean nothing outside the audit,
    so they cannot be linked to another file or looked up).
    """
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    empty = pc.equal(enc.dictionary, "")
    idx = pc.cast(enc.indices, pa.int32())
    if pc.any(empty).as_py():
        blank = int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
        idx = pc.if_else(pc.equal(idx, blank), pa.scalar(None, pa.int32()), idx)
    return idx


def _v6_prefix(v: str) -> str | None:
    try:
        raw = socket.inet_pton(socket.AF_INET6, v.split("%", 1)[0])
    except OSError:
        return None
    groups = [f"{int.from_bytes(raw[i : i + 2], 'big'):x}" for i in (0, 2, 4)]
    return ":".join(groups) + "::/48"


def _prefix_values(d: pa.Array) -> pa.Array:
    """For distinct addresses: the /24 of IPv4, the /48 of IPv6 (None when unparseable)."""
    is_v6 = pc.match_substring(d, ":")
    v4 = pc.and_(
        pc.invert(is_v6),
        pc.match_substring_regex(d, r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"),
    )
    out = pc.if_else(
        v4, pc.replace_substring_regex(d, r"\.\d{1,3}$", ".0/24"), pa.scalar(None, pa.string())
    )
    if not pc.any(is_v6).as_py():
        return out
    pos = np.flatnonzero(is_v6.to_numpy(zero_copy_only=False))
    six = pc.utf8_lower(pc.take(d, pa.array(pos)))
    # Written-out first three groups: the /48 is those groups without leading zeros;
    # shortened forms ("2a01::1") go through inet_pton.
    head = r"^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):[0-9a-f:.%a-z]*$"
    plain = pc.match_substring_regex(six, head)
    pref = pc.replace_substring_regex(six, head, r"\1:\2:\3::/48")
    pref = pc.replace_substring_regex(pref, r"(^|:)0+([0-9a-f])", r"\1\2")
    vals = pc.if_else(plain, pref, pa.scalar(None, pa.string())).to_pylist()
    for short in np.flatnonzero(~plain.to_numpy(zero_copy_only=False)).tolist():
        vals[short] = _v6_prefix(six[short].as_py())
    merged = out.to_pylist() if len(d) < 2 * len(pos) else None
    if merged is not None:
        for j, i in enumerate(pos.tolist()):
            merged[i] = vals[j]
        return pa.array(merged, pa.string())
    mask = np.zeros(len(d), dtype=bool)
    mask[pos] = True
    return pc.replace_with_mask(out, pa.array(mask), pa.array(vals, pa.string()))


def _prefixes(values: pa.Array) -> pa.Array:
    """The /24 of an IPv4 address or the /48 of an IPv6 one, per value."""
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return pc.take(_prefix_values(enc.dictionary), enc.indices)


def _ip_and_net(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Pseudonymous codes of each address and of its prefix, from one pass over the rows."""
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    d = enc.dictionary
    idx = pc.cast(enc.indices, pa.int32())
    blank = pc.equal(d, "")
    if pc.any(blank).as_py():
        b = int(np.flatnonzero(blank.to_numpy(zero_copy_only=False))[0])
        idx = pc.if_else(pc.equal(idx, b), pa.scalar(None, pa.int32()), idx)
    net_of_value = pseudonymise(_prefix_values(d))
    return idx, pc.take(net_of_value, idx)


# --------------------------------------------------------------------------- reading CSV


_SAVE_AS_CSV = (
    "dans le tableur ou LimeSurvey, enregistrez ou exportez les réponses au format "
    "« CSV » en UTF-8, puis envoyez ce fichier-là."
)


def refuse_non_text(raw: bytes) -> None:
    """Refuse, from its first bytes, a file that is not CSV text, naming what it is.

    Read as cp1252, a spreadsheet or a UTF-16 text gives a first line of garbage, and the
    person was told « Colonne « id » absente »: true, and no help."""
    if raw.startswith(b"PK\x03\x04"):
        raise InputError(
            "Ce fichier est un classeur (Excel .xlsx ou LibreOffice .ods) ou une archive zip, "
            "pas un fichier CSV : " + _SAVE_AS_CSV,
            line=1,
        )
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "Ce fichier est un classeur Excel ancien (.xls), pas un fichier CSV : " + _SAVE_AS_CSV,
            line=1,
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            "Ce fichier est encodé en UTF-16 (« texte Unicode » d'Excel), pas en UTF-8 : "
            + _SAVE_AS_CSV,
            line=1,
        )
    if b"\x00" in raw[:4096]:
        raise InputError(
            "Ce fichier contient des octets nuls : ce n'est pas du texte CSV (fichier binaire, "
            "ou texte UTF-16 sans marque d'encodage) ; " + _SAVE_AS_CSV,
            line=1,
        )


def _decode(raw: bytes) -> str:
    return _decode_utf8(raw)[0]


def _decode_utf8(raw: bytes) -> tuple[str, bytes | None]:
    """The text, and the UTF-8 bytes without BOM when the file was UTF-8 (else None)."""
    refuse_non_text(raw)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8"), raw
    except UnicodeDecodeError:
        return _decode_legacy(raw), None


def _decode_legacy(raw: bytes) -> str:
    # LimeSurvey's other export encoding; cp1252 is Latin-1 plus the curly quotes.
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: 0 for d in ",;\t"}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _locate_bad_row(text: str, delim: str, width: int) -> InputError:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        for n, row in enumerate(reader):
            if n == 0:
                continue
            if row and len(row) != width:
                return InputError(
                    f"CSV mal formé à la ligne {reader.line_num} : {len(row)} champs au lieu "
                    f"de {width} (séparateur « {delim} »).",
                    line=reader.line_num,
                )
    except csv.Error as exc:
        return InputError(
            f"CSV mal formé à la ligne {reader.line_num} : {exc}.", line=reader.line_num
        )
    return InputError("CSV mal formé : le fichier ne peut pas être lu comme un tableau.")


def _unterminated_quote(text: str) -> InputError:
    opened = 0
    inside = False
    for m in re.finditer('"', text):
        if not inside:
            opened = m.start()
        inside = not inside
    line = text.count("\n", 0, opened) + 1
    return InputError(
        f"CSV mal formé : guillemet ouvert à la ligne {line} et jamais refermé.", line=line
    )


# A header is bounded before it is parsed: each column costs the CSV parser about 10 KB
# whether it holds anything or not (100,000 columns in a header of 900 KB took 1 GB in the
# worker), and a first line of 200 MB split into columns would take gigabytes on its own.
# LimeSurvey's largest surveys export a few thousand columns, each named by its code (or
# by its question text: a few hundred characters).
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_COLUMNS = 10_000


# Rows are bounded before the file is parsed in full: the upload's 200 MB alone let through
# tens of millions of tiny rows ("7,,\n" is a LimeSurvey response of four bytes), whose
# table, detectors and report would take many gigabytes in the worker. The largest real
# consultations are some tens of thousands of responses; the bound is far above them.
MAX_ROWS = 1_000_000
ROWS_ENV = "BEFFROI_AUDIT_MAX_ROWS"
_COUNT_CHUNK = 1 << 20
# The parser's block when counting: its working memory is some tens of bytes per field of
# a block (a 16 MB block of 4-byte rows took 300 MB), so a small one.
_COUNT_BLOCK = 1 << 20


def max_rows() -> int:
    """The bound on an export's responses: ``BEFFROI_AUDIT_MAX_ROWS``, else ``MAX_ROWS``.
    Read from the environment (this package never imports Django), at each audit."""
    raw = os.environ.get(ROWS_ENV, "").strip()
    if not raw:
        return MAX_ROWS
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(
            "Réglage du serveur invalide : BEFFROI_AUDIT_MAX_ROWS doit être un nombre entier "
            f"positif, pas « {raw} »."
        )
    return value


def _too_many_rows(limit: int) -> InputError:
    shown = f"{limit:,}".replace(",", "\u00a0")
    return InputError(
        f"Trop de réponses : le fichier en compte plus de {shown}, le plus qu'un audit "
        "accepte. Aucune consultation réelle n'en approche : vérifiez qu'il s'agit bien d'un "
        "export de réponses, ou découpez-le."
    )


def check_rows(stream: BinaryIO, limit: int | None = None) -> None:
    """Refuse (``InputError``) a CSV of more than ``limit`` records after its header,
    reading ``stream`` from its start without keeping it: its newlines are counted first
    (a record ends at one, unless it is the last), and only a file with more lines than
    the bound has its records counted by the CSV parser (answers may hold line breaks),
    one column and one block at a time. A file the parser cannot read is left to the
    full read, whose error names the line. ``stream`` is left at its start."""
    limit = max_rows() if limit is None else limit
    stream.seek(0)
    lines = 0
    while chunk := stream.read(_COUNT_CHUNK):
        lines += chunk.count(b"\n")
    stream.seek(0)
    if lines <= limit:
        return
    first = stream.readline(MAX_HEADER_BYTES + 1)
    stream.seek(0)
    try:
        header = _header_of(_decode(first).lstrip("\ufeff").rstrip("\r\n"))
    except InputError:
        return  # the full read says what is wrong with the header
    delim = _sniff_delimiter(_decode(first))
    records = 0
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, block_size=_COUNT_BLOCK, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            # Bytes, not text: a legacy encoding must not stop the count.
            convert_options=pacsv.ConvertOptions(
                include_columns=[header[0]], column_types={header[0]: pa.binary()}
            ),
        )
        for batch in reader:
            records += batch.num_rows
            if records > limit:
                raise _too_many_rows(limit)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return
    finally:
        stream.seek(0)


def _check_file_rows(path: Path) -> None:
    """``check_rows`` on the file itself, before it is read whole: refusing 200 MB of tiny
    rows then costs a block of the parser, not the file's text twice over."""
    with path.open("rb") as stream:
        check_rows(stream)


def _too_long_header() -> InputError:
    return InputError(
        f"En-tête trop longue (ligne 1) : plus de {MAX_HEADER_BYTES // (1024 * 1024)} Mo.",
        line=1,
    )


def _unreadable_header(first: str) -> InputError:
    """Python's csv module words its errors in English; say in French what it saw."""
    if "\x00" in first:
        why = "elle contient des caractères nuls (fichier binaire ?)"
    elif "\r" in first:
        why = (
            "un retour chariot isolé coupe une en-tête hors guillemets (fichier binaire, ou "
            "enregistré avec des fins de ligne d'un ancien Mac ?)"
        )
    else:
        why = "ce n'est pas une ligne CSV valable"
    return InputError(f"En-tête illisible (ligne 1) : {why}.", line=1)


def _header_of(first: str, delim: str | None = None) -> list[str]:
    """The headings of a first line; an empty or repeated heading is refused."""
    if len(first) > MAX_HEADER_BYTES:  # characters: never fewer than its bytes
        raise _too_long_header()
    delim = delim or _sniff_delimiter(first)
    try:
        header = next(csv.reader([first], delimiter=delim))
    except csv.Error as exc:
        raise _unreadable_header(first) from exc
    if len(header) > MAX_COLUMNS:
        raise InputError(
            f"En-tête trop large (ligne 1) : {len(header)} colonnes, {MAX_COLUMNS} au plus.",
            line=1,
        )
    if len(header) == 1 and "|" in first:
        raise InputError(
            "Séparateur non reconnu (ligne 1) : les colonnes semblent séparées par « | ». "
            "L'audit lit les CSV séparés par la virgule, le point-virgule ou la tabulation : "
            "exportez à nouveau les réponses au format CSV de LimeSurvey.",
            line=1,
        )
    header = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if not h:
            raise InputError(f"En-tête vide à la colonne {i + 1} (ligne 1).", line=1)
        if h in seen:
            if h.endswith(".."):
                # LimeSurvey's « abbreviated » headings: two texts with the same start.
                raise InputError(
                    f"Colonne « {h} » en double dans l'en-tête (colonnes {seen[h] + 1} et "
                    f"{i + 1}) : en-têtes abrégés de LimeSurvey, qui ne gardent que le début "
                    "des questions ; exportez à nouveau les réponses avec les codes des "
                    "questions ou le texte complet.",
                    line=1,
                    column=h,
                )
            raise InputError(
                f"Colonne « {h} » en double dans l'en-tête (colonnes {seen[h] + 1} et {i + 1}).",
                line=1,
                column=h,
            )
        seen[h] = i
    return header


def read_csv_text(
    text: str,
    select: Callable[[list[str]], list[str]] | None = None,
    data: bytes | None = None,
    *,
    rows_checked: bool = False,
) -> tuple[pa.Table, str]:
    """Parse CSV text into an all-string table; errors name the line.

    ``select`` picks the columns worth converting from the header (the others are
    skipped by the parser); ``data`` is the same content as UTF-8 bytes when the
    caller has them, to save an encoding pass. ``rows_checked``: the caller already
    counted the records (``check_rows`` on the file, before reading it whole).
    """
    if not text.strip():
        raise InputError("Le fichier est vide (ligne 1) : aucune en-tête, aucune réponse.", line=1)
    if text.count('"') % 2:
        raise _unterminated_quote(text)
    first = text.split("\n", 1)[0].rstrip("\r")
    delim = _sniff_delimiter(first)
    header = _header_of(first, delim)
    wanted = select(header) if select else header
    if data is None:
        data = text.encode("utf-8")
    if not rows_checked:
        check_rows(io.BytesIO(data))
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_columns=wanted,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _locate_bad_row(text, delim, len(header)) from exc
    if table.num_rows == 0:
        raise InputError("Le fichier ne contient aucune réponse (rien après la ligne 1).", line=2)
    return table, delim


def _record_line(text: str, delim: str, index: int) -> int:
    """The file line where data record ``index`` (0-based) starts."""
    if text.count("\n") == 0:
        return index + 2
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    line = 1
    for n, _ in enumerate(reader):
        if n == index + 1:
            return line
        line = reader.line_num + 1
    return index + 2


# A date whose year has two digits (« 02/03/26 »): read as the year 26 by the parsers.
_SHORT_YEAR = r"^(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2}|\d{2}-\d{2}-\d{2})(?:\D|$)"
# Slash dates whose second field cannot be a month: written month first.
_MONTH_FIRST = r"^\d{1,2}/(?:1[3-9]|[23]\d)/"
DATE_ORDER_CHECK = "ordre du jour et du mois"


def _short_years(col: pa.Array, empty: pa.Array, name: str, line_of: Any) -> None:
    short = pc.and_(pc.invert(empty), pc.match_substring_regex(col, _SHORT_YEAR))
    if isinstance(short, pa.ChunkedArray):
        short = short.combine_chunks()
    if pc.any(short).as_py():
        i = int(np.flatnonzero(short.to_numpy(zero_copy_only=False))[0])
        line = line_of(i)
        raise InputError(
            f"Année sur deux chiffres à la ligne {line}, colonne « {name} » : "
            f"« {col[i].as_py()} ». L'année doit avoir quatre chiffres (2026, pas 26) : "
            "exportez à nouveau les dates avec l'année complète (AAAA-MM-JJ HH:MM:SS).",
            line=line,
            column=name,
            kind="année sur deux chiffres",
        )


def _ambiguous_order(col: pa.Array, empty: pa.Array) -> bool:
    """Slash dates all read day first, none proving it (no first field above 12)."""
    slash = pc.and_(pc.invert(empty), pc.match_substring_regex(col, r"^\d{1,2}/\d{1,2}/"))
    if not pc.any(slash).as_py():
        return False
    first = pc.extract_regex(pc.filter(col, slash), r"^(?P<d>\d{1,2})/").field("d")
    return bool(pc.max(pc.cast(first, pa.int32())).as_py() <= 12)


def parse_times(
    col: pa.Array,
    name: str,
    line_of: Any,
    fmt: str | None = None,
    notes: list[str] | None = None,
) -> np.ndarray:
    """Seconds since the epoch (float, NaN for empty); an unreadable date raises InputError.

    A two-digit year is refused (unless ``fmt`` says ``%y``): read as the year 26, the
    dates silently made no sense. Slash dates are read day first (French); when none of
    them shows it (every first field 12 or less), a note goes to ``notes``."""
    col = pc.utf8_trim_whitespace(col)
    empty = pc.equal(col, "")
    if fmt is None or "%y" not in fmt:
        _short_years(col, empty, name, line_of)
    if fmt is None:
        # Fast path: LimeSurvey writes ISO dates, which Arrow's own parser reads at once.
        try:
            iso = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), col), pa.timestamp("s"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            out = pc.cast(iso, pa.int64()).to_numpy(zero_copy_only=False)
            return np.asarray(out, dtype=float)
    formats = (fmt,) if fmt else _TIME_FORMATS
    result: pa.Array | None = None
    for f in formats:
        parsed = pc.strptime(col, format=f, unit="s", error_is_null=True)
        result = parsed if result is None else pc.coalesce(result, parsed)
        # An export uses one format: stop as soon as every non-empty date is read.
        if not pc.any(pc.and_(pc.invert(empty), pc.is_null(result))).as_py():
            break
    assert result is not None
    bad = pc.and_(pc.invert(empty), pc.is_null(result))
    if isinstance(bad, pa.ChunkedArray):
        bad = bad.combine_chunks()
    if pc.any(bad).as_py():
        i = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
        line = line_of(i)
        value = col[i].as_py()
        if fmt is None and re.match(_MONTH_FIRST, value):
            raise InputError(
                f"Date illisible à la ligne {line}, colonne « {name} » : « {value} » semble "
                "écrite le mois d'abord (MM/JJ/AAAA, à l'américaine) ; exportez les dates au "
                "format AAAA-MM-JJ, ou donnez leur format (`time_format`) dans une "
                "correspondance.",
                line=line,
                column=name,
                kind="date écrite le mois d'abord",
            )
        raise InputError(
            f"Date illisible à la ligne {line}, colonne « {name} » : « {value} » "
            f"(formats acceptés : AAAA-MM-JJ HH:MM:SS, JJ/MM/AAAA HH:MM…).",
            line=line,
            column=name,
            kind="date illisible",
        )
    if fmt is None and notes is not None and _ambiguous_order(col, empty):
        notes.append(name)
    secs = pc.cast(pc.cast(result, pa.timestamp("s")), pa.int64())
    out = secs.to_numpy(zero_copy_only=False)
    return np.asarray(np.where(np.isnan(out.astype(float)), np.nan, out.astype(float)))


def parse_numbers(col: pa.Array, name: str, line_of: Any) -> np.ndarray:
    col = pc.utf8_trim_whitespace(col)
    col = pc.replace_substring(col, ",", ".")
    empty = pc.equal(col, "")
    vals = pc.cast(pc.if_else(empty, None, col), pa.string())
    try:
        out = pc.cast(vals, pa.float64())
    except pa.ArrowInvalid:
        arr = vals.to_pylist()
        for i, v in enumerate(arr):
            if v is None:
                continue
            try:
                float(v)
            except ValueError:
                line = line_of(i)
                raise InputError(
                    f"Nombre illisible à la ligne {line}, colonne « {name} » : « {v} ».",
                    line=line,
                    column=name,
                    kind="nombre illisible",
                ) from None
        raise
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=float)


# --------------------------------------------------------------------------- structure


def _answer_values(col: pa.Array) -> pa.Array:
    """Trimmed answers, null for "no answer" (worked on the distinct values only)."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    d = pc.utf8_trim_whitespace(enc.dictionary)
    none = pc.is_in(pc.utf8_lower(d), value_set=pa.array(sorted(_NO_ANSWER)))
    d = pc.if_else(none, pa.scalar(None, pa.string()), d)
    return pc.take(d, enc.indices)


# A dual-scale column, « Q[SQ001#0] » (LimeSurvey's own field names end so: « …SQ001#0 »):
# each scale is a question of its own, « Q#0 » and « Q#1 », with its own answer options.
_DUAL_ROW = re.compile(r"^([A-Za-z0-9_]+)#([01])$")


def _split_code(col: str) -> tuple[str, str]:
    if col.endswith("]") and "[" in col:
        base, row = col[:-1].split("[", 1)
        base, row = base.strip(), row.strip()
        dual = _DUAL_ROW.match(row)
        if dual:
            return f"{base}#{dual.group(2)}", dual.group(1)
        return base, row
    return col, ""


# An answer code as LimeSurvey writes it (at most five letters or digits: « A1 », « Y »,
# « SQ001 », « 5 ») or a number; anything else is a written answer, or a full-text label.
_CODE_LIKE = re.compile(r"^(?:[A-Za-z0-9]{1,5}|-oth-|[-+]?\d+(?:[.,]\d+)?)$")
# Columns LimeSurvey fills with what the respondent typed: the « other » box of a list
# or multiple choice (``Q[other]``), and the comment of a list-with-comment or of a
# multiple-choice item (``Qcomment``, ``Q[SQ001comment]``); in French full-text headings
# « [Autre] » and « [Commentaire] ».
_TEXT_ROWS = OTHER_ROWS | COMMENT_ROWS


def _text_heading(column: str) -> bool:
    row = _split_code(column)[1]
    low = column.lower()
    return row.lower() in _TEXT_ROWS or low.endswith(("comment", "comment]"))


@dataclass
class _Profile:
    """What the answered cells of one column look like (see ``_free_text``)."""

    distinct: int
    answered: int
    once: int
    codes: bool  # every answer is code-like
    ticks: bool  # every answer is « Y » (a multiple-choice item, or an unticked one)
    limesurvey_codes: bool  # and one of them is a code LimeSurvey makes up (A1, SQ001, Y…)


# Codes LimeSurvey generates itself: answer options A1…, subquestions SQ001…, yes/no.
_LS_GENERATED = r"^(?:[A-Z]{1,2}\d{1,4}|Y|N|-oth-)$"


def _profile(values: pa.Array) -> _Profile:
    answered = pc.drop_null(_answer_values(values))
    counts = pc.value_counts(answered)
    vals = counts.field("values")
    codes = bool(pc.all(pc.match_substring_regex(vals, _CODE_LIKE.pattern)).as_py())
    generated = bool(pc.any(pc.match_substring_regex(vals, _LS_GENERATED)).as_py())
    return _Profile(
        distinct=len(counts),
        answered=len(answered),
        once=int(pc.sum(pc.equal(counts.field("counts"), 1)).as_py() or 0),
        codes=codes or not len(counts),
        limesurvey_codes=codes and generated,
        ticks=bool(pc.all(pc.equal(vals, "Y")).as_py()) if len(counts) else True,
    )


# Answers needed before « mostly given once » is taken as typed text (two schools named
# once each in a two-row export are a choice).
_TEXT_EVIDENCE = 5


def _free_text(column: str, p: _Profile, coded_export: bool, max_categories: int) -> bool:
    """Whether a column holds what respondents typed rather than a choice.

    Judged on its answered cells only (a comment box that 25 of 1,500 parents filled is
    still free text). In an export of answer codes (LimeSurvey's default), answers that
    are not codes were typed; otherwise (full-text answers, another tool's CSV), a
    column is text when its answers are many, or mostly given once and not codes (a
    name, a phone number): then a few answers say too little, and below
    ``_TEXT_EVIDENCE`` of them the column is read as a choice. A choice answered by a
    handful may be taken for text: it is then not tallied, the safe mistake, since a
    text column is never printed."""
    if _text_heading(column):
        return True
    if p.answered == 0:
        return False
    if p.distinct > max_categories and p.distinct > 0.05 * p.answered:
        return True
    if p.codes:
        return False
    if coded_export:
        return True
    return p.answered >= _TEXT_EVIDENCE and 2 * p.once > p.distinct


# LimeSurvey's default subquestion codes: every array and multiple choice has them, so
# two questions sharing them says nothing about who answered their rows.
_DEFAULT_ROW = re.compile(r"^SQ\d+$", re.IGNORECASE)


def build_questions(
    columns: Iterable[str],
    table: pa.Table,
    labels: dict[str, str] | None = None,
    repeated: dict[str, list[str]] | None = None,
    max_categories: int = 30,
    limesurvey: bool = False,
    split_items: bool = True,
    types: dict[str, str] | None = None,
    answer_codes: dict[str, set[str]] | None = None,
) -> tuple[list[Question], list[str]]:
    """Group answer columns into questions; detect repeated rows.

    Without ``repeated``, the rows of array questions are taken as repeated
    respondents (a measure asked to parent 1 and parent 2 of each form) when at least
    two of them share the same rows, named the same: by codes other than LimeSurvey's
    defaults (« P1 », « Parent 1 » in a full-text heading), or by the same labels from
    the structure file; ordinary array items differ from one question to the next,
    and every array has the default codes SQ001…, which prove nothing. Any other
    array or multiple-choice question is split into its items, each a question of
    its own; a multiple-choice item (« Y » or blank) is read as yes/no.
    ``split_items`` False keeps such a question whole, its rows pooled (a table of
    the app's own ballot box, whose rows ``Q[R1]``… are always people).
    ``types`` (question code → LimeSurvey type letter, from the structure file) decides
    before the answers do: a free-text type (``lss.FREE_TEXT_TYPES``) is never tallied,
    any other type is a choice as long as it has at most ``max_categories`` distinct
    answers, all among the question's ``answer_codes`` (from the structure, when it
    lists any; « -oth- » allowed) — otherwise text; a column whose question it does not
    know is judged by its answers as without it.
    """
    from beffroi.integrity.lss import FREE_TEXT_TYPES

    labels = labels or {}
    groups: dict[str, list[tuple[str, str]]] = {}
    text_cols: list[str] = []
    others: set[str] = set()
    columns = list(columns)
    # Judged on a sample: a free-text column shows itself in the first rows.
    samples = {c: table.column(c).slice(0, 50_000) for c in columns}
    profiles = {c: _profile(samples[c]) for c in columns}
    # Only a LimeSurvey export is known to write every choice as a short code; another
    # tool's CSV may mix codes (« N ») and labels (« favorable ») in its choices.
    coded_export = limesurvey and any(p.limesurvey_codes for p in profiles.values())
    for c in columns:
        kind = (types or {}).get(_split_code(c)[0])
        if kind is None:
            typed = _free_text(c, profiles[c], coded_export, max_categories)
        else:
            # What the respondents typed is known, not guessed: a typed answer that
            # looks like a code (« Léa », « 12 ») must never be printed as a choice.
            # A choice type still has to look like one (a type read from another
            # version of the survey, an attribute this reader does not know): answers
            # outside the structure's codes, or too many of them, are typed.
            typed = (
                kind in FREE_TEXT_TYPES
                or _text_heading(c)
                or profiles[c].distinct > max_categories
                or not _among_codes(samples[c], (answer_codes or {}).get(_split_code(c)[0]))
            )
        if typed:
            text_cols.append(c)
            continue
        base, row = _split_code(c)
        groups.setdefault(base, []).append((c, row))
        if pc.any(pc.equal(pc.utf8_trim_whitespace(samples[c]), OTHER_CODE)).as_py():
            others.add(base)
    questions: list[Question] = []

    def row_key(rows: list[tuple[str, str]]) -> tuple[str, ...] | None:
        """How the rows read, when they could be people; None when they cannot."""
        names = tuple(r if not _DEFAULT_ROW.match(r) else labels.get(c, r) for c, r in rows)
        if not 1 < len(rows) <= 6 or any(_DEFAULT_ROW.match(n) for n in names):
            return None
        return names

    def multiple(rows: list[tuple[str, str]]) -> bool:
        return all(profiles[c].ticks for c, _ in rows) and any(
            profiles[c].answered for c, _ in rows
        )

    # Which questions share each set of rows; the two scales of one dual-scale question
    # (« Q#0 », « Q#1 ») share theirs by construction, which says nothing of people.
    rowsets: dict[tuple[str, ...], set[str]] = {}
    for base, rows in groups.items():
        key = row_key(rows)
        if key is not None and not multiple(rows):
            rowsets.setdefault(key, set()).add(base.split("#")[0])
    for base, rows in groups.items():
        other = {OTHER_CODE: OTHER_LABEL} if base in others else {}
        if repeated is not None:
            is_rep = base in repeated
        else:
            key = row_key(rows)
            is_rep = key is not None and not multiple(rows) and len(rowsets.get(key, ())) >= 2
        if is_rep or not split_items or all(r == "" for _, r in rows):
            questions.append(
                Question(
                    code=base,
                    label=labels.get(base, base),
                    rows=[(c, labels.get(c, r)) for c, r in rows],
                    options=dict(other),
                    repeated=is_rep,
                )
            )
            continue
        ticks = multiple(rows)
        for c, r in rows:
            questions.append(
                Question(
                    code=c,
                    label=f"{labels.get(base, base)} [{labels.get(c, r)}]",
                    rows=[(c, "")],
                    options=dict(other),
                    item_of=base,
                    multiple=ticks,
                )
            )
    return questions, text_cols


def _untick(arrays: dict[str, Any], questions: list[Question]) -> None:
    """A multiple-choice item left blank by a response that ticked another item of its
    question reads « N »; a response that ticked none is not counted (LimeSurvey writes
    the same blanks for a question skipped or never shown)."""
    items: dict[str, list[str]] = {}
    for q in questions:
        if q.multiple and q.item_of is not None:
            items.setdefault(q.item_of, []).append(q.rows[0][0])
    for cols in items.values():
        seen = pc.is_valid(arrays[cols[0]])
        for c in cols[1:]:
            seen = pc.or_(seen, pc.is_valid(arrays[c]))
        for c in cols:
            unticked = pc.and_(seen, pc.is_null(arrays[c]))
            arrays[c] = pc.if_else(unticked, pa.scalar("N"), arrays[c])


def _pick_segment(
    ds: Dataset, electorate: dict[str, int] | None, forced: str | None = None
) -> None:
    singles = [q for q in ds.questions if len(q.rows) == 1]
    if not forced:
        # An item of an array is an opinion, never the school.
        singles = [q for q in singles if q.item_of is None]
    if forced:
        cands = [q for q in singles if q.code == forced or q.rows[0][0] == forced]
        if not cands:
            raise InputError(f"Colonne de segment « {forced} » introuvable.", column=forced)
        q = cands[0]
    elif electorate:
        best, score = None, 0
        for q in singles:
            vals = set(pc.unique(ds.table.column(q.rows[0][0])).to_pylist()) - {None}
            hit = len(vals & set(electorate))
            if hit > score:
                best, score = q, hit
        q = best  # type: ignore[assignment]
    else:
        q = None  # type: ignore[assignment]
        for cand in singles:
            n = pc.count_distinct(ds.table.column(cand.rows[0][0])).as_py()
            if 2 <= n <= 30:
                q = cand
                break
        # A guess must not take the survey's only question: nothing would be left to count.
        if len(ds.questions) == 1:
            q = None  # type: ignore[assignment]
    if q is None:
        ds.skip("segments", "aucune question à choix unique ne ressemble à un segment (école…)")
        return
    ds.segment = q.rows[0][0]
    ds.segment_labels = dict(q.options)
    ds.questions = [x for x in ds.questions if x is not q]


def _finish(
    ds: Dataset,
    raw: pa.Table,
    roles: dict[str, str],
    text: str,
    delim: str,
    time_format: str | None = None,
) -> None:
    """Fill the normalised meta columns from ``roles`` (normalised name -> input column)."""

    def line_of(i: int) -> int:
        return _record_line(text, delim, i)

    n = raw.num_rows
    cols: dict[str, pa.Array | np.ndarray] = {}
    id_col = roles.get("id")
    if id_col is None:
        raise InputError(
            "Colonne d'identifiant absente : il faut une colonne « id » (LimeSurvey) "
            "ou une correspondance `id = …` dans le fichier de correspondance.",
            line=1,
            column="id",
        )
    ids = pc.utf8_trim_whitespace(raw.column(id_col).combine_chunks())
    empty = pc.equal(ids, "")
    if pc.any(empty).as_py():
        i = int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
        raise InputError(
            f"Identifiant vide à la ligne {line_of(i)}, colonne « {id_col} ».",
            line=line_of(i),
            column=id_col,
        )
    if not _all_distinct(ids):
        enc = pc.dictionary_encode(ids).indices.to_numpy(zero_copy_only=False)
        first = np.full(int(enc.max()) + 1, -1, dtype=np.int64)
        for i, code in enumerate(enc):
            if first[code] >= 0:
                a, b = line_of(int(first[code])), line_of(i)
                raise InputError(
                    f"Identifiant « {ids[i].as_py()} » en double (colonne « {id_col} », "
                    f"lignes {a} et {b}).",
                    line=b,
                    column=id_col,
                    kind=f"identifiant en double (déjà à la ligne {a})",
                )
            first[code] = i
    cols["id"] = ids
    ambiguous: list[str] = []
    for role, kind in (("submitted", "t"), ("started", "t"), ("duration", "n")):
        src = roles.get(role)
        if src is None:
            continue
        col = raw.column(src).combine_chunks()
        cols[role] = (
            parse_times(col, src, line_of, time_format, ambiguous)
            if kind == "t"
            else parse_numbers(col, src, line_of)
        )
    if ambiguous:
        # Not a refusal: a French export of the first twelve days of a month looks the
        # same. Said where the skipped checks are, so that a US export is not misread
        # without a word.
        ds.skip(
            DATE_ORDER_CHECK,
            f"les dates JJ/MM/AAAA de « {ambiguous[0]} » ont toutes un premier nombre de "
            "12 au plus : elles ont été lues le jour d'abord, à la française ; si l'export "
            "écrit le mois d'abord, dates et rafales sont fausses : exportez-le au format "
            "AAAA-MM-JJ",
        )
    if "duration" not in cols and "submitted" in cols and "started" in cols:
        d = np.asarray(cols["submitted"]) - np.asarray(cols["started"])
        cols["duration"] = np.where(d >= 0, d, np.nan)
    for role in ("ip", "ua", "token"):
        src = roles.get(role)
        if src is None:
            continue
        col = pc.utf8_trim_whitespace(raw.column(src).combine_chunks())
        if role == "ip":
            cols["ip"], cols["net"] = _ip_and_net(col)
        else:
            cols[role] = pseudonymise(col)
    for role in ("lang", "ref"):
        src = roles.get(role)
        if src is not None:
            col = pc.utf8_trim_whitespace(raw.column(src).combine_chunks())
            cols[role] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    arrays = {k: (pa.array(v) if isinstance(v, np.ndarray) else v) for k, v in cols.items()}
    answer_cols = [q_col for q in ds.questions for q_col, _ in q.rows] + ds.text_columns
    for c in answer_cols:
        arrays[c] = _answer_values(raw.column(c).combine_chunks())
    _untick(arrays, ds.questions)
    ds.table = pa.table(arrays)
    if "submitted" in arrays:
        ds.n_incomplete = int(pc.sum(pc.is_nan(arrays["submitted"])).as_py() or 0)
    for role, check, why in (
        ("submitted", "arrivées et rafales", "pas de date de soumission"),
        ("duration", "temps de remplissage", "ni durée (interviewtime) ni date de début"),
        ("ip", "concentration réseau", "pas d'adresse IP (ipaddr)"),
        ("ua", "navigateur (user agent)", "pas de colonne de navigateur dans l'export"),
        ("token", "état des jetons", "pas de colonne de jeton (enquête ouverte)"),
        ("ref", "provenance (referrer)", "pas d'URL de provenance"),
        ("lang", "langue", "pas de langue de départ"),
    ):
        if role not in arrays:
            ds.skip(check, why)
    if "submitted" in arrays:
        sent = np.asarray(cols["submitted"])
        sent = sent[~np.isnan(sent)]
        # An anonymised LimeSurvey survey dates every response 1980-01-01 00:00:00: the
        # arrivals cannot be examined, and must not pass for examined and calm.
        if len(sent) > 1 and sent.min() == sent.max():
            ds.skip(
                "arrivées et rafales",
                "toutes les dates de soumission sont identiques (enquête anonymisée ou sans "
                "horodatage : LimeSurvey date alors chaque réponse du 1er janvier 1980)",
            )
    if "ip" in arrays:
        nonnull = pc.drop_null(arrays["ip"])
        if len(nonnull) and pc.count_distinct(nonnull).as_py() == 1 and n > 20:
            ds.skip("concentration réseau", "toutes les adresses IP sont identiques (anonymisées)")


def _empty(col: pa.ChunkedArray) -> bool:
    """No value at all: every cell null, or NaN for the times (their nulls became NaN)."""
    if col.null_count == len(col):
        return True
    if pa.types.is_floating(col.type):
        return not pc.any(pc.invert(pc.is_nan(col))).as_py()
    return False


def _all_distinct(ids: pa.Array) -> bool:
    # Numeric ids without leading zeros (LimeSurvey's) are checked by sorting integers,
    # much faster than hashing strings; anything else goes through the hash.
    try:
        as_int = pc.cast(ids, pa.int64())
        back = pc.cast(as_int, pa.string())
        if pc.all(pc.equal(back, ids)).as_py():
            v = np.sort(as_int.to_numpy(zero_copy_only=False))
            return bool((np.diff(v) != 0).all())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    return bool(pc.count_distinct(ids).as_py() == len(ids))


# What an export must hold to be audited (docs/decisions/audit-minimal-export.md): an id
# per response, the submission date (LimeSurvey writes ``submitdate`` in every response
# export; empty means incomplete) and at least one answer column. Anything less gives a
# report of empty sections, so it is refused, naming what is missing.
_NO_TIME_NO_ANSWER = (
    "Ni colonne « submitdate » ni colonne de réponse dans l'en-tête (ligne 1) : ce n'est "
    "pas un export de réponses LimeSurvey utilisable. Il faut au moins « id », "
    "« submitdate » (date de soumission) et une colonne par question ; pour un autre CSV, "
    "choisissez le format « CSV quelconque » et son fichier de correspondance (--format csv "
    "--mapping en ligne de commande)."
)
_NO_TIME = (
    "Colonne « submitdate » absente de l'en-tête (ligne 1) : un export de réponses "
    "LimeSurvey la contient toujours (« Date de soumission » ou « Date submitted » en titres "
    "complets). Sans elle, on ne sait ni quelles réponses sont complètes ni quand elles "
    "sont arrivées : exportez à nouveau en gardant cette colonne."
)
_NO_TIME_MAPPED = (
    'La correspondance doit nommer la colonne de date de soumission (`time = "…"` dans '
    "[columns]) : sans elle, on ne sait ni quelles réponses sont complètes ni quand elles "
    "sont arrivées."
)
# Short lists of what the file has: a header can hold thousands of columns.
_SHOWN_COLUMNS = 6


def _listed(columns: list[str]) -> str:
    shown = ", ".join(f"« {c} »" for c in columns[:_SHOWN_COLUMNS])
    return shown + (", …" if len(columns) > _SHOWN_COLUMNS else "")


def _no_answer_column(columns: list[str]) -> InputError:
    return InputError(
        f"Aucune colonne de réponse dans l'en-tête (ligne 1) : seulement {_listed(columns)}, "
        "qui décrivent les réponses sans en contenir ; il n'y a rien à compter.",
        line=1,
    )


def _require_limesurvey_columns(header: list[str]) -> None:
    """Refuse a header that cannot be audited, naming what it lacks (nothing is parsed)."""
    roles, _, answers = _roles_from_header(header)
    if "id" not in roles:
        raise InputError(
            "Colonne « id » absente de l'en-tête (ligne 1) : ce n'est pas un export de "
            "réponses LimeSurvey ; pour un autre CSV, choisissez le format « CSV quelconque » "
            "et son fichier de correspondance (--format csv --mapping en ligne de commande).",
            line=1,
            column="id",
        )
    if "submitted" not in roles:
        raise InputError(_NO_TIME if answers else _NO_TIME_NO_ANSWER, line=1, column="submitdate")
    if not answers:
        raise _no_answer_column(header)


def _require_answers_and_completes(ds: Dataset, roles: dict[str, str]) -> None:
    """After reading: at least one response sent, and one answer given somewhere."""
    if ds.n_incomplete == ds.table.num_rows:
        column = roles["submitted"]
        raise InputError(
            f"Aucune réponse complète : la colonne « {column} » est vide à chaque ligne (un "
            "export des seules réponses incomplètes ?). L'audit compte les réponses envoyées : "
            "exportez à nouveau avec les réponses complètes.",
            column=column,
        )
    answer_cols = [c for q in ds.questions for c, _ in q.rows] + ds.text_columns
    if not any(ds.table.column(c).null_count < ds.table.num_rows for c in answer_cols):
        raise InputError(
            f"Aucune réponse aux questions : les colonnes de réponse ({_listed(answer_cols)}) "
            "sont vides à chaque ligne ; il n'y a rien à compter.",
        )


def check_header(
    head: bytes,
    fmt: str = "limesurvey",
    mapping: bytes | None = None,
    mapping_name: str = "correspondance.toml",
) -> None:
    """Refuse, from its first bytes only, an export that cannot be audited.

    ``head`` is the start of the file (its whole first line, or more); ``mapping`` the
    TOML of a generic CSV. Raises :class:`InputError` with the loader's own message, so
    an upload can be refused before anything is stored; a header that passes may still
    fail on its data (a date, a duplicate id) when the whole file is read. A first line
    longer than ``head`` is judged only when ``head`` is over ``MAX_HEADER_BYTES``.
    """
    refuse_non_text(head)
    cut = head.find(b"\n")
    if cut < 0:
        if len(head) > MAX_HEADER_BYTES:
            raise _too_long_header()
        return
    text = _decode(head[:cut]).rstrip("\r")
    if not text.strip():
        return  # an empty first line: the full read says it better
    header = _header_of(text)
    if fmt == "csv":
        if mapping is None:
            return
        conf = _parse_mapping(_decode(mapping), mapping_name)
        _mapped_columns(conf, header)
    else:
        _require_limesurvey_columns(header)


_CUT = re.compile(r"^(.*\S)\.{2,3}$", re.DOTALL)


def _cut_meta(key: str) -> str | None:
    """The metadata column an « abbreviated » heading names (« Date de la dern.. »):
    LimeSurvey cuts the translated names of its own columns as it cuts questions. Only
    the one column whose name the prefix starts; only before the first answer column,
    since LimeSurvey writes its own columns first and a question may start alike."""
    m = _CUT.match(key)
    if not m:
        return None
    prefix = m.group(1).lower()
    found = {ls for name, ls in _LS_FULL.items() if name.startswith(prefix) and name != prefix}
    return found.pop() if len(found) == 1 else None


def _roles_from_header(header: list[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Map headings to roles; return (roles, renamed answer columns, answer headings)."""
    roles: dict[str, str] = {}
    rename: dict[str, str] = {}
    answers: list[str] = []
    for h in header:
        key = h.strip()
        ls = key if key in _LS_META else _LS_FULL.get(key.lower())
        if ls is None and not answers:
            ls = _cut_meta(key)
        if ls in _LS_META:
            role = _LS_META[ls]
            if role in META and role not in roles:
                roles[role] = h
            continue
        if (
            _TIMING.search(key)
            or _TIMING_TEXT.match(key)
            or key.lower().startswith(("temps pour", "time for"))
        ):
            continue
        m = _CODE_HEADING.match(key)
        if m:
            rename[h] = _dual_code(m.group(1))
        elif _DUAL_CODE.match(key):
            rename[h] = _dual_code(key)
        else:
            # Full question text as heading: "text [row label]" -> "text[row label]".
            mm = re.match(r"^(.*\S)\s*\[([^\]]+)\]$", key)
            rename[h] = f"{mm.group(1)}[{mm.group(2)}]" if mm else key
        answers.append(h)
    return roles, rename, answers


def load_limesurvey(
    path: Path | None = None,
    *,
    text: str | None = None,
    electorate: dict[str, int] | None = None,
    structure: Path | None = None,
) -> Dataset:
    """Read a LimeSurvey response export (CSV, codes or full headings/answers)."""
    checked = text is None
    if text is None:
        assert path is not None
        try:
            _check_file_rows(path)
            raw_bytes = path.read_bytes()
        except OSError as exc:
            raise InputError(f"Impossible de lire le fichier {path} : {exc.strerror}.") from exc
        text, data = _decode_utf8(raw_bytes)
    else:
        data = None
        if text.startswith("\ufeff"):
            text = text[1:]

    def select(header: list[str]) -> list[str]:
        # Judged on the header alone: a file that cannot be audited is not parsed.
        _require_limesurvey_columns(header)
        roles, _, answers = _roles_from_header(header)
        return [h for h in header if h in roles.values() or h in answers]

    raw, delim = read_csv_text(text, select, data, rows_checked=checked)
    header = raw.column_names
    roles, rename, answers = _roles_from_header(header)
    labels: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    types: dict[str, str] | None = None
    ambiguous: list[tuple[str, list[str]]] = []
    if structure is not None:
        from beffroi.integrity.lss import read_heading_index, read_lss, read_types

        labels, options = read_lss(structure)
        types = read_types(structure)
        # A « full » or « abbreviated » question text export names its columns by the
        # questions' texts: back to their codes, so that the structure's types and
        # answer codes apply.
        ambiguous = _codes_for_full_headings(rename, answers, read_heading_index(structure))
    raw = raw.rename_columns([rename.get(h, h) for h in header])
    renamed = [rename[h] for h in answers]
    questions, text_cols = build_questions(
        renamed,
        raw,
        labels,
        limesurvey=True,
        types=types,
        answer_codes={q: set(o) for q, o in options.items()},
    )
    _apply_options(questions, options)
    ds = Dataset(raw, questions, source=str(path or "<texte>"), text_columns=text_cols)
    if ambiguous:
        ds.skip(
            "types des questions",
            "en-têtes qui peuvent désigner plusieurs colonnes de la structure de l'enquête "
            f"(.lss) : {_ambiguous_list(ambiguous)} ; ces colonnes ne prennent aucun type et "
            "sont lues d'après leurs réponses ; exportez les réponses avec les codes des "
            "questions (« Code de la question » dans l'export de LimeSurvey) ou le texte complet",
        )
    # An ambiguous heading is said once, by its own note above.
    refused = {_split_code(rename[h])[0] for h, _ in ambiguous}
    untyped = sorted({q.item_of or q.code for q in questions} - set(types or {}) - refused)
    if types is not None and untyped:
        # A structure from another version of the survey: those questions are judged
        # by their answers, as without it, and the reader must know which.
        ds.skip(
            "types des questions",
            "la structure de l'enquête (.lss) ne donne pas le type des questions "
            f"{', '.join(untyped[:5])}{' …' if len(untyped) > 5 else ''} : elles sont lues "
            "comme des questions à choix d'après leurs réponses, qui sont alors comptées "
            "et affichées, même si les répondants les ont tapées ; donnez la structure de "
            "la version de l'enquête qui a produit l'export",
        )
    if structure is None and _choices_could_be_typed(raw, questions):
        # Without the structure the answers decide, and a typed answer that looks like a
        # choice is counted and printed: said where the skipped checks are, with the cure.
        ds.skip(
            "types des questions",
            "pas de structure de l'enquête (.lss) : une colonne est lue comme une question "
            "à choix d'après ses réponses (30 réponses différentes au plus, chacune un code "
            "court de cinq lettres ou chiffres au plus, ou un nombre), et ses réponses sont "
            "alors comptées et affichées, même si les répondants les ont tapées ; donnez la "
            "structure de l'enquête (--structure enquete.lss, ou le champ « Structure de "
            "l'enquête (.lss, facultatif) » de l'audit) : ses questions à texte libre ne "
            "sont alors jamais comptées ni affichées",
        )
    _finish(ds, raw, roles, text, delim)
    _require_answers_and_completes(ds, roles)
    _pick_segment(ds, electorate)
    if ds.segment and structure is not None:
        ds.segment_labels = options.get(_split_code(ds.segment)[0], {})
    return ds


def _codes_for_full_headings(
    rename: dict[str, str], answers: list[str], index: HeadingIndex
) -> list[tuple[str, list[str]]]:
    """Rename, in ``rename``, the answer columns whose heading is a question's full or
    abbreviated text (« Question [Subquestion] », « Port d'une blou.. [Parent 1] ») to
    their code (« Q[SQ001] »; « Q[SQ001#0] » for a dual scale's first scale). A
    subquestion the structure does not name (« [Autre] », « [Commentaire] ») keeps its
    text after the question's code, which is how the free-text parts are recognised. A
    column that would take a name already used keeps its own. Returns the headings
    that could name several columns (refused: they keep their text), with those
    columns."""
    codes = {q.code for q in index.questions}
    used = set(rename.values())
    ambiguous: list[tuple[str, list[str]]] = []
    for h in answers:
        col = rename[h]
        if _split_code(col)[0].split("#")[0] in codes:
            continue  # already a code of the structure
        code, several = index.match(h)
        if several:
            ambiguous.append((h, several))
        if code is None or code == col or code in used:
            continue
        used.discard(col)
        used.add(code)
        rename[h] = code
    return ambiguous


def _ambiguous_list(ambiguous: list[tuple[str, list[str]]]) -> str:
    """« heading » (columns) for the first three refused headings, and how many more."""
    shown = " ; ".join(
        f"« {h} » ({', '.join(cols[:4])}{' …' if len(cols) > 4 else ''})"
        for h, cols in ambiguous[:3]
    )
    return shown + (f" et {len(ambiguous) - 3} autres" if len(ambiguous) > 3 else "")


def _among_codes(values: pa.Array, codes: set[str] | None) -> bool:
    """Whether every answer is one of ``codes`` (always, when there are none to check:
    a yes/no, a five-point choice or an array of numbers lists no options)."""
    if not codes:
        return True
    answered = pc.unique(pc.drop_null(_answer_values(values)))
    allowed = pa.array(sorted(codes | {OTHER_CODE}), pa.string())
    return bool(pc.all(pc.is_in(answered, value_set=allowed)).as_py() or not len(answered))


def _choices_could_be_typed(raw: pa.Table, questions: list[Question]) -> bool:
    """Whether a column read as a choice holds an answer that LimeSurvey did not make up
    (« A1 », « SQ001 », « Y »…): a respondent may have typed it. A multiple-choice item
    (« Y » or blank) cannot have been."""
    for q in questions:
        if q.multiple:
            continue
        for col, _ in q.rows:
            values = pc.drop_null(_answer_values(raw.column(col).slice(0, 50_000)))
            distinct = pc.unique(values)
            if (
                len(distinct)
                and not pc.all(pc.match_substring_regex(distinct, _LS_GENERATED)).as_py()
            ):
                return True
    return False


def _apply_options(questions: list[Question], options: dict[str, dict[str, str]]) -> None:
    for q in questions:
        # The structure file lists the answer options, never LimeSurvey's « other ».
        other = {OTHER_CODE: OTHER_LABEL} if OTHER_CODE in q.options else {}
        q.options = other | options.get(q.item_of or q.code, {})


_MAPPING_ROLES = {
    "id": "id",
    "submitted": "submitted",
    "time": "submitted",
    "started": "started",
    "duration": "duration",
    "ip": "ip",
    "network": "ip",
    "user_agent": "ua",
    "ua": "ua",
    "language": "lang",
    "referrer": "ref",
    "token": "token",
}


def _time_format(conf: dict[str, Any]) -> str | None:
    cols = conf.get("columns", {})
    found = conf.get("time_format", cols.get("time_format") if isinstance(cols, dict) else None)
    if found is not None and not isinstance(found, str):
        raise InputError(
            "La correspondance doit donner `time_format` comme un texte entre guillemets."
        )
    return found or None


def _mapped_columns(conf: dict[str, Any], header: list[str]) -> tuple[dict[str, str], list[str]]:
    """The roles (normalised name -> column) and answer columns a mapping gives a header."""
    cols = conf.get("columns", {})
    if not isinstance(cols, dict) or "id" not in cols:
        raise InputError(
            'La correspondance doit avoir une table [columns] avec au moins `id = "…"`.'
        )
    _time_format(conf)
    if "time" not in cols and "submitted" not in cols:
        raise InputError(_NO_TIME_MAPPED)
    roles: dict[str, str] = {}
    for key, role in _MAPPING_ROLES.items():
        if key in cols:
            name = str(cols[key])
            if name not in header:
                raise InputError(
                    f"Colonne « {name} » (correspondance `{key}`) absente de l'en-tête (ligne 1).",
                    line=1,
                    column=name,
                )
            roles[role] = name
    used = set(roles.values())
    answers = conf.get("answers") or cols.get("answers")
    if answers is None:
        answers = [h for h in header if h not in used]
    answers = [str(a) for a in answers]
    for a in answers:
        if a not in header:
            raise InputError(
                f"Colonne de réponse « {a} » absente de l'en-tête (ligne 1).", column=a
            )
    segment = cols.get("segment")
    if segment:
        segment = str(segment)
        if segment in header:
            # Naming the segment is enough: a mapping that lists the answers and
            # leaves out the segment's column still means that column (the loader
            # used to stop on it at the end, after an upload had been accepted).
            if segment not in answers:
                answers.append(segment)
        elif segment not in {_split_code(a)[0] for a in answers}:
            raise InputError(
                f"Colonne « {segment} » (correspondance `segment`) absente de l'en-tête (ligne 1).",
                line=1,
                column=segment,
            )
    if not [a for a in answers if a != segment]:
        raise _no_answer_column(header)
    repeated = conf.get("repeated", {})
    if isinstance(repeated, dict):
        # Judged here too, so that an upload is refused before it is stored.
        for q, members in repeated.items():
            for m in members if isinstance(members, list) else []:
                if str(m) not in header:
                    raise InputError(
                        f"Colonne « {m} » (répétition {q}) absente.", line=1, column=str(m)
                    )
    return roles, answers


# A real mapping nests two or three levels; this is far above, and far below the
# interpreter's recursion limit that tomllib would otherwise reach.
MAX_MAPPING_NESTING = 64


def _parse_mapping(text: str, name: str) -> dict[str, Any]:
    too_deep = InputError(
        f"Correspondance TOML invalide ({name}) : tableaux imbriqués trop profondément."
    )
    if max_nesting(text) > MAX_MAPPING_NESTING:
        raise too_deep
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Correspondance TOML invalide ({name}) : {exc}.") from exc
    except RecursionError:
        # The depth check above should make this unreachable; kept so that a gap in it is
        # still a clear refusal rather than a 500 on the upload form.
        raise too_deep from None


def load_mapped(
    path: Path,
    mapping: Path,
    *,
    electorate: dict[str, int] | None = None,
) -> Dataset:
    """Read a generic CSV with a TOML mapping (see docs/formats/audit-json.md)."""
    try:
        toml = mapping.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Impossible de lire la correspondance {mapping} : {exc}.") from exc
    conf = _parse_mapping(toml, str(mapping))
    cols = conf.get("columns", {})
    try:
        _check_file_rows(path)
        text = _decode(path.read_bytes())
    except OSError as exc:
        raise InputError(f"Impossible de lire le fichier {path} : {exc.strerror}.") from exc
    found: dict[str, Any] = {}

    def select(header: list[str]) -> list[str]:
        # Judged on the header alone: a file that cannot be audited is not parsed.
        found["roles"], found["answers"] = _mapped_columns(conf, header)
        return header

    raw, delim = read_csv_text(text, select, rows_checked=True)
    header = raw.column_names
    roles: dict[str, str] = found["roles"]
    answers: list[str] = found["answers"]
    segment = cols.get("segment")
    repeated_conf = conf.get("repeated", {})
    repeated: dict[str, list[str]] | None = None
    rename: dict[str, str] = {}
    if repeated_conf:
        repeated = {}
        for q, members in repeated_conf.items():
            repeated[q] = list(members)
            for k, m in enumerate(members, start=1):
                if m not in header:
                    raise InputError(f"Colonne « {m} » (répétition {q}) absente.", column=m)
                rename[m] = f"{q}[{k}]"
    raw = raw.rename_columns([rename.get(h, h) for h in header])
    answers = [rename.get(a, a) for a in answers]
    labels = {str(k): str(v) for k, v in conf.get("labels", {}).items()}
    questions, text_cols = build_questions(answers, raw, labels, repeated)
    for q in questions:
        if q.repeated:
            q.rows = [(c, labels.get(c, f"Ligne {i}")) for i, (c, _) in enumerate(q.rows, 1)]
    ds = Dataset(raw, questions, source=str(path), text_columns=text_cols)
    # The format doc (and most mappings) write it under [columns]: read only at the top,
    # it was ignored there, and a month-first date read as day-first without a word.
    _finish(ds, raw, roles, text, delim, _time_format(conf))
    _require_answers_and_completes(ds, roles)
    _pick_segment(ds, electorate, str(segment) if segment else None)
    return ds


def from_table(
    data: pa.Table | list[dict[str, Any]],
    *,
    questions: list[Question] | None = None,
    segment: str | None = None,
    repeated: Iterable[str] | None = None,
) -> Dataset:
    """Wrap an in-memory table that already has the normalised columns (see module doc).

    ``repeated`` names the questions whose rows (``Q[R1]``, ``Q[R2]``…) are answered
    by different people of one form; by default they are guessed (two or more
    questions sharing the same row codes).
    """
    table = data if isinstance(data, pa.Table) else pa.Table.from_pylist(data)
    if "id" not in table.column_names:
        raise InputError("La table n'a pas de colonne « id ».", column="id")
    table = table.set_column(
        table.column_names.index("id"), "id", pc.cast(table.column("id"), pa.string())
    )
    for c in ("submitted", "started", "duration"):
        if c in table.column_names:
            v = pc.cast(table.column(c), pa.float64())
            table = table.set_column(table.column_names.index(c), c, pc.fill_null(v, np.nan))
    answer_cols = [c for c in table.column_names if c not in META and c != segment]
    for c in answer_cols:
        table = table.set_column(
            table.column_names.index(c), c, pc.cast(table.column(c), pa.string())
        )
    if questions is None:
        rep: dict[str, list[str]] | None = None if repeated is None else {q: [] for q in repeated}
        questions, text_cols = build_questions(answer_cols, table, repeated=rep, split_items=False)
    else:
        text_cols = []
    if pc.count_distinct(table.column("id")).as_py() != table.num_rows:
        raise InputError("Identifiants en double dans la table.", column="id")
    ds = Dataset(table, questions, segment=segment, source="<table>", text_columns=text_cols)
    for role, check in (
        ("submitted", "arrivées et rafales"),
        ("duration", "temps de remplissage"),
        ("ip", "concentration réseau"),
        ("ua", "navigateur (user agent)"),
        ("token", "état des jetons"),
    ):
        if role not in table.column_names:
            ds.skip(check, f"pas de colonne « {role} » dans la table")
        elif table.num_rows and _empty(table.column(role)):
            # A ballot box that keeps no addresses still has the column, empty: the
            # check did not run, and the verdict must know it (integrity.audit.unchecked).
            ds.skip(check, f"colonne « {role} » vide dans la table")
    if "submitted" in table.column_names:
        ds.n_incomplete = int(pc.sum(pc.is_nan(table.column("submitted"))).as_py() or 0)
    return ds
