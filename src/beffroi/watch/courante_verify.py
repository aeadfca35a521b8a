"""Does each main courante line still say what its latest journal entry says it said?

The actions journal a keyed digest of every line they create or change
(``journal_content``, docs/decisions/courante-digest.md); ``check`` recomputes the digest
of each line as stored today and names the lines that differ. Read-only: `beffroi watch
courante-verify` runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
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


def journal_content(entries: Iterable[LogEntry]) -> dict[str, Any] | None:
    """What an action's journal entry carries for the lines it created or changed:
    their digests as the database holds them now (read again, so that what is digested
    is what was stored, to the microsecond). None when there is no line."""
    pks = [e.pk for e in entries]
    if not pks:
        return None
    rows = list(LogEntry.objects.filter(pk__in=pks).order_by("pk"))
    key = content_key()
    return {
        "v": courante_digest.VERSION,
        "key": courante_digest.key_id(key),
        # Every line an action touches belongs to one activation (a card, a post, a line).
        "activation": rows[0].activation_id,
        "lines": {
            str(e.pk): {"number": e.number, "digest": courante_digest.digest(key, line_fields(e))}
            for e in rows
        },
    }


@dataclass(frozen=True)
class Finding:
    activation_id: int
    activation_name: str
    number: int
    since: datetime
    missing: bool = False

    def message(self) -> str:
        values = {
            "number": self.number,
            "activation": self.activation_name or f"n° {self.activation_id}",
            "when": timezone.localtime(self.since).strftime("%d/%m/%Y %H:%M"),
        }
        if self.missing:
            return (
                _(
                    "ligne %(number)s de l'activation « %(activation)s » : supprimée hors de "
                    "Beffroi (dernière entrée du journal le %(when)s)"
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
    # Lines whose latest digest predates this check (journaled before the digest existed).
    uncovered: int = 0
    # Lines digested under another key (a server restored with another secret): they
    # cannot be checked here, and are not called forged.
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


def _latest(activation_ids: set[int] | None) -> dict[int, _Journaled]:
    from beffroi.core.models import JournalEntry

    latest: dict[int, _Journaled] = {}
    rows = (
        JournalEntry.objects.filter(data__has_key=DATA_KEY)
        .order_by("seq")
        .values_list("at", "data")
    )
    for at, data in rows.iterator(chunk_size=2000):
        content = data[DATA_KEY]
        if not isinstance(content, dict):
            continue
        activation = int(content.get("activation", 0))
        if activation_ids is not None and activation not in activation_ids:
            continue
        for pk, line in content.get("lines", {}).items():
            latest[int(pk)] = _Journaled(
                digest=str(line["digest"]),
                key=str(content.get("key", "")),
                version=int(content.get("v", 0)),
                activation=activation,
                number=int(line["number"]),
                at=at,
            )
    return latest


def _compared(
    wanted: set[int] | None, key: bytes
) -> Iterator[tuple[LogEntry, _Journaled | None, str]]:
    """Each line (of the ``wanted`` activations) with its latest journaled digest and the
    verdict: "uncovered", "other_key", "intact" or "changed"."""
    latest = _latest(wanted)
    current_key = courante_digest.key_id(key)
    lines = LogEntry.objects.all()
    if wanted is not None:
        lines = lines.filter(activation_id__in=wanted)
    for entry in lines.order_by("activation_id", "number").iterator(chunk_size=2000):
        known = latest.pop(entry.pk, None)
        if known is None:
            yield entry, None, "uncovered"
        elif known.key != current_key or known.version != courante_digest.VERSION:
            yield entry, known, "other_key"
        elif courante_digest.matches(key, line_fields(entry), known.digest):
            yield entry, known, "intact"
        else:
            yield entry, known, "changed"
    # No action deletes a line: one the journal knows and the table lacks was removed
    # behind Beffroi's back (with its activation, if that is gone too).
    for known in latest.values():
        gone = LogEntry(pk=None, activation_id=known.activation, number=known.number)
        yield gone, known, "missing"


def check(activation_ids: Sequence[int] | None = None) -> Report:
    """Compare every line (of ``activation_ids``, or all) with its latest journaled digest."""
    wanted = set(activation_ids) if activation_ids is not None else None
    report = Report()
    names = dict(Activation.objects.values_list("pk", "name"))
    for entry, known, verdict in _compared(wanted, content_key()):
        if verdict in ("changed", "missing"):
            assert known is not None
            report.findings.append(
                Finding(entry.activation_id, names.get(entry.activation_id, ""), entry.number,
                        known.at, missing=verdict == "missing")
            )  # fmt: skip
            if verdict == "missing":
                continue
        report.checked += 1
        if verdict == "uncovered":
            report.uncovered += 1
        elif verdict == "other_key":
            report.other_key += 1
        elif verdict == "intact":
            report.intact += 1
    report.findings.sort(key=lambda f: (f.activation_id, f.number))
    return report


def intact_lines(activation_id: int) -> dict[int, str]:
    """The lines of an activation that match their journaled digest now, with it: a
    repair that rewrites lines (``scrub_handles``) journals the new digests of these
    only, so a line already changed behind Beffroi's back is not laundered by it."""
    return {
        entry.pk: known.digest
        for entry, known, verdict in _compared({activation_id}, content_key())
        if verdict == "intact" and known is not None
    }
