"""File import: CSV, JSON Lines, and the CrisisLexT26 labelled CSV.

The formats are described in docs/formats/import-posts.md.  Every record
either becomes a ``RawPost`` or a ``Skipped`` naming its line and the reason:
a bad row never stops an import, and nothing is dropped without a trace.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

from beffroi.watch.sources.base import (
    Batch,
    Checkpoint,
    Pseudonymiser,
    RawPost,
    Skipped,
    SourceError,
)
from beffroi.watch.sources.config import Form

FORMATS = ("auto", "csv", "jsonl", "crisislex")
CRISISLEX_HEADER = ["Tweet ID", "Tweet Text", "Information Source", "Information Type"]
CRISISLEX_LABELS = ("information source", "information type", "informativeness")
# Twitter ids since November 2010 are "snowflakes": milliseconds since this
# epoch live in the bits above the lowest 22.
TWITTER_EPOCH_MS = 1288834974657
# csv's default limit (128 KiB) is below what a hostile file can hold in one field.
csv.field_size_limit(16 * 1024 * 1024)
# Longest line read (in characters): a file iterator reads a whole line into memory, and a
# file of gigabytes without a newline would take the worker's memory with it.
MAX_LINE = 16_000_000
TOO_LONG = "Ligne trop longue (plus de 16 millions de caractères) : ignorée."


def _lines(handle: Any, limit: int | None = None) -> Iterator[tuple[str, bool]]:
    """``(line, whole)`` for each line of ``handle``, never reading more than ``limit``
    characters at once. A longer line is read to its end in pieces and dropped: it comes
    as its first characters with ``whole`` false."""
    limit = MAX_LINE if limit is None else limit
    cut_after_cr = False

    def read(size: int) -> str:
        # A read that stops right after "\r" may have split a "\r\n": its "\n" comes
        # alone next, and belongs to the line before.
        nonlocal cut_after_cr
        line = str(handle.readline(size))
        if cut_after_cr and line == "\n":
            line = str(handle.readline(size))
        cut_after_cr = len(line) == size and line.endswith("\r")
        return line

    while True:
        line = read(limit + 1)
        if not line:
            return
        if len(line) <= limit or line[-1] in "\r\n":
            yield line, True
            continue
        head = line[:80]
        while True:
            rest = read(limit)
            if not rest or rest[-1] in "\r\n":
                break
        yield head, False


class _LineTooLong(Exception):
    def __init__(self, line_no: int) -> None:
        super().__init__(line_no)
        self.line_no = line_no


def _csv_lines(handle: Any) -> Iterator[str]:
    """The lines for ``csv.reader``; one too long to hold stops the reading there (the
    reader cannot resynchronise quotes after a line it did not see)."""
    for line_no, (line, whole) in enumerate(_lines(handle), 1):
        if not whole:
            raise _LineTooLong(line_no)
        yield line


ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "external_id", "post_id", "tweet id", "tweet_id"),
    "text": ("text", "content", "message", "tweet text"),
    "created_at": ("created_at", "date", "timestamp", "time"),
    "url": ("url", "link"),
    "language": ("language", "lang"),
    "author": ("author", "handle", "account", "user"),
    "author_kind": ("author_kind",),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "longitude"),
    "media": ("media", "media_urls"),
    "reply_to": ("reply_to", "in_reply_to"),
    "repost_of": ("repost_of", "retweet_of"),
}
_FIELD_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
# The columns a record's fields are read from (the CrisisLex labels into ``labels``).
_READ = frozenset({*ALIASES, "coordinates", *CRISISLEX_LABELS})
# The only other column kept in a post's raw payload: a labelled file's CrisisLex
# labels (``{"source", "info_type", "informativeness"}``, text), for exercises and for
# measuring the classifier. Nothing downstream reads any other, and an export's extra
# columns are mostly its author's (docs/formats/import-posts.md, "Raw payload").
LABEL_KEYS = ("source", "info_type", "informativeness")
# How many dropped column names are counted at most (a JSON Lines file may use any key
# on every line); the status names the first 20 (runner.not_kept_note).
MAX_COUNTED_COLUMNS = 10_000


def _kept_column(name: str, value: Any) -> Any:
    """``value`` as kept in the raw payload, or None when the column is not kept."""
    if name == "labels" and isinstance(value, Mapping):
        labels = {k: value.get(k) for k in LABEL_KEYS}
        if all(v is None or isinstance(v, str) for v in labels.values()) and set(value) <= set(
            LABEL_KEYS
        ):
            return labels
    return None


def _column_name(name: str) -> str:
    """A dropped column's name as the status shows it: short, on one line."""
    name = " ".join(name.split())
    return name if len(name) <= 40 else name[:39] + "…"


@dataclass(frozen=True)
class FileImportConfig:
    path: str
    format: str = "auto"
    # CrisisLexT26 only: the ``*-tweetids_entire_period.csv`` file with the
    # timestamps; found next to the labelled file when not given.
    timestamps_path: str | None = None
    batch_size: int = 500

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> FileImportConfig:
        form = Form(data)
        path = form.text("path", required=True)
        fmt = form.text("format", default="auto").lower()
        if fmt not in FORMATS:
            form.error("format", "Format inconnu : choisir csv, jsonl, crisislex ou auto.")
        if path and not Path(path).is_file():
            form.error("path", "Fichier introuvable.")
        timestamps = form.text("timestamps_path") or None
        if timestamps and not Path(timestamps).is_file():
            form.error("timestamps_path", "Fichier des horodatages introuvable.")
        size = form.number("batch_size", default=500, minimum=1, maximum=100_000)
        form.done()
        return cls(path, fmt, timestamps, int(size))


def snowflake_time(tweet_id: str) -> datetime:
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, tz=UTC)


_TWITTER_TIME = re.compile(r"(\w{3}) (\w{3}) (\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{4}) (\d{4})")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_time(value: Any) -> datetime:
    """ISO 8601, Twitter's ``Thu Jun 20 03:56:19 +0000 2013``, RFC 2822, or epoch seconds.

    A time without an offset is taken as UTC (documented in the format).
    """
    if isinstance(value, bool):
        raise ValueError(f"date illisible « {value} »")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"date illisible « {value} »")
        return datetime.fromtimestamp(value, tz=UTC)
    text = str(value).strip()
    if not text:
        raise ValueError("date manquante")
    parsed: datetime | None = None
    twitter = _TWITTER_TIME.fullmatch(text)
    if twitter:
        # strptime is ~30 µs a call; this format is most of CrisisLex.
        _, month, day, clock_, offset, year = twitter.groups()
        if month in _MONTHS:
            hh, mm, ss = (int(x) for x in clock_.split(":"))
            sign = -1 if offset[0] == "-" else 1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
            return datetime(int(year), _MONTHS[month], int(day), hh, mm, ss, tzinfo=UTC) - delta
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for attempt in (
            lambda: datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y"),
            lambda: parsedate_to_datetime(text),
        ):
            try:
                parsed = attempt()
                break
            except (ValueError, TypeError, IndexError):
                continue
    if parsed is None:
        raise ValueError(f"date illisible « {text[:40]} »")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# surrogateescape turns invalid UTF-8 bytes into lone surrogates.
_BAD_BYTES = re.compile("[\udc80-\udcff]")


def _bad_text(value: str) -> bool:
    return _BAD_BYTES.search(value) is not None


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline(MAX_LINE)
    header = [h.strip() for h in next(csv.reader([first]), [])]
    if header[: len(CRISISLEX_HEADER)] == CRISISLEX_HEADER:
        return "crisislex"
    if first.lstrip().startswith("{"):
        return "jsonl"
    return "csv"


def load_crisislex_timestamps(path: Path) -> dict[str, str]:
    """``Timestamp, Tweet-ID, Included(Y/N)`` rows → tweet id: timestamp text.

    Parsed lazily: the file lists every collected tweet (often 10× more than
    the labelled sample), and only the labelled ones are ever looked up.
    """
    times: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        # A lookup table: a line too long to be a row is left out, the rest still read.
        lines = (line for line, whole in _lines(handle) if whole)
        reader = csv.reader(lines, skipinitialspace=True)
        next(reader, None)
        for row in reader:
            if len(row) >= 2:
                times[row[1].strip()] = row[0]
    return times


def find_crisislex_timestamps(labelled: Path) -> Path | None:
    candidates = sorted(labelled.parent.glob("*-tweetids_entire_period.csv"))
    return candidates[0] if candidates else None


class FileReader:
    """Reads one file record by record; ``position`` counts records consumed."""

    def __init__(
        self,
        config: FileImportConfig,
        *,
        source_id: str,
        pseudonymise: Pseudonymiser,
        kind: str = "file",
    ) -> None:
        self.config = config
        self.source_id = source_id
        self.kind = kind
        self.pseudonymise = pseudonymise
        self.path = Path(config.path)
        if not self.path.is_file():
            raise SourceError(f"Fichier introuvable : {config.path}.", retryable=False)
        self.format = config.format if config.format != "auto" else detect_format(self.path)
        self.timestamps: dict[str, str] = {}
        # The columns read and not kept, in the order met (dict as an ordered set).
        self.not_kept: dict[str, None] = {}
        if self.format == "crisislex":
            ts_path = (
                Path(config.timestamps_path)
                if config.timestamps_path
                else find_crisislex_timestamps(self.path)
            )
            if ts_path is not None:
                self.timestamps = load_crisislex_timestamps(ts_path)

    def records(self, start: int = 0) -> Iterator[RawPost | Skipped]:
        """Every record from the ``start``-th one on (0-based, header excluded)."""
        handle = self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        with handle:
            if self.format == "jsonl":
                yield from self._jsonl(handle, start)
            else:
                yield from self._csv(handle, start)

    def _jsonl(self, handle: io.TextIOBase, start: int) -> Iterator[RawPost | Skipped]:
        index = 0
        for line_no, (line, whole) in enumerate(_lines(handle), 1):
            if not line.strip():
                continue
            index += 1
            if index <= start:
                continue
            where = f"ligne {line_no}"
            if not whole:
                yield Skipped(TOO_LONG, where, line[:80])
                continue
            if _bad_text(line):
                yield Skipped("Encodage invalide (UTF-8 attendu).", where)
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Skipped(
                    f"JSON mal formé (colonne {exc.colno}) : {exc.msg}.", where, line[:80]
                )
                continue
            except RecursionError:
                # Arrays or objects nested a thousand deep: uncaught, the source failed
                # on this line at every retry and never read the lines after it.
                yield Skipped(
                    "JSON mal formé (colonne 1) : imbrication trop profonde.", where, line[:80]
                )
                continue
            if not isinstance(data, dict):
                yield Skipped("Un objet JSON est attendu sur chaque ligne.", where, line[:80])
                continue
            yield self._record(data, where)

    def _csv(self, handle: io.TextIOBase, start: int) -> Iterator[RawPost | Skipped]:
        reader = csv.reader(
            _csv_lines(handle), skipinitialspace=self.format == "crisislex", strict=True
        )
        try:
            header = next(reader)
        except StopIteration:
            return
        except (csv.Error, _LineTooLong) as exc:
            detail = "ligne trop longue" if isinstance(exc, _LineTooLong) else str(exc)
            raise SourceError(
                f"En-tête CSV illisible (ligne 1) : {detail}.", retryable=False
            ) from exc
        names = [h.strip().lower() for h in header]
        if self.format == "crisislex":
            names = ["id", "text", *CRISISLEX_LABELS]
        fields = [_FIELD_OF.get(n, n) for n in names]
        missing = [f for f in ("id", "text") if f not in fields]
        if missing:
            raise SourceError(
                "Colonnes obligatoires absentes de l'en-tête (ligne 1) : " + ", ".join(missing),
                retryable=False,
            )
        index = 0
        line_no = reader.line_num
        while True:
            first_line = line_no + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The csv module cannot resynchronise after a broken quote.
                raise SourceError(
                    f"CSV illisible à partir de la ligne {first_line} : {exc}.", retryable=False
                ) from exc
            except _LineTooLong as exc:
                raise SourceError(
                    f"CSV illisible à partir de la ligne {exc.line_no} : ligne de plus de "
                    f"{MAX_LINE} caractères.",
                    retryable=False,
                ) from exc
            line_no = reader.line_num
            if not row:
                continue
            index += 1
            if index <= start:
                continue
            where = f"ligne {first_line}"
            if any(_bad_text(cell) for cell in row):
                yield Skipped("Encodage invalide (UTF-8 attendu).", where)
                continue
            if len(row) != len(fields):
                yield Skipped(
                    f"{len(row)} colonnes au lieu de {len(fields)}.", where, ",".join(row)[:80]
                )
                continue
            yield self._record(dict(zip(fields, row, strict=True)), where)

    def _record(self, data: Mapping[str, Any], where: str) -> RawPost | Skipped:
        fields = {_FIELD_OF.get(str(k).lower(), str(k)): v for k, v in data.items()}
        ext = fields.get("id")
        if isinstance(ext, bool) or ext is None or not str(ext).strip():
            return Skipped("Identifiant manquant.", where)
        ext_id = str(ext).strip()
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip():
            return Skipped("Texte manquant.", where)
        raw: dict[str, Any] = {}
        try:
            if self.format == "crisislex":
                created, raw["created_at_from"] = self._crisislex_time(ext_id)
                raw["labels"] = {
                    "source": fields.get("information source"),
                    "info_type": fields.get("information type"),
                    "informativeness": fields.get("informativeness"),
                }
            else:
                if fields.get("created_at") in (None, ""):
                    return Skipped("Date manquante (colonne created_at).", where)
                created = parse_time(fields["created_at"])
            coordinates = self._coordinates(fields)
        except (ValueError, OverflowError, OSError) as exc:
            return Skipped(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", where)
        media = fields.get("media") or ()
        if isinstance(media, str):
            media = media.split()
        author = fields.get("author")
        # Allow-list: an export's other columns (user_screen_name, author_id, name, phone,
        # ip…) are the author's, and are named in the status rather than stored.
        for name, value in fields.items():
            if name in _READ:
                continue
            kept = _kept_column(name, value)
            if kept is None:
                if len(self.not_kept) < MAX_COUNTED_COLUMNS:
                    self.not_kept.setdefault(_column_name(name))
                continue
            raw[name] = kept
        return RawPost(
            source_kind=self.kind,
            source_id=self.source_id,
            external_id=ext_id,
            text=text,
            created_at=created,
            url=_opt_str(fields.get("url")),
            language=_opt_str(fields.get("language")),
            author_key=self.pseudonymise(str(author)) if author not in (None, "") else None,
            author_kind=_opt_str(fields.get("author_kind")),
            coordinates=coordinates,
            media_urls=tuple(str(m) for m in media) if isinstance(media, list | tuple) else (),
            reply_to=_opt_str(fields.get("reply_to")),
            repost_of=_opt_str(fields.get("repost_of")),
            raw=raw,
        )

    def _crisislex_time(self, tweet_id: str) -> tuple[datetime, str]:
        if tweet_id in self.timestamps:
            try:
                return parse_time(self.timestamps[tweet_id]), "timestamps"
            except ValueError:
                pass  # a damaged timestamp row: the id itself still dates the tweet
        if not (tweet_id.isascii() and tweet_id.isdigit()):
            raise ValueError(f"identifiant de tweet non numérique « {tweet_id[:30]} »")
        return snowflake_time(tweet_id), "snowflake"

    @staticmethod
    def _coordinates(fields: Mapping[str, Any]) -> tuple[float, float] | None:
        pair = fields.get("coordinates")
        lat, lon = fields.get("lat"), fields.get("lon")
        if isinstance(pair, list | tuple) and len(pair) == 2:
            lat, lon = pair
        if lat in (None, "") and lon in (None, ""):
            return None
        try:
            latitude, longitude = float(lat), float(lon)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"coordonnées illisibles « {lat}, {lon} »") from exc
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError(f"coordonnées hors limites « {lat}, {lon} »")
        return (latitude, longitude)


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


class FileImportSource:
    """A finite polling source: ``batch_size`` records per poll, then exhausted."""

    kind: ClassVar[str] = "file"
    poll_interval = 0.0

    def __init__(
        self, source_id: str, config: FileImportConfig, *, pseudonymise: Pseudonymiser
    ) -> None:
        self.source_id = source_id
        self.config = config
        self.pseudonymise = pseudonymise
        self._reader: FileReader | None = None
        # The open iterator and how many records it has consumed, so each
        # poll continues where the last stopped instead of rereading the file.
        self._iter: Iterator[RawPost | Skipped] | None = None
        self._position = -1

    def poll(self, checkpoint: Checkpoint) -> Batch:
        if self._reader is None:
            self._reader = FileReader(
                self.config, source_id=self.source_id, pseudonymise=self.pseudonymise
            )
        start = int(checkpoint.get("record", 0))
        if self._iter is None or self._position != start:
            self._iter = self._reader.records(start)
            self._position = start
        posts: list[RawPost] = []
        skipped: list[Skipped] = []
        exhausted = False
        while len(posts) + len(skipped) < self.config.batch_size:
            item = next(self._iter, None)
            if item is None:
                exhausted = True
                break
            self._position += 1
            (posts if isinstance(item, RawPost) else skipped).append(item)  # type: ignore[arg-type]
        return Batch(
            posts,
            {"record": self._position},
            skipped,
            exhausted=exhausted,
            not_kept=tuple(self._reader.not_kept),
        )
