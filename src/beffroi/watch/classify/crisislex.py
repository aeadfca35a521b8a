"""Reader for CrisisLexT26 labelled files, with errors that name the line and column.

Format (one tweet per CSV record, header first)::

    Tweet ID, Tweet Text, Information Source, Information Type, Informativeness
    "401665752564244480","text…",Not labeled,Not labeled,Not related
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .labels import INFO_TYPE_VALUES, INFORMATIVENESS_VALUES, SOURCE_VALUES

HEADER = ("Tweet ID", "Tweet Text", "Information Source", "Information Type", "Informativeness")
_ALLOWED = {
    2: frozenset(SOURCE_VALUES),
    3: frozenset(INFO_TYPE_VALUES),
    4: frozenset(INFORMATIVENESS_VALUES),
}
# A tweet is at most a few hundred characters; a huge field means a broken quote swallowed
# the rest of the file, and the message should say so rather than load garbage.
_MAX_FIELD = 100_000


class CrisisLexFormatError(ValueError):
    def __init__(self, path: str, line: int, column: int | None, message: str) -> None:
        where = f"{path}:{line}" + (f", column {column} ({HEADER[column - 1]!r})" if column else "")
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column


@dataclass(frozen=True)
class LabelledPost:
    id: str
    text: str
    source: str
    info_type: str
    informativeness: str
    line: int


def default_data_dir() -> Path:
    """The shared CrisisLex folder: $BEFFROI_CRISISLEX_DIR, else <repo>/../shared/data/crisislex."""
    env = os.environ.get("BEFFROI_CRISISLEX_DIR")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parents[4]
    return repo_root.parent / "shared" / "data" / "crisislex"


def parse_crisislex(data: bytes, path: str = "<input>") -> list[LabelledPost]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CrisisLexFormatError(path, line, None, "not valid UTF-8") from None
    return list(_parse_text(text, path))


def read_crisislex(path: str | Path) -> list[LabelledPost]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CrisisLexFormatError(str(p), 0, None, f"cannot read file ({exc.strerror})") from None
    return parse_crisislex(data, str(p))


def _parse_text(text: str, path: str) -> Iterator[LabelledPost]:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CrisisLexFormatError(path, line, None, "NUL byte in file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    seen: dict[str, int] = {}
    start = 1
    header_done = False
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CrisisLexFormatError(path, start, None, f"broken CSV ({exc})") from None
        if not header_done:
            got = tuple(c.strip() for c in row)
            if tuple(h.lower() for h in got) != tuple(h.lower() for h in HEADER):
                raise CrisisLexFormatError(
                    path, start, None, f"expected header {', '.join(HEADER)}; got {', '.join(got)}"
                )
            header_done = True
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != len(HEADER):
            raise CrisisLexFormatError(
                path, start, None, f"expected {len(HEADER)} fields, found {len(row)}"
            )
        for col, value in enumerate(row, start=1):
            if len(value) > _MAX_FIELD:
                raise CrisisLexFormatError(
                    path, start, col, "field longer than 100,000 characters (unclosed quote?)"
                )
        tweet_id = row[0].strip()
        if not tweet_id.isascii() or not tweet_id.isdigit():
            raise CrisisLexFormatError(path, start, 1, f"tweet id must be digits, got {tweet_id!r}")
        if tweet_id in seen:
            raise CrisisLexFormatError(
                path, start, 1, f"tweet id {tweet_id} already used on line {seen[tweet_id]}"
            )
        seen[tweet_id] = start
        labels = [row[i].strip() for i in (2, 3, 4)]
        for col, value in zip((3, 4, 5), labels, strict=True):
            if value not in _ALLOWED[col - 1]:
                raise CrisisLexFormatError(path, start, col, f"unknown label {value!r}")
        yield LabelledPost(tweet_id, row[1], labels[0], labels[1], labels[2], start)
    if not header_done:
        raise CrisisLexFormatError(path, 1, None, "empty file (no header)")


@dataclass(frozen=True)
class Event:
    name: str
    posts: list[LabelledPost]


def load_t26(root: Path | None = None, *, exclude: frozenset[str] = frozenset()) -> list[Event]:
    """Every CrisisLexT26 event under root, sorted by name; rows stay in file (time) order."""
    base = (root or default_data_dir()) / "CrisisLexT26"
    if not base.is_dir():
        raise FileNotFoundError(
            f"CrisisLexT26 not found at {base}; set BEFFROI_CRISISLEX_DIR to the crisislex folder"
        )
    events = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        if folder.name in exclude:
            continue
        files = sorted(folder.glob("*-tweets_labeled.csv"))
        if files:
            events.append(Event(folder.name, read_crisislex(files[0])))
    return events


def load_lexicon(root: Path | None = None) -> list[str]:
    path = (root or default_data_dir()) / "CrisisLexLexicon" / "CrisisLexRec.txt"
    terms = [t.strip().lower() for t in path.read_text(encoding="utf-8").splitlines()]
    return sorted({t for t in terms if t})
