"""Does each main courante line still say what its latest journal entry says it said?

The actions journal a keyed digest of every line they create or change
(``content_seal``, docs/decisions/courante-digest.md); ``check`` recomputes the digest
of each line as stored today and names the lines that differ. Read-only: `beffroi watch
courante-verify` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.watch import courante_digest
from beffroi.watch.models import Activation, LogEntry

# The key under which an action's journal entry carries its lines' digests.
DATA_KEY = "content"


def content_key() -> bytes:
    """The key of line digests, derived from the deployment's pseudonym secret (setting
    BEFFROI_PSEUDONYM_KEY, which falls back to SECRET_KEY): a secret already meant to last
    as long as the data, since every stored pseudonym depends on it too."""
    secret = settings.BEFFROI_PSEUDONYM_KEY
    return courante_digest.derive_key(secret.encode() if isinstance(secret, str) else secret)


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


def _int(text: str, prefix: str) -> int | None:
    rest = text.removeprefix(prefix)
    return int(rest) if rest != text and rest.isdigit() else None


def _journal(activation_ids: set[int] | None) -> _Journal:
    from beffroi.core.models import JournalEntry

    found = _Journal()
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
        activation = int(content.get("activation", 0))
        if activation_ids is not None and activation not in activation_ids:
            continue
        for pk, line in content.get("lines", {}).items():
            number = int(line["number"])
            found.latest[int(pk)] = _Journaled(
                digest=str(line["digest"]),
                key=str(content.get("key", "")),
                version=int(content.get("v", 0)),
                activation=activation,
                number=number,
                at=at,
                seq=seq,
            )
            if action in CREATING:
                lowest = found.first_number.get(activation, number)
                found.first_number[activation] = min(lowest, number)
    return found


def _compared(
    wanted: set[int] | None, key: bytes
) -> Iterator[tuple[LogEntry, _Journaled | None, str]]:
    """Each line (of the ``wanted`` activations) with its latest journaled digest and the
    verdict: "uncovered", "intact", or a finding kind (CHANGED, MISSING, FOREIGN,
    UNJOURNALED)."""
    journal = _journal(wanted)
    latest = journal.latest
    current_key = courante_digest.key_id(key)
    lines = LogEntry.objects.all()
    if wanted is not None:
        lines = lines.filter(activation_id__in=wanted)
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
        elif known.key != current_key or known.version != courante_digest.VERSION:
            yield entry, known, FOREIGN
        elif courante_digest.matches(
            key, line_fields(entry), known.digest, seq=known.seq, line_id=entry.pk
        ):
            yield entry, known, "intact"
        else:
            yield entry, known, CHANGED
    # No action deletes a line: one the journal knows and the table lacks was removed
    # behind Beffroi's back (with its activation, if that is gone too).
    for known in latest.values():
        gone = LogEntry(pk=None, activation_id=known.activation, number=known.number)
        yield gone, known, MISSING


def check(activation_ids: Sequence[int] | None = None) -> Report:
    """Compare every line (of ``activation_ids``, or all) with its latest journaled digest."""
    wanted = set(activation_ids) if activation_ids is not None else None
    report = Report()
    names = dict(Activation.objects.values_list("pk", "name"))
    for entry, known, verdict in _compared(wanted, content_key()):
        if verdict not in ("intact", "uncovered"):
            report.findings.append(
                Finding(entry.activation_id, names.get(entry.activation_id, ""), entry.number,
                        known.at if known is not None else None, kind=verdict)
            )  # fmt: skip
            if verdict == MISSING:
                continue
        report.checked += 1
        if verdict == "uncovered":
            report.uncovered += 1
        elif verdict == FOREIGN:
            report.other_key += 1
        elif verdict == "intact":
            report.intact += 1
    report.findings.sort(key=lambda f: (f.activation_id, f.number))
    return report


def intact_lines(activation_id: int) -> dict[int, dict[str, Any]]:
    """The lines of an activation that match their journaled digest now, with their
    fields as they stand: a repair that rewrites lines (``scrub_handles``) journals the
    new digests of those of them it rewrote, and only of those, so a line changed behind
    Beffroi's back, before or during the repair, is not laundered by it."""
    return {
        entry.pk: line_fields(entry)
        for entry, _known, verdict in _compared({activation_id}, content_key())
        if verdict == "intact"
    }
