"""Every state change of a consultation, one function each (DESIGN rule 1).

Each action runs in one transaction and appends one entry to the instance
journal (``beffroi.core.journal.append``); once a consultation is open, the
events a scrutineer needs (bundle ``journal.jsonl``) are also chained in
:class:`~beffroi.consult.models.ConsultEvent`.

Ballots go through :func:`submit_ballots`, which takes a *batch*: the web
front hands it groups of ballots (group commit, see live.py) and the whole
batch commits in one transaction with one journal entry naming the new board
head.  Receipts are returned only after that commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from beffroi.consult import board as board_mod
from beffroi.consult.ballot import (
    DOMAIN,
    BallotError,
    KeyInfo,
    OutOfPeriod,
    TooManyBallots,
    check_ballot,
    receipt,
    signed_bytes,
)
from beffroi.consult.bundle import JournalEvent, frozen_spec, journal_hash, opened_data
from beffroi.consult.credentials import key_list_fingerprint, read_public_jsonl
from beffroi.consult.models import (
    PUBLIC_ENTRY_FIELDS,
    BoardEntry,
    Consultation,
    ConsultEvent,
    Credential,
    Status,
)
from beffroi.consult.spec import Spec, SpecError, format_time, parse_time, spec_from_dict
from beffroi.core import journal
from beffroi.core.actions import ActionError
from beffroi.core.models import Organisation


class ConsultationClosed(ActionError):
    """The consultation closed before the action could be recorded (a live audit that
    was running when a coordinator closed it): the caller reports, it does not fail."""


__all__ = [
    "ActionError",
    "ConsultationClosed",
    "Incoming",
    "Outcome",
    "add_post_hoc_rule",
    "close_consultation",
    "create_consultation",
    "exclude_entries",
    "exclusion_reason",
    "import_credentials",
    "imported_keys_fingerprint",
    "keys_fingerprint",
    "open_consultation",
    "record_flags",
    "revoke_credential",
    "rules_with_exclusions",
    "submit_ballots",
    "update_draft",
]


def _validated(spec_dict: dict[str, Any]) -> Spec:
    try:
        return spec_from_dict(spec_dict)
    except SpecError as exc:
        raise ActionError(str(exc)) from exc


def _locked(consultation: Consultation) -> Consultation:
    # On SQLite the IMMEDIATE transaction already serialises writers.
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def _event(c: Consultation, kind: str, data: dict[str, Any], at: datetime) -> ConsultEvent:
    """Chain one event of the consultation's journal (only after opening)."""
    last = c.events.order_by("-n").first()
    when = format_time(at)
    if last is not None and when < last.at:
        # Never backwards (the verifier checks the order), and strictly after: a late
        # import clamped to the opening's time would look like the opening's own.
        # One microsecond is the canonical form's smallest step (format_time).
        when = format_time(parse_time(last.at, "at") + timedelta(microseconds=1))
    ev = JournalEvent(parse_time(when, "at"), kind, data)
    n = (last.n if last else 0) + 1
    prev = last.hash if last else c.spec_hash
    line = ev.to_dict(n, prev)
    assert line["hash"] == journal_hash(line)
    return ConsultEvent.objects.create(
        consultation=c,
        n=n,
        at=line["at"],
        kind=kind,
        data=line["data"],
        prev=prev,
        hash=line["hash"],
    )


def imported_keys_fingerprint(c: Consultation) -> str:
    """Fingerprint of the keys imported from the credential authority's lists (the
    replacements of revoked codes come through their own events)."""
    rows = list(c.credentials.values_list("public_key", "segment", "replaced_by"))
    reissued = {replaced_by for _, _, replaced_by in rows if replaced_by}
    return key_list_fingerprint((pk, seg) for pk, seg, _ in rows if pk not in reissued)


def keys_fingerprint(c: Consultation) -> str:
    """Fingerprint of every key of the consultation, reissued ones included: what the
    credential authority publishes (again after each reissue, ``credentials generate
    --previous``) and what ``beffroi verify --keys-fingerprint`` compares with."""
    return key_list_fingerprint(c.credentials.values_list("public_key", "segment"))


def _subject(c: Consultation) -> str:
    return f"consultation:{c.cid}"


# -- building ---------------------------------------------------------------------


@transaction.atomic
def create_consultation(
    organisation: Organisation, spec_dict: dict[str, Any], *, actor: Any
) -> Consultation:
    spec = _validated(spec_dict)
    if Consultation.objects.filter(cid=spec.id).exists():
        raise ActionError(_("L'identifiant « %(id)s » est déjà pris.") % {"id": spec.id})
    c = Consultation.objects.create(organisation=organisation, cid=spec.id, spec=spec.to_dict())
    journal.append(
        "consult.create",
        actor=actor,
        organisation=organisation,
        subject=_subject(c),
        data={"title": spec.title, "access": spec.access},
    )
    return c


@transaction.atomic
def update_draft(consultation: Consultation, spec_dict: dict[str, Any], *, actor: Any) -> None:
    c = _locked(consultation)
    if c.status != Status.DRAFT:
        raise ActionError(_("Consultation ouverte : questions et règles sont gelées."))
    spec = _validated(spec_dict)
    if spec.id != c.cid:
        raise ActionError(_("L'identifiant d'une consultation ne change pas."))
    c.spec = spec.to_dict()
    c.save(update_fields=["spec"])
    consultation.spec = c.spec
    journal.append(
        "consult.edit",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        data={"title": spec.title},
    )


@transaction.atomic
def open_consultation(consultation: Consultation, *, actor: Any) -> str:
    """Freeze questions and rules, publish their hash; returns the hash."""
    c = _locked(consultation)
    if c.status != Status.DRAFT:
        raise ActionError(_("Cette consultation est déjà ouverte."))
    spec = _validated(c.spec)
    now = timezone.now()
    if now >= spec.closes:
        raise ActionError(_("La date de clôture est passée : modifiez la période."))
    n_keys = c.credentials.count()
    if spec.access == "credentialed" and n_keys == 0:
        raise ActionError(_("Importez d'abord la liste des clés publiques des codes."))
    if any(r.added_after_opening for r in spec.rules):
        raise ActionError(_("Une règle « post hoc » ne peut exister avant l'ouverture."))
    from beffroi.consult.spec import spec_hash

    # The bundle format goes into the spec itself, so the hash published now (and
    # signed into every ballot) covers it: a rebuilt journal cannot lower it.
    spec = frozen_spec(spec)
    h = spec_hash(spec)
    c.spec = spec.to_dict()
    c.status, c.spec_hash, c.opened_at = Status.OPEN, h, now
    c.board_head, c.board_count = h, 0
    c.save(update_fields=["spec", "status", "spec_hash", "opened_at", "board_head", "board_count"])
    # It is journaled here too, once: chained with every later event, and read
    # first by verify (docs/formats/bundle.md).
    _event(c, "opened", opened_data(h), now)
    fingerprint = imported_keys_fingerprint(c) if n_keys else None
    if spec.access != "open" and n_keys:
        _event(c, "credentials_imported", {"count": n_keys, "keys_fingerprint": fingerprint}, now)
    journal.append(
        "consult.open",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        data={"spec_hash": h, "credentials": n_keys, "keys_fingerprint": fingerprint},
    )
    consultation.refresh_from_db()
    return h


@transaction.atomic
def close_consultation(consultation: Consultation, *, actor: Any) -> None:
    c = _locked(consultation)
    if c.status != Status.OPEN:
        raise ActionError(_("Seule une consultation ouverte peut être close."))
    now = timezone.now()
    c.status, c.closed_at = Status.CLOSED, now
    c.save(update_fields=["status", "closed_at"])
    _event(c, "closed", {"head": c.board_head, "entries": c.board_count}, now)
    journal.append(
        "consult.close",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        data={"head": c.board_head, "entries": c.board_count},
    )
    consultation.refresh_from_db()


# -- credentials ------------------------------------------------------------------


@transaction.atomic
def import_credentials(consultation: Consultation, text: str, *, actor: Any) -> int:
    """Import a public-key list (``beffroi credentials generate`` → public.jsonl)."""
    c = _locked(consultation)
    spec = _validated(c.spec)
    if spec.access == "open":
        raise ActionError(_("Consultation ouverte : elle n'utilise pas de codes."))
    if c.status == Status.CLOSED:
        raise ActionError(_("Consultation close : plus d'import de codes."))
    try:
        public = read_public_jsonl(text)
    except ValueError as exc:
        # Name the one file that is right: the authority's folder also holds codes.csv,
        # whose private codes an organiser picking "a file from the authority" may try.
        raise ActionError(
            _(
                "Liste de clés : %(err)s. Importez tel quel le fichier cles-publiques.jsonl "
                "que vous a remis l'autorité de délivrance."
            )
            % {"err": exc}
        ) from exc
    if not public:
        raise ActionError(_("Liste de clés vide."))
    codes = set(spec.segment_codes())
    for i, p in enumerate(public, start=1):
        if codes and p.segment is None:
            # What `credentials generate --count` makes: the tool refuses it over this
            # consultation's spec, but an authority without the spec may have run it.
            raise ActionError(
                _(
                    "Clé n° %(i)d : sans segment, alors que la consultation répartit ses "
                    "codes par segment (%(codes)s). Rien n'a été importé : l'autorité de "
                    "délivrance doit refaire ces lettres avec --segments (nombre de lettres "
                    "de chaque segment) au lieu de --count."
                )
                % {"i": i, "codes": ", ".join(spec.segment_codes())}
            )
        if codes and p.segment not in codes:
            raise ActionError(
                _("Clé n° %(i)d : segment « %(s)s » inconnu de la consultation.")
                % {"i": i, "s": p.segment}
            )
        if not codes and p.segment is not None:
            raise ActionError(_("Clé n° %(i)d : la consultation n'a pas de segments.") % {"i": i})
    existing = set(
        c.credentials.filter(public_key__in=[p.public_key for p in public]).values_list(
            "public_key", flat=True
        )
    )
    if existing:
        raise ActionError(
            ngettext(
                "%(n)d clé déjà importée (%(k)s…) : rien n'a été importé.",
                "%(n)d clés déjà importées, par ex. %(k)s… : rien n'a été importé.",
                len(existing),
            )
            % {"n": len(existing), "k": sorted(existing)[0][:16]}
        )
    Credential.objects.bulk_create(
        [Credential(consultation=c, public_key=p.public_key, segment=p.segment) for p in public]
    )
    # Cumulative: the fingerprint of every key imported so far, which is what the
    # credential authority published when it made a single list.
    fingerprint = imported_keys_fingerprint(c)
    if c.status == Status.OPEN:
        _event(
            c,
            "credentials_imported",
            {"count": len(public), "keys_fingerprint": fingerprint},
            timezone.now(),
        )
    journal.append(
        "consult.credentials.import",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        data={"count": len(public), "keys_fingerprint": fingerprint},
    )
    return len(public)


@transaction.atomic
def revoke_credential(
    consultation: Consultation,
    public_key: str,
    reason: str,
    *,
    actor: Any,
    replacement: str | None = None,
) -> Credential:
    """Revoke a lost or stolen credential; ``replacement`` is the public key of the
    new letter the credential authority made (same segment)."""
    c = _locked(consultation)
    if c.status != Status.OPEN:
        raise ActionError(_("Les codes se révoquent pendant la consultation."))
    if not reason.strip():
        raise ActionError(_("Indiquez le motif de la révocation."))
    public_key = public_key.strip().lower()
    cred = c.credentials.filter(public_key=public_key).first()
    if cred is None:
        raise ActionError(_("Clé inconnue dans cette consultation."))
    if cred.revoked_at is not None:
        raise ActionError(_("Ce code est déjà révoqué."))
    new_key = None
    if replacement:
        new_key = replacement.strip().lower()
        if len(new_key) != 64 or any(ch not in "0123456789abcdef" for ch in new_key):
            raise ActionError(_("Clé de remplacement : 64 caractères hexadécimaux attendus."))
        if c.credentials.filter(public_key=new_key).exists():
            raise ActionError(_("La clé de remplacement est déjà dans la liste."))
    elif c.entries.filter(public_key=public_key).exists():
        # Revoking a code that has voted drops a signed ballot without changing any
        # fingerprint: only a replacement the authority made (and whose key its
        # republished fingerprint covers) may do that; otherwise the exclusion is a
        # post-hoc decision with its effect shown. The submission path locks the same
        # row, so no ballot can slip in between this check and the revocation.
        raise ActionError(
            _(
                "Ce code a déjà servi : sa réponse ne peut être retirée que si l'autorité de "
                "délivrance émet un code de remplacement (« beffroi credentials generate "
                "--replace », dont vous indiquez ici la nouvelle clé) ; sinon, une décision "
                "motivée d'exclusion, publiée comme règle ajoutée après l'ouverture (page "
                "« Règles et décisions »). Rien n'a été révoqué."
            )
        )
    now = timezone.now()
    ev = _event(
        c,
        "credential_revoked",
        {"public_key": public_key, "reason": reason.strip(), "replaced_by": new_key},
        now,
    )
    # The revocation time is the event's (the verifier compares them field by field).
    cred.revoked_at = parse_time(ev.at, "at")
    cred.revoke_reason = reason.strip()
    cred.replaced_by = new_key
    cred.save(update_fields=["revoked_at", "revoke_reason", "replaced_by"])
    if new_key:
        Credential.objects.create(consultation=c, public_key=new_key, segment=cred.segment)
        _event(c, "credential_added", {"public_key": new_key, "segment": cred.segment}, now)
    journal.append(
        "consult.credentials.revoke",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        reason=reason.strip(),
        data={"public_key": public_key, "replaced_by": new_key},
    )
    return cred


# -- rules and flags -------------------------------------------------------------


@transaction.atomic
def add_post_hoc_rule(
    consultation: Consultation, rule: dict[str, Any], *, actor: Any, reason: str = ""
) -> None:
    """A rule added after opening: allowed, labelled post hoc, its effect shown."""
    c = _locked(consultation)
    if c.status == Status.DRAFT:
        raise ActionError(_("Avant l'ouverture, modifiez simplement les règles."))
    # The tally keys rules by code (and switches post-hoc ones off by code to show
    # their effect): a second rule with a code already in force would blur both.
    if any(r.get("code") == rule.get("code") for r in c.spec.get("rules", [])):
        raise ActionError(
            _("La règle « %(code)s » est déjà en vigueur pour cette consultation.")
            % {"code": rule.get("code")}
        )
    rule = {**rule, "added_after_opening": True}
    spec_dict = dict(c.spec)
    spec_dict["rules"] = [*spec_dict.get("rules", []), rule]
    spec = _validated(spec_dict)
    stored = spec.to_dict()["rules"][-1]
    c.spec = spec.to_dict()
    c.save(update_fields=["spec"])
    _event(c, "rule_added", {"rule": stored}, timezone.now())
    journal.append(
        "consult.rule.post_hoc",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        reason=reason,
        rule=stored["code"],
        data={"rule": stored},
    )
    consultation.spec = c.spec


PSEUDONYM_RE = re.compile(r"\b(?:addr|prefix|ua|handle):[0-9a-f]{6,}")


@transaction.atomic
def record_flags(
    consultation: Consultation,
    flags: Sequence[tuple[str, str, str]],
    *,
    actor: Any = None,
    rule: str = "audit",
) -> int:
    """Record integrity flags ``(entry hash, flag name, evidence)``; returns how many
    were new (a flag already raised on an entry is not repeated)."""
    c = _locked(consultation)
    if c.status == Status.DRAFT:
        raise ActionError(_("Pas de signalement avant l'ouverture."))
    # The integrity_flag rule was frozen at the opening: a flag raised after the close
    # would change a result already proclaimed under it. A late finding is a named,
    # post-hoc decision (exclude_entries), shown with its effect.
    if c.status == Status.CLOSED:
        raise ConsultationClosed(
            _(
                "La consultation est close : plus de signalement. Pour écarter une réponse, "
                "prenez une décision motivée (ajoutée après l'ouverture, post hoc)."
            )
        )
    hashes = dict(c.entries.values_list("hash", "public_key"))
    seen = {
        (e["entry"], e["flag"])
        for e in c.events.filter(kind="flag").values_list("data", flat=True)
        if isinstance(e, dict)
    }
    now = timezone.now()
    added = 0
    for entry_hash, name, evidence in flags:
        if entry_hash not in hashes:
            raise ActionError(_("Signalement sur une entrée absente du tableau."))
        # The audit reads only unsigned answers; the tally and the verifier ignore a flag on
        # a signed one (only the organiser's word could put it there).
        if hashes[entry_hash] is not None:
            raise ActionError(
                _(
                    "Signalement sur une réponse signée refusé : seules les réponses sans "
                    "code sont auditées."
                )
            )
        if (entry_hash, name) in seen:
            continue
        seen.add((entry_hash, name))
        # Evidence is published: no client pseudonym may travel inside its text.
        evidence = PSEUDONYM_RE.sub("[pseudonyme]", evidence)
        _event(c, "flag", {"entry": entry_hash, "flag": name, "evidence": evidence}, now)
        added += 1
    if added:
        journal.append(
            "consult.flags",
            actor=actor,
            organisation=c.organisation,
            subject=_subject(c),
            rule=rule,
            data={"added": added},
        )
    return added


# -- ballots ----------------------------------------------------------------------


@dataclass
class Incoming:
    """One submission as the web front received it (pseudonyms only, never raw)."""

    ballot: Any
    signature: str | None
    net: str = ""
    addr: str = ""
    ua: str = ""
    signature_checked: bool = False  # the front already ran verify_signature
    # signed_bytes(ballot) when the front already encoded it (saves one encoding here)
    signed: bytes | None = None


@dataclass
class Outcome:
    entry: dict[str, Any] | None = None
    new: bool = False
    error: BallotError | None = None


_SPECS: dict[tuple[str, str], tuple[Any, Spec]] = {}


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _refusal_zone(spec: Spec) -> ZoneInfo:
    """The consultation's zone, frozen with its rules, else the deployment's
    (settings.TIME_ZONE): a late ballot is told the closing time as the letters and
    the pages give it."""
    return _zone(spec.timezone or settings.TIME_ZONE or "UTC")


def _frozen_spec(cid: str, frozen_hash: str, raw: Any) -> Spec:
    """The consultation's Spec from its stored column (JSON text or, on
    PostgreSQL, already decoded), parsed once per version.

    The frozen part never changes once open; post-hoc rules may be added or
    extended, so a cached Spec is reused only while the stored value is equal.
    """
    key = (cid, frozen_hash)
    hit = _SPECS.get(key)
    if hit is not None and hit[0] == raw:
        return hit[1]
    spec = spec_from_dict(json.loads(raw) if isinstance(raw, str | bytes) else raw)
    if len(_SPECS) > 64:
        _SPECS.clear()
    _SPECS[key] = (raw, spec)
    return spec


def submit_ballots(
    cid: str, items: Sequence[Incoming], *, at: datetime | None = None
) -> list[Outcome]:
    """Check and append a batch of ballots in one transaction (one journal entry).

    Per item: the very same ballot already on the board returns its entry
    (``new=False``); a refused ballot gets its :class:`BallotError`.  Nothing
    is returned before the transaction commits.  ``at`` replaces the clock
    for demos and replays (never exposed to the web); times still never go
    backwards along the board.
    """
    with transaction.atomic():
        return _submit(cid, items, at)


# Board columns written by _insert_entries, in the order of its row tuples.
_BOARD_FIELDS = (
    "consultation",
    "n",
    "received_at",
    "ballot",
    "signature",
    "receipt",
    "prev",
    "hash",
    "public_key",
    "seq",
    "net",
    "addr",
    "ua",
)
# The ballot writer's statements.  Placeholders name a model's table and its
# fields' columns; _sql() fills them in with the backend's quoting.
_STATEMENTS = {
    "consultation": (
        "SELECT {cons.id}, {cons.organisation}, {cons.status}, {cons.spec}, {cons.spec_hash}, "
        "{cons.board_count}, {cons.board_head}, {cons.last_received_at} "
        "FROM {cons.table} WHERE {cons.cid} = %s{lock}"
    ),
    "receipts": "SELECT {board.receipt} FROM {board.table} "
    "WHERE {board.consultation} = %s AND {board.receipt} IN ",
    "keys": "SELECT {cred.public_key}, {cred.segment}, {cred.revoked_at} IS NOT NULL "
    "FROM {cred.table} WHERE {cred.consultation} = %s AND {cred.public_key} IN ",
    "last_seq": "SELECT {board.public_key}, MAX({board.seq}), COUNT(*) FROM {board.table} "
    "WHERE {board.consultation} = %s AND {board.public_key} IN ",
    "last_seq_end": " GROUP BY {board.public_key}",
    "insert": "INSERT INTO {board.table} ({columns}) VALUES ({marks})",
    "head": "UPDATE {cons.table} SET {cons.board_count} = %s, {cons.board_head} = %s, "
    "{cons.last_received_at} = %s WHERE {cons.id} = %s",
}
_SQL: dict[str, dict[str, str]] = {}
_CANONICAL_AT = len(DOMAIN)  # signed_bytes = DOMAIN + canonical JSON of the ballot
# A batch's IN lists stay far below every database's limit on parameters.
_IN_CHUNK = 500
_ORGS: dict[int, Organisation] = {}


class _Names:
    """``{x.table}`` and ``{x.field}`` in a statement: the model's quoted names."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, field: str) -> str:
        meta = self._model._meta
        name = meta.db_table if field == "table" else meta.get_field(field).column
        return str(connection.ops.quote_name(name))


def _sql() -> dict[str, str]:
    """The writer's statements for the current database.

    A batch can hold hundreds of ballots and the writer runs a batch every few
    milliseconds: the ORM's query building cost more than the rest of the
    write, so these few fixed statements are written once and sent to the
    driver with plain parameters.  Names come from the models' meta; values
    always travel as parameters.
    """
    got = _SQL.get(connection.vendor)
    if got is None:
        names = {
            "cons": _Names(Consultation),
            "board": _Names(BoardEntry),
            "cred": _Names(Credential),
            "lock": " FOR UPDATE" if connection.features.has_select_for_update else "",
            "columns": ", ".join(getattr(_Names(BoardEntry), f) for f in _BOARD_FIELDS),
            "marks": ", ".join(["%s"] * len(_BOARD_FIELDS)),
        }
        got = _SQL[connection.vendor] = {k: v.format_map(names) for k, v in _STATEMENTS.items()}
    return got


def _in_rows(cursor: Any, head: str, first: Any, values: list[str], tail: str = "") -> list[Any]:
    """Rows of ``head (values…) tail`` with ``first`` as the first parameter."""
    out: list[Any] = []
    for at in range(0, len(values), _IN_CHUNK):
        chunk = values[at : at + _IN_CHUNK]
        cursor.execute(f"{head}({', '.join(['%s'] * len(chunk))}){tail}", [first, *chunk])
        out.extend(cursor.fetchall())
    return out


def _organisation(pk: int) -> Organisation:
    # The journal entry only needs the organisation's key; organisations are
    # never deleted while they hold a consultation (PROTECT), so one read each.
    org = _ORGS.get(pk)
    if org is None:
        org = _ORGS[pk] = Organisation.objects.get(pk=pk)
    return org


def max_ballots_per_key() -> int:
    """Ballots one code may have on the board. A code's holder may change their mind, and
    every ballot stays published: without a bound, one holder could grow the board (and
    every scrutineer's bundle) at will, as open answers cannot (limit per network)."""
    from django.conf import settings

    return int(getattr(settings, "BEFFROI_CONSULT_MAX_BALLOTS_PER_KEY", 50))


def _submit(cid: str, items: Sequence[Incoming], at: datetime | None) -> list[Outcome]:
    sql = _sql()
    per_key = max_ballots_per_key()
    with connection.cursor() as cursor:
        cursor.execute(sql["consultation"], [cid])
        row = cursor.fetchone()
        if row is None or row[2] != Status.OPEN:
            # A draft is unknown to the public (api._load_spec says why).
            if row is None or row[2] == Status.DRAFT:
                msg = "Consultation inconnue."
            elif row[2] == Status.CLOSED:
                msg = "La consultation est close : votre réponse n'a pas été enregistrée."
            else:
                msg = "La consultation n'est pas ouverte aux réponses."
            return [Outcome(error=OutOfPeriod(msg)) for _ in items]
        c_pk, org_pk, _status, raw_spec, frozen, count, board_head, last_received = row
        spec = _frozen_spec(cid, frozen, raw_spec)
        outcomes: list[Outcome] = [Outcome() for _ in items]
        signed: list[bytes | None] = [None] * len(items)
        receipts: list[str | None] = [None] * len(items)
        for i, it in enumerate(items):
            try:
                if isinstance(it.ballot, dict):
                    signed[i] = it.signed or signed_bytes(it.ballot)
                    receipts[i] = receipt(it.ballot, it.signature, signed=signed[i])
            except (ValueError, TypeError, UnicodeEncodeError):
                pass  # check_ballot below gives the precise refusal
        wanted = [r for r in receipts if r is not None]
        existing: dict[str, dict[str, Any]] = {}
        known = [r for (r,) in _in_rows(cursor, sql["receipts"], c_pk, wanted)] if wanted else []
        if known:
            # A retry of a ballot already on the board (rare): answer with its entry.
            existing = {
                e.receipt: e.public()
                for e in BoardEntry.objects.filter(consultation_id=c_pk, receipt__in=known).only(
                    *PUBLIC_ENTRY_FIELDS
                )
            }
        pks: list[str] = sorted(
            {
                it.ballot["public_key"]
                for it in items
                if isinstance(it.ballot, dict) and isinstance(it.ballot.get("public_key"), str)
            }
        )
        keys: dict[str, KeyInfo] = {}
        last_seq: dict[str, int] = {}
        on_board: dict[str, int] = {}
        if pks:
            revoked = []
            for known_key, seg, is_revoked in _in_rows(cursor, sql["keys"], c_pk, pks):
                keys[known_key] = KeyInfo(seg, None)
                if is_revoked:
                    revoked.append(known_key)
            if revoked:
                # Revoked keys are few: read their revocation time through the ORM,
                # which converts it the same way on every database.
                for key, seg, rev in Credential.objects.filter(
                    consultation_id=c_pk, public_key__in=revoked
                ).values_list("public_key", "segment", "revoked_at"):
                    keys[key] = KeyInfo(seg, rev)
            for key, top, entries in _in_rows(
                cursor, sql["last_seq"], c_pk, pks, sql["last_seq_end"]
            ):
                if key is not None:
                    last_seq[key], on_board[key] = int(top), int(entries)
        now = at or timezone.now()
        if last_received:
            now = max(now, parse_time(last_received, "last_received_at"))
        when = format_time(now)
        n, head = count, board_head or frozen
        rows: list[tuple[Any, ...]] = []
        unkeyed = False
        json_field = BoardEntry._meta.get_field("ballot")
        # SQLite keeps JSON as text: the ballot's canonical encoding, already made
        # for its signature and receipt, is valid JSON of the same value.
        as_text = connection.vendor == "sqlite"
        batch: dict[str, dict[str, Any]] = {}
        for i, it in enumerate(items):
            rec: Any = receipts[i]
            if rec is not None and (rec in existing or rec in batch):
                outcomes[i] = Outcome(existing.get(rec) or batch[rec], new=False)
                continue
            ballot = it.ballot
            pk = ballot.get("public_key") if isinstance(ballot, dict) else None
            try:
                check_ballot(
                    spec,
                    ballot,
                    it.signature,
                    keys=keys,
                    received_at=now,
                    last_seq=last_seq.get(pk) if isinstance(pk, str) else None,
                    check_signature=not it.signature_checked,
                    zone=_refusal_zone(spec),
                )
                if isinstance(pk, str) and on_board.get(pk, 0) >= per_key:
                    raise TooManyBallots(
                        f"Ce code a atteint le nombre maximal de réponses ({per_key}) : la "
                        "dernière enregistrée compte ; celle-ci n'a pas été enregistrée."
                    )
            except BallotError as exc:
                outcomes[i] = Outcome(error=exc)
                continue
            n += 1
            body = signed[i]
            entry = board_mod.make_entry(n, head, ballot, it.signature, now, signed=body, when=when)
            head = entry["hash"]
            batch[entry["receipt"]] = entry
            if isinstance(pk, str):
                last_seq[pk] = ballot["seq"]
                on_board[pk] = on_board.get(pk, 0) + 1
            else:
                unkeyed = True
            rows.append(
                (
                    c_pk,
                    n,
                    entry["received_at"],
                    body[_CANONICAL_AT:].decode()
                    if as_text and body is not None
                    else json_field.get_db_prep_value(ballot, connection),
                    it.signature,
                    entry["receipt"],
                    entry["prev"],
                    head,
                    pk,
                    ballot["seq"] if isinstance(pk, str) else 0,
                    it.net,
                    it.addr,
                    it.ua,
                )
            )
            outcomes[i] = Outcome(entry, new=True)
        if not rows:
            return outcomes
        cursor.executemany(sql["insert"], rows)
        cursor.execute(sql["head"], [n, head, when, c_pk])
    if unkeyed:
        from beffroi.consult.tasks import schedule_live_audit

        # Unverified answers arrived: the live integrity audit looks at them soon.
        transaction.on_commit(lambda: schedule_live_audit(cid))
    journal.append(
        "consult.ballots",
        organisation=_organisation(org_pk),
        subject=f"consultation:{cid}",
        data={"accepted": len(rows), "entries": n, "head": head},
    )
    return outcomes


# -- post-hoc exclusion of chosen entries (helper C) --------------------------------

EXCLUDE_RULE = "exclude_entries"
EXCLUDE_LABEL = "Entrées écartées une à une par décision motivée"
# A decision names a handful of entries; a mass exclusion is what the integrity
# rule (flags with their evidence) is for.
MAX_EXCLUDED_AT_ONCE = 500
MAX_REASON = 300


def exclusion_reason(reason: str) -> str:
    """The reason of an exclusion decision, normalised, or ActionError."""
    reason = " ".join(reason.split())
    if not reason:
        raise ActionError(_("Indiquez le motif de la décision : il est publié avec elle."))
    if len(reason) > MAX_REASON:
        raise ActionError(_("Motif trop long : %(max)d caractères au plus.") % {"max": MAX_REASON})
    return reason


def rules_with_exclusions(
    rules: Sequence[dict[str, Any]],
    wanted: Sequence[str],
    reason: str,
    numbers: dict[str, int],
) -> list[dict[str, Any]]:
    """The spec's rules once ``wanted`` (entry hashes, numbered by ``numbers``) are
    added to the post-hoc ``exclude_entries`` rule, created if needed.  Pure: the
    preview page uses it to show a decision's effect before it is taken."""
    if not wanted:
        raise ActionError(_("Choisissez au moins une entrée du tableau."))
    if len(wanted) > MAX_EXCLUDED_AT_ONCE:
        raise ActionError(
            _(
                "%(n)d entrées choisies : %(max)d au plus par décision (pour écarter un "
                "grand nombre de réponses, inscrivez des signalements lus par la règle "
                "d'intégrité)."
            )
            % {"n": len(wanted), "max": MAX_EXCLUDED_AT_ONCE}
        )
    out = [dict(r) for r in rules]
    at = next((i for i, r in enumerate(out) if r.get("code") == EXCLUDE_RULE), None)
    if at is not None and not out[at].get("added_after_opening"):
        raise ActionError(
            _(
                "La règle « %(code)s » a été gelée à l'ouverture : une décision ajoutée "
                "après coup ne peut pas la modifier."
            )
            % {"code": EXCLUDE_RULE}
        )
    decided: dict[str, str] = dict(out[at]["params"].get("entries", {})) if at is not None else {}
    again = sorted(numbers[h] for h in wanted if h in decided)
    if again:
        raise ActionError(
            _("L'entrée n° %(n)d est déjà écartée par une décision précédente.") % {"n": again[0]}
        )
    decided.update(dict.fromkeys(wanted, reason))
    label = (out[at].get("label") if at is not None else None) or EXCLUDE_LABEL
    rule = {
        "code": EXCLUDE_RULE,
        "label": label,
        "params": {"entries": decided},
        "added_after_opening": True,
    }
    if at is None:
        out.append(rule)
    else:
        out[at] = rule
    return out


@transaction.atomic
def exclude_entries(
    consultation: Consultation, entry_hashes: Sequence[str], reason: str, *, actor: Any
) -> dict[str, Any]:
    """Set chosen board entries aside with a written reason; returns the rule.

    Nothing is deleted: the entries stay on the board and the post-hoc
    ``exclude_entries`` rule (entry hash → reason) names them, so the tally
    lists them under that rule and shows the result without it.  The tally
    reads one rule per code, so the first decision creates the rule and later
    ones extend it; each decision is its own ``rule_added`` event carrying the
    rule as it now stands and the entries it added.  An entry already named by
    an earlier decision is refused: decisions are never rewritten.
    """
    c = _locked(consultation)
    if c.status == Status.DRAFT:
        raise ActionError(_("Rien à écarter avant l'ouverture : le tableau est vide."))
    reason = exclusion_reason(reason)
    wanted = list(dict.fromkeys(entry_hashes))
    numbers = dict(c.entries.filter(hash__in=wanted).values_list("hash", "n"))
    missing = [h for h in wanted if h not in numbers]
    if missing:
        raise ActionError(
            _("Aucune entrée du tableau n'a l'empreinte %(h)s.") % {"h": str(missing[0])[:64]}
        )
    rules = rules_with_exclusions(c.spec.get("rules", []), wanted, reason, numbers)
    spec = _validated({**c.spec, "rules": rules})
    stored = next(r for r in spec.to_dict()["rules"] if r["code"] == EXCLUDE_RULE)
    c.spec = spec.to_dict()
    c.save(update_fields=["spec"])
    _event(c, "rule_added", {"rule": stored, "entries_added": wanted}, timezone.now())
    journal.append(
        "consult.rule.exclude_entries",
        actor=actor,
        organisation=c.organisation,
        subject=_subject(c),
        reason=reason,
        rule=EXCLUDE_RULE,
        data={"entries": sorted(numbers[h] for h in wanted), "count": len(wanted)},
    )
    consultation.spec = c.spec
    return stored


@transaction.atomic
def prune_client_pseudonyms(*, now: datetime | None = None, dry_run: bool = False) -> Any:
    """Blank the private client pseudonyms (``net``, ``addr``, ``ua``) of the ballots of
    consultations closed more than the period ago (docs/decisions/retention.md).

    The ballots stay: they are the public evidence, and the published board and bundle never
    held these columns, so ``beffroi verify`` and every receipt check are unaffected. What
    goes is the means to link one respondent's ballots, which the audit needed only while
    the result could still be contested."""
    from beffroi.core.actions import prune_entry, prune_start

    outcome, limit = prune_start("client_pseudonyms", "BEFFROI_RETENTION_PSEUDONYMS_DAYS", now)
    if limit is None:
        return outcome
    entries = BoardEntry.objects.filter(
        consultation__status=Status.CLOSED, consultation__closed_at__lte=limit
    ).exclude(net="", addr="", ua="")
    # order_by: the model's default ordering (by ``n``) would make every row distinct.
    outcome.scope = list(
        entries.order_by("consultation_id").values_list("consultation_id", flat=True).distinct()
    )
    outcome.counts["ballots"] = entries.count()
    if not dry_run and outcome.total:
        entries.update(net="", addr="", ua="")
    if (entry := prune_entry(outcome, dry_run=dry_run)) is not None:
        journal.append("retention.client_pseudonyms", **entry)
    return outcome
