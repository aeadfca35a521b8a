"""The independent verifier: everything a scrutineer can check from a bundle.

:func:`verify_bundle` returns a :class:`Report`; ``report.ok`` is True only if
every check below holds (failures are French sentences naming the entry):

* the bundle format (``bundle_format`` of the journal's ``opened`` event, 1 when
  absent) is one this verifier reads; a newer one is refused before anything else.
  From format 3 the spec carries it too (stamped at the opening, so under the
  published hash) and the two must agree: a rebuilt journal cannot lower it. Only
  a spec without the stamp (opened by an older Beffroi) is read by an older
  format's rules, and those are never milder except where that Beffroi allowed
  what is now refused (a code revoked without replacement after it voted: a
  warning);
* the spec parses and its hash equals the published opening hash and the
  journal's ``opened`` event;
* the journal: chained from the spec hash, every line an event whose ``data`` is an
  object and whose time is in the one form Beffroi writes (``format_time``), in time
  order; a value a check reads that is not in the form Beffroi writes is a failure,
  never a reason to skip the check;
* credentials: well-formed, unique keys, known segments; revocations agree
  with the journal;
* each board entry: numbered 1..N, chained (``prev``), its ``receipt`` and
  ``hash`` recomputed, received in the period and in time order, for this
  consultation and spec hash, answers valid for the spec; keyed: key known,
  not used at or after its revocation, Ed25519 signature valid, ``seq``
  strictly increasing per key; unkeyed: allowed by the access mode, unsigned;
* reissued keys pair one to one with the revocations naming them; the imported
  keys match the journal's fingerprint, and ``stats["keys_fingerprint"]`` covers
  every key (reissued included) for the authority's published figure;
* exclusion decisions only ever grow (replayed event by event) and name entries
  on the board; integrity flags name unsigned entries, none after the close;
* the journal's ``closed`` event, if present, is the only one and names the board's
  head; ``opened`` is the first event; after ``closed`` only post-hoc decisions
  (``rule_added``) may follow (a flag there is a failure of its own);
* each key import: the opening's, if any, directly after ``opened``; later ones
  between the opening and the close, each adding keys (a count of at least 1, a
  new cumulative fingerprint); and no more distinct keys voted before an import
  than had been imported before it (the board, under its published head, dates
  each key's first ballot);
* the results recomputed with the tally's own aggregation equal
  ``results.json``, with at most one counted ballot per key.

How the work is split (big boards): the board is cut into one contiguous part
per worker process.  Each worker parses its part once and runs every check
that needs no other part: the per-entry checks (signature verification
dominates the cost) and the chain checks within the part.  It sends back
only small things: messages, the part's first ``prev`` and first time and its
last hash and time (the main process checks the seams), and the keyed entries
as integer arrays (rank, key index, ``seq``) for the per-key checks that span
parts.  Workers start as soon as the spec is read and receive the credentials
once the main process has checked them.  A worker keeps the answers and sums
its whole part with the tally's ``_aggregate`` while it checks; once the main
process has decided which entries count (the rules of
:func:`beffroi.consult.tally.select`), each worker takes the entries set aside
off its sums and the main process adds the parts' sums.  So no ballot is parsed
twice and the main process never holds the board.  Failures come out in the
order of a single pass, whatever the number of workers; small boards run the
same code in-process.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import itertools
import json
import multiprocessing
import os
import pickle
import re
import signal
import threading
import traceback
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection, wait
from typing import Any, TypeGuard

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from beffroi.consult.ballot import (
    DOMAIN,
    HEX64,
    HEX128,
    BallotError,
    check_shape,
    receipt,
    signed_bytes,
)
from beffroi.consult.board import entry_hash
from beffroi.consult.bundle import (
    BUNDLE_FORMAT,
    JOURNAL_KINDS,
    OLDEST_FORMAT,
    SPEC_ANCHORED_FORMAT,
    BundleError,
    flags_from_journal,
    journal_hash,
    parse_json,
    parse_jsonl,
    read_bundle,
)
from beffroi.consult.canonical import (
    CanonicalError,
    canonical_bytes_parsed,
    loads_strict,
)
from beffroi.consult.credentials import key_list_fingerprint
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
from beffroi.consult.tally import Credential, _aggregate, _merge, assemble, tally

MAX_LISTED = 50
PARALLEL_THRESHOLD = 4000
# Lines between two progress reports of a part.
CHUNK = 2000
# Lines a worker checks on their own while the main process reads the credentials.
PRELUDE = 8000
Progress = Callable[[int, int], None]


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    # Explanations printed after the failures, not counted as anomalies: what a
    # failure may come from and what it changes (late flags, for now).
    notes: list[str] = field(default_factory=list)
    # Said whatever the verdict, without failing it: what an older format allowed and
    # the scrutineer should still look at.
    warnings: list[str] = field(default_factory=list)
    _omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self._omitted

    def fail(self, message: str) -> None:
        if len(self.failures) < MAX_LISTED:
            self.failures.append(message)
        else:
            self._omitted += 1

    def omit(self, count: int) -> None:
        """Count failures a worker found but did not send (beyond what can be listed)."""
        self._omitted += count

    def lines(self) -> list[str]:
        out = list(self.failures)
        if self._omitted == 1:
            out.append("… et 1 autre anomalie")
        elif self._omitted:
            out.append(f"… et {self._omitted} autres anomalies")
        return out


# -- per-entry checks ------------------------------------------------------------------

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


def _answers_error(spec: Spec, answers: Any, rows: Any) -> str | None:
    try:
        validate_answers(spec, answers, rows)
    except AnswersError as exc:
        return str(exc)
    return None


class _MemoAnswers:
    """validate_answers with a memory: a consultation of choice questions has few
    distinct answer sets.  The key is the repr of the parsed answers, which tells
    apart every JSON value (types included).  Given up when it rarely hits (free
    text), so that it never costs more than it saves."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.memo: dict[str, str | None] = {}
        self.calls = 0
        self.hits = 0
        self.on = True

    def __call__(self, answers: Any, rows: Any) -> str | None:
        if not self.on:
            return _answers_error(self.spec, answers, rows)
        self.calls += 1
        key = repr((answers, rows))
        if key in self.memo:
            self.hits += 1
            return self.memo[key]
        error = _answers_error(self.spec, answers, rows)
        if len(self.memo) < 100_000:
            self.memo[key] = error
        if self.calls == 2000 and self.hits < 1000:
            self.on = False
            self.memo.clear()
        return error


def _check_entry_alone(
    spec: Spec,
    sh: str,
    i: int,
    entry: Any,
    raw: bytes | None = None,
    answers_error: Callable[[Any, Any], str | None] | None = None,
) -> list[str]:
    """Checks of one entry that need no other entry (``i``: its rank on the board).

    ``raw`` is the JSON line ``entry`` was parsed from by ``loads_strict``; it
    allows the fast canonical encoding.  ``answers_error`` replaces the
    validation of the answers (a memoised one).
    """
    where = _Where(i)
    if not isinstance(entry, dict):
        return [f"{where} : objet attendu"]
    if entry.keys() != ENTRY_KEYS:
        missing = ENTRY_KEYS - entry.keys()
        if missing:
            fields = "champ manquant" if len(missing) == 1 else "champs manquants"
            return [f"{where} : {fields} {', '.join(sorted(missing))}"]
        extra = entry.keys() - ENTRY_KEYS
        fields = "champ inattendu" if len(extra) == 1 else "champs inattendus"
        return [f"{where} : {fields} {', '.join(sorted(map(str, extra)))}"]
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
    pk = ballot["public_key"]
    if pk is not None:
        if sig is None:
            errors.append(f"{where} : bulletin avec clé mais sans signature")
        else:
            # check_shape matched the key, and the signature was matched above:
            # straight to libsodium (what ballot.verify_signature ends with).
            try:
                crypto_sign_open(bytes.fromhex(sig) + signed, bytes.fromhex(pk))
            except (BadSignatureError, CryptoError, ValueError):
                errors.append(f"{where} : signature invalide")
    elif sig is not None:
        errors.append(f"{where} : bulletin sans clé mais signé")
    if answers_error is None:
        error = _answers_error(spec, ballot["answers"], ballot["rows"])
    else:
        error = answers_error(ballot["answers"], ballot["rows"])
    if error is not None:
        errors.append(f"{where} : réponses invalides ({error})")
    return errors


def _check_lines_error(rank: int, exc: CanonicalError) -> str:
    return f"ballots.jsonl, entrée {rank} : {exc}"


# Hours, minutes and seconds in range here; the date is checked by the calendar.
_TIME_RE = re.compile(r"(\d{4}-\d\d-\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z")
_DAYS: dict[str, bool] = {}


def _valid_time(text: Any) -> TypeGuard[str]:
    """The one textual form of a received time, and a real calendar time."""
    if not isinstance(text, str):
        return False
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return False
    day = m.group(1)
    ok = _DAYS.get(day)
    if ok is None:
        try:
            date.fromisoformat(day)
            ok = True
        except ValueError:
            ok = False
        if len(_DAYS) < 10_000:
            _DAYS[day] = ok
    return ok


# Rank of each chain check within one entry: messages of the main process (seams,
# per-key seq) and of the parts are merged in the order a single pass would give.
(
    _N,
    _PREV,
    _TIME,
    _ORDER,
    _PERIOD,
    _KIND,
    _SEGMENT,
    _OPEN,
    _UNKNOWN,
    _REVOKED,
    _ISSUED,
    _SEQ,
    _KEYSEG,
) = range(13)
_INT64 = 2**63


# What a part needs of one credential: its index in the credential list, its
# segment, its revocation time as canonical text (compared as text) or None, and for
# a reissued key the time of its ``credential_added`` event (None otherwise).
_KeyRef = tuple[int, Any, "str | None", "str | None"]
# What the main process sends each part once the credentials are checked.
_Shared = tuple[dict[str, _KeyRef], frozenset[str], tuple[str, ...]]


@dataclass
class _Checked:
    """What a part sends back after its checks (small; no ballot in it)."""

    first_rank: int
    lines: int
    alone: list[str] = field(default_factory=list)
    alone_omitted: int = 0
    chain: list[tuple[int, int, str]] = field(default_factory=list)
    chain_omitted: int = 0
    syntax: tuple[int, str] | None = None  # (line number, message) of the first bad line
    # Seams: the first entry's prev and the first valid time (checked by the main
    # process against the previous part), and the state after the last entry.
    first_prev: tuple[int, Any] | None = None
    first_time: tuple[int, str] | None = None
    last_prev: str | None = None
    last_time: str | None = None
    # Keyed entries of known keys, in board order.
    k_rank: array[int] = field(default_factory=lambda: array("q"))
    k_key: array[int] = field(default_factory=lambda: array("q"))
    k_seq: array[int] = field(default_factory=lambda: array("q"))
    k_has_seq: bytearray = field(default_factory=bytearray)
    # How many late key imports came at or before each keyed entry (see _Part.cuts).
    k_cut: array[int] = field(default_factory=lambda: array("q"))
    odd_seq: dict[int, Any] = field(default_factory=dict)  # rank -> seq beyond int64
    # Entries whose hash is flagged in the journal or named by a rule: hash -> ranks.
    hits: dict[str, list[int]] = field(default_factory=dict)


class _Part:
    """A contiguous part of the board, checked on its own (in a worker or in-process).

    ``lines`` are (rank, line number, raw bytes) of the part's non-blank lines.
    """

    def __init__(
        self,
        spec: Spec,
        keys: dict[str, _KeyRef],
        interest: frozenset[str],
        lines: list[tuple[int, int, bytes]],
    ) -> None:
        self.spec = spec
        self.sh = spec_hash(spec)
        self.keys = keys
        self.interest = interest
        # The times of the late key imports, sorted: each keyed entry records how many
        # came at or before it, so the main process can count the keys that voted
        # before each import (no more than had been imported).
        self.cuts: tuple[str, ...] = ()
        self.lines = lines
        self.answers_error = _MemoAnswers(spec)
        # rank -> the slim ballot the tally reads, for entries that pass the chain checks.
        self.ballots: dict[int, dict[str, Any]] = {}
        self.hashes: dict[int, Any] = {}
        # The credentials of the part's keyed entries, as the tally reads them; few
        # distinct ones, so one object per (segment, revoked) pair.
        self.credentials: dict[str, Credential] = {}
        self._shared: dict[tuple[Any, bool], Credential] = {}
        self.full: tuple[dict[str, Any], dict[str, Any]] | None = None

    def check(
        self,
        progress: Callable[[int], None] | None = None,
        get_keys: Callable[[], _Shared] | None = None,
    ) -> _Checked:
        """Check the part.  ``get_keys``, if given, returns the credentials and the
        hashes of interest once the main process has them: meanwhile the first
        lines are parsed and checked on their own."""
        spec, sh = self.spec, self.sh
        first_rank = self.lines[0][0] if self.lines else 1
        out = _Checked(first_rank=first_rank, lines=len(self.lines))
        opens, closes = format_time(spec.opens), format_time(spec.closes)
        segments = set(spec.segment_codes())
        access = spec.access
        prev: str | None = None  # unknown until the part's first chained entry
        last_time: str | None = None
        scan = loads_strict
        answers_error = self.answers_error

        def alone(msgs: list[str]) -> None:
            room = MAX_LISTED - len(out.alone)
            out.alone.extend(msgs[:room])
            out.alone_omitted += max(0, len(msgs) - room)

        def chain(rank: int, order: int, text: str) -> None:
            if len(out.chain) < MAX_LISTED:
                out.chain.append((rank, order, text))
            else:
                out.chain_omitted += 1

        def parsed(lines: list[tuple[int, int, bytes]], done: int) -> Iterator[tuple[int, Any]]:
            """Parse and check each entry on its own; yield those the chain checks read."""
            for rank, lineno, raw in lines:
                done += 1
                if progress is not None and done % CHUNK == 0:
                    progress(done)
                try:
                    entry = scan(raw)
                    strict = True
                except CanonicalError as exc:
                    alone([_check_lines_error(rank, exc)])
                    strict = False
                    try:
                        entry = json.loads(raw)
                    except (ValueError, RecursionError) as exc2:
                        self._syntax(out, lineno, exc2)
                        continue
                except (ValueError, RecursionError) as exc:
                    self._syntax(out, lineno, exc)
                    continue
                if strict:
                    msgs = _check_entry_alone(spec, sh, rank, entry, raw, answers_error)
                    if msgs:
                        alone(msgs)
                yield rank, entry

        if get_keys is None:
            stream: Iterable[tuple[int, Any]] = parsed(self.lines, 0)
        else:
            early = list(parsed(self.lines[:PRELUDE], 0))
            self.keys, self.interest, self.cuts = get_keys()
            stream = itertools.chain(early, parsed(self.lines[PRELUDE:], PRELUDE))
        keys, interest, cuts = self.keys, self.interest, self.cuts
        for rank, entry in stream:
            # The chain checks: what a single pass over the board would do.
            if not isinstance(entry, dict):
                continue
            ballot = entry.get("ballot")
            if not isinstance(ballot, dict):
                continue
            if entry.get("n") != rank:
                chain(
                    rank,
                    _N,
                    f"ballots.jsonl, entrée {rank} : numéro {entry.get('n')!r} au lieu de {rank} "
                    "(entrée ajoutée, retirée ou déplacée)",
                )
            this_prev = entry.get("prev")
            if prev is None:
                out.first_prev = (rank, this_prev)
            elif this_prev != prev:
                chain(rank, _PREV, _broken(rank))
            this_hash = entry.get("hash")
            prev = this_hash if isinstance(this_hash, str) else ""
            if isinstance(this_hash, str) and this_hash in interest:
                out.hits.setdefault(this_hash, []).append(rank)
            when = entry.get("received_at")
            if not _valid_time(when):
                chain(
                    rank,
                    _TIME,
                    f"ballots.jsonl, entrée {rank} : date de réception invalide "
                    "(forme AAAA-MM-JJTHH:MM:SS.ffffffZ)",
                )
                continue
            if last_time is None:
                out.first_time = (rank, when)
            elif when < last_time:
                chain(rank, _ORDER, _too_early(rank))
            last_time = when
            if not opens <= when < closes:
                chain(
                    rank,
                    _PERIOD,
                    f"ballots.jsonl, entrée {rank} : reçue hors de la période de la consultation",
                )
            pk = ballot.get("public_key")
            if pk is not None and not isinstance(pk, str):
                continue
            self.hashes[rank] = this_hash
            if pk is None:
                if access == "credentialed":
                    chain(
                        rank,
                        _KIND,
                        f"ballots.jsonl, entrée {rank} : bulletin sans code dans une "
                        "consultation sur codes",
                    )
                seg = ballot.get("segment")
                if segments and (not isinstance(seg, str) or seg not in segments):
                    chain(rank, _SEGMENT, f"ballots.jsonl, entrée {rank} : segment {seg!r} inconnu")
                    continue
                self.ballots[rank] = _slim(ballot, None)
                continue
            if access == "open":
                chain(
                    rank,
                    _OPEN,
                    f"ballots.jsonl, entrée {rank} : bulletin avec clé dans une consultation "
                    "ouverte",
                )
            key = keys.get(pk)
            if key is None:
                chain(
                    rank,
                    _UNKNOWN,
                    f"ballots.jsonl, entrée {rank} : clé publique inconnue de la liste des codes",
                )
                continue
            index, _, revoked_at, added_at = key
            if revoked_at is not None and when >= revoked_at:
                chain(
                    rank,
                    _REVOKED,
                    f"ballots.jsonl, entrée {rank} : bulletin accepté après la révocation de "
                    "sa clé",
                )
            if added_at is not None and when < added_at:
                # The app knows a reissued key only from its credential_added event on.
                chain(
                    rank,
                    _ISSUED,
                    f"ballots.jsonl, entrée {rank} : bulletin reçu le {when}, avant que son "
                    f"code réémis soit ajouté au journal ({added_at}) (journal refait ?)",
                )
            seq = ballot.get("seq")
            out.k_rank.append(rank)
            out.k_key.append(index)
            out.k_cut.append(bisect_right(cuts, when) if cuts else 0)
            if isinstance(seq, int) and -_INT64 < seq < _INT64:
                out.k_seq.append(int(seq))
                out.k_has_seq.append(1)
            else:
                out.k_seq.append(0)
                out.k_has_seq.append(0)
                if isinstance(seq, int):
                    out.odd_seq[rank] = seq
            if ballot.get("segment") is not None:
                chain(
                    rank,
                    _KEYSEG,
                    f"ballots.jsonl, entrée {rank} : bulletin avec clé portant un segment",
                )
            self.ballots[rank] = _slim(ballot, pk)
            if pk not in self.credentials:
                self.credentials[pk] = self._credential(key[1], revoked_at is not None)
        out.last_prev = prev
        out.last_time = last_time
        if not (out.alone or out.alone_omitted or out.chain or out.chain_omitted or out.syntax):
            # The sums over the whole part now, while every worker is busy: the tally
            # then only takes off the entries set aside, a small share of the board.
            # (Not for a part with anomalies: there is no tally then.)
            self.full = _aggregate(
                spec, [{"ballot": b} for b in self.ballots.values()], self.credentials
            )
        if progress is not None:
            progress(len(self.lines))
        return out

    def _credential(self, segment: Any, revoked: bool) -> Credential:
        if not isinstance(segment, str | None):
            return Credential(segment, revoked)
        cred = self._shared.get((segment, revoked))
        if cred is None:
            cred = self._shared[(segment, revoked)] = Credential(segment, revoked)
        return cred

    @staticmethod
    def _syntax(out: _Checked, lineno: int, exc: ValueError | RecursionError) -> None:
        if out.syntax is not None:
            return
        if isinstance(exc, json.JSONDecodeError):
            text = f"ballots.jsonl, ligne {lineno}, colonne {exc.colno} : JSON invalide ({exc.msg})"
        elif isinstance(exc, RecursionError):  # said as for the other members
            text = f"ballots.jsonl, ligne {lineno} : JSON imbriqué trop profondément"
        else:
            text = f"ballots.jsonl, ligne {lineno} : illisible ({exc})"
        out.syntax = (lineno, text)

    def aggregate(
        self, selections: list[set[int]]
    ) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], dict[int, Any]]:
        """For each selection (the ranks set aside in this part), the tally's sums
        over the counted entries; and the hashes of the entries set aside."""
        credentials = self.credentials
        sums = []
        for excluded in selections:
            if self.full is None:
                counted = [
                    {"ballot": b} for rank, b in self.ballots.items() if rank not in excluded
                ]
                sums.append(_aggregate(self.spec, counted, credentials))
                continue
            set_aside = [{"ballot": self.ballots[r]} for r in sorted(excluded) if r in self.ballots]
            overall, per_segment = copy.deepcopy(self.full)
            minus_overall, minus_segments = _aggregate(self.spec, set_aside, credentials)
            _merge_signed(overall, minus_overall, -1)
            for seg, classes in minus_segments.items():
                _merge_signed(per_segment[seg], classes, -1)
            sums.append((overall, per_segment))
        aside = set().union(*selections) if selections else set()
        return sums, {rank: self.hashes.get(rank) for rank in sorted(aside)}


def _merge_signed(into: Any, other: Any, sign: int) -> None:
    """tally._merge with a sign: add (1) or take off (-1) a breakdown of the same shape."""
    if isinstance(into, dict):
        for k, v in other.items():
            if isinstance(v, int):
                into[k] += sign * v
            else:
                _merge_signed(into[k], v, sign)
    else:
        for a, b in zip(into, other, strict=True):
            _merge_signed(a, b, sign)


def _slim(ballot: dict[str, Any], pk: str | None) -> dict[str, Any]:
    # Only what tally._aggregate reads: the part keeps it until the tally.
    return {
        "public_key": pk,
        "segment": ballot.get("segment"),
        "answers": ballot.get("answers"),
        "rows": ballot.get("rows"),
    }


def _broken(rank: int) -> str:
    return (
        f"ballots.jsonl, entrée {rank} : chaînage rompu (prev ne désigne pas l'entrée précédente)"
    )


def _too_early(rank: int) -> str:
    return f"ballots.jsonl, entrée {rank} : reçue avant l'entrée précédente"


def _ranked_lines(data: bytes) -> list[tuple[int, int, bytes]]:
    """Non-blank lines as (rank, line number, bytes); the rank is the numbering the
    chain uses, the line number the one error messages give."""
    out = []
    rank = 0
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            rank += 1
            out.append((rank, lineno, line))
    return out


# -- worker processes ------------------------------------------------------------------


def _serve(
    conn: Connection, spec_dict: dict[str, Any], lines: list[tuple[int, int, bytes]]
) -> None:
    """A worker: check one part, then aggregate it on demand, until stopped."""
    # A forked worker inherits its parent's signal handlers (a server's graceful
    # shutdown, say): the main process stops it with SIGTERM, which must end it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Everything here is acyclic: the cyclic collector would only walk the part's
    # ballots again and again.
    gc.disable()
    try:
        spec = spec_from_dict(spec_dict, strict=True, extra_top=frozenset({"opening"}))
        part = _Part(spec, {}, frozenset(), lines)
        del lines

        def get_keys() -> _Shared:
            # From the parent process, as Connection.recv would unpickle it.
            kind, keys, interest, cuts = pickle.loads(conn.recv_bytes())  # noqa: S301
            if kind != "keys":
                raise EOFError
            return keys, interest, cuts

        conn.send(("checked", part.check(lambda done: conn.send(("progress", done)), get_keys)))
        msg = conn.recv()
        while msg[0] == "aggregate":
            conn.send(("aggregated", part.aggregate(msg[1])))
            msg = conn.recv()
    except EOFError:
        pass
    except BaseException:  # reported to the main process, which raises
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def _send_quietly(conn: Connection, payload: bytes) -> None:
    with contextlib.suppress(OSError):
        conn.send_bytes(payload)


class _Parts:
    """The board's parts: in worker processes for big boards, else one in-process part."""

    def __init__(
        self,
        spec: Spec,
        spec_dict: dict[str, Any],
        data: bytes,
        workers: int | None,
        progress: Progress | None,
    ) -> None:
        lines = _ranked_lines(data)
        self.total = len(lines)
        self.progress = progress
        n = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.local: _Part | None = None
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        self._first: list[int] = []
        self._sizes: list[int] = []
        self.senders: list[threading.Thread] = []
        if self.total < PARALLEL_THRESHOLD or n <= 1:
            self.local = _Part(spec, {}, frozenset(), lines)
            return
        ctx = multiprocessing.get_context()
        size = -(-self.total // n)
        for s in range(0, self.total, size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_serve,
                args=(child, spec_dict, lines[s : s + size]),
                daemon=True,
            )
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    def send_keys(
        self, keys: dict[str, _KeyRef], interest: frozenset[str], cuts: tuple[str, ...] = ()
    ) -> None:
        """The credentials, the hashes of interest and the late imports' times, to
        each part.

        Pickled once; each worker's copy is written by a thread of its own, so
        that a worker still busy with its first lines keeps no other waiting."""
        if self.local is not None:
            self.local.keys, self.local.interest, self.local.cuts = keys, interest, cuts
            return
        payload = pickle.dumps(("keys", keys, interest, cuts), protocol=pickle.HIGHEST_PROTOCOL)
        for conn in self.conns:
            sender = threading.Thread(target=_send_quietly, args=(conn, payload), daemon=True)
            sender.start()
            self.senders.append(sender)

    def check(self) -> list[_Checked]:
        if self.local is not None:
            total = self.total

            def local_progress(done: int) -> None:
                if self.progress:
                    self.progress(done, total)

            return [self.local.check(local_progress if self.progress else None)]
        done = [0] * len(self.conns)
        results: list[_Checked | None] = [None] * len(self.conns)
        waiting = set(range(len(self.conns)))
        while waiting:
            for conn in wait([self.conns[i] for i in waiting]):
                i = self.conns.index(conn)  # type: ignore[arg-type]
                kind, value = self._recv(i)
                if kind == "progress":
                    done[i] = value
                    if self.progress:
                        self.progress(sum(done), self.total)
                else:
                    results[i] = value
                    waiting.discard(i)
        if self.progress:
            self.progress(self.total, self.total)
        return [r for r in results if r is not None]

    def aggregate(
        self, selections: list[set[int]]
    ) -> tuple[list[list[tuple[dict[str, Any], dict[str, Any]]]], dict[int, Any]]:
        """Per part, the sums of each selection; and the hashes of the entries set aside."""
        if self.local is not None:
            sums, aside = self.local.aggregate(selections)
            return [sums], aside
        for i, conn in enumerate(self.conns):
            first = self._first[i]
            last = first + self._sizes[i]
            conn.send(("aggregate", [{r for r in sel if first <= r < last} for sel in selections]))
        all_sums = []
        hashes: dict[int, Any] = {}
        for i in range(len(self.conns)):
            _, (sums, part_hashes) = self._recv(i)
            all_sums.append(sums)
            hashes.update(part_hashes)
        return all_sums, hashes

    def bounds(self, checked: list[_Checked]) -> None:
        self._first = [c.first_rank for c in checked]
        self._sizes = [c.lines for c in checked]

    def _recv(self, i: int) -> tuple[str, Any]:
        try:
            kind, value = self.conns[i].recv()
        except EOFError as exc:
            raise RuntimeError("un processus de vérification s'est arrêté") from exc
        if kind == "error":
            raise RuntimeError(f"erreur dans un processus de vérification :\n{value}")
        return kind, value

    def close(self) -> None:
        # The workers have sent all there is: stop them without waiting for them to
        # free their part of the board, which is what a normal exit would spend on.
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        # A worker stopped before reading its credentials (a bundle refused early)
        # has closed its end: the write fails and the sender ends.
        for sender in self.senders:
            sender.join()
        for conn in self.conns:
            conn.close()
        self.senders = []
        self.conns, self.procs = [], []


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
        if known_segments and (not isinstance(seg, str) or seg not in known_segments):
            report.fail(f"{where} : segment {seg!r} inconnu de la consultation")
        revoked = r.get("revoked")
        revoked_at = None
        if revoked is not None:
            try:
                revoked_at = parse_time(revoked.get("at"), f"{where}, revoked.at")
            except (SpecError, AttributeError) as exc:
                report.fail(f"{where} : révocation mal formée ({exc})")
            else:
                # Read anyway (the board's check against it still runs), but Beffroi
                # writes the one form, as in the journal it must equal.
                if not _valid_time(revoked["at"]):
                    report.fail(
                        f"{where} : date de révocation {_short(revoked['at'])} hors de la "
                        "forme AAAA-MM-JJTHH:MM:SS.ffffffZ (UTC, microsecondes)"
                    )
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
    _check_reissues(keys, journal, report)
    report.stats["credentials"] = len(keys)
    report.stats["revoked"] = len(listed_revoked)
    return keys


def _check_reissues(keys: dict[str, Any], journal: list[dict[str, Any]], report: Report) -> None:
    """Each reissued key pairs with exactly one earlier revocation that names it.

    A ``credential_added`` event is the only way a key enters the list besides an
    import; unpaired, it would let a bundle add keys (and their ballots) that no
    lost letter accounts for, outside the imported keys' fingerprint."""
    # replaced_by -> the revoked key, for revocations whose replacement is still due
    due: dict[str, str] = {}
    for i, ev in enumerate(journal, start=1):
        data = _data(ev)
        if ev.get("kind") == "credential_revoked":
            new = data.get("replaced_by")
            if new is None:
                continue
            if not isinstance(new, str) or new in due or new == data.get("public_key"):
                report.fail(
                    f"journal.jsonl, événement {i} : code de remplacement {str(new)[:12]}… "
                    "invalide ou déjà annoncé par une autre révocation"
                )
                continue
            due[new] = str(data.get("public_key"))
        elif ev.get("kind") == "credential_added":
            pk = data.get("public_key")
            old = due.pop(pk, None) if isinstance(pk, str) else None
            if old is None or not isinstance(pk, str):
                report.fail(
                    f"journal.jsonl, événement {i} : code réémis {str(pk)[:12]}… qu'aucune "
                    "révocation antérieure ne nomme comme remplacement (clé ajoutée ?)"
                )
                continue
            if pk not in keys:
                report.fail(
                    f"journal.jsonl, événement {i} : code réémis {pk[:12]}… absent des codes"
                )
                continue
            old_segment = keys[old]["segment"] if old in keys else None
            if data.get("segment") != old_segment or keys[pk]["segment"] != old_segment:
                report.fail(
                    f"journal.jsonl, événement {i} : le code réémis {pk[:12]}… n'a pas le "
                    f"segment du code qu'il remplace ({old_segment!r})"
                )
    for new, old in due.items():
        report.fail(
            f"journal.jsonl : la révocation de {old[:12]}… annonce le remplacement "
            f"{new[:12]}… sans événement « credential_added »"
        )


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


# -- the bundle ------------------------------------------------------------------------


def verify_bundle(
    data: bytes, *, progress: Progress | None = None, workers: int | None = None
) -> Report:
    """Check a bundle's bytes; never raises on bad input (failures go in the report)."""
    # Parsed JSON holds no reference cycles; the cyclic collector would walk the
    # board's objects many times over for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verify(data, progress, workers)
    except RecursionError:
        # Values nested just shallowly enough for the parser (each member's is checked
        # with its name) and too deep for a later walk (hashing a journal line, comparing
        # results): no bundle Beffroi writes has them.
        report = Report()
        report.fail("valeurs JSON imbriquées trop profondément pour être vérifiées")
        return report
    finally:
        if collecting:
            gc.enable()


def _verify(data: bytes, progress: Progress | None, workers: int | None) -> Report:
    report = Report()
    try:
        raw = read_bundle(data, only=("consultation.json", "ballots.jsonl", "journal.jsonl"))
    except BundleError as exc:
        report.fail(str(exc))
        return report
    # Before anything else: a format this verifier does not know is refused with that
    # reason alone, not with the errors its unknown layout would cause.
    # Parsed once here; a syntax error is reported where it was before (after the
    # credentials' own).
    journal: list[Any] | BundleError
    try:
        journal = parse_jsonl("journal.jsonl", raw.members["journal.jsonl"])
    except BundleError as exc:
        journal = exc
    fmt = _bundle_format(journal)
    report.stats["bundle_format"] = fmt
    if isinstance(fmt, int) and fmt > BUNDLE_FORMAT:
        report.fail(
            f"format de paquet {fmt} : mettez Beffroi à jour (cette version lit les formats "
            f"{OLDEST_FORMAT} à {BUNDLE_FORMAT})"
        )
        return report
    try:
        consultation = parse_json("consultation.json", raw.members["consultation.json"])
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
    if spec.bundle_format is not None and spec.bundle_format > BUNDLE_FORMAT:
        report.stats["bundle_format"] = spec.bundle_format
        report.fail(
            f"format de paquet {spec.bundle_format} : mettez Beffroi à jour (cette version lit "
            f"les formats {OLDEST_FORMAT} à {BUNDLE_FORMAT})"
        )
        return report
    sh = spec_hash(spec)
    report.stats["spec_hash"] = sh
    board = raw.members["ballots.jsonl"]
    del raw
    # The workers start on the board now; they need the credentials only after
    # their first lines, and get them as soon as they are read and checked.
    parts = _Parts(spec, consultation, board, workers, progress)
    try:
        return _verify_rest(data, spec, consultation, board, journal, parts, report)
    finally:
        parts.close()


def _verify_rest(
    data: bytes,
    spec: Spec,
    consultation: dict[str, Any],
    board: bytes,
    parsed_journal: list[Any] | BundleError,
    parts: _Parts,
    report: Report,
) -> Report:
    sh = spec_hash(spec)
    try:
        raw = read_bundle(data, only=("credentials.jsonl", "results.json"))
        records = parse_jsonl("credentials.jsonl", raw.members["credentials.jsonl"])
        if isinstance(parsed_journal, BundleError):
            raise parsed_journal
        journal = parsed_journal
        published = parse_json("results.json", raw.members["results.json"])
    except BundleError as exc:
        report.fail(str(exc))
        return report
    opening = consultation.get("opening")
    if not isinstance(opening, dict) or set(opening) != {"spec_hash", "at"}:
        report.fail("consultation.json : « opening » doit contenir spec_hash et at, sans plus")
        opening = {}
    elif opening.get("spec_hash") != sh:
        report.fail(
            "consultation.json : l'empreinte publiée à l'ouverture ne correspond pas "
            "aux questions et règles gelées"
        )
    # A line that is not an event would otherwise drop out unseen (at the end of the
    # journal nothing else notices it): Beffroi writes none.
    for i, ev in enumerate(journal, start=1):
        if not isinstance(ev, dict):
            report.fail(f"journal.jsonl, événement {i} : objet JSON attendu")
    journal = [ev for ev in journal if isinstance(ev, dict)]
    fmt = report.stats["bundle_format"]
    if not isinstance(fmt, int):
        report.fail(
            f"journal.jsonl : format de paquet {fmt} invalide dans l'événement « opened » "
            f"(entier de {OLDEST_FORMAT} à {BUNDLE_FORMAT} attendu)"
        )
        fmt = BUNDLE_FORMAT  # no older version is put forward to explain anything
    fmt = _check_format_anchor(spec, fmt, report)
    report.stats["bundle_format"] = fmt
    _check_journal(spec, journal, opening.get("at"), len(records), report)
    # The journal's hashes, for a scrutineer's earlier copy (--journal-head): the journal
    # is not anchored in the spec hash nor in the board head, so the hash of an event
    # seen earlier (the board page shows the head) is what fixes the events up to it.
    hashes = [ev.get("hash") for ev in journal]
    report.stats["journal_hashes"] = hashes
    report.stats["journal_head"] = hashes[-1] if hashes else None
    report.stats["opened_event"] = next(
        (ev.get("hash") for ev in journal if ev.get("kind") == "opened"), None
    )
    keys = _check_credentials(spec, records, journal, report)
    _check_keys_fingerprint(spec, keys, journal, report)
    key_list = list(keys)
    added = _reissue_times(journal, report)
    refs: dict[str, _KeyRef] = {
        pk: (
            i,
            k["segment"],
            None if k["revoked_at"] is None else format_time(k["revoked_at"]),
            added.get(pk),
        )
        for i, (pk, k) in enumerate(keys.items())
    }
    flags = flags_from_journal(journal)
    decisions = _decisions(spec)
    late_imports = _late_imports(journal)
    cuts = tuple(sorted({at for _, at, _ in late_imports}))
    parts.send_keys(refs, frozenset(flags) | frozenset(decisions), cuts)
    utf8_error = _utf8_error(board)
    checked = parts.check()
    parts.bounds(checked)
    syntax = utf8_error or min((c.syntax for c in checked if c.syntax is not None), default=None)
    n_entries = sum(c.lines for c in checked)
    report.stats["entries"] = None if syntax else n_entries
    if syntax:
        report.fail(syntax[1])
    else:
        _stitch_chain(sh, checked, report)
        head = report.stats.get("board_head")
        for ev in journal:
            if ev.get("kind") == "closed":
                closed = _data(ev)
                if closed.get("head") != head or closed.get("entries") != n_entries:
                    report.fail(
                        "journal.jsonl : l'événement « closed » désigne une autre tête de "
                        "chaîne ou un autre nombre d'entrées que le tableau"
                    )
    for c in checked:
        for msg in c.alone:
            report.fail(msg)
        report.omit(c.alone_omitted)
    if syntax:
        return report
    _check_import_times(journal, late_imports, cuts, refs, added, checked, report)
    _check_unreplaced_revocations(journal, refs, checked, fmt, report)
    found: dict[str, list[int]] = {}
    for c in checked:
        for h, ranks in c.hits.items():
            found.setdefault(h, []).extend(ranks)
    for h in flags:
        if h not in found:
            report.fail(f"journal.jsonl : signalement sur une entrée absente ({h[:12]}…)")
    keyed = {rank for c in checked for rank in c.k_rank} if flags else set()
    for h in flags:
        for rank in found.get(h, ()):
            if rank in keyed:
                # The audit reads unsigned answers only (a code already proves one
                # holder): a flag on a signed ballot is the organiser's word alone.
                report.fail(
                    f"journal.jsonl : signalement sur le bulletin signé n° {rank} (l'audit "
                    "d'intégrité ne porte que sur les réponses sans code)"
                )
    closed_at = next((i for i, ev in enumerate(journal) if ev.get("kind") == "closed"), None)
    late = (
        [] if closed_at is None else [ev for ev in journal[closed_at:] if ev.get("kind") == "flag"]
    )
    if late:
        report.fail(LATE_FLAGS)
    for h in decisions:
        if h not in found:
            report.fail(
                f"consultation.json : décision d'exclusion sur une entrée absente du tableau "
                f"({str(h)[:12]}…)"
            )
    # Late flags alone leave a sound board: recount it with them (what results.json
    # must say) and without them, so the scrutineer sees what they changed.
    only_late = bool(late) and report.failures == [LATE_FLAGS] and not report._omitted
    if late:
        _explain_late_flags(late, found, fmt, only_late, report)
    if not report.ok and not only_late:
        report.fail("recomptage non effectué : le tableau comporte des anomalies")
        return report
    without = flags_from_journal(journal[:closed_at]) if only_late else None
    _recount(
        spec, keys, key_list, checked, found, flags, decisions, parts, published, report, without
    )
    return report


LATE_FLAGS = "journal.jsonl : signalement inscrit après la clôture"
# The first format whose Beffroi refuses to revoke, without a replacement, a code that
# has voted (actions.revoke_credential); older bundles get a warning instead.
SERVED_NEEDS_REPLACEMENT = 3


def _check_unreplaced_revocations(
    journal: list[dict[str, Any]],
    refs: dict[str, _KeyRef],
    checked: list[_Checked],
    fmt: int,
    report: Report,
) -> None:
    """A code revoked without a replacement after it had voted: its signed ballot
    leaves the count while every fingerprint stays the same, so only the organiser's
    word stands behind it. From format 3 Beffroi cannot write that (a replacement the
    authority made is required, or a post-hoc decision): a failure. An older bundle
    may hold it honestly; it passes, with a warning naming each such code."""
    alone = []
    for i, ev in enumerate(journal, start=1):
        data = _data(ev)
        pk = data.get("public_key")
        if (
            ev.get("kind") == "credential_revoked"
            and data.get("replaced_by") is None
            and isinstance(pk, str)
            and pk in refs
        ):
            alone.append((i, ev, data, pk))
    # Ballots are counted only for those keys (usually none: no pass over the board).
    wanted = {refs[pk][0] for _, _, _, pk in alone}
    ballots: dict[int, int] = {}
    if wanted:
        for c in checked:
            for key in c.k_key:
                if key in wanted:
                    ballots[key] = ballots.get(key, 0) + 1
    found = []
    for i, ev, data, pk in alone:
        n = ballots.get(refs[pk][0], 0)
        if n:
            several = "réponse" if n == 1 else "réponses"
            found.append(
                f"événement {i} : code {pk[:12]}… révoqué le {ev.get('at')} sans remplacement "
                f"(motif : {data.get('reason')}) après {n} {several} sur le tableau"
            )
    report.stats["revoked_unreplaced_used"] = len(found)
    if not found:
        return
    if fmt >= SERVED_NEEDS_REPLACEMENT:
        for line in found:
            report.fail(
                f"journal.jsonl, {line} : un code qui a servi ne se révoque qu'avec un code "
                "de remplacement émis par l'autorité, ou s'écarte par une décision motivée "
                "publiée (règle post hoc)"
            )
        return
    listed = "; ".join(found[:MAX_LATE_LISTED])
    more = len(found) - MAX_LATE_LISTED
    if more > 0:
        listed += f" ; et {more} de plus"
    report.warnings.append(
        f"Paquet au format {fmt} : les versions de Beffroi qui écrivent ce format "
        "permettaient de révoquer sans remplacement un code qui avait déjà servi, ce qui "
        "retire sa réponse du compte sans changer aucune empreinte. "
        f"Codes dans ce cas : {listed}. Demandez à l'organisateur et à l'autorité des codes "
        "pourquoi : seule leur parole justifie ce retrait."
    )


MAX_LATE_LISTED = 20
# The first format whose Beffroi could write a spec's ``timezone``: the field came in
# after the journal's number 2, so a zoned spec was never opened under format 1.
ZONED_FORMAT = 2


def _check_format_anchor(spec: Spec, fmt: int, report: Report) -> int:
    """The journal's format against the one frozen in the spec, whose hash was
    published at the opening and is signed into every ballot; returns the format to
    read the bundle by (the stricter of the two when they differ).

    From format 3 the opening stamps the spec, so a forger who rebuilds the journal
    with a lower number (to get an older, milder reading) is caught here; a spec
    without the stamp was opened by an older Beffroi, whose journal says 1 or 2."""
    anchored = spec.bundle_format
    if anchored is None:
        report.stats["format_from"] = "journal"
        if fmt >= SPEC_ANCHORED_FORMAT:
            report.fail(
                f"consultation.json : aucun format de paquet dans les questions et règles "
                f"gelées, alors que le journal annonce le format {fmt} (depuis le format "
                f"{SPEC_ANCHORED_FORMAT}, l'ouverture l'y inscrit)"
            )
            return fmt
        # The time zone came into the spec after the journal's number 2: a spec that
        # carries one (covered by the published hash) was opened by a Beffroi writing
        # format 2 at least, so a journal without a number was rebuilt, to get the
        # format 1 reading.  The only lower bound the anchored data give (see
        # docs/decisions/bundle-format.md, "What stays open before format 3").
        if spec.timezone is not None and fmt < ZONED_FORMAT:
            report.fail(
                f"journal.jsonl : format de paquet {fmt} (sans numéro) dans l'événement "
                f"« opened », mais les questions et règles gelées portent un fuseau horaire "
                f"(timezone), que seules écrivent les versions de Beffroi du format "
                f"{ZONED_FORMAT} ou plus, et que couvre l'empreinte publiée à l'ouverture "
                "(journal refait ?)"
            )
            return ZONED_FORMAT
        return fmt
    report.stats["format_from"] = "spec"
    if anchored != fmt:
        report.fail(
            f"journal.jsonl : format de paquet {fmt} dans l'événement « opened », mais "
            f"{anchored} dans les questions et règles gelées, que couvre l'empreinte publiée "
            "à l'ouverture (journal refait ?)"
        )
    return max(anchored, fmt)


def _bundle_format(events: list[Any] | BundleError) -> Any:
    """The format recorded in the journal's ``opened`` event: an int, 1 when absent
    (bundles written before the field), or the odd value found there.

    Read before the rest of the bundle, so a format this verifier does not know is
    refused for that reason.  An unreadable journal or one without ``opened`` reads
    as the oldest format here: its own errors are reported by the journal checks."""
    if isinstance(events, BundleError):
        return OLDEST_FORMAT
    opened = next(
        (ev for ev in events if isinstance(ev, dict) and ev.get("kind") == "opened"), None
    )
    data = opened.get("data") if opened is not None else None
    if not isinstance(data, dict) or "bundle_format" not in data:
        return OLDEST_FORMAT
    value = data["bundle_format"]
    if type(value) is int and value >= OLDEST_FORMAT:
        return value
    return repr(value)


def _explain_late_flags(
    late: list[dict[str, Any]],
    found: dict[str, list[int]],
    fmt: int,
    recounted: bool,
    report: Report,
) -> None:
    """Notes under the late-flag failure: which flags, and what they may come from.

    The failure stays whatever the format: the format is journaled, and a journal
    rebuilt by a forger could drop it, so a bundle without one cannot earn a lighter
    verdict (docs/decisions/bundle-format.md)."""
    said = []
    for ev in late[:MAX_LATE_LISTED]:
        data = _data(ev)
        entry = data.get("entry")
        ranks = found.get(entry, []) if isinstance(entry, str) else []
        where = f"entrée n° {ranks[0]}" if ranks else f"entrée {str(entry)[:12]}…"
        said.append(f"événement {ev.get('n')} ({where}, « {data.get('flag')} », le {ev.get('at')})")
    more = len(late) - len(said)
    listed = "; ".join(said) + (f" ; et {more} de plus" if more > 0 else "")
    report.stats["late_flags"] = len(late)
    report.notes.append(f"Signalements inscrits après la clôture : {listed}.")
    if fmt < 2:
        report.notes.append(
            "Ce paquet ne porte pas de numéro de format : il est lu comme le format 1, celui "
            "des versions de Beffroi antérieures à cette règle. Une telle version inscrivait "
            "encore les "
            "signalements d'un audit lancé après la clôture : ces signalements peuvent venir "
            "d'elle et non d'une falsification. L'absence de numéro ne le prouve pas (un "
            "journal refait peut l'avoir retiré) : l'anomalie est donc maintenue."
        )
        opened = report.stats.get("opened_event")
        report.notes.append(
            "Pour le vérifier, comparez l'empreinte de l'événement « opened » "
            f"({opened}) avec celle d'un dossier de cette consultation téléchargé plus tôt, "
            "ou relancez avec --journal-head et une tête du journal relevée plus tôt (page "
            "du tableau public) : le numéro de format est dans cet événement, que chaque "
            "événement suivant enchaîne."
        )
    else:
        report.notes.append(
            f"Ce paquet est au format {fmt} : aucune version de Beffroi qui écrit ce format "
            "n'inscrit de signalement après la clôture."
        )
    if recounted:
        report.notes.append(
            "Le tableau est sain par ailleurs : recomptage fait avec ces signalements (il doit "
            "reproduire results.json) et sans eux, pour voir ce qu'ils changent."
        )


# Sorted keys, floats and booleans written as themselves: two values encode alike
# exactly when their canonical encodings are equal, given that the recount has a
# canonical encoding (small integers, plain strings).  Skips canonical_bytes' type
# scan of the whole results.
_SORTED_ANY = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _same_json(recount: Any, published: Any) -> bool:
    if recount != published:  # cheap, and settles most tampered results
        return False
    try:
        return bool(_SORTED_ANY.encode(recount) == _SORTED_ANY.encode(published))
    except (ValueError, TypeError):
        return False


def _utf8_error(data: bytes) -> tuple[int, str] | None:
    if data.isascii():
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (0, f"ballots.jsonl : pas en UTF-8 (octet {exc.start})")
    return None


def _decisions(spec: Spec) -> dict[str, str]:
    """exclude_entries decisions (entry hash -> reason) of any rule, on or off."""
    out: dict[str, str] = {}
    for r in spec.rules:
        if r.code == "exclude_entries":
            entries = r.params.get("entries", {})
            if isinstance(entries, dict):
                out.update(entries)
    return out


def _stitch_chain(sh: str, checked: list[_Checked], report: Report) -> None:
    """The chain checks that span parts (seams, seq per key), merged in board order
    with the parts' own chain messages."""
    messages: list[tuple[int, int, str]] = []
    omitted = 0
    prev = sh
    last_time = ""
    last_seq: dict[int, Any] = {}
    for c in checked:
        messages.extend(c.chain)
        omitted += c.chain_omitted
        if c.first_prev is not None:
            rank, value = c.first_prev
            if value != prev:
                messages.append((rank, _PREV, _broken(rank)))
        if c.first_time is not None:
            rank, when = c.first_time
            if when < last_time:
                messages.append((rank, _ORDER, _too_early(rank)))
        if c.last_prev is not None:
            prev = c.last_prev
        if c.last_time is not None:
            last_time = c.last_time
        for j, rank in enumerate(c.k_rank):
            if c.k_has_seq[j]:
                seq: Any = c.k_seq[j]
            elif rank in c.odd_seq:
                seq = c.odd_seq[rank]
            else:
                continue
            key = c.k_key[j]
            if key in last_seq and seq <= last_seq[key]:
                messages.append(
                    (
                        rank,
                        _SEQ,
                        f"ballots.jsonl, entrée {rank} : seq {seq} non croissant pour cette "
                        "clé (rejeu ?)",
                    )
                )
            last_seq[key] = max(seq, last_seq.get(key, 0))
    messages.sort(key=lambda m: (m[0], m[1]))
    for _, _, text in messages:
        report.fail(text)
    report.omit(omitted)
    report.stats["board_head"] = prev


def _select(
    spec: Spec,
    keys: dict[str, Any],
    key_list: list[str],
    checked: list[_Checked],
    found: dict[str, list[int]],
    flags: dict[str, list[str]],
    disabled: Iterable[str],
) -> dict[int, tuple[str, str]]:
    """rank -> (rule, reason) of the entries set aside: tally.select on the
    verifier's compact view of a valid board (there, n equals the rank)."""
    off = set(disabled)
    rules = {r.code: r.params for r in spec.rules if r.code not in off}
    excluded: dict[int, tuple[str, str]] = {}
    last_of_key: dict[int, int] = {}
    revoked = [keys[pk]["revoked_at"] is not None for pk in key_list]
    for c in checked:
        for rank, key in zip(c.k_rank, c.k_key, strict=True):
            if revoked[key] and "revoked_key" not in off and rank not in excluded:
                excluded[rank] = ("revoked_key", "code révoqué")
            last_of_key[key] = rank
    if "one_ballot_per_key" in rules:
        for c in checked:
            for rank, key in zip(c.k_rank, c.k_key, strict=True):
                last = last_of_key[key]
                if last != rank and rank not in excluded:
                    excluded[rank] = ("one_ballot_per_key", f"remplacé par l'entrée n° {last}")
    # Flags and decisions name entries by hash; rank order keeps "first rule wins".
    if "integrity_flag" in rules:
        wanted = set(rules["integrity_flag"].get("flags", []))
        keyed = {rank for c in checked for rank in c.k_rank} if flags else set()
        for h, ranks in found.items():
            hit = sorted(wanted.intersection(flags.get(h, ())))
            for rank in ranks:
                # As the tally: a flag on a signed entry sets nothing aside.
                if hit and rank not in excluded and rank not in keyed:
                    excluded[rank] = ("integrity_flag", "signalement : " + ", ".join(hit))
    if "exclude_entries" in rules:
        chosen: dict[str, str] = rules["exclude_entries"].get("entries", {})
        for h, ranks in found.items():
            reason = chosen.get(h)
            for rank in ranks:
                if reason is not None and rank not in excluded:
                    excluded[rank] = ("exclude_entries", reason)
    return excluded


def _merged(spec: Spec, sums: list[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[Any, Any]:
    overall, per_segment = sums[0]
    for other_overall, other_segments in sums[1:]:
        _merge(overall, other_overall)
        for seg, classes in other_segments.items():
            if seg in per_segment:
                _merge(per_segment[seg], classes)
            else:
                per_segment[seg] = classes
    return overall, per_segment


def _recount(
    spec: Spec,
    keys: dict[str, Any],
    key_list: list[str],
    checked: list[_Checked],
    found: dict[str, list[int]],
    flags: dict[str, list[str]],
    decisions: dict[str, str],
    parts: _Parts,
    published: Any,
    report: Report,
    without_flags: dict[str, list[str]] | None = None,
) -> None:
    """The recount, compared with ``results.json``; with ``without_flags`` (the flags
    journaled before the close), also the count without the late ones."""
    post_hoc = sorted({r.code for r in spec.rules if r.added_after_opening})
    selections = [_select(spec, keys, key_list, checked, found, flags, ())]
    if post_hoc:
        selections.append(_select(spec, keys, key_list, checked, found, flags, post_hoc))
    if without_flags is not None:
        selections.append(_select(spec, keys, key_list, checked, found, without_flags, ()))
    all_sums, hashes = parts.aggregate([set(sel) for sel in selections])
    # The result's frame (rules, notes, counts of revocations) from the tally itself,
    # on an empty board; the sums and exclusions from the parts.  Of the credentials
    # the frame only counts the revoked ones.
    credentials = {
        pk: Credential(k["segment"], True) for pk, k in keys.items() if k["revoked_at"] is not None
    }
    recount = tally(spec, credentials, [], flags)
    n_entries = sum(c.lines for c in checked)
    recount["board"] = {"entries": n_entries, "head": report.stats["board_head"]}
    outs = []
    for k, sel in enumerate(selections):
        exclusions = [
            {"n": rank, "hash": hashes[rank], "rule": rule, "reason": reason}
            for rank, (rule, reason) in sorted(sel.items())
        ]
        overall, per_segment = _merged(spec, [sums[k] for sums in all_sums])
        outs.append(assemble(spec, overall, per_segment, exclusions))
    recount.update(outs[0])
    if post_hoc:
        without = outs[1]
        recount["without_post_hoc"] = {
            "counted": without["counted"],
            "results": without["results"],
            "exclusions_by_rule": without["exclusions_by_rule"],
        }
    if without_flags is not None:
        early = outs[-1]
        report.stats["without_late_flags"] = {
            "counted": early["counted"],
            "results": early["results"],
            "exclusions_by_rule": early["exclusions_by_rule"],
        }
    per_key: dict[int, int] = {}
    for c in checked:
        for rank, key in zip(c.k_rank, c.k_key, strict=True):
            if rank not in selections[0]:
                per_key[key] = per_key.get(key, 0) + 1
    multi = [key for key, count in per_key.items() if count > 1]
    if multi:
        several = "1 clé" if len(multi) == 1 else f"{len(multi)} clés"
        report.fail(f"{several} avec plus d'un bulletin compté")
    report.stats["counted"] = recount["counted"]
    report.stats["exclusions_by_rule"] = recount["exclusions_by_rule"]
    # A revoked code that had already voted is the case to look at: its ballot no
    # longer counts, and a replacement may have voted in its stead.
    used = {key for c in checked for key in c.k_key}
    report.stats["revoked_used"] = sum(
        1 for key in used if keys[key_list[key]]["revoked_at"] is not None
    )
    # What the scrutineer recounted, to read beside the announced result (the check
    # against results.json alone said « tout concorde » without a single figure).
    report.stats["recount"] = recount["results"]
    report.stats["spec"] = spec
    same = _same_json(recount, published)
    if not same:
        diffs: list[str] = []
        _diff(recount, published, "", diffs)
        report.fail("results.json ne correspond pas au recomptage : " + "; ".join(diffs))


def _check_keys_fingerprint(
    spec: Spec, keys: dict[str, Any], journal: list[dict[str, Any]], report: Report
) -> None:
    """The imported keys are exactly those fingerprinted at their import; and the
    fingerprint of every key, reissued ones included, for the authority's figure.

    The first check catches a key nobody has used yet swapped for one the organiser
    holds.  The second is what ``beffroi verify --keys-fingerprint`` compares with
    the value the credential authority published on its own, after its last batch
    or reissue (docs/decisions/credentials.md): a « replacement » key the authority
    never made (the organiser's own, voting in a parent's stead) changes it."""
    if spec.access == "open":
        return
    imports = [
        (i, ev) for i, ev in enumerate(journal, start=1) if ev.get("kind") == "credentials_imported"
    ]
    opened = _opening_time(journal)
    report.stats["imports"] = [
        {
            "at": ev.get("at"),
            "count": _data(ev).get("count"),
            "late": opened is not None and not _is_opening_import(i, ev, opened),
            "keys_fingerprint": _data(ev).get("keys_fingerprint"),
        }
        for i, ev in imports
    ]
    if not imports:
        return  # the count check already says no key was imported
    reissued = {
        _data(ev).get("public_key") for ev in journal if ev.get("kind") == "credential_added"
    }
    imported = key_list_fingerprint(
        (pk, k["segment"]) for pk, k in keys.items() if pk not in reissued
    )
    report.stats["imported_fingerprint"] = imported
    report.stats["keys_fingerprint"] = key_list_fingerprint(
        (pk, k["segment"]) for pk, k in keys.items()
    )
    report.stats["reissued"] = sum(1 for pk in keys if pk in reissued)
    if _data(imports[-1][1]).get("keys_fingerprint") != imported:
        report.fail(
            "credentials.jsonl : les clés importées ne correspondent pas à l'empreinte "
            "inscrite au journal lors de leur import (clé remplacée, ajoutée ou retirée ?)"
        )


def _opening_time(journal: list[dict[str, Any]]) -> str | None:
    opened = next((ev.get("at") for ev in journal if ev.get("kind") == "opened"), None)
    return opened if _valid_time(opened) else None


def _is_opening_import(i: int, ev: dict[str, Any], opened: str) -> bool:
    """The opening's import is told by its place, not its time alone: event 2, right
    after « opened » and dated with it.  A late import the server's clock (stepped
    back, or equal to the opening's to the microsecond) dated with the opening is
    still late, and the board bounds it like any other: its cut is the opening, so
    none of its keys may have voted before it."""
    return i == 2 and ev.get("at") == opened


def _late_imports(journal: list[dict[str, Any]]) -> list[tuple[int, str, int]]:
    """(event number, time, count) of each key import but the opening's, whose time
    and count are readable (anything else is already a failure of its own)."""
    opened = _opening_time(journal)
    if opened is None:
        return []
    out = []
    for i, ev in enumerate(journal, start=1):
        at, count = ev.get("at"), _data(ev).get("count")
        if (
            ev.get("kind") == "credentials_imported"
            and not _is_opening_import(i, ev, opened)
            and _valid_time(at)
            and type(count) is int
        ):
            out.append((i, at, count))
    return out


def _check_import_times(
    journal: list[dict[str, Any]],
    late_imports: list[tuple[int, str, int]],
    cuts: tuple[str, ...],
    refs: dict[str, _KeyRef],
    added: dict[Any, str],
    checked: list[_Checked],
    report: Report,
) -> None:
    """No more distinct imported keys have a ballot before a late import than had
    been imported before it.

    The board is anchored outside the bundle (its head is published at the close and
    each respondent holds a receipt), the journal is not: a rebuilt journal could date
    a late import after ballots of its keys, or merge it into a later one, and only
    the counts would say so. (A reissued key is checked against its own
    ``credential_added`` time, key by key.)"""
    if not cuts:
        return
    reissued = {refs[pk][0] for pk in added if pk in refs}
    first: dict[int, int] = {}  # key index -> fewest late imports before one of its ballots
    for c in checked:
        for index, passed in zip(c.k_key, c.k_cut, strict=True):
            if index not in reissued and passed < first.get(index, len(cuts) + 1):
                first[index] = passed
    late = {i for i, _, _ in late_imports}
    opening = sum(
        n
        for i, ev in enumerate(journal, start=1)
        if ev.get("kind") == "credentials_imported"
        and i not in late
        and type(n := _data(ev).get("count")) is int
    )
    for k, cut in enumerate(cuts):
        voted = sum(1 for j in first.values() if j <= k)
        before = opening + sum(count for _, at, count in late_imports if at < cut)
        if voted > before:
            events = ", ".join(str(i) for i, at, _ in late_imports if at == cut)
            report.fail(
                f"ballots.jsonl : {voted} codes différents ont voté avant le {cut}, date de "
                f"l'import de clés de l'événement {events} du journal, alors que "
                f"{_count_keys(before)} seulement avaient été importées avant : cet import "
                "est daté après des bulletins de ses clés (import redaté, ou fusionné avec "
                "un autre ? journal refait ?)"
            )


def _count_keys(n: int) -> str:
    return f"{n} clé" if n <= 1 else f"{n} clés"


def _reissue_times(journal: list[dict[str, Any]], report: Report) -> dict[Any, str]:
    """public key -> time of its ``credential_added`` event, as canonical text: no
    ballot of a reissued key may come before it.

    A time in another form (already a failure of the journal checks) is read for
    what it says, so that this check still runs on it; an unreadable one leaves the
    check undone, which is a failure of its own, never a silent skip."""
    added: dict[Any, str] = {}
    for i, ev in enumerate(journal, start=1):
        if ev.get("kind") != "credential_added":
            continue
        pk = _data(ev).get("public_key")
        at = ev.get("at")
        if not _valid_time(at):
            try:
                at = format_time(parse_time(at, "at"))
            except SpecError:
                report.fail(
                    f"journal.jsonl, événement {i} : date illisible pour le code réémis "
                    f"{str(pk)[:12]}… : ses bulletins ne peuvent être comparés à sa réémission"
                )
                continue
        added[pk] = at
    return added


def _check_event_fields(i: int, ev: dict[str, Any], report: Report) -> None:
    """The fields of one event that the other checks read as values: a value
    Beffroi never writes would otherwise make them skip the event."""
    at = ev.get("at")
    if not isinstance(at, str):
        report.fail(f"journal.jsonl, événement {i} : date absente (texte attendu)")
    elif not _valid_time(at):
        report.fail(
            f"journal.jsonl, événement {i} : date {_short(at)} hors de la forme "
            "AAAA-MM-JJTHH:MM:SS.ffffffZ (UTC, microsecondes), la seule qu'écrit Beffroi "
            "(journal refait ?)"
        )
    data = ev.get("data")
    if not isinstance(data, dict):
        report.fail(f"journal.jsonl, événement {i} : « data » doit être un objet JSON")
        return
    kind = ev.get("kind")
    if kind == "credentials_imported":
        count = data.get("count")
        if type(count) is not int or count < 0:
            report.fail(
                f"journal.jsonl, événement {i} : nombre de codes importés {_short(count)} "
                "invalide (entier positif ou nul attendu)"
            )
    elif kind == "flag" and not (
        isinstance(data.get("entry"), str) and isinstance(data.get("flag"), str)
    ):
        report.fail(
            f"journal.jsonl, événement {i} : signalement mal formé (« entry » et « flag » "
            "doivent être des textes)"
        )


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
        _check_event_fields(i, ev, report)
    opened = [ev for ev in journal if ev.get("kind") == "opened"]
    if len(opened) != 1 or _data(opened[0]).get("spec_hash") != sh:
        report.fail("journal.jsonl : un seul événement « opened » portant l'empreinte attendu")
    elif opening_at != opened[0].get("at"):
        report.fail("consultation.json : date d'ouverture différente de celle du journal")
    if len(opened) == 1 and not set(_data(opened[0])) <= {"spec_hash", "bundle_format"}:
        report.fail(
            "journal.jsonl : l'événement « opened » porte d'autres champs que spec_hash et "
            "bundle_format"
        )
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
        codes = f"{imported} code importé" if imported <= 1 else f"{imported} codes importés"
        report.fail(
            f"journal.jsonl : {codes} et {added} réémis, mais {n_credentials} dans "
            "credentials.jsonl"
        )
    # Canonical times compare as text; the others are failures above.
    last = ""
    for i, ev in enumerate(journal, start=1):
        at = ev.get("at")
        if not _valid_time(at):
            continue
        if at < last:
            report.fail(
                f"journal.jsonl, événement {i} : daté avant l'événement qui le précède "
                "(journal non chronologique)"
            )
        last = at
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
    _check_exclusion_decisions(journal, report)
    _check_event_places(spec, journal, report)
    _check_imports(spec, journal, report)


# What the app may journal once a consultation is closed: a post-hoc decision, shown
# with its effect next to the proclaimed result. A flag there has its own failure
# (LATE_FLAGS, explained for older formats); every other action refuses a closed
# consultation, so any other kind after ``closed`` was written by hand.
_AFTER_CLOSE = frozenset({"rule_added", "flag"})


def _numbers(found: list[int]) -> str:
    return ", ".join(str(i) for i in found)


def _check_event_places(spec: Spec, journal: list[dict[str, Any]], report: Report) -> None:
    """One opening, first; at most one close; after it, only what a closed
    consultation still journals."""
    kinds = [ev.get("kind") for ev in journal]
    opened = [i for i, kind in enumerate(kinds, start=1) if kind == "opened"]
    if len(opened) > 1:
        report.fail(
            f"journal.jsonl : {len(opened)} événements « opened » (événements "
            f"{_numbers(opened)}) : une consultation ne s'ouvre qu'une fois (journal refait ?)"
        )
    if opened and opened[0] != 1:
        report.fail(
            f"journal.jsonl, événement {opened[0]} : « opened » doit être le premier "
            "événement (rien ne s'inscrit au journal de la consultation avant son ouverture)"
        )
    closed = [i for i, kind in enumerate(kinds, start=1) if kind == "closed"]
    if len(closed) > 1:
        report.fail(
            f"journal.jsonl : {len(closed)} événements « closed » (événements "
            f"{_numbers(closed)}) : une consultation ne se clôt qu'une fois ; lequel "
            "désigne le résultat proclamé ? (journal refait ?)"
        )
    if not closed:
        return
    for i, kind in enumerate(kinds[closed[0] :], start=closed[0] + 1):
        if kind in JOURNAL_KINDS and kind not in _AFTER_CLOSE and kind != "closed":
            report.fail(
                f"journal.jsonl, événement {i} : « {kind} » après la clôture (événement "
                f"{closed[0]}) : une consultation close n'inscrit plus que des décisions "
                "ajoutées après coup (rule_added)"
            )


def _check_imports(spec: Spec, journal: list[dict[str, Any]], report: Report) -> None:
    """Each key import as the app journals it: the keys imported before the opening
    in one event right after ``opened`` (dated with it), the later ones each in an
    event of their own, adding at least one key, so that each cumulative fingerprint
    is new. (The last fingerprint is recomputed from the credentials, and the board
    bounds each late import's time: _check_keys_fingerprint, _check_import_times.)"""
    imports = [
        (i, ev) for i, ev in enumerate(journal, start=1) if ev.get("kind") == "credentials_imported"
    ]
    if spec.access == "open":
        for i, _ in imports:
            report.fail(
                f"journal.jsonl, événement {i} : import de clés dans une consultation ouverte "
                "à tous (access: open), qui n'utilise pas de codes"
            )
        return
    opened = journal[0] if journal and journal[0].get("kind") == "opened" else None
    opening_at = opened.get("at") if opened is not None else None
    previous: Any = None
    for i, ev in imports:
        data = _data(ev)
        fingerprint = data.get("keys_fingerprint")
        if data.get("count") == 0 and type(data.get("count")) is int:
            report.fail(
                f"journal.jsonl, événement {i} : import de 0 clé, que Beffroi n'inscrit "
                "jamais (une liste vide est refusée)"
            )
        if not isinstance(fingerprint, str) or not HEX64.match(fingerprint):
            report.fail(
                f"journal.jsonl, événement {i} : empreinte des clés importées "
                f"{_short(fingerprint)} mal formée (64 caractères hexadécimaux attendus)"
            )
        elif fingerprint == previous:
            report.fail(
                f"journal.jsonl, événement {i} : même empreinte de clés que l'import "
                "précédent, alors que chaque import ajoute des clés (import dédoublé ?)"
            )
        previous = fingerprint
        if opening_at is not None and ev.get("at") == opening_at and i != 2:
            # Not a failure: an honest server whose clock stepped back after the
            # opening dates a late import so (actions._event never goes backwards).
            # Counted late all the same, it gains a forger nothing.
            report.warnings.append(
                f"journal.jsonl, événement {i} : import de clés daté de l'ouverture alors "
                "qu'il n'est pas l'événement 2, juste après « opened » : il est compté comme "
                "un import tardif (horloge du serveur revenue en arrière ?)"
            )
    if spec.access == "credentialed" and opened is not None:
        second = journal[1] if len(journal) > 1 else {}
        if second.get("kind") != "credentials_imported" or second.get("at") != opening_at:
            report.fail(
                "journal.jsonl : consultation sur codes sans import de clés à son ouverture "
                "(événement 2, à la date de « opened ») : l'ouverture en exige un, qui "
                "inscrit les clés importées avant elle"
            )


def _check_exclusion_decisions(journal: list[dict[str, Any]], report: Report) -> None:
    """Replay the exclusion decisions: each ``rule_added`` of ``exclude_entries``
    holds the previous decisions unchanged plus exactly its ``entries_added``.

    The last event alone (compared with the published rule) would let a later
    event quietly drop or reword an earlier decision."""
    decided: dict[Any, Any] = {}
    for i, ev in enumerate(journal, start=1):
        if ev.get("kind") != "rule_added":
            continue
        data = _data(ev)
        rule = data.get("rule")
        if not isinstance(rule, dict) or rule.get("code") != "exclude_entries":
            continue
        where = f"journal.jsonl, événement {i}"
        params = rule.get("params")
        entries = params.get("entries") if isinstance(params, dict) else None
        # Bundles from before entries_added was journaled, and rules added through
        # add_post_hoc_rule, which journals none: what the rule gained.
        added = data.get("entries_added", [h for h in entries or () if h not in decided])
        if not isinstance(entries, dict) or not isinstance(added, list) or not added:
            report.fail(f"{where} : décision d'exclusion sans entries ni entries_added")
            continue
        fresh = [h for h in added if isinstance(h, str) and h not in decided]
        if len(set(fresh)) != len(added):
            report.fail(
                f"{where} : entries_added nomme une entrée déjà écartée, en double ou mal formée"
            )
        dropped = [h for h in decided if h not in entries]
        reworded = [h for h in decided if h in entries and entries[h] != decided[h]]
        if dropped or reworded:
            report.fail(
                f"{where} : une décision d'exclusion antérieure est retirée ou son motif "
                "changé (les décisions ne se raccourcissent ni ne se réécrivent)"
            )
        expected = set(decided) | set(fresh)
        if set(fresh) - set(entries):
            report.fail(f"{where} : entries_added nomme une entrée que la règle n'écarte pas")
        if set(entries) - expected:
            report.fail(
                f"{where} : la règle écarte des entrées que entries_added ne nomme pas "
                "(décision non journalisée)"
            )
        decided = dict(entries)
