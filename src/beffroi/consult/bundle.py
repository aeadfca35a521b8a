"""The scrutineer bundle: one zip holding everything needed for a recount.

Members (docs/formats/bundle.md is the reference):

* ``consultation.json`` — the spec (spec.py) plus ``"opening": {"spec_hash", "at"}``;
* ``credentials.jsonl`` — ``{"public_key", "segment", "revoked"}`` per line,
  ``revoked`` being null or ``{"at", "reason", "replaced_by"}``;
* ``ballots.jsonl`` — the board entries, in chain order (board.py);
* ``journal.jsonl`` — the consultation's journal events (``JournalEvent``);
* ``results.json`` — the output of :func:`beffroi.consult.tally.tally`.

The writer takes plain data; the reader returns raw members and parses them
with errors naming the member, line and column.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from beffroi.consult.canonical import canonical_hash
from beffroi.consult.credentials import PublicCredential, Revocation
from beffroi.consult.spec import Spec, format_time, spec_hash
from beffroi.consult.tally import Credential, tally

MEMBERS = (
    "consultation.json",
    "credentials.jsonl",
    "ballots.jsonl",
    "journal.jsonl",
    "results.json",
)
# The bundle format this Beffroi writes and the newest its verifier reads. It is
# recorded once, in the journal's ``opened`` event (``bundle_format``), so it is
# frozen with the rules at the opening and chained with every later event; a bundle
# whose ``opened`` event has none is format 1 (written before the field existed).
# docs/formats/bundle.md, "Format version", says what each number means.
BUNDLE_FORMAT = 3
OLDEST_FORMAT = 1
# A guard against zip bombs; a 1,000,000-ballot board is about 300 MB.
MAX_MEMBER_BYTES = 4 * 2**30
JOURNAL_KINDS = (
    "opened",
    "credentials_imported",
    "credential_revoked",
    "credential_added",
    "flag",
    "rule_added",
    "closed",
)


class BundleError(ValueError):
    """A bundle that cannot be read; the message names the member and line."""


@dataclass(frozen=True)
class JournalEvent:
    at: datetime
    kind: str
    data: dict[str, Any]

    def to_dict(self, n: int, prev: str) -> dict[str, Any]:
        line = {
            "n": n,
            "at": format_time(self.at),
            "kind": self.kind,
            "data": self.data,
            "prev": prev,
        }
        line["hash"] = journal_hash(line)
        return line


def opened_data(frozen_hash: str, bundle_format: int = BUNDLE_FORMAT) -> dict[str, Any]:
    """The ``opened`` event's data: the spec hash and the bundle format written
    (format 1 has none: it predates the number)."""
    if bundle_format == 1:
        return {"spec_hash": frozen_hash}
    return {"spec_hash": frozen_hash, "bundle_format": bundle_format}


# The first format whose spec carries its own number, so the published spec hash
# covers it and a rebuilt journal cannot lower it.
SPEC_ANCHORED_FORMAT = 3


def frozen_spec(spec: Spec) -> Spec:
    """The spec as the opening freezes it: stamped with the bundle format, which its
    hash (published, signed into every ballot) then covers."""
    return replace(spec, bundle_format=BUNDLE_FORMAT)


def journal_hash(line: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical ``{"n", "at", "kind", "data", "prev"}`` of a journal line."""
    return canonical_hash({k: line.get(k) for k in ("n", "at", "kind", "data", "prev")})


def journal_lines(spec: Spec, events: Iterable[JournalEvent]) -> list[dict[str, Any]]:
    """Number and chain the consultation's journal events, anchored on the spec hash
    (as the board is), in the order given."""
    out: list[dict[str, Any]] = []
    prev = spec_hash(spec)
    for n, ev in enumerate(events, start=1):
        line = ev.to_dict(n, prev)
        prev = line["hash"]
        out.append(line)
    return out


def flags_from_journal(journal: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """entry hash → integrity flags raised on it (from ``flag`` events)."""
    out: dict[str, list[str]] = {}
    for ev in journal:
        if ev.get("kind") == "flag":
            data = ev.get("data")
            if not isinstance(data, dict):
                continue
            out.setdefault(str(data.get("entry")), []).append(str(data.get("flag")))
    return out


def credential_records(
    public: Iterable[PublicCredential], revocations: Iterable[Revocation] = ()
) -> list[dict[str, Any]]:
    revoked = {r.public_key: r for r in revocations}
    out = []
    for p in sorted(public, key=lambda p: p.public_key):
        r = revoked.get(p.public_key)
        out.append(
            {
                "public_key": p.public_key,
                "segment": p.segment,
                "revoked": None
                if r is None
                else {"at": format_time(r.at), "reason": r.reason, "replaced_by": r.replaced_by},
            }
        )
    return out


def credentials_for_tally(records: Iterable[Mapping[str, Any]]) -> dict[str, Credential]:
    return {
        r["public_key"]: Credential(r.get("segment"), r.get("revoked") is not None) for r in records
    }


def _jsonl(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
        for r in rows
    ).encode("utf-8")


def build_bundle(
    spec: Spec,
    opened_at: datetime,
    credentials: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    journal: list[dict[str, Any]],
    results: dict[str, Any] | None = None,
) -> bytes:
    """The bundle's bytes.  ``results`` defaults to a fresh tally."""
    if results is None:
        results = tally(
            spec, credentials_for_tally(credentials), entries, flags_from_journal(journal)
        )
    consultation = spec.to_dict()
    consultation["opening"] = {"spec_hash": spec_hash(spec), "at": format_time(opened_at)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        pretty = {"ensure_ascii": False, "indent": 1, "sort_keys": True}
        zf.writestr("consultation.json", json.dumps(consultation, **pretty))  # type: ignore[arg-type]
        zf.writestr("credentials.jsonl", _jsonl(credentials))
        zf.writestr("ballots.jsonl", _jsonl(entries))
        zf.writestr("journal.jsonl", _jsonl(journal))
        zf.writestr("results.json", json.dumps(results, **pretty))  # type: ignore[arg-type]
    return buf.getvalue()


def write_bundle(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


@dataclass
class RawBundle:
    members: dict[str, bytes] = field(default_factory=dict)


def read_bundle(data: bytes, only: Iterable[str] = MEMBERS) -> RawBundle:
    """Open the zip and return its five members, or those in ``only`` (BundleError
    if one of the five is missing, or if one read is unreadable)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleError("le fichier n'est pas une archive zip") from exc
    with zf:
        listed = zf.namelist()
        names = set(listed)
        # zipfile reads the last of several members with one name, another tool may
        # read the first: a forged copy next to the honest one would show one figure
        # to the verifier and another to the eye.  Any repeated name is refused.
        repeated = sorted(n for n, k in Counter(listed).items() if k > 1)
        if repeated:
            raise BundleError(
                "membre(s) en double dans l'archive (lequel fait foi ?) : " + ", ".join(repeated)
            )
        missing = [m for m in MEMBERS if m not in names]
        if missing:
            raise BundleError("membre(s) manquant(s) : " + ", ".join(missing))
        raw = RawBundle()
        for m in only:
            if zf.getinfo(m).file_size > MAX_MEMBER_BYTES:
                raise BundleError(f"{m} : plus de {MAX_MEMBER_BYTES // 2**30} Gio décompressé")
            try:
                raw.members[m] = zf.read(m)
            except (zipfile.BadZipFile, OSError) as exc:
                raise BundleError(f"{m} : illisible dans l'archive ({exc})") from exc
    return raw


def parse_json(member: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleError(f"{member} : pas en UTF-8 (octet {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{member}, ligne {exc.lineno}, colonne {exc.colno} : JSON invalide ({exc.msg})"
        ) from exc
    except RecursionError:
        # Arrays or objects nested a thousand deep: no bundle Beffroi writes has them.
        raise BundleError(f"{member} : JSON imbriqué trop profondément") from None


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def parse_jsonl(member: str, data: bytes) -> list[Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{member} : pas en UTF-8 (octet {exc.start})") from exc
    out = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        # The scanner alone for a line that is exactly one value (the usual case:
        # a credential list has a line per voter); json.loads for anything else,
        # with the same result and its error messages.
        try:
            value, end = _SCAN(line, 0)
            if end == len(line):
                out.append(value)
                continue
        except (StopIteration, json.JSONDecodeError):
            pass
        except RecursionError:
            raise BundleError(
                f"{member}, ligne {lineno} : JSON imbriqué trop profondément"
            ) from None
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise BundleError(
                f"{member}, ligne {lineno}, colonne {exc.colno} : JSON invalide ({exc.msg})"
            ) from exc
    return out


def board_csv(
    spec: Spec, entries: Iterable[Mapping[str, Any]], credentials: Mapping[str, Credential]
) -> str:
    """The public board as CSV (one row per entry), for the download next to the JSONL.

    Answers get one column per question (``question`` or ``L1.question`` for
    row *1*); multiple choices are joined with ``|``.  The JSON Lines file
    remains the reference: signatures are checked on it, not on this.
    """
    import csv

    global_qs = [q.code for q in spec.questions if not q.per_row]
    row_qs = [q.code for q in spec.questions if q.per_row]
    n_rows = len(spec.rows.labels) if spec.rows else 0
    header = ["n", "received_at", "verified", "segment", "public_key", "seq", *global_qs]
    header += [f"L{i + 1}.{code}" for i in range(n_rows) for code in row_qs]
    header += ["signature", "receipt", "prev", "hash"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return "|".join(str(v) for v in value)
        return str(value)

    for e in entries:
        b = e["ballot"]
        pk = b["public_key"]
        cred = credentials.get(pk) if pk is not None else None
        seg = cred.segment if cred is not None else b["segment"]
        rows = b["rows"]
        row_cells = [
            cell(rows[i].get(code)) if i < len(rows) else ""
            for i in range(n_rows)
            for code in row_qs
        ]
        w.writerow(
            [
                e["n"],
                e["received_at"],
                "oui" if pk is not None else "non",
                cell(seg),
                cell(pk),
                b["seq"],
                *(cell(b["answers"].get(c)) for c in global_qs),
                *row_cells,
                cell(e["signature"]),
                e["receipt"],
                e["prev"],
                e["hash"],
            ]
        )
    return buf.getvalue()
