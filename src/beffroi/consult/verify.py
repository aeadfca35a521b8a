"""The independent verifier: everything a scrutineer can check from a bundle.

:func:`verify_bundle` returns a :class:`Report`; ``report.ok`` is True only if
every check below holds (failures are French sentences naming the entry):

* the spec parses and its hash equals the published opening hash and the
  journal's ``opened`` event;
* credentials: well-formed, unique keys, known segments; revocations agree
  with the journal;
* each board entry: numbered 1..N, chained (``prev``), its ``receipt`` and
  ``hash`` recomputed, received in the period and in time order, for this
  consultation and spec hash, answers valid for the spec; keyed: key known,
  not used at or after its revocation, Ed25519 signature valid, ``seq``
  strictly increasing per key; unkeyed: allowed by the access mode, unsigned;
* the journal's ``closed`` event, if present, names the board's head;
* the results recomputed with the same tally as the server equal
  ``results.json``, with at most one counted ballot per key.

Per-entry checks that need no other entry run in worker processes for big
boards (signature verification dominates the cost).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from beffroi.consult.ballot import (
    DOMAIN,
    HEX64,
    HEX128,
    BallotError,
    check_shape,
    receipt,
    signed_bytes,
    verify_signature,
)
from beffroi.consult.board import entry_hash
from beffroi.consult.bundle import (
    JOURNAL_KINDS,
    BundleError,
    credentials_for_tally,
    flags_from_journal,
    journal_hash,
    parse_json,
    parse_jsonl,
    read_bundle,
)
from beffroi.consult.canonical import (
    CanonicalError,
    canonical_bytes,
    canonical_bytes_parsed,
    loads_strict,
)
from beffroi.consult.spec import (
    AnswersError,
    Spec,
    SpecError,
    format_time,
    parse_time,
    spec_from_dict,
    spec_hash,
    validate_answers,
)
from beffroi.consult.tally import select, tally

MAX_LISTED = 50
PARALLEL_THRESHOLD = 4000
CHUNK = 2000
Progress = Callable[[int, int], None]


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    _omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self._omitted

    def fail(self, message: str) -> None:
        if len(self.failures) < MAX_LISTED:
            self.failures.append(message)
        else:
            self._omitted += 1

    def lines(self) -> list[str]:
        out = list(self.failures)
        if self._omitted:
            out.append(f"… et {self._omitted} autre(s) anomalie(s)")
        return out


# -- per-entry checks (run in workers) ---------------------------------------------

_WORKER_SPEC: Spec | None = None


def _init_worker(spec_dict: dict[str, Any]) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = spec_from_dict(spec_dict, strict=True, extra_top=frozenset({"opening"}))


ENTRY_KEYS = frozenset({"n", "received_at", "ballot", "signature", "receipt", "prev", "hash"})


class _Where:
    """The place of an entry in messages, formatted only if a message is made."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __str__(self) -> str:
        return f"ballots.jsonl, entrée {self.i}"

    def __format__(self, format_spec: str) -> str:
        return str(self)


def _check_entry_alone(
    spec: Spec, sh: str, i: int, entry: Any, raw: bytes | None = None
) -> list[str]:
    """Checks of one entry that need no other entry (``i``: its rank on the board).

    ``raw`` is the JSON line ``entry`` was parsed from by ``loads_strict``; it
    allows the fast canonical encoding.
    """
    where = _Where(i)
    if not isinstance(entry, dict):
        return [f"{where} : objet attendu"]
    if entry.keys() != ENTRY_KEYS:
        missing = ENTRY_KEYS - entry.keys()
        if missing:
            return [f"{where} : champ(s) manquant(s) {', '.join(sorted(missing))}"]
        extra = entry.keys() - ENTRY_KEYS
        return [f"{where} : champ(s) inattendu(s) {', '.join(sorted(map(str, extra)))}"]
    errors: list[str] = []
    ballot = entry["ballot"]
    sig = entry["signature"]
    try:
        check_shape(ballot, encode=False)
        if raw is None:
            signed = signed_bytes(ballot)
        else:
            signed = DOMAIN + canonical_bytes_parsed(ballot, raw)
    except BallotError as exc:
        return [f"{where} : {exc.message}"]
    except CanonicalError as exc:
        return [f"{where} : bulletin non encodable ({exc})"]
    if sig is not None and (not isinstance(sig, str) or not HEX128.match(sig)):
        return [f"{where} : signature mal formée"]
    rec = receipt(ballot, sig, signed=signed)
    if rec != entry["receipt"]:
        errors.append(f"{where} : le reçu ne correspond pas au bulletin (bulletin modifié ?)")
    if (
        not isinstance(entry["received_at"], str)
        or not isinstance(entry["prev"], str)
        or type(entry["n"]) is not int
    ):
        errors.append(f"{where} : n, received_at ou prev de type inattendu")
    elif entry["hash"] != entry_hash(entry["n"], entry["prev"], entry["received_at"], rec):
        errors.append(f"{where} : empreinte de l'entrée incorrecte")
    if ballot["consultation"] != spec.id:
        errors.append(f"{where} : bulletin d'une autre consultation ({ballot['consultation']!r})")
    if ballot["spec_hash"] != sh:
        errors.append(f"{where} : bulletin signé pour une autre version des questions")
    if ballot["public_key"] is not None:
        if sig is None:
            errors.append(f"{where} : bulletin avec clé mais sans signature")
        else:
            try:
                verify_signature(ballot, sig, signed=signed)
            except BallotError:
                errors.append(f"{where} : signature invalide")
    elif sig is not None:
        errors.append(f"{where} : bulletin sans clé mais signé")
    try:
        validate_answers(spec, ballot["answers"], ballot["rows"])
    except AnswersError as exc:
        errors.append(f"{where} : réponses invalides ({exc})")
    return errors


def _check_lines(spec: Spec, sh: str, lines: list[tuple[int, bytes]]) -> list[str]:
    out: list[str] = []
    for rank, line in lines:
        try:
            entry = loads_strict(line)
        except CanonicalError as exc:
            out.append(f"ballots.jsonl, entrée {rank} : {exc}")
            continue
        except ValueError:
            continue  # reported, with its line and column, by the main process's parser
        out.extend(_check_entry_alone(spec, sh, rank, entry, line))
    return out


def _check_chunk(args: tuple[str, list[tuple[int, bytes]]]) -> list[str]:
    sh, lines = args
    assert _WORKER_SPEC is not None
    return _check_lines(_WORKER_SPEC, sh, lines)


def _ranked_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Non-blank lines with their rank (1-based), the numbering the chain uses."""
    return list(enumerate((ln for ln in data.split(b"\n") if ln.strip()), start=1))


class _EntryChecks:
    """Runs the per-entry checks, in worker processes for big boards.

    Started before the main process parses the board for the chain checks, so
    both proceed at once on a multi-core machine.
    """

    def __init__(
        self,
        spec: Spec,
        spec_dict: dict[str, Any],
        data: bytes,
        workers: int | None,
        progress: Progress | None,
    ) -> None:
        self.spec = spec
        self.sh = spec_hash(spec)
        self.lines = _ranked_lines(data)
        self.progress = progress
        total = len(self.lines)
        n = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[list[str]]] = []
        if total >= PARALLEL_THRESHOLD and n > 1:
            self.pool = ProcessPoolExecutor(
                max_workers=n, initializer=_init_worker, initargs=(spec_dict,)
            )
            for s in range(0, total, CHUNK):
                self.futures.append(
                    self.pool.submit(_check_chunk, (self.sh, self.lines[s : s + CHUNK]))
                )

    def results(self, report: Report) -> None:
        total = len(self.lines)
        if self.pool is None:
            for s in range(0, total, CHUNK):
                for msg in _check_lines(self.spec, self.sh, self.lines[s : s + CHUNK]):
                    report.fail(msg)
                if self.progress:
                    self.progress(min(total, s + CHUNK), total)
            return
        try:
            for k, fut in enumerate(self.futures):
                for msg in fut.result():
                    report.fail(msg)
                if self.progress:
                    self.progress(min(total, (k + 1) * CHUNK), total)
        finally:
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


# -- whole-bundle checks ---------------------------------------------------------------


def _check_credentials(
    spec: Spec, records: list[Any], journal: list[Any], report: Report
) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    records_by_key: dict[str, dict[str, Any]] = {}
    known_segments = set(spec.segment_codes())
    for i, r in enumerate(records, start=1):
        where = f"credentials.jsonl, ligne {i}"
        if not isinstance(r, dict) or not isinstance(r.get("public_key"), str):
            report.fail(f"{where} : objet avec public_key attendu")
            continue
        pk = r["public_key"]
        if set(r) != {"public_key", "segment", "revoked"} or (
            isinstance(r["revoked"], dict) and set(r["revoked"]) != {"at", "reason", "replaced_by"}
        ):
            report.fail(
                f"{where} : champs attendus public_key, segment, revoked (at, reason, "
                "replaced_by), ni plus ni moins"
            )
        if not HEX64.match(pk):
            report.fail(f"{where} : clé publique mal formée")
            continue
        if pk in keys:
            report.fail(f"{where} : clé publique en double")
            continue
        seg = r.get("segment")
        if known_segments and seg not in known_segments:
            report.fail(f"{where} : segment {seg!r} inconnu de la consultation")
        revoked = r.get("revoked")
        revoked_at = None
        if revoked is not None:
            try:
                revoked_at = parse_time(revoked.get("at"), f"{where}, revoked.at")
            except (SpecError, AttributeError) as exc:
                report.fail(f"{where} : révocation mal formée ({exc})")
        keys[pk] = {"segment": seg, "revoked_at": revoked_at}
        records_by_key[pk] = r
    journal_revoked: dict[Any, dict[str, Any]] = {}
    for ev in journal:
        if ev.get("kind") == "credential_revoked":
            data = _data(ev)
            journal_revoked[data.get("public_key")] = {
                "at": ev.get("at"),
                "reason": data.get("reason"),
                "replaced_by": data.get("replaced_by"),
            }
    listed_revoked = {pk: r["revoked"] for pk, r in records_by_key.items() if r.get("revoked")}
    for pk in sorted(set(listed_revoked) - set(journal_revoked)):
        report.fail(f"credentials.jsonl : clé {pk[:12]}… révoquée sans événement au journal")
    for pk in sorted(set(journal_revoked) - set(listed_revoked), key=str):
        report.fail(f"journal.jsonl : révocation de {str(pk)[:12]}… absente des codes")
    for pk in sorted(set(journal_revoked) & set(listed_revoked)):
        listed = listed_revoked[pk]
        if (
            not isinstance(listed, dict)
            or {k: listed.get(k) for k in ("at", "reason", "replaced_by")} != journal_revoked[pk]
        ):
            report.fail(
                f"credentials.jsonl : la révocation de {pk[:12]}… diffère de celle du journal"
            )
        elif listed["replaced_by"] is not None and listed["replaced_by"] not in keys:
            report.fail(f"credentials.jsonl : le code de remplacement de {pk[:12]}… est absent")
    report.stats["credentials"] = len(keys)
    report.stats["revoked"] = len(listed_revoked)
    return keys


_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def _valid_time(text: Any) -> TypeGuard[str]:
    """The one textual form of a received time, and a real calendar time."""
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text[:-1])
    except ValueError:
        return False
    return True


def _check_chain(spec: Spec, entries: list[Any], keys: dict[str, Any], report: Report) -> None:
    prev = spec_hash(spec)
    last_time = ""
    last_seq: dict[str, int] = {}
    # Canonical times sort as text: no datetime arithmetic in this loop.
    opens, closes = format_time(spec.opens), format_time(spec.closes)
    segments = set(spec.segment_codes())
    revoked = {
        pk: format_time(k["revoked_at"]) for pk, k in keys.items() if k["revoked_at"] is not None
    }
    for i, entry in enumerate(entries, start=1):
        where = f"ballots.jsonl, entrée {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("ballot"), dict):
            continue  # already reported by the per-entry checks
        if entry.get("n") != i:
            report.fail(
                f"{where} : numéro {entry.get('n')!r} au lieu de {i} (entrée ajoutée, "
                "retirée ou déplacée)"
            )
        if entry.get("prev") != prev:
            report.fail(f"{where} : chaînage rompu (prev ne désigne pas l'entrée précédente)")
        this_hash = entry.get("hash")
        prev = this_hash if isinstance(this_hash, str) else ""
        when = entry.get("received_at")
        if not _valid_time(when):
            report.fail(f"{where} : date de réception invalide (forme AAAA-MM-JJTHH:MM:SS.ffffffZ)")
            continue
        if when < last_time:
            report.fail(f"{where} : reçue avant l'entrée précédente")
        last_time = when
        if not opens <= when < closes:
            report.fail(f"{where} : reçue hors de la période de la consultation")
        ballot = entry["ballot"]
        pk = ballot.get("public_key")
        if pk is not None and not isinstance(pk, str):
            continue  # malformed key: reported by the per-entry checks
        if pk is None:
            if spec.access == "credentialed":
                report.fail(f"{where} : bulletin sans code dans une consultation sur codes")
            seg = ballot.get("segment")
            if segments and (not isinstance(seg, str) or seg not in segments):
                report.fail(f"{where} : segment {seg!r} inconnu")
            continue
        if spec.access == "open":
            report.fail(f"{where} : bulletin avec clé dans une consultation ouverte")
        key = keys.get(pk)
        if key is None:
            report.fail(f"{where} : clé publique inconnue de la liste des codes")
            continue
        if pk in revoked and when >= revoked[pk]:
            report.fail(f"{where} : bulletin accepté après la révocation de sa clé")
        seq = ballot.get("seq")
        if isinstance(seq, int) and pk in last_seq and seq <= last_seq[pk]:
            report.fail(f"{where} : seq {seq} non croissant pour cette clé (rejeu ?)")
        if isinstance(seq, int):
            last_seq[pk] = max(seq, last_seq.get(pk, 0))
        if ballot.get("segment") is not None:
            report.fail(f"{where} : bulletin avec clé portant un segment")
    report.stats["board_head"] = prev


def _data(ev: dict[str, Any]) -> dict[str, Any]:
    data = ev.get("data")
    return data if isinstance(data, dict) else {}


def _diff(a: Any, b: Any, path: str, out: list[str], limit: int = 10) -> None:
    if len(out) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}/{k} : absent du recomptage")
            elif k not in b:
                out.append(f"{path}/{k} : absent de results.json")
            else:
                _diff(a[k], b[k], f"{path}/{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}/{i}", out, limit)
    elif a != b or type(a) is not type(b):
        out.append(f"{path} : recompté {_short(a)}, publié {_short(b)}")


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "…"


def verify_bundle(
    data: bytes, *, progress: Progress | None = None, workers: int | None = None
) -> Report:
    """Check a bundle's bytes; never raises on bad input (failures go in the report)."""
    report = Report()
    try:
        raw = read_bundle(data)
        consultation = parse_json("consultation.json", raw.members["consultation.json"])
        records = parse_jsonl("credentials.jsonl", raw.members["credentials.jsonl"])
        journal = parse_jsonl("journal.jsonl", raw.members["journal.jsonl"])
        published = parse_json("results.json", raw.members["results.json"])
    except BundleError as exc:
        report.fail(str(exc))
        return report
    if not isinstance(consultation, dict):
        report.fail("consultation.json : objet attendu")
        return report
    try:
        spec = spec_from_dict(consultation, strict=True, extra_top=frozenset({"opening"}))
    except SpecError as exc:
        report.fail(f"consultation.json : {exc}")
        return report
    sh = spec_hash(spec)
    report.stats["spec_hash"] = sh

    checks = _EntryChecks(spec, consultation, raw.members["ballots.jsonl"], workers, progress)
    try:
        return _verify_rest(spec, consultation, raw, records, journal, published, checks, report)
    finally:
        checks.close()


def _verify_rest(
    spec: Spec,
    consultation: dict[str, Any],
    raw: Any,
    records: list[Any],
    journal: list[Any],
    published: Any,
    checks: _EntryChecks,
    report: Report,
) -> Report:
    sh = spec_hash(spec)
    try:
        entries = parse_jsonl("ballots.jsonl", raw.members["ballots.jsonl"])
    except BundleError as exc:
        report.fail(str(exc))
        entries = None
    report.stats["entries"] = len(entries) if entries is not None else None

    opening = consultation.get("opening")
    if not isinstance(opening, dict) or set(opening) != {"spec_hash", "at"}:
        report.fail("consultation.json : « opening » doit contenir spec_hash et at, sans plus")
        opening = {}
    elif opening.get("spec_hash") != sh:
        report.fail(
            "consultation.json : l'empreinte publiée à l'ouverture ne correspond pas "
            "aux questions et règles gelées"
        )
    journal = [ev for ev in journal if isinstance(ev, dict)]
    _check_journal(spec, journal, opening.get("at"), len(records), report)
    keys = _check_credentials(spec, records, journal, report)
    if entries is not None:
        _check_chain(spec, entries, keys, report)
        head = report.stats.get("board_head")
        for ev in journal:
            if ev.get("kind") == "closed":
                closed = _data(ev)
                if closed.get("head") != head or closed.get("entries") != len(entries):
                    report.fail(
                        "journal.jsonl : l'événement « closed » désigne une autre tête de "
                        "chaîne ou un autre nombre d'entrées que le tableau"
                    )
    checks.results(report)
    if entries is None:
        return report
    hashes = {
        e.get("hash") for e in entries if isinstance(e, dict) and isinstance(e.get("hash"), str)
    }
    flags = flags_from_journal(journal)
    for h in flags:
        if h not in hashes:
            report.fail(f"journal.jsonl : signalement sur une entrée absente ({h[:12]}…)")
    if not report.ok:
        report.fail("recomptage non effectué : le tableau comporte des anomalies")
        return report

    creds = credentials_for_tally(r for r in records if isinstance(r, dict))
    selection = select(spec, creds, entries, flags)
    counted = selection[0]
    per_key: dict[str, int] = {}
    for e in counted:
        pk = e["ballot"]["public_key"]
        if pk is not None:
            per_key[pk] = per_key.get(pk, 0) + 1
    multi = [pk for pk, c in per_key.items() if c > 1]
    if multi:
        report.fail(f"{len(multi)} clé(s) avec plus d'un bulletin compté")
    recount = tally(spec, creds, entries, flags, selection=selection)
    report.stats["counted"] = recount["counted"]
    try:
        same = canonical_bytes(recount) == canonical_bytes(published)
    except CanonicalError:
        same = False
    if not same:
        diffs: list[str] = []
        _diff(recount, published, "", diffs)
        report.fail("results.json ne correspond pas au recomptage : " + "; ".join(diffs))
    return report


def _check_journal(
    spec: Spec,
    journal: list[dict[str, Any]],
    opening_at: Any,
    n_credentials: int,
    report: Report,
) -> None:
    sh = spec_hash(spec)
    for i, ev in enumerate(journal, start=1):
        if ev.get("kind") not in JOURNAL_KINDS:
            report.fail(f"journal.jsonl, événement {i} : type {ev.get('kind')!r} inconnu")
    opened = [ev for ev in journal if ev.get("kind") == "opened"]
    if len(opened) != 1 or (opened[0].get("data") or {}).get("spec_hash") != sh:
        report.fail("journal.jsonl : un seul événement « opened » portant l'empreinte attendu")
    elif opening_at != opened[0].get("at"):
        report.fail("consultation.json : date d'ouverture différente de celle du journal")
    prev: Any = sh
    for i, ev in enumerate(journal, start=1):
        if set(ev) != {"n", "at", "kind", "data", "prev", "hash"}:
            report.fail(
                f"journal.jsonl, événement {i} : champs attendus n, at, kind, data, "
                "prev, hash, ni plus ni moins"
            )
        if ev.get("n") != i or ev.get("prev") != prev:
            report.fail(
                f"journal.jsonl, événement {i} : numéro ou chaînage rompu "
                "(événement ajouté, retiré ou déplacé ?)"
            )
        try:
            if ev.get("hash") != journal_hash(ev):
                report.fail(f"journal.jsonl, événement {i} : empreinte incorrecte (modifié ?)")
        except CanonicalError:
            report.fail(f"journal.jsonl, événement {i} : contenu non encodable")
        prev = ev.get("hash")
    imported = sum(
        _data(ev).get("count", 0)
        for ev in journal
        if ev.get("kind") == "credentials_imported" and isinstance(_data(ev).get("count", 0), int)
    )
    added = sum(1 for ev in journal if ev.get("kind") == "credential_added")
    if spec.access != "open" and imported + added != n_credentials:
        report.fail(
            f"journal.jsonl : {imported} code(s) importé(s) et {added} réémis, mais "
            f"{n_credentials} dans credentials.jsonl"
        )
    times = [ev.get("at") for ev in journal]
    if not all(isinstance(t, str) for t in times) or times != sorted(times, key=str):
        report.fail("journal.jsonl : dates absentes ou non chronologiques")
    rules_added = {
        rule.get("code") if isinstance(rule := _data(ev).get("rule"), dict) else None
        for ev in journal
        if ev.get("kind") == "rule_added"
    }
    post_hoc = {r.code for r in spec.rules if r.added_after_opening}
    for code in sorted(rules_added - post_hoc, key=str):
        report.fail(f"journal.jsonl : règle ajoutée {code!r} absente des règles post hoc")
    for code in sorted(post_hoc - rules_added):
        report.fail(f"consultation.json : règle post hoc {code!r} sans événement au journal")
    # A post-hoc rule may be extended by later decisions (exclude_entries): the
    # published rule must be the one the last of its journal events recorded.
    last_recorded = {
        rule.get("code"): rule
        for ev in journal
        if ev.get("kind") == "rule_added" and isinstance(rule := _data(ev).get("rule"), dict)
    }
    for rule in spec.to_dict()["rules"]:
        recorded = last_recorded.get(rule["code"])
        if rule["added_after_opening"] and recorded is not None and recorded != rule:
            report.fail(
                f"consultation.json : la règle post hoc {rule['code']!r} diffère de sa "
                "dernière inscription au journal (modifiée sans décision journalisée ?)"
            )
