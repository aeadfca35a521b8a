"""Does each main courante line still say what its latest journal entry says it said?

The actions journal a keyed digest of every line they create or change
(``content_seal``, docs/decisions/courante-digest.md); ``check`` recomputes the digest
of each line as stored today and names the lines that differ. Read-only: `beffroi watch
courante-verify` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.watch import courante_digest
from beffroi.watch.models import Activation, LogEntry

# The key under which an action's journal entry carries its lines' digests.
DATA_KEY = "content"


def _key(secret: str | bytes) -> bytes:
    return courante_digest.derive_key(secret.encode() if isinstance(secret, str) else secret)


def content_key() -> bytes:
    """The key of line digests, derived from the deployment's pseudonym secret (setting
    BEFFROI_PSEUDONYM_KEY, which falls back to SECRET_KEY): a secret already meant to last
    as long as the data, since every stored pseudonym depends on it too."""
    return _key(settings.BEFFROI_PSEUDONYM_KEY)


def key_id(secret: str | bytes | None = None) -> str:
    """The public id of the digest key of ``secret`` (default: the current secret), as
    journal entries name it."""
    return courante_digest.key_id(content_key() if secret is None else _key(secret))


def line_fields(entry: LogEntry) -> dict[str, Any]:
    # The foreign keys by their ids: reading ``entry.card`` would load the card (a query
    # a line, and a line without its card reads the same).
    ids = {"activation": entry.activation_id, "card": entry.card_id}
    return {
        name: ids[name] if name in ids else getattr(entry, name) for name in courante_digest.FIELDS
    }


def content_seal(entries: Iterable[LogEntry]) -> Callable[[int], dict[str, Any]] | None:
    """What an action's journal entry carries for the lines it created or changed, as
    the ``seal`` of ``journal.append``: called with the entry's own seq under the head's
    lock, it reads the lines again (what is digested is what was stored, to the
    microsecond) and digests each bound to that seq and its id. None when there is no
    line."""
    pks = sorted({e.pk for e in entries})
    if not pks:
        return None

    def seal(seq: int) -> dict[str, Any]:
        rows = list(LogEntry.objects.filter(pk__in=pks).order_by("pk"))
        key = content_key()
        lines = {
            str(e.pk): {
                "number": e.number,
                "digest": courante_digest.digest(key, line_fields(e), seq=seq, line_id=e.pk),
            }
            for e in rows
        }
        return {
            DATA_KEY: {
                "v": courante_digest.VERSION,
                "key": courante_digest.key_id(key),
                # Every line an action touches belongs to one activation (a card, a
                # post, a line).
                "activation": rows[0].activation_id,
                "lines": lines,
            }
        }

    return seal


# The kinds of finding; each is a line the journal does not vouch for as it stands.
CHANGED, MISSING, FOREIGN, UNJOURNALED = "changed", "missing", "foreign", "unjournaled"
# A re-seal's own kind: the line matches a digest under an old key, but that digest was
# journaled after the key was retired or compromised, and the journal's clear record of
# the changes since cannot lead back to an earlier digest (``Report.unvouched``).
UNVOUCHED = "unvouched"


class Walk(Enum):
    """Where the walk back through a line's digests ended (``_replays``)."""

    VOUCHED = "vouched"
    # At an entry it cannot undo, or a digest no state matches: nothing more to try.
    STOPPED = "stopped"
    # At a digest under a key the re-seal was not given: the secret of a change before
    # the last re-seal, destroyed or kept aside. Given, its digest may vouch on its own.
    OLDER_KEY = "older-key"


# The actions that create a line: their digest is the line's first (numbers are handed
# out in order, so a line numbered above the first digested one came after the digest).
CREATING = frozenset({"watch.log.add", "watch.card.escalate"})


@dataclass(frozen=True)
class Finding:
    activation_id: int
    activation_name: str
    number: int
    since: datetime | None
    kind: str = CHANGED
    # For an UNVOUCHED line: its database id and the seq of the entry carrying its digest.
    line_id: int | None = None
    seq: int | None = None
    # For an UNVOUCHED line: why the walk back stopped (``_replays``), when the operator
    # can do something about it.
    stop: Walk | None = None

    @property
    def missing(self) -> bool:
        return self.kind == MISSING

    def message(self) -> str:
        values = {
            "number": self.number,
            "activation": self.activation_name or f"n° {self.activation_id}",
            "when": timezone.localtime(self.since).strftime("%d/%m/%Y %H:%M")
            if self.since is not None
            else "",
        }
        if self.kind == MISSING:
            return (
                _(
                    "ligne %(number)s de l'activation « %(activation)s » : supprimée hors de "
                    "Beffroi (dernière entrée du journal le %(when)s)"
                )
                % values
            )
        if self.kind == FOREIGN:
            return (
                _(
                    "ligne %(number)s de l'activation « %(activation)s » : la dernière entrée "
                    "du journal (le %(when)s) porte une empreinte sous une autre clé ou dans "
                    "un format inconnu ; contenu non vérifiable, à traiter comme modifié"
                )
                % values
            )
        if self.kind == UNVOUCHED:
            message = _(
                "ligne %(number)s (id %(id)s) de l'activation « %(activation)s » : son "
                "empreinte sous l'ancienne clé a été journalisée le %(when)s (entrée "
                "n° %(seq)s), après le retrait ou la compromission de cette clé, et le "
                "journal ne retrace pas ses changements depuis une empreinte antérieure : "
                "le journal ne s'en porte pas garant"
            ) % {**values, "id": self.line_id, "seq": self.seq}
            if self.stop is Walk.OLDER_KEY:
                message += _(
                    " ; son empreinte précédente est sous un secret plus ancien, non "
                    "fourni : donnez-le aussi avec --old-secret-file"
                )
            return message
        if self.kind == UNJOURNALED:
            return (
                _(
                    "ligne %(number)s de l'activation « %(activation)s » : sans empreinte au "
                    "journal alors qu'elle est postérieure à l'empreinte du contenu (ajoutée "
                    "ou retirée du journal hors de Beffroi)"
                )
                % values
            )
        return (
            _(
                "ligne %(number)s de l'activation « %(activation)s » : contenu modifié hors "
                "de Beffroi depuis le %(when)s"
            )
            % values
        )


@dataclass
class Report:
    checked: int = 0
    intact: int = 0
    # Lines older than the digest itself, untouched since: no digest to compare with.
    uncovered: int = 0
    # Lines whose latest digest names another key or format: not checkable, and reported
    # (a key change is not something the check can take on trust, see the decision doc).
    other_key: int = 0
    findings: list[Finding] = field(default_factory=list)
    # With an old secret (a re-seal): the lines intact under its key, by activation,
    # with their fields as checked, which the re-seal journals again under the current
    # key if they still read the same.
    stale: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    # Of ``stale``, the lines the journal does not vouch for: their digest under an old
    # key was journaled after that key stopped being the server's alone (``trusted_before``
    # in ``check``). Not findings of ``courante-verify``: the re-seal refuses them.
    unvouched: list[Finding] = field(default_factory=list)
    # Lines a re-seal carried over at the operator's request though the journal did not
    # vouch for them (``--carry-unvouched``): the mark stays, whatever changed since.
    carried: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class _Journaled:
    digest: str
    key: str
    version: int
    activation: int
    number: int
    at: datetime
    seq: int
    # The entry's action and data (its clear record of the change), for the re-seal's
    # walk back through a line's history (``_replays``).
    action: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Journal:
    """What the check needs from the journal, in one pass over it."""

    latest: dict[int, _Journaled] = field(default_factory=dict)
    # The seq of the first entry that carried a digest: the feature's start.
    first: int | None = None
    # Per line, the last entry after ``first`` whose subject is the line (every action
    # with such a subject journals the line's digest).
    touched: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    # Per card, the entry after ``first`` that escalated it (and created its line, whose
    # digest that entry carries).
    escalated: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    # Per activation, the lowest number among lines created with a digest.
    first_number: dict[int, int] = field(default_factory=dict)
    # Activations created after ``first`` (all their lines are digested from the start).
    recent: set[int] = field(default_factory=set)
    # The key ids of the entries carrying digests, in seq order, each with the seq where
    # a run of entries under it begins: when the server switched keys.
    runs: list[tuple[str, int]] = field(default_factory=list)
    # Per line, every digest journaled for it, oldest first (kept for a re-seal only).
    history: dict[int, list[_Journaled]] | None = None
    # Lines a re-seal carried over unvouched (its entry's ``unvouched``).
    carried: set[int] = field(default_factory=set)


def _int(text: str, prefix: str) -> int | None:
    rest = text.removeprefix(prefix)
    return int(rest) if rest != text and rest.isdigit() else None


def _journal(activation_ids: set[int] | None, *, history: bool = False) -> _Journal:
    from beffroi.core.models import JournalEntry

    found = _Journal(history={} if history else None)
    found.first = (
        JournalEntry.objects.filter(data__has_key=DATA_KEY)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if found.first is None:
        return found
    rows = (
        JournalEntry.objects.filter(seq__gte=found.first)
        .filter(
            Q(data__has_key=DATA_KEY)
            | Q(subject__startswith="log:")
            | Q(action="watch.activation.create")
            | Q(action="watch.card.escalate")
        )
        .order_by("seq")
        .values_list("seq", "at", "action", "subject", "data")
    )
    for seq, at, action, subject, data in rows.iterator(chunk_size=2000):
        created = _int(subject, "activation:") if action == "watch.activation.create" else None
        if created is not None and seq > found.first:
            found.recent.add(created)
        if (line_pk := _int(subject, "log:")) is not None:
            found.touched[line_pk] = (seq, at)
        card = _int(subject, "card:") if action == "watch.card.escalate" else None
        if card is not None and seq > found.first:
            found.escalated[card] = (seq, at)
        content = data.get(DATA_KEY)
        if not isinstance(content, dict):
            continue
        key = str(content.get("key", ""))
        if not found.runs or found.runs[-1][0] != key:
            found.runs.append((key, seq))
        activation = int(content.get("activation", 0))
        if activation_ids is not None and activation not in activation_ids:
            continue
        if action == "watch.log.reseal":
            found.carried.update(int(pk) for pk in data.get("unvouched", []))
        for pk, line in content.get("lines", {}).items():
            number = int(line["number"])
            known = _Journaled(
                digest=str(line["digest"]),
                key=key,
                version=int(content.get("v", 0)),
                activation=activation,
                number=number,
                at=at,
                seq=seq,
                action=action,
                data=data,
            )
            found.latest[int(pk)] = known
            if found.history is not None:
                found.history.setdefault(int(pk), []).append(known)
            if action in CREATING:
                lowest = found.first_number.get(activation, number)
                found.first_number[activation] = min(lowest, number)
    return found


def content_keys(*secrets: str | bytes) -> dict[str, bytes]:
    """The keys the check accepts, by key id: the current one, plus those of the
    ``secrets`` given (the old secret during a re-seal, never a setting: an old key
    accepted for good would let a leaked secret vouch for a forgery)."""
    keys = [content_key(), *map(_key, secrets)]
    return {courante_digest.key_id(key): key for key in keys}


def _compared(
    wanted: set[int] | None,
    keys: Mapping[str, bytes],
    read: tuple[int, _Journal] | None = None,
) -> Iterator[tuple[LogEntry, _Journaled | None, str]]:
    """Each line (of the ``wanted`` activations) with its latest journaled digest and the
    verdict: "uncovered", "intact", or a finding kind (CHANGED, MISSING, FOREIGN,
    UNJOURNALED). ``keys`` (by key id) are those a digest may be under.

    The journal and the lines are read one after the other while the services may run:
    a line a volunteer adds or edits in between reads as unjournaled or changed. So the
    head is noted first, and each flagged line is looked at again, locked, against the
    entries appended since (``_recheck``). ``read``: the head and the journal, read
    by the caller in that order (a re-seal keeps the journal for its own use)."""
    since, journal = read if read is not None else (_head(), _journal(wanted))
    latest = journal.latest
    lines = LogEntry.objects.all()
    if wanted is not None:
        lines = lines.filter(activation_id__in=wanted)
    flagged: list[tuple[LogEntry, _Journaled | None, str]] = []
    for entry, known, verdict in _verdicts(lines, journal, keys):
        if verdict in (CHANGED, FOREIGN, UNJOURNALED):
            flagged.append((entry, known, verdict))
        else:
            yield entry, known, verdict
    yield from _recheck(flagged, since, keys)
    # No action deletes a line: one the journal knows and the table lacks was removed
    # behind Beffroi's back (with its activation, if that is gone too).
    for known in latest.values():
        gone = LogEntry(pk=None, activation_id=known.activation, number=known.number)
        yield gone, known, MISSING


def _verdicts(
    lines: Any, journal: _Journal, keys: Mapping[str, bytes]
) -> Iterator[tuple[LogEntry, _Journaled | None, str]]:
    """Each of ``lines`` judged against ``journal`` (whose ``latest`` it empties of the
    lines it meets)."""
    latest = journal.latest
    for entry in lines.order_by("activation_id", "number").iterator(chunk_size=2000):
        known = latest.pop(entry.pk, None)
        touched = journal.touched.get(entry.pk)
        if touched is None and entry.card_id is not None:
            touched = journal.escalated.get(entry.card_id)
        if touched is not None and (known is None or touched[0] > known.seq):
            # An action on this line (or the escalation that created it) after the
            # digest began journals its digest: an entry without it was stripped (the
            # chain recomputed after).
            yield entry, known, UNJOURNALED
        elif known is None:
            # Only a line older than the digest may lack one. A line of an activation
            # opened since, or numbered above a line created with its digest (numbers
            # are handed out in order), was put in the table behind Beffroi's back.
            first_number = journal.first_number.get(entry.activation_id)
            if entry.activation_id in journal.recent or (
                first_number is not None and entry.number > first_number
            ):
                yield entry, None, UNJOURNALED
            else:
                yield entry, None, "uncovered"
        elif (key := keys.get(known.key)) is None or known.version != courante_digest.VERSION:
            yield entry, known, FOREIGN
        elif courante_digest.matches(
            key, line_fields(entry), known.digest, seq=known.seq, line_id=entry.pk
        ):
            yield entry, known, "intact"
        else:
            yield entry, known, CHANGED


# Flagged lines looked at again per transaction (each holds their row locks).
RECHECK_BATCH = 500


def _recheck(
    flagged: list[tuple[LogEntry, _Journaled | None, str]], since: int, keys: Mapping[str, bytes]
) -> Iterator[tuple[LogEntry, _Journaled | None, str]]:
    """The ``flagged`` lines again, each locked (the lock the actions take before the
    journal's head: no action on it can be half-committed), with the journal entries
    appended after ``since``: a line whose latest such entry carries a digest that
    matches it as it stands now was changed through Beffroi during the check, and is
    intact. Any other keeps its verdict (against the line as first read). On SQLite the
    transaction is one snapshot of both reads."""
    for start in range(0, len(flagged), RECHECK_BATCH):
        batch = flagged[start : start + RECHECK_BATCH]
        with transaction.atomic():
            rows = LogEntry.objects.filter(pk__in=[entry.pk for entry, _k, _v in batch])
            now = {row.pk: row for row in rows.select_for_update().order_by("pk")}
            newer = _newer({entry.pk for entry, _k, _v in batch}, since)
        for entry, known, verdict in batch:
            row, later = now.get(entry.pk), newer.get(entry.pk)
            if row is not None and later is not None and later.vouches(row, keys):
                yield row, later.journaled, "intact"
            else:
                yield entry, known, verdict


@dataclass(frozen=True)
class _Later:
    """A line's latest journal entry after some seq: its digest, if it carries one (an
    entry about the line without it means the line is not vouched for)."""

    journaled: _Journaled | None
    at: datetime
    seq: int

    def vouches(self, entry: LogEntry, keys: Mapping[str, bytes]) -> bool:
        known = self.journaled
        if known is None or known.version != courante_digest.VERSION:
            return False
        key = keys.get(known.key)
        return key is not None and courante_digest.matches(
            key, line_fields(entry), known.digest, seq=known.seq, line_id=entry.pk
        )


def _newer(pks: set[int], since: int) -> dict[int, _Later]:
    """Per line of ``pks``, its latest journal entry after ``since``: one carrying its
    digest, or one whose subject is the line (every such action journals the digest)."""
    from beffroi.core.models import JournalEntry

    found: dict[int, _Later] = {}
    rows = (
        JournalEntry.objects.filter(seq__gt=since)
        .filter(Q(data__has_key=DATA_KEY) | Q(subject__startswith="log:"))
        .order_by("seq")
        .values_list("seq", "at", "subject", "data")
    )
    for seq, at, subject, data in rows.iterator(chunk_size=2000):
        digested = _digests(seq, at, data)
        for pk in pks & set(digested):
            found[pk] = _Later(digested[pk], at, seq)
        line = _int(subject, "log:")
        if line is not None and line in pks and line not in digested:
            found[line] = _Later(None, at, seq)
    return found


def _digests(seq: int, at: datetime, data: Mapping[str, Any]) -> dict[int, _Journaled]:
    """The line digests an entry carries, by line id."""
    content = data.get(DATA_KEY)
    if not isinstance(content, dict):
        return {}
    found = {}
    for pk, line in content.get("lines", {}).items():
        found[int(pk)] = _Journaled(
            digest=str(line.get("digest")),
            key=str(content.get("key", "")),
            version=int(content.get("v", 0)),
            activation=int(content.get("activation", 0)),
            number=int(line.get("number", 0)),
            at=at,
            seq=seq,
        )
    return found


def check(
    activation_ids: Sequence[int] | None = None,
    *,
    old_secret: str | bytes | Sequence[str | bytes] = "",
    compromised_since: datetime | None = None,
) -> Report:
    """Compare every line (of ``activation_ids``, or all) with its latest journaled
    digest. With ``old_secret`` (a re-seal; several after two secret changes with no
    re-seal between), a digest under the key of such a secret is checked too, and the
    lines intact under it are listed in ``Report.stale``; those of them the journal does
    not vouch for (``trusted_before``, ``_replays``) in ``Report.unvouched`` too.
    ``compromised_since``: when the old secret may have been in other hands."""
    wanted = set(activation_ids) if activation_ids is not None else None
    report = Report()
    names = dict(Activation.objects.values_list("pk", "name"))
    olds = [old_secret] if isinstance(old_secret, (str, bytes)) else list(old_secret)
    keys = content_keys(*(secret for secret in olds if secret))
    current = key_id()
    since = _head()
    journal = _journal(wanted, history=len(keys) > 1)
    bounds = trusted_before(journal, keys, current, compromised_since)
    for entry, known, verdict in _compared(wanted, keys, (since, journal)):
        if verdict not in ("intact", "uncovered"):
            report.findings.append(
                Finding(entry.activation_id, names.get(entry.activation_id, ""), entry.number,
                        known.at if known is not None else None, kind=verdict)
            )  # fmt: skip
            if verdict == MISSING:
                continue
        report.checked += 1
        if entry.pk in journal.carried:
            report.carried += 1
        if verdict == "uncovered":
            report.uncovered += 1
        elif verdict == FOREIGN:
            report.other_key += 1
        elif verdict == "intact":
            report.intact += 1
            if known is not None and known.key != current:
                fields = line_fields(entry)
                report.stale.setdefault(entry.activation_id, {})[entry.pk] = fields
                history = (journal.history or {}).get(entry.pk, [])
                walk = _replays(fields, entry.pk, history, keys, bounds, matched=known.seq)
                if walk is not Walk.VOUCHED:
                    report.unvouched.append(
                        Finding(entry.activation_id, names.get(entry.activation_id, ""),
                                entry.number, known.at, kind=UNVOUCHED, line_id=entry.pk,
                                seq=known.seq, stop=walk)
                    )  # fmt: skip
    report.findings.sort(key=lambda f: (f.activation_id, f.number))
    report.unvouched.sort(key=lambda f: (f.activation_id, f.number))
    return report


def trusted_before(
    journal: _Journal,
    keys: Mapping[str, bytes],
    current: str,
    compromised_since: datetime | None = None,
) -> dict[str, int]:
    """Per old key id (of ``keys``), the seq from which a digest under it no longer
    vouches for a line on its own. The server holds one secret at a time: from the first
    entry under another key held here (the current one, or another old one) after the
    key's first entry, the key was retired, and a digest under it was not journaled by
    the server, whoever else could compute it. Keys nobody holds are left out (a forger
    could otherwise append one such entry to make every line unvouched).
    ``compromised_since`` moves every bound back to the first entry journaled at or
    after that time: the holder of a leaked secret could append entries from then on
    (entries are appended in seq order, so one appended later comes after that entry
    even if it claims an earlier time)."""
    from beffroi.core.models import JournalEntry

    leaked: int | None = None
    if compromised_since is not None:
        after = JournalEntry.objects.filter(at__gte=compromised_since).order_by("seq")
        leaked = after.values_list("seq", flat=True).first() or _head() + 1
    bounds: dict[str, int] = {}
    for key in keys:
        if key == current:
            continue
        starts = [i for i, (name, _seq) in enumerate(journal.runs) if name == key]
        retired = next(
            (
                seq
                for name, seq in journal.runs[starts[0] :]
                if name != key and name in keys
            ),
            None,
        ) if starts else None  # fmt: skip
        found = [seq for seq in (retired, leaked) if seq is not None]
        if found:
            bounds[key] = min(found)
    return bounds


def _undone(known: _Journaled, state: dict[str, Any]) -> list[dict[str, Any]]:
    """The states the line may have had before the change ``known``'s entry records in
    clear, given ``state`` after it; [] when the entry does not say what it changed (or
    ``state`` contradicts it). Only the changes whose entry records the value replaced,
    or whose values are few enough to try, can be undone: the handle repair's rewrite of
    a text, an author's edit or deletion and the line's creation cannot."""
    data = known.data
    if known.action == "watch.log.reseal":
        return [state]
    if known.action in ("watch.log.status", "watch.log.verify"):
        name = "status" if known.action == "watch.log.status" else "verification"
        if "from" not in data or state[name] != data.get("to"):
            return []
        return [{**state, name: data["from"]}]
    if known.action == "watch.log.share":
        if state["for_partners"] != data.get("for_partners"):
            return []
        return [{**state, "for_partners": not state["for_partners"]}]
    if known.action == "watch.card.decide":
        # The decision does not journal the verdict it replaced; there are few to try.
        from beffroi.watch.models import Decision

        if state["verification"] != data.get("decision"):
            return []
        return [{**state, "verification": value} for value in ["", *Decision.values]]
    return []


def _replays(
    fields: dict[str, Any],
    line_id: int,
    history: Sequence[_Journaled],
    keys: Mapping[str, bytes],
    bounds: Mapping[str, int],
    *,
    matched: int | None = None,
) -> Walk:
    """Does the journal vouch for a line (``fields`` as it stands, matching the latest of
    its ``history``)? Yes when that latest digest is journaled before its key's bound
    (``trusted_before``; the current key has none); otherwise when walking back through
    its entries, each undone from what it records in clear (``_undone``) and each state
    matching that entry's digest, reaches a digest journaled before its key's bound.
    A forger holding the old key can append an entry with a matching digest, but not
    rewrite the earlier ones: a change the appended entry does not record in clear (a
    new text, a new commune) no longer matches the digest before it. ``matched``: the
    seq of the entry whose digest the caller already found ``fields`` to match. A digest
    under a key not in ``keys`` ends the walk as OLDER_KEY (an invented key id would too:
    the operator then has no such secret to give, and the line stays unvouched)."""
    states = [fields]
    for known in reversed(history):
        key = keys.get(known.key)
        if key is None:
            return Walk.OLDER_KEY
        if known.version != courante_digest.VERSION:
            return Walk.STOPPED
        if known.seq != matched:
            states = [
                state
                for state in states
                if courante_digest.matches(key, state, known.digest, seq=known.seq, line_id=line_id)
            ]
        if not states:
            return Walk.STOPPED
        if known.seq < bounds.get(known.key, known.seq + 1):
            return Walk.VOUCHED
        states = [before for state in states for before in _undone(known, state)]
        if not states:
            # Checked here, not at the next entry: an older key there is not the cause.
            return Walk.STOPPED
    return Walk.STOPPED


def _head() -> int:
    from beffroi.core.models import JournalHead

    return JournalHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


class Vouched:
    """The lines of an activation the journal vouches for, for a repair that rewrites
    lines in batches over minutes (``scrub_handles``) and journals, in each batch's own
    transaction, the new digests of the lines it rewrote and only of those: a line
    changed behind Beffroi's back, before or during the repair, is not laundered.

    One full check at the start; then, for the lines a batch has locked, only the
    journal entries appended since: a line changed through Beffroi meanwhile (a
    volunteer closes it while the repair runs) is vouched for by its newer digest, and
    a line that differs from both was changed behind Beffroi's back."""

    def __init__(self, activation_id: int) -> None:
        # The head before the check's journal read: an action committed during the check
        # is then seen again by ``lines``, whatever the check made of it.
        self.since = _head()
        self.activation_id = activation_id
        self.keys = content_keys()
        self.snapshot: dict[int, dict[str, Any]] = {}
        # Lines whose latest digest is under another key: the repair cannot vouch for
        # them, so it must not start (``foreign``; see scrub_handles).
        self.foreign = 0
        for entry, _known, verdict in _compared({activation_id}, self.keys):
            if verdict == "intact":
                self.snapshot[entry.pk] = line_fields(entry)
            elif verdict == FOREIGN:
                self.foreign += 1
        # Per line, its latest digest journaled after ``since``, read up to ``cursor``:
        # each batch reads only the entries appended since the previous one (entries
        # commit in seq order, under the head's lock).
        self.cursor = self.since
        self.newer: dict[int, _Journaled] = {}

    def _catch_up(self) -> None:
        from beffroi.core.models import JournalEntry

        later = (
            JournalEntry.objects.filter(seq__gt=self.cursor, data__has_key=DATA_KEY)
            .order_by("seq")
            .values_list("seq", "at", "data")
        )
        for seq, at, data in later.iterator(chunk_size=200):
            for pk, known in _digests(seq, at, data).items():
                if known.activation == self.activation_id:
                    self.newer[pk] = known
            self.cursor = seq

    def lines(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Of ``entries`` (read, locked, before the repair writes them), those the
        journal vouches for as they stand."""
        self._catch_up()
        vouched = []
        for entry in entries:
            fields = line_fields(entry)
            known = self.newer.get(entry.pk)
            if known is None:
                if self.snapshot.get(entry.pk) == fields:
                    vouched.append(entry)
                continue
            key = self.keys.get(known.key)
            if (
                key is not None
                and known.version == courante_digest.VERSION
                and courante_digest.matches(
                    key, fields, known.digest, seq=known.seq, line_id=entry.pk
                )
            ):
                vouched.append(entry)
        return vouched
