"""Appending to and verifying the journal (DESIGN rule 2).

`append()` is the only way entries are written; actions call it inside their
transaction, so a state change and its journal entry commit together or not
at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from beffroi.core import chain
from beffroi.core.models import JournalEntry, JournalHead, Organisation


def _plain(data: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through canonical JSON so what is stored is exactly what was hashed.
    result: dict[str, Any] = json.loads(chain.canonical_json(data or {}))
    return result


def append(
    action: str,
    *,
    actor: AbstractBaseUser | None = None,
    organisation: Organisation | None = None,
    subject: str = "",
    reason: str = "",
    rule: str = "",
    data: dict[str, Any] | None = None,
    seal: Callable[[int], Mapping[str, Any]] | None = None,
) -> JournalEntry:
    """Append one entry after the head, in the caller's transaction.

    ``seal``, when given, is called with the entry's own ``seq`` while the head is
    locked, and what it returns is added to ``data``: content that must be bound to its
    place in the chain (the main courante's keyed line digests,
    docs/decisions/courante-digest.md) can only learn that place here, since the next
    seq is not known before the lock is taken. Still one door for every entry."""
    with transaction.atomic():
        # Locking the head row serialises appends (PostgreSQL); on SQLite the
        # IMMEDIATE transaction already holds the write lock.
        head = JournalHead.objects.select_for_update().filter(pk=1).first()
        if head is None:  # a freshly flushed database (tests); migrations create it
            head = JournalHead.objects.create(pk=1, seq=0, hash=chain.GENESIS)
        now = timezone.now()
        if seal is not None:
            data = {**(data or {}), **seal(head.seq + 1)}
        actor_id = actor.pk if actor is not None and actor.is_authenticated else None
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": chain.timestamp(now),
            "actor": actor_id,
            "actor_label": actor.get_username() if actor is not None and actor_id else "",
            "organisation": organisation.pk if organisation is not None else None,
            "action": action,
            "subject": subject,
            "reason": reason,
            "rule": rule,
            "data": _plain(data),
        }
        digest = chain.entry_hash(fields, head.hash)
        entry = JournalEntry.objects.create(
            seq=fields["seq"],
            at=now,
            actor_id=actor_id,
            actor_label=fields["actor_label"],
            organisation=organisation,
            action=action,
            subject=subject,
            reason=reason,
            rule=rule,
            data=fields["data"],
            prev_hash=head.hash,
            hash=digest,
        )
        head.seq, head.hash = entry.seq, digest
        head.save(update_fields=["seq", "hash"])
        return entry


def exported(queryset: Any = None) -> Iterator[dict[str, Any]]:
    """Entries as plain dicts in the chain's own shape (used by verify and exports)."""
    rows = (queryset if queryset is not None else JournalEntry.objects.all()).order_by("seq")
    for e in rows.iterator(chunk_size=2000):
        yield {
            "seq": e.seq,
            "at": chain.timestamp(e.at),
            "actor": e.actor_id,
            "actor_label": e.actor_label,
            "organisation": e.organisation_id,
            "action": e.action,
            "subject": e.subject,
            "reason": e.reason,
            "rule": e.rule,
            "data": e.data,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }


def verify() -> chain.Break | None:
    broken = chain.verify(exported())
    if broken is not None:
        return broken
    head = JournalHead.objects.get(pk=1)
    last = JournalEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    if (head.seq, head.hash) != (last or (0, chain.GENESIS)):
        return chain.Break(head.seq, "the last entries were removed (the head points past them)")
    return None
