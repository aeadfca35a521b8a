"""Every state change of the watch room, one function each (DESIGN rule 1).

Each action runs in one transaction and appends one journal entry.  Two
exceptions, both written down in docs/decisions/watch-ingest-journal.md:
receiving raw posts (the immutable ``Post`` table is itself the record, and a
stream delivers them one by one) and routine source heartbeats; the journal
gets one entry per processed batch and per change of a source's state.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.core import journal
from beffroi.core.actions import ActionError, InvalidInput
from beffroi.core.chain import Break
from beffroi.core.models import Organisation
from beffroi.core.nul import holds_nul
from beffroi.watch import courante_verify
from beffroi.watch.courante_verify import content_seal
from beffroi.watch.models import (
    DECLARABLE_SOURCES,
    Activation,
    ActivationModel,
    Card,
    CardDecision,
    CardState,
    Decision,
    LogCategory,
    LogChannel,
    LogEntry,
    LogStatus,
    LogUpdate,
    PartnerLink,
    Post,
    PostChange,
    PostChangeKind,
    Source,
    SourceType,
)
from beffroi.watch.sources.base import (
    handle_pseudonym,
    names_account,
    pseudonymise_mentions,
    pseudonymise_post_id,
    pseudonymise_record,
    pseudonymise_typed,
)
from beffroi.watch.sources.runner import remembered_window

log = logging.getLogger(__name__)

# A claim nobody acted on for this long is considered abandoned (a volunteer
# closed the laptop): another volunteer may take the card.
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_EVIDENCE_LINKS = 20

__all__ = [
    "CLAIM_TIMEOUT",
    "ActionError",
    "InvalidInput",
    "add_log_entry",
    "add_source",
    "claim",
    "close_activation",
    "correct_source",
    "create_activation",
    "create_partner_link",
    "decide",
    "effective_source_type",
    "escalate",
    "find_partner_link",
    "follow_pending_changes",
    "receive_items",
    "receive_posts",
    "record_coverage_gap",
    "record_export",
    "record_gap_filled",
    "record_partner_view",
    "record_post_deletion",
    "record_post_edit",
    "record_source_status",
    "release",
    "reseal_courante",
    "revoke_partner_link",
    "set_declared_source",
    "set_source_enabled",
    "store_cards",
    "update_log_status",
]


def _journaled(activation: Activation, text: str) -> str:
    """Free text as the journal gets it: a note, a reason, a name or a link typed by
    a person, a source's status line. The journal is never purged, so unless the
    activation keeps handles (DESIGN rule 7) the accounts the text names are replaced by
    their pseudonyms (``pseudonymise_typed``); the object itself (card, main courante
    line, source, link) keeps the text as typed. The one rule for every watch action
    (docs/decisions/watch-handles.md)."""
    return text if activation.keep_handles else pseudonymise_typed(text, handle_key())


def _with_content(data: dict[str, Any], entries: Any) -> dict[str, Any]:
    """The ``data`` and ``seal`` arguments of ``journal.append`` for an entry that also
    carries the digests of the main courante lines ``entries``, when there are any:
    every action that creates or changes a line journals what the line says after it,
    bound to the entry's seq, which only ``journal.append`` knows
    (docs/decisions/courante-digest.md). Called after the last write to the lines, as
    ``journal.append(..., **_with_content(data, lines))``."""
    return {"data": data, "seal": content_seal(entries)}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_area(area: Sequence[str]) -> list[str]:
    from beffroi.geo import gazetteer

    cleaned: list[str] = []
    gaz = gazetteer.gazetteer()
    for raw in area:
        code = raw.strip().upper()
        if not code:
            continue
        if len(code) == 5:
            if gaz.by_code(code) is None:
                raise InvalidInput(_("Commune inconnue : %(code)s") % {"code": code})
        elif len(code) in (2, 3):
            if not gaz.in_department(code):
                raise InvalidInput(_("Département inconnu : %(code)s") % {"code": code})
        else:
            raise InvalidInput(
                _("« %(code)s » n'est ni un code INSEE de commune ni un département.")
                % {"code": code}
            )
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


@transaction.atomic
def create_activation(
    organisation: Organisation,
    *,
    name: str,
    event_type: str,
    area: Sequence[str] = (),
    keywords: dict[str, list[str]] | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    keep_handles: bool = False,
    actor: Any = None,
) -> Activation:
    starts = starts_at or timezone.now()
    if ends_at is not None and ends_at <= starts:
        raise InvalidInput(_("La fin doit être après le début."))
    activation = Activation.objects.create(
        organisation=organisation,
        name=name,
        event_type=event_type,
        area=_clean_area(area),
        keywords={lang: list(words) for lang, words in (keywords or {}).items() if words},
        starts_at=starts,
        ends_at=ends_at,
        keep_handles=keep_handles,
        created_by=actor,
    )
    ActivationModel.objects.create(activation=activation)
    journal.append(
        "watch.activation.create",
        actor=actor,
        organisation=organisation,
        subject=f"activation:{activation.pk}",
        data={
            "name": _journaled(activation, name),
            "event_type": event_type,
            "area": activation.area,
            "keywords": {
                lang: [_journaled(activation, w) for w in words]
                for lang, words in activation.keywords.items()
            },
            "keep_handles": keep_handles,
        },
    )
    return activation


def update_activation(
    activation: Activation,
    *,
    name: str,
    event_type: str,
    keywords: dict[str, list[str]],
    ends_at: datetime | None,
    actor: Any,
    area: Sequence[str] | None = None,
) -> list[str]:
    """Change an open activation as the night goes (a new hashtag, a later end, a name
    that says what the event became, a zone the flood outgrew). Returns the fields
    changed; journaled with their old and new values. ``area`` None keeps the zone.

    A new zone is what the worker locates the next posts in (``worker.ActivationProcessor``
    follows it); the cards still waiting in the queue get "inside the zone" and their
    priority again for it, here, in the same transaction (the journal entry counts them).
    Decided and escalated cards keep what the volunteers saw."""
    if area is not None:
        # The pipeline package loads its grouping and statistics libraries, seconds the
        # first time in a web process: before the transaction, which on SQLite holds the
        # database's write lock from its first statement.
        import beffroi.watch.pipeline.priority  # noqa: F401
    return _update_activation(
        activation,
        name=name,
        event_type=event_type,
        keywords=keywords,
        ends_at=ends_at,
        actor=actor,
        area=area,
    )


@transaction.atomic
def _update_activation(
    activation: Activation,
    *,
    name: str,
    event_type: str,
    keywords: dict[str, list[str]],
    ends_at: datetime | None,
    actor: Any,
    area: Sequence[str] | None,
) -> list[str]:
    from beffroi.watch.models import EventType

    # FOR NO KEY UPDATE, not FOR UPDATE: a line, a card or a post that references the
    # activation checks its foreign key when it commits (PostgreSQL, deferred), after it
    # took the journal's head; FOR UPDATE made that check wait on this edit while the edit
    # waited on the journal's head, a deadlock. Edits and stored batches still exclude
    # each other (store_cards takes the same lock).
    activation = Activation.objects.select_for_update(no_key=True).get(pk=activation.pk)
    if not activation.is_open:
        raise ActionError(_("Cette activation est close : elle ne se modifie plus."))
    name = name.strip()
    if not name:
        raise InvalidInput(_("Le nom est obligatoire."))
    if event_type not in EventType.values:
        raise InvalidInput(_("Type d'événement inconnu."))
    if ends_at is not None and ends_at <= timezone.now():
        raise InvalidInput(
            _(
                "La fin doit être à venir. Pour arrêter l'activation maintenant, "
                "utilisez « Clore l'activation »."
            )
        )
    wanted: dict[str, Any] = {
        "name": name,
        "event_type": event_type,
        "keywords": {lang: list(words) for lang, words in keywords.items() if words},
        "ends_at": ends_at,
    }
    if area is not None:
        cleaned = _clean_area(area)
        # The same codes in another order are the same zone: nothing to journal.
        wanted["area"] = activation.area if set(cleaned) == set(activation.area) else cleaned
    changed = [f for f, value in wanted.items() if getattr(activation, f) != value]
    if not changed:
        return []

    def shown(field: str, value: Any) -> Any:
        if field == "name":
            return _journaled(activation, value)
        if field == "keywords":
            return {
                lang: [_journaled(activation, w) for w in words] for lang, words in value.items()
            }
        if field == "ends_at":
            return value.isoformat() if value else None
        return value

    data = {
        f: {"from": shown(f, getattr(activation, f)), "to": shown(f, wanted[f])} for f in changed
    }
    for f in changed:
        setattr(activation, f, wanted[f])
    activation.save(update_fields=changed)
    if "area" in changed:
        data["area"]["waiting_cards_rescored"] = _rezone_waiting_cards(activation)
    journal.append(
        "watch.activation.update",
        actor=actor,
        organisation=activation.organisation,
        subject=f"activation:{activation.pk}",
        data=data,
    )
    return changed


REZONE_BATCH = 1000


def _rezone_waiting_cards(activation: Activation) -> int:
    """Score the activation's waiting cards again for its (new) zone, a batch of cards at
    a time (a long night's queue holds tens of thousands); returns how many changed. Their
    ``updated_at`` moves, so the live queue (``views._version``) sends the new order."""
    from django.core.serializers.json import DjangoJSONEncoder

    from beffroi.watch.pipeline.priority import in_zone, rezone

    area = set(activation.area) or None
    ops = connection.ops
    db_now = ops.adapt_datetimefield_value(timezone.now())
    table = ops.quote_name(Card._meta.db_table)
    waiting = Card.objects.filter(activation=activation, state=CardState.QUEUED)
    changed = 0
    last = 0
    while True:
        rows = list(
            waiting.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "communes", "in_area")[:REZONE_BATCH]
        )
        if not rows:
            return changed
        last = rows[-1][0]
        # Most cards keep their reading (located nowhere, or on the same side of the new
        # border): only those that change are read in full.
        todo = [pk for pk, communes, in_area in rows if in_zone(communes or [], area) != in_area]
        moved = []
        for pk, priority, informative_p, cues, communes, in_area, explanation in (
            Card.objects.filter(pk__in=todo).values_list(
                "pk", "priority", "informative_p", "urgency_cues", "communes", "in_area",
                "explanation",
            )
        ):  # fmt: skip
            new = rezone(
                priority=priority,
                informative_p=informative_p,
                urgency_cues=list(cues or ()),
                communes=list(communes or ()),
                in_area=in_area,
                explanation=list(explanation or ()),
                area=area,
            )
            explained = ops.adapt_json_value(new.explanation, DjangoJSONEncoder)
            moved.append((new.in_area, new.priority, explained, db_now, pk))
        if moved:
            # One prepared UPDATE for the batch, as store_cards does: bulk_update's CASE
            # over thousands of rows took 15 s for 18,000 waiting cards on SQLite, all
            # of it holding the write lock.
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET in_area = %s, priority = %s, explanation = %s, "  # noqa: S608
                    "updated_at = %s WHERE id = %s",
                    moved,
                )
        changed += len(moved)


@transaction.atomic
def close_activation(activation: Activation, *, actor: Any) -> None:
    if not activation.is_open:
        raise ActionError(_("Cette activation est déjà close."))
    activation.ends_at = timezone.now()
    activation.save(update_fields=["ends_at"])
    journal.append(
        "watch.activation.close",
        actor=actor,
        organisation=activation.organisation,
        subject=f"activation:{activation.pk}",
    )


# -- sources -----------------------------------------------------------------------------


@transaction.atomic
def add_source(
    activation: Activation,
    *,
    kind: str,
    name: str,
    data: dict[str, Any],
    actor: Any,
    declared_source: str = "",
) -> Source:
    """Validate the form data with the sources package; ``ConfigError`` if invalid.
    ``declared_source``: who sends every post of the source, when known (a SourceType
    of ``DECLARABLE_SOURCES``); blank lets the classifier judge each post."""
    from beffroi.watch.sources import ConfigError, validate_config

    if not activation.is_open:
        # The worker skips closed activations: a source added now would wait forever.
        raise ConfigError({"__all__": _("Activation close : aucune source ne démarre plus.")})
    _check_declared_source(declared_source)

    if kind in ("file", "replay"):
        for field in ("path", "timestamps_path"):
            if data.get(field) and not _importable(str(data[field])):
                raise ConfigError(
                    {
                        field: _(
                            "Fichier hors des dossiers d'import (%(dirs)s) : placez-le dans "
                            "l'un d'eux et donnez son chemin complet."
                        )
                        % {"dirs": ", ".join(str(d) for d in import_dirs())}
                    }
                )
    validate_config(kind, data)
    source = Source.objects.create(
        activation=activation,
        kind=kind,
        name=name,
        config=dict(data),
        declared_source=declared_source,
        created_by=actor,
        status="new",
        status_message=_("En attente du worker."),
    )
    journal.append(
        "watch.source.add",
        actor=actor,
        organisation=activation.organisation,
        subject=f"source:{source.pk}",
        data={
            "activation": activation.pk,
            "kind": kind,
            "name": _journaled(activation, name),
            "declared_source": declared_source,
        },
    )
    return source


def import_dirs() -> list[Path]:
    """Where file and replay sources may read: a form must not turn the server's
    own files (settings, keys) into posts.  ``<data dir>/imports`` and the shared
    data sets next to the checkout (``../shared/data``)."""
    from django.conf import settings

    root = Path(__file__).resolve().parents[3]
    return [Path(settings.DATA_DIR) / "imports", (root.parent / "shared" / "data").resolve()]


def _importable(path: str) -> bool:
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(d.resolve()) for d in import_dirs())


@transaction.atomic
def set_source_enabled(source: Source, enabled: bool, *, actor: Any) -> None:
    if source.enabled == enabled:
        return
    if enabled and not source.activation.is_open:
        # As add_source: the worker skips closed activations, so a source switched back
        # on would wait for it forever. Pausing one stays allowed.
        raise ActionError(_("Activation close : aucune source ne démarre plus."))
    source.enabled = enabled
    fields = ["enabled"]
    if enabled:
        # Resuming is how an organiser retries a source that had given up.
        source.status, source.status_message = "new", _("En attente du worker.")
        fields += ["status", "status_message"]
    source.save(update_fields=fields)
    journal.append(
        "watch.source.enable" if enabled else "watch.source.disable",
        actor=actor,
        organisation=source.activation.organisation,
        subject=f"source:{source.pk}",
    )


def _check_declared_source(declared_source: str) -> None:
    from beffroi.watch.sources import ConfigError

    if declared_source and declared_source not in DECLARABLE_SOURCES:
        raise ConfigError(
            {"declared_source": _("Émetteur inconnu : %(v)s") % {"v": declared_source}}
        )


@transaction.atomic
def set_declared_source(source: Source, declared_source: str, *, actor: Any) -> None:
    """Change the sender declared for a source (blank: back to the classifier). Posts
    processed from then on take it; cards already in the queue keep theirs."""
    _check_declared_source(declared_source)
    before = source.declared_source
    if before == declared_source:
        return
    source.declared_source = declared_source
    source.save(update_fields=["declared_source"])
    journal.append(
        "watch.source.declare",
        actor=actor,
        organisation=source.activation.organisation,
        subject=f"source:{source.pk}",
        data={"from": before, "to": declared_source},
    )


def record_source_status(
    source_id: int,
    *,
    state: str,
    message: str,
    at: datetime,
    retry_in: float | None = None,
    posts: int | None = None,
    skipped: int | None = None,
    last_skip_reason: str | None = None,
    unknown_deletions: int | None = None,
) -> None:
    """What the runner reports; journaled only when the state changes.

    ``unknown_deletions`` (the runner's ``SourceStatus.unknown_deletions``)
    counts deletions of posts the source never received, apart from skips.
    ``skipped`` and ``unknown_deletions`` are the run's counts (since the runner
    started, which it says with ``connecting``); the source keeps totals across runs,
    as it does for posts, so only what a count grew by is added."""
    with transaction.atomic():
        source = Source.objects.select_related("activation").filter(pk=source_id).first()
        if source is None:
            return
        added = _run_growth(source, state, skipped, unknown_deletions)
        before = source.status
        # A source's words may quote what it failed to read (pydantic prints the input: a
        # DID, an AT-URI, an account's address), and the Sources page shows them: they are
        # stored with pseudonyms unless the activation keeps handles, as the journal is.
        message = _journaled(source.activation, message)
        source.status, source.status_message, source.status_at = state, message, at
        source.retry_at = at + timedelta(seconds=retry_in) if retry_in else None
        if added[0]:
            source.skipped_count = F("skipped_count") + added[0]  # type: ignore[assignment]
        if last_skip_reason:
            source.last_skip_reason = _journaled(source.activation, last_skip_reason)
        if added[1]:
            source.unknown_deletions_count = (  # type: ignore[assignment]
                F("unknown_deletions_count") + added[1]
            )
        source.save(
            update_fields=[
                "status",
                "status_message",
                "status_at",
                "retry_at",
                "skipped_count",
                "last_skip_reason",
                "unknown_deletions_count",
            ]
        )
        if before != state:
            journal.append(
                "watch.source.status",
                organisation=source.activation.organisation,
                subject=f"source:{source.pk}",
                data={
                    "from": before,
                    "to": state,
                    "message": _journaled(source.activation, message),
                },
            )


# What each source's current run last reported, per process (a source runs in one
# worker), with the totals that report left, and the counts and totals it started from:
# the door turns the run's counts into increments of the source's totals. The starting
# point is kept because the report's transaction may roll back (the database briefly
# away): the source then still holds the old totals, and the next report grows from the
# old counts instead of adding the whole run again.
_RUN_COUNTS: dict[int, tuple[tuple[tuple[int, int], tuple[int, int]], ...]] = {}
_RUN_COUNTS_LOCK = threading.Lock()


def _run_growth(
    source: Source, state: str, skipped: int | None, unknown_deletions: int | None
) -> tuple[int, int]:
    """How much the run's skip and unknown-deletion counts grew since its last report
    that was saved. A run starts from zero: at ``connecting``, when its counts went down
    (a new run), or when the source's totals are neither those its last report left nor
    those it started from (another process counted, or a row that only reuses the id)."""
    totals = (source.skipped_count, source.unknown_deletions_count)
    with _RUN_COUNTS_LOCK:
        before = (0, 0)
        if state != "connecting":
            for counts, left in _RUN_COUNTS.get(source.pk, ()):
                if left == totals:
                    before = counts
                    break
        now = (
            before[0] if skipped is None else skipped,
            before[1] if unknown_deletions is None else unknown_deletions,
        )
        if now[0] < before[0] or now[1] < before[1]:
            before = (0, 0)
        added = (now[0] - before[0], now[1] - before[1])
        _RUN_COUNTS[source.pk] = (
            (now, (totals[0] + added[0], totals[1] + added[1])),
            (before, totals),
        )
    return added


_POST_COLUMNS = (
    "activation_id", "source_id", "external_id", "text", "created_at", "received_at", "url",
    "language", "author_key", "author_kinds", "latitude", "longitude", "repost_of", "raw",
    "processed",
)  # fmt: skip


# Ids asked for per query: SQLite allows 250,000 variables at most (32,766 in older
# builds), and a feed of 340,000 entries put one per post into a single query.
ID_CHUNK = 500


def _known_ids(source_id: int, external_ids: Sequence[str]) -> set[str]:
    """Which of ``external_ids`` the source's posts hold, asked a chunk at a time."""
    known: set[str] = set()
    for start in range(0, len(external_ids), ID_CHUNK):
        chunk = external_ids[start : start + ID_CHUNK]
        known.update(
            Post.objects.filter(source_id=source_id, external_id__in=chunk).values_list(
                "external_id", flat=True
            )
        )
    return known


def handle_key() -> bytes:
    """The deployment's key for keyed pseudonyms (setting BEFFROI_PSEUDONYM_KEY)."""
    key = settings.BEFFROI_PSEUDONYM_KEY
    return key.encode() if isinstance(key, str) else bytes(key)


def receive_posts(source_id: int, posts: Sequence[Any], checkpoint: dict[str, Any]) -> int:
    """The runner's sink: store raw posts and the checkpoint that covers them, together.

    Returns how many posts were new. A post already stored (same source and
    external id) is left as is: raw input is immutable.

    Unless the activation keeps handles (an organiser's choice, DESIGN rule 7),
    what is stored — the immutable raw record — carries no account handle:
    @mentions become keyed pseudonyms in the text and the raw payload,
    addresses that name an account are emptied and an ``author_key`` that is
    not yet a pseudonym becomes one (docs/decisions/watch-handles.md).
    """
    return _store_posts(source_id, [_without_nul(p) for p in posts], checkpoint)


def _store_posts(source_id: int, posts: Sequence[Any], checkpoint: dict[str, Any]) -> int:
    """``receive_posts`` for posts already rid of NUL characters (``receive_items``
    cleans its whole batch first, changes included)."""
    from django.core.serializers.json import DjangoJSONEncoder

    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        source = (
            Source.objects.filter(pk=source_id)
            .select_related("activation")
            .only("pk", "activation_id", "activation__keep_handles")
            .get()
        )
        key = None if source.activation.keep_handles else handle_key()
        if key is not None:
            # Whatever the source remembered, the checkpoint names no account.
            checkpoint = remembered_window(checkpoint, functools.partial(_post_id, key=key))
        batch: dict[str, Any] = {}
        for p in posts:
            batch.setdefault(_stored_id(p.external_id, key), p)
        if batch:
            # The runner already drops what it delivered before; this guards a
            # checkpoint lost between two commits (raw input is never overwritten).
            known = _known_ids(source.pk, list(batch))
            rows = []
            for external_id, p in batch.items():
                if external_id in known:
                    continue
                coords = getattr(p, "coordinates", None)
                text, url, author, raw = _stored_post_fields(p, key)
                rows.append(
                    (
                        source.activation_id,
                        source.pk,
                        external_id,
                        text,
                        ops.adapt_datetimefield_value(p.created_at),
                        now,
                        url[:1000],
                        (p.language or "")[:16],
                        author[:200],
                        ",".join(getattr(p, "author_kinds", ()) or ())[:100],
                        coords[0] if coords else None,
                        coords[1] if coords else None,
                        _stored_id(p.repost_of or "", key),
                        ops.adapt_json_value(raw, DjangoJSONEncoder),
                        False,
                    )
                )
            # One prepared INSERT for the batch: building thousands of model
            # instances cost more than the database work.
            table = ops.quote_name(Post._meta.db_table)
            columns = ", ".join(ops.quote_name(c) for c in _POST_COLUMNS)
            marks = ", ".join(["%s"] * len(_POST_COLUMNS))
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
                    "ON CONFLICT DO NOTHING",
                    rows,
                )
                # What was actually inserted: on PostgreSQL a concurrent sink's rows are
                # not in the "known" look-up above, and their conflicts insert nothing.
                inserted = max(cursor.rowcount, 0) if rows else 0
        else:
            inserted = 0
        Source.objects.filter(pk=source.pk).update(
            checkpoint=checkpoint, posts_count=F("posts_count") + inserted
        )
    return inserted


@dataclass(frozen=True)
class CardUpdate:
    """One enriched post, flattened for storage (built by the worker).

    The post's own details (source, external id, URL, date) are what a new card
    shows; the worker already read them, so it passes them and `store_cards`
    does not read the posts again (when `source_id` is None, it does)."""

    post_id: int
    group_id: str
    is_new_group: bool
    group_size: int
    text: str
    lang: str
    priority: float
    explanation: list[str]
    urgency_cues: list[str]
    communes: list[dict[str, Any]]
    in_area: bool | None
    informative_p: float | None
    info_type: str
    source_type: str
    source_id: int | None = None
    external_id: str = ""
    url: str = ""
    posted_at: datetime | None = None
    # The sender declared for the post's source, when it replaced the classifier's
    # reading of this post (pipeline.steps.declare_sources); "" otherwise.
    declared_source: str = ""


# Columns store_cards fills per card; every other column of Card gets its
# field's default (so a field added to the model needs no change here).
_CARD_COLUMNS = (
    "activation_id", "group_id", "source_id", "source_kind", "external_id", "text", "url",
    "posted_at", "lang", "posts_count", "priority", "explanation", "urgency_cues", "communes",
    "commune_code", "commune_name", "in_area", "informative_p", "info_type", "source_type",
    "created_at", "updated_at",
)  # fmt: skip


def _card_defaults() -> dict[str, Any]:
    """Database values of the defaults of the Card columns store_cards does not fill."""
    out: dict[str, Any] = {}
    for f in Card._meta.concrete_fields:
        if f.primary_key or f.attname in _CARD_COLUMNS:
            continue
        out[f.attname] = f.get_db_prep_save(f.get_default(), connection)
    return out


@transaction.atomic
def store_cards(
    activation: Activation,
    updates: Sequence[CardUpdate],
    *,
    enriched_area: Sequence[str] | None = None,
) -> int:
    """Write one processed batch into the triage queue; returns cards created.

    A post that starts a group becomes a card; a repeat raises its card's
    count (and its priority, if the repeat scores higher: a copy with new
    urgency cues should not sink).  Appends one ``watch.queue`` journal entry
    for the batch (docs/decisions/watch-ingest-journal.md).

    ``enriched_area``: the zone the batch was located in (the worker says it). When a
    coordinator changed the zone meanwhile, the batch is scored again for the new one
    before it is stored, as ``update_activation`` did for the cards already waiting:
    the activation's row lock orders the two, so no batch slips between them.
    """
    if not updates:
        return 0
    # Only posts still pending are stored: a second worker, or a batch handed out twice,
    # must not count a post again. The row locks make a concurrent writer on PostgreSQL
    # wait for this transaction, then find those posts processed; SQLite's IMMEDIATE
    # transaction already orders the writers.
    pending = set(
        Post.objects.select_for_update(no_key=True)
        .filter(pk__in=[u.post_id for u in updates], processed=False)
        .values_list("pk", flat=True)
    )
    if len(pending) < len(updates):
        updates = [u for u in updates if u.post_id in pending]
        if not updates:
            return 0
    rezoned = 0
    if enriched_area is not None:
        current = (
            Activation.objects.select_for_update(no_key=True)
            .filter(pk=activation.pk)
            .values_list("area", flat=True)
            .get()
        )
        if set(current) != set(enriched_area):
            updates, rezoned = _rezone_updates(updates, set(current) or None)
    from django.core.serializers.json import DjangoJSONEncoder

    ops = connection.ops
    now = timezone.now()
    db_now = ops.adapt_datetimefield_value(now)
    counts: dict[str, int] = {}
    best: dict[str, float] = {}
    first: dict[str, CardUpdate] = {}
    for u in updates:
        counts[u.group_id] = counts.get(u.group_id, 0) + 1
        best[u.group_id] = max(best.get(u.group_id, 0.0), u.priority)
        first.setdefault(u.group_id, u)
    card_ids: dict[str, int] = {}
    priorities: dict[str, float] = {}
    for pk, group_id, priority in Card.objects.filter(
        activation=activation, group_id__in=list(counts)
    ).values_list("pk", "group_id", "priority"):
        card_ids[group_id], priorities[group_id] = pk, priority
    table = ops.quote_name(Card._meta.db_table)
    with connection.cursor() as cursor:
        if card_ids:
            # Groups seen before: one prepared UPDATE for all of them.
            cursor.executemany(
                f"UPDATE {table} SET posts_count = posts_count + %s, priority = %s, "  # noqa: S608
                "updated_at = %s WHERE id = %s",
                [
                    (counts[g], max(priorities[g], best[g]), db_now, pk)
                    for g, pk in card_ids.items()
                ],
            )
        starters = [u for g, u in first.items() if g not in card_ids]
        missing = [u.post_id for u in starters if u.source_id is None]
        details = {
            row[0]: row[1:]
            for row in Post.objects.filter(pk__in=missing).values_list(
                "pk", "source_id", "external_id", "url", "created_at"
            )
        }
        kinds = dict(Source.objects.filter(activation=activation).values_list("pk", "kind"))
        defaults = _card_defaults()
        fixed = tuple(defaults.values())
        rows = []
        for u in starters:
            posted_at: datetime | None
            if u.source_id is None:
                source_id, external_id, url, posted_at = details[u.post_id]
            else:
                source_id, external_id, url, posted_at = (
                    u.source_id,
                    u.external_id,
                    u.url,
                    u.posted_at,
                )
            top = u.communes[0] if u.communes else {}
            rows.append(
                (
                    activation.pk,
                    u.group_id,
                    source_id,
                    kinds.get(source_id, ""),
                    external_id,
                    u.text,
                    url,
                    ops.adapt_datetimefield_value(posted_at),
                    u.lang,
                    counts[u.group_id],
                    best[u.group_id],
                    ops.adapt_json_value(list(u.explanation), DjangoJSONEncoder),
                    ops.adapt_json_value(list(u.urgency_cues), DjangoJSONEncoder),
                    ops.adapt_json_value(list(u.communes), DjangoJSONEncoder),
                    top.get("code", ""),
                    top.get("name", ""),
                    u.in_area,
                    u.informative_p,
                    u.info_type,
                    u.source_type,
                    db_now,
                    db_now,
                    *fixed,
                )
            )
        if rows:
            # One prepared INSERT: model instances and bulk_create cost more than
            # the database work for thousands of cards a second.
            names = [*_CARD_COLUMNS, *defaults]
            columns = ", ".join(ops.quote_name(c) for c in names)
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                rows,
            )
            card_ids.update(
                Card.objects.filter(
                    activation=activation, group_id__in=[u.group_id for u in starters]
                ).values_list("group_id", "pk")
            )
        # One prepared statement links every post of the batch to its card.
        posts_table = ops.quote_name(Post._meta.db_table)
        cursor.executemany(
            f"UPDATE {posts_table} SET card_id = %s, processed = %s WHERE id = %s",  # noqa: S608
            [(card_ids[u.group_id], True, u.post_id) for u in updates],
        )
    data: dict[str, Any] = {
        "posts": len(updates),
        "new_cards": len(rows),
        "first_post": min(u.post_id for u in updates),
        "last_post": max(u.post_id for u in updates),
    }
    if rezoned:
        data["rezoned_posts"] = rezoned
    started = {u.group_id: u for u in starters}
    if joined := _declared_joins(updates, card_ids, started, now):
        data["declared_senders"] = joined
    # Edits and deletions that arrived before the pipeline made these cards.
    touched: list[int] = []
    if followed := follow_pending_changes([u.post_id for u in updates], touched):
        data["author_changes"] = followed
    journal.append(
        "watch.queue",
        organisation=activation.organisation,
        subject=f"activation:{activation.pk}",
        **_with_content(data, LogEntry.objects.filter(pk__in=touched)),
    )
    return len(rows)


def _rezone_updates(
    updates: Sequence[CardUpdate], area: set[str] | None
) -> tuple[list[CardUpdate], int]:
    """A batch located in a zone since replaced, scored for ``area``; with how many of
    its posts changed."""
    from beffroi.watch.pipeline.priority import rezone

    out, moved = [], 0
    for u in updates:
        new = rezone(
            priority=u.priority,
            informative_p=u.informative_p,
            urgency_cues=u.urgency_cues,
            communes=u.communes,
            in_area=u.in_area,
            explanation=u.explanation,
            area=area,
        )
        if new.in_area != u.in_area:
            moved += 1
            u = dataclasses.replace(
                u, in_area=new.in_area, priority=new.priority, explanation=new.explanation
            )
        out.append(u)
    return out, moved


def _declared_joins(
    updates: Sequence[CardUpdate],
    card_ids: dict[str, int],
    started: dict[str, CardUpdate],
    now: datetime,
) -> list[dict[str, Any]]:
    """A declared post that joins a card (a préfecture's feed repeating a message already
    seen elsewhere) makes the card speak for its sender, unless the card already speaks for
    a sender as authoritative (priority.SENDER_AUTHORITY). The card's ``source_type`` and
    its explanation's line on who speaks change; a volunteer's correction still prevails
    (``effective_source_type``). Returns what changed, for the batch's journal entry."""
    from beffroi.watch.pipeline.priority import declared_sender, outranks, with_joined_sender

    best: dict[str, CardUpdate] = {}
    for u in updates:
        held = best.get(u.group_id)
        if u.declared_source and outranks(
            u.declared_source, held.declared_source if held else None
        ):
            best[u.group_id] = u
    # A new card whose first post is the group's most authoritative declared one already
    # says so (the pipeline wrote its explanation): no need to read it back.
    todo = {g: u for g, u in best.items() if started.get(g) is not u}
    if not todo:
        return []
    changed: list[dict[str, Any]] = []
    cards = Card.objects.filter(pk__in=[card_ids[g] for g in todo]).only(
        "pk", "group_id", "source_type", "explanation"
    )
    for card in cards.order_by("pk"):
        u = todo[card.group_id]
        if not outranks(u.declared_source, declared_sender(card.explanation)):
            continue
        before = card.source_type
        card.source_type = u.declared_source
        card.explanation = with_joined_sender(list(card.explanation), u.declared_source)
        card.updated_at = now
        card.save(update_fields=["source_type", "explanation", "updated_at"])
        changed.append(
            {"card": card.pk, "post": u.post_id, "from": before, "to": u.declared_source}
        )
    return changed


# -- triage --------------------------------------------------------------------------------


def _claimable(user: Any, now: datetime) -> Q:
    return Q(claimed_by__isnull=True) | Q(claimed_by=user) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)


@transaction.atomic
def claim(card: Card, *, actor: Any) -> Card:
    """Take a card. One conditional UPDATE decides between two volunteers:
    the database, not a read-then-write in Python, guarantees one winner."""
    now = timezone.now()
    won = Card.objects.filter(_claimable(actor, now), pk=card.pk, state=CardState.QUEUED).update(
        claimed_by=actor, claimed_at=now, updated_at=now
    )
    if not won:
        card.refresh_from_db()
        if card.state != CardState.QUEUED:
            raise ActionError(_("Cette carte a déjà été traitée."))
        raise ActionError(_("Cette carte est déjà prise par une autre personne."))
    card.refresh_from_db()
    journal.append(
        "watch.card.claim",
        actor=actor,
        organisation=card.activation.organisation,
        subject=f"card:{card.pk}",
    )
    return card


@transaction.atomic
def release(card: Card, *, actor: Any) -> None:
    now = timezone.now()
    released = Card.objects.filter(pk=card.pk, claimed_by=actor).update(
        claimed_by=None, claimed_at=None, updated_at=now
    )
    if not released:
        raise ActionError(_("Vous n'avez pas pris cette carte."))
    journal.append(
        "watch.card.release",
        actor=actor,
        organisation=card.activation.organisation,
        subject=f"card:{card.pk}",
    )


def _clean_evidence(links: Sequence[str]) -> list[str]:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    validate = URLValidator(schemes=["http", "https"])
    cleaned: list[str] = []
    # Each item is a line as typed (the panel asks for one link a line); links pasted
    # side by side on one line are taken too. A refusal quotes the whole line: « pas un
    # lien » was reported as « pas », a word the volunteer never typed alone.
    for line in links:
        for link in line.split():
            try:
                # URLValidator lets control characters through in the path; a NUL then
                # made the card's save a 500 on PostgreSQL (jsonb cannot hold \u0000).
                if any(ord(ch) < 32 or ch == "\x7f" for ch in link):
                    raise ValidationError("control character")
                validate(link)
            except ValidationError as exc:
                raise InvalidInput(
                    _(
                        "Lien de preuve invalide : « %(link)s » (un lien par ligne, "
                        "commençant par https:// ou http://)."
                    )
                    % {"link": line.strip()[:200]}
                ) from exc
            if link not in cleaned:
                cleaned.append(link)
    if len(cleaned) > MAX_EVIDENCE_LINKS:
        raise InvalidInput(_("Trop de liens de preuve (20 au plus)."))
    return cleaned


@transaction.atomic
def decide(
    card: Card,
    decision: str,
    *,
    actor: Any,
    notes: str = "",
    evidence: Sequence[str] = (),
) -> Card:
    """Record a volunteer's decision on a card of the queue. The card must be free or
    claimed by the actor (and is released by the decision); the decision feeds the
    activation's learner through the worker (``learned_until``). A card already settled
    (decided or in the main courante) is refused, whoever settled it: a stale page or a
    replayed request must not overwrite someone's verdict and wipe their note and
    evidence. Settled cards change through ``correct_decision`` or their line."""
    return _decide(card, decision, actor=actor, notes=notes, evidence=evidence, queued_only=True)


def _decide(
    card: Card,
    decision: str,
    *,
    actor: Any,
    notes: str,
    evidence: Sequence[str],
    queued_only: bool,
) -> Card:
    card, notes, links = _apply_decision(
        card, decision, actor=actor, notes=notes, evidence=evidence, queued_only=queued_only
    )
    _record_decision(card, decision, actor=actor, notes=notes, links=links)
    return card


def _apply_decision(
    card: Card,
    decision: str,
    *,
    actor: Any,
    notes: str,
    evidence: Sequence[str],
    queued_only: bool = False,
) -> tuple[Card, str, list[str]]:
    """The card's row changed by a decision (not yet journaled): the card, with the notes
    and links as stored. ``queued_only``: only a card still in the queue (checked in the
    same conditional UPDATE, so two decisions sent at once cannot both land)."""
    if decision not in Decision.values:
        if not decision:
            raise InvalidInput(_("Aucune décision choisie."))
        raise InvalidInput(_("Décision inconnue : %(d)s") % {"d": decision})
    links = _clean_evidence(evidence)
    # Typed in a text box: a NUL is no part of it, and PostgreSQL's text cannot hold one.
    notes = notes.replace("\x00", "")
    now = timezone.now()
    # A card already in the main courante can still be re-qualified (a rumour
    # turns out true), but only by whoever holds it or when it is free.
    still = {"state": CardState.QUEUED} if queued_only else {}
    won = Card.objects.filter(_claimable(actor, now), pk=card.pk, **still).update(
        decision=decision,
        notes=notes,
        evidence=links,
        decided_by=actor,
        decided_at=now,
        claimed_by=None,
        claimed_at=None,
        updated_at=now,
    )
    if not won:
        card.refresh_from_db()
        if queued_only and card.state != CardState.QUEUED:
            raise ActionError(_settled_message(card))
        raise ActionError(_("Cette carte est déjà prise par une autre personne."))
    Card.objects.filter(pk=card.pk, state=CardState.QUEUED).update(state=CardState.DECIDED)
    card.refresh_from_db()
    # The verification status of main courante lines built from this card follows it.
    LogEntry.objects.filter(card=card).update(verification=decision, updated_at=now)
    return card, notes, links


def _settled_message(card: Card) -> str:
    if card.state == CardState.ESCALATED:
        return _("Cette carte est déjà dans la main courante : requalifiez-la depuis sa ligne.")
    return _(
        "Cette carte a déjà été traitée (%(label)s, par %(who)s) : corrigez-la depuis "
        "les cartes traitées."
    ) % {
        "label": dict(Decision.choices).get(card.decision, card.decision),
        "who": card.decided_by.get_username() if card.decided_by else "—",
    }


def _record_decision(
    card: Card, decision: str, *, actor: Any, notes: str, links: list[str]
) -> None:
    """A decision's journal entry and its row for the learner. Nothing that another
    transaction may hold comes after this in the caller (the journal's head is held
    until commit: docs/decisions/0002-journal.md, "Lock order")."""
    # The card keeps the notes and links as typed: the team opens them.
    journal.append(
        "watch.card.decide",
        actor=actor,
        organisation=card.activation.organisation,
        subject=f"card:{card.pk}",
        reason=_journaled(card.activation, notes),
        # The card's main courante lines took the verdict as their verification.
        **_with_content(
            {
                "decision": decision,
                "evidence": [_journaled(card.activation, link) for link in links],
            },
            LogEntry.objects.filter(card=card),
        ),
    )
    # Inserted only now, under the journal's head lock (held until commit), so
    # decision ids are handed out in commit order: the worker learns from a
    # watermark (id > learned_until) and would never see a decision that
    # took a smaller id but committed after a larger one (PostgreSQL).
    CardDecision.objects.create(
        card=card,
        actor=actor,
        decision=decision,
        notes=notes,
        evidence=links,
        at=card.decided_at or timezone.now(),
    )


@transaction.atomic
def correct_decision(
    card: Card, decision: str, *, actor: Any, notes: str = "", seen: str | None = None
) -> Card:
    """A new decision on a decided card, from the decided cards' page. It keeps the
    card's evidence links, and its note unless a new one is typed (a correction of the
    verdict, not of the reasons). ``seen`` is the decision time the page showed: that page
    is not live, and a correction made meanwhile by someone else must not be undone
    silently. Checked on the locked row, so two corrections sent at once cannot both pass."""
    card = _still_decided(
        card,
        seen,
        _(
            "Cette carte a été corrigée entre-temps (%(label)s, par %(who)s) : "
            "voyez sa décision actuelle avant de la changer."
        ),
    )
    return _decide(
        card,
        decision,
        actor=actor,
        notes=notes.strip() or card.notes,
        evidence=card.evidence,
        queued_only=False,
    )


def _still_decided(card: Card, seen: str | None, changed: str) -> Card:
    """The card's row, locked until the transaction ends, if it is still among the decided
    cards and, when ``seen`` is given, still with the decision that page showed (its time);
    else an ActionError (``changed`` names the new decision and who took it). Locked
    alone: PostgreSQL refuses FOR UPDATE on the nullable side of select_related's join.
    For no key update, as every row lock taken before the journal's head
    (docs/decisions/0002-journal.md, "Lock order")."""
    card = Card.objects.select_for_update(no_key=True).get(pk=card.pk)
    if card.state != CardState.DECIDED:
        raise ActionError(_("Cette carte n'est plus parmi les cartes traitées."))
    shown = card.decided_at.isoformat() if card.decided_at else ""
    if seen is not None and seen != shown:
        raise ActionError(
            changed
            % {
                "label": dict(Decision.choices).get(card.decision, card.decision),
                "who": card.decided_by.get_username() if card.decided_by else "—",
            }
        )
    return card


@transaction.atomic
def escalate_decided(
    card: Card,
    *,
    actor: Any,
    category: str,
    for_partners: bool = True,
    seen: str | None = None,
) -> LogEntry:
    """Send a card to the main courante from the decided cards' page (« Vérifié » pressed
    where « e » was meant): the line takes the card's decision as its verification. That
    page is not live, so the card may have gone back to the queue, been sent or corrected
    meanwhile: checked on the locked row, as ``correct_decision`` does, so a requeue
    committed first is never followed by a line for a card that is no longer decided."""
    card = _still_decided(
        card,
        seen,
        _(
            "Cette carte a été corrigée entre-temps (%(label)s, par %(who)s) : "
            "voyez sa décision actuelle avant de l'envoyer en main courante."
        ),
    )
    return escalate(card, actor=actor, category=category, for_partners=for_partners)


@transaction.atomic
def return_to_queue(card: Card, *, actor: Any, seen: str | None = None) -> Card:
    """Put a decided card back in the queue (a decision taken by mistake: « Sans
    intérêt » for a call for help). Its decisions stay in its history and the journal;
    a row with neither decision nor source joins them, which tells the worker to
    withdraw the card's lesson from the learner (the team no longer holds that verdict;
    the card's next decision teaches again). A card in the main courante is corrected
    from its line instead. ``seen``: the decision time the decided cards' page showed
    (as for ``correct_decision``): a correction made since is not undone from a stale
    page."""
    now = timezone.now()
    # For no key update: the card's key does not change (docs/decisions/0002-journal.md).
    card = Card.objects.select_for_update(no_key=True).get(pk=card.pk)
    if seen is not None and card.state == CardState.DECIDED:
        _still_decided(
            card,
            seen,
            _(
                "Cette carte a été corrigée entre-temps (%(label)s, par %(who)s) : "
                "voyez sa décision actuelle avant de la remettre dans la file."
            ),
        )
    before = card.decision
    back = Card.objects.filter(pk=card.pk, state=CardState.DECIDED).update(
        state=CardState.QUEUED,
        decision="",
        claimed_by=None,
        claimed_at=None,
        updated_at=now,
    )
    card.refresh_from_db()
    if not back:
        if card.state == CardState.ESCALATED:
            raise ActionError(
                _("Cette carte est dans la main courante : requalifiez-la depuis sa ligne.")
            )
        raise ActionError(_("Cette carte est déjà dans la file."))
    journal.append(
        "watch.card.requeue",
        actor=actor,
        organisation=card.activation.organisation,
        subject=f"card:{card.pk}",
        # The decision the card leaves (its history keeps every one).
        data={"from": before},
    )
    # After the journal entry, as in decide(): the worker reads these rows in id order
    # from a watermark, so ids must follow commit order.
    CardDecision.objects.create(card=card, actor=actor, decision="", source="", at=now)
    return card


def _next_number(activation: Activation) -> int:
    last = LogEntry.objects.filter(activation=activation).aggregate(m=Max("number"))["m"]
    return (last or 0) + 1


def _create_entry(activation: Activation, **fields: Any) -> LogEntry:
    # The unique (activation, number) constraint settles a race between two
    # writers; the loser takes the next number.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return LogEntry.objects.create(
                    activation=activation, number=_next_number(activation), **fields
                )
        except IntegrityError:
            continue
    raise ActionError(_("La main courante est très sollicitée : réessayez."))


def _check_open_log(activation: Activation) -> None:
    """A closed activation's main courante is the record handed over: no line is added to
    it (its lines are still corrected: status, verification, sharing; docs/guide/veille.md)."""
    if not activation.is_open:
        raise ActionError(
            _(
                "Activation close : la main courante n'accepte plus de nouvelle ligne "
                "(ses lignes se corrigent encore)."
            )
        )


@transaction.atomic
def escalate(
    card: Card,
    *,
    actor: Any,
    category: str,
    text: str = "",
    notes: str = "",
    for_partners: bool = True,
    decision: str = "",
    evidence: Sequence[str] = (),
    queued_only: bool = False,
) -> LogEntry:
    """Send a card to the main courante (and, unless told otherwise, to the partners).
    ``queued_only``: from the triage room, only a card still in the queue (a card someone
    decided meanwhile goes from the decided cards' page, where its verdict is seen).

    ``text``: the line's text, empty for the post's own; ``notes``: the team's internal
    note on the card, never part of the line (a verification note names the people
    called: it must not reach the préfecture because « Transmettre » was ticked).
    ``decision``: the volunteer's verdict given with the escalation ("verified", "to
    verify"…), recorded first as a decision of its own (journaled, taught to the
    learner); the line's verification column starts from it."""
    if category not in LogCategory.values:
        raise InvalidInput(_("Catégorie inconnue."))
    _check_open_log(card.activation)
    text = text.replace("\x00", "")  # as a decision's notes
    notes = notes.replace("\x00", "").strip()
    decided: tuple[str, list[str]] | None = None
    if decision:
        if LogEntry.objects.filter(card=card).exists():
            raise ActionError(_("Cette carte est déjà dans la main courante."))
        # Journaled below, after the line is made: the line's number (a unique row a
        # line typed at this moment may hold, uncommitted) must be taken before the
        # journal's head, or the two transactions wait on each other (PostgreSQL).
        card, notes, links = _apply_decision(
            card, decision, actor=actor, notes=notes, evidence=evidence, queued_only=True
        )
        decided = notes, links
    now = timezone.now()
    # Without a verdict the note is still the team's: kept on the card, as a decision's.
    kept_note = {"notes": notes} if notes and decided is None else {}
    still = {"state": CardState.QUEUED} if queued_only and decided is None else {}
    won = Card.objects.filter(_claimable(actor, now), pk=card.pk, **still).update(
        state=CardState.ESCALATED, claimed_by=None, claimed_at=None, updated_at=now, **kept_note
    )
    if not won:
        card.refresh_from_db()
        if still and card.state != CardState.QUEUED:
            raise ActionError(_settled_message(card))
        raise ActionError(_("Cette carte est déjà prise par une autre personne."))
    card.refresh_from_db()
    if LogEntry.objects.filter(card=card).exists():
        raise ActionError(_("Cette carte est déjà dans la main courante."))
    entry = _create_entry(
        card.activation,
        at=now,
        channel=LogChannel.SOCIAL,
        category=category,
        commune_code=card.commune_code,
        commune_name=card.commune_name,
        **_entry_text(card, text),
        source_url=card.url,
        verification=card.decision,
        for_partners=for_partners,
        card=card,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    if decided is not None:
        _record_decision(card, decision, actor=actor, notes=decided[0], links=decided[1])
    journal.append(
        "watch.card.escalate",
        actor=actor,
        organisation=card.activation.organisation,
        subject=f"card:{card.pk}",
        reason=_journaled(card.activation, notes) if kept_note else "",
        **_with_content(
            {"entry": entry.number, "category": category, "for_partners": for_partners},
            [entry],
        ),
    )
    return entry


@transaction.atomic
def add_log_entry(
    activation: Activation,
    *,
    actor: Any,
    text: str,
    channel: str,
    category: str,
    commune_code: str = "",
    at: datetime | None = None,
    source_url: str = "",
    for_partners: bool = True,
) -> LogEntry:
    """A manual line: a phone call, an observation, an official message."""
    from beffroi.geo import gazetteer

    _check_open_log(activation)
    if not text.strip():
        raise InvalidInput(_("L'information est obligatoire."))
    if channel not in LogChannel.values:
        raise InvalidInput(_("Canal inconnu."))
    if category not in LogCategory.values:
        raise InvalidInput(_("Catégorie inconnue."))
    commune_name = ""
    code = commune_code.strip()
    if code:
        commune = gazetteer.by_code(code)
        if commune is None:
            raise InvalidInput(_("Commune inconnue : %(code)s") % {"code": code})
        commune_name = commune.name
    now = timezone.now()
    if at is not None and at > now + timedelta(minutes=1):
        raise InvalidInput(_("L'heure ne peut pas être dans le futur."))
    entry = _create_entry(
        activation,
        at=at or now,
        channel=channel,
        category=category,
        commune_code=code,
        commune_name=commune_name,
        text=text.strip(),
        source_url=source_url,
        for_partners=for_partners,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    journal.append(
        "watch.log.add",
        actor=actor,
        organisation=activation.organisation,
        subject=f"log:{entry.pk}",
        **_with_content(
            {
                "number": entry.number,
                "channel": channel,
                "category": category,
                # When the line says it happened, if not when it was typed.
                **({"at": entry.at.isoformat()} if at is not None else {}),
            },
            [entry],
        ),
    )
    return entry


@transaction.atomic
def update_log_status(entry: LogEntry, status: str, *, actor: Any, note: str = "") -> LogUpdate:
    if status not in LogStatus.values:
        raise InvalidInput(_("Statut inconnu."))
    now = timezone.now()
    # The "from" journaled is the row's status at this write, not the one the caller's
    # page loaded: two volunteers changing the line at once are taken one after the
    # other, the second journaling the first one's status as its "from".
    before = _locked_entry(entry).status
    entry.status, entry.updated_at = status, now
    LogEntry.objects.filter(pk=entry.pk).update(status=status, updated_at=now)
    update = LogUpdate.objects.create(entry=entry, actor=actor, status=status, note=note, at=now)
    journal.append(
        "watch.log.status",
        actor=actor,
        organisation=entry.activation.organisation,
        subject=f"log:{entry.pk}",
        reason=_journaled(entry.activation, note),
        **_with_content({"number": entry.number, "from": before, "to": status}, [entry]),
    )
    return update


def _locked_entry(entry: LogEntry) -> LogEntry:
    """The line's row as it stands now, locked until the transaction ends (for no key
    update, as every row lock taken before the journal's head: docs/decisions/0002-journal.md,
    "Lock order"). On SQLite the write transaction already excludes other writers; the
    read still has to come from the row, not from the caller's copy."""
    return LogEntry.objects.select_for_update(no_key=True).get(pk=entry.pk)


@transaction.atomic
def set_entry_sharing(entry: LogEntry, for_partners: bool, *, actor: Any) -> bool:
    """Send a line to the partners, or withdraw it from them (a phone number left in a
    line sent by mistake, an internal line the préfecture should see after all). Their
    pages drop or show it at their next refresh; a partners' export prepared before a
    withdrawal is no longer handed out (views._withdrawn_since); one already downloaded
    is theirs.
    Returns whether anything changed; journaled when it did."""
    now = timezone.now()
    changed = LogEntry.objects.filter(pk=entry.pk, for_partners=not for_partners).update(
        for_partners=for_partners, updated_at=now
    )
    entry.refresh_from_db()
    if not changed:
        return False
    journal.append(
        "watch.log.share",
        actor=actor,
        organisation=entry.activation.organisation,
        subject=f"log:{entry.pk}",
        **_with_content({"number": entry.number, "for_partners": for_partners}, [entry]),
    )
    return True


@transaction.atomic
def requalify_entry(entry: LogEntry, verification: str, *, actor: Any) -> LogEntry:
    """Change a line's verification (a rumour turns out true). A line sent from the
    triage room takes it as a new decision on its card (journaled, taught to the
    learner, and the card's other lines follow); a manual line records it directly."""
    if verification not in Decision.values:
        raise InvalidInput(_("Vérification inconnue : %(v)s") % {"v": verification})
    if entry.card_id is not None:
        card = entry.card
        assert card is not None
        # A new verdict, not new reasons: the card keeps its note and evidence, as in
        # correct_decision (a line's verification select has no box for either).
        _decide(
            card,
            verification,
            actor=actor,
            notes=card.notes,
            evidence=card.evidence,
            queued_only=False,
        )
        entry.refresh_from_db()
        return entry
    now = timezone.now()
    # Read on the locked row, as in update_log_status: the "from" is the row's.
    before = _locked_entry(entry).verification
    entry.verification, entry.updated_at = verification, now
    LogEntry.objects.filter(pk=entry.pk).update(verification=verification, updated_at=now)
    journal.append(
        "watch.log.verify",
        actor=actor,
        organisation=entry.activation.organisation,
        subject=f"log:{entry.pk}",
        **_with_content({"number": entry.number, "from": before, "to": verification}, [entry]),
    )
    return entry


def record_export(
    activation: Activation,
    *,
    actor: Any,
    fmt: str,
    filters: Mapping[str, str],
    lines: int,
    queued: bool,
) -> None:
    """A member took (or asked for) a copy of the main courante: the internal lines,
    phone numbers and names included, leave the platform with it, so who, when, which
    format and how many lines are journaled. The filters' codes are kept; a text search
    only as « used » (a name or a number typed there would stay in the journal for ever)."""
    kept = {k: v for k, v in filters.items() if v and k != "q"}
    journal.append(
        "watch.log.export",
        actor=actor,
        organisation=activation.organisation,
        subject=f"activation:{activation.pk}",
        data={
            "format": fmt,
            "lines": lines,
            "filters": kept,
            "search": bool(filters.get("q")),
            "queued": queued,
        },
    )


# -- partner links -------------------------------------------------------------------------


@transaction.atomic
def create_partner_link(
    activation: Activation, *, label: str, days: float, actor: Any
) -> tuple[PartnerLink, str]:
    """A read-only link to the partners' view of the main courante; returns the
    one-time token (only its hash is stored)."""
    if not label.strip():
        raise InvalidInput(_("Indiquez à qui ce lien est destiné."))
    if not 0 < days <= 30:
        raise InvalidInput(_("La durée doit être comprise entre quelques heures et 30 jours."))
    token = secrets.token_urlsafe(32)
    link = PartnerLink.objects.create(
        activation=activation,
        label=label.strip(),
        token_hash=_token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    journal.append(
        "watch.partner_link.create",
        actor=actor,
        organisation=activation.organisation,
        subject=f"partner_link:{link.pk}",
        data={
            "label": _journaled(activation, link.label),
            "expires_at": link.expires_at.isoformat(),
        },
    )
    return link, token


@transaction.atomic
def revoke_partner_link(link: PartnerLink, *, actor: Any) -> None:
    if link.revoked_at is not None:
        return
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    journal.append(
        "watch.partner_link.revoke",
        actor=actor,
        organisation=link.activation.organisation,
        subject=f"partner_link:{link.pk}",
        data={"label": _journaled(link.activation, link.label)},
    )


def find_partner_link(token: str) -> PartnerLink | None:
    link = (
        PartnerLink.objects.select_related("activation__organisation")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if link is None or not link.is_valid:
        return None
    return link


@transaction.atomic
def record_partner_view(link: PartnerLink, *, client: str, what: str = "page") -> None:
    """Every use of a partner link is journaled, with a pseudonym of the client."""
    PartnerLink.objects.filter(pk=link.pk).update(views=F("views") + 1)
    journal.append(
        "watch.partner_link.view",
        organisation=link.activation.organisation,
        subject=f"partner_link:{link.pk}",
        data={"label": _journaled(link.activation, link.label), "client": client, "what": what},
    )


def model_state(activation: Activation) -> ActivationModel:
    """The activation's learner and pipeline state (created with the activation;
    also created here for activations made before it existed)."""
    model, _created = ActivationModel.objects.get_or_create(activation=activation)
    return model


def store_model_state(activation: Activation, **fields: Any) -> None:
    """Persist the worker's learner or pipeline state.

    Derived from the journaled decisions and posts (it can be rebuilt from
    them), so saving it is not itself a decision and is not journaled.
    """
    ActivationModel.objects.filter(activation=activation).update(**fields)


# -- source correction ---------------------------------------------------------------------


def effective_source_type(card: Card) -> str:
    """The source type shown and filtered on: the volunteer's, else the model's guess."""
    return card.source_corrected or card.source_type


@transaction.atomic
def correct_source(card: Card, source_type: str, *, actor: Any) -> Card:
    """A volunteer sets (or confirms) who is speaking on a card.

    Like a decision, it needs the card free or held by the actor, and may be
    made after the card was settled; unlike a decision, it keeps the claim (the
    volunteer goes on to decide). The model's guess stays in ``source_type``;
    the decision row carries the label so the worker teaches it to the
    activation's learner in order with the other decisions.
    """
    if source_type not in SourceType.values:
        raise InvalidInput(_("Type de source inconnu : %(s)s") % {"s": source_type})
    now = timezone.now()
    before = card.source_corrected
    won = Card.objects.filter(_claimable(actor, now), pk=card.pk).update(
        source_corrected=source_type, updated_at=now
    )
    if not won:
        raise ActionError(_("Cette carte est déjà prise par une autre personne."))
    card.refresh_from_db()
    if before == source_type:
        return card  # said twice: one lesson is enough
    journal.append(
        "watch.card.source",
        actor=actor,
        organisation=card.activation.organisation,
        subject=f"card:{card.pk}",
        data={"predicted": card.source_type, "from": before, "to": source_type},
    )
    # After the journal entry, as in decide(): ids then follow commit order, which the
    # worker's learning watermark relies on.
    CardDecision.objects.create(card=card, actor=actor, decision="", source=source_type, at=now)
    return card


# -- authors' edits and deletions (docs/decisions/watch-edits-deletions.md) -----------------


def _stored_id(external_id: str, key: bytes | None) -> str:
    """A platform's id of a post as stored: an id that names the account (a Bluesky
    AT-URI begins with its author's DID, a Mastodon status address used as a feed's
    guid names the account) carries a pseudonym instead, unless the activation keeps
    handles (``key`` None). The same id always gives the same value, so repeats, edits
    and deletions still find their post; the sources remember ids by the same rule
    (``sources.base.pseudonymise_post_id``)."""
    return (external_id if key is None else pseudonymise_post_id(external_id, key))[:300]


@functools.lru_cache(maxsize=65536)
def _post_id(external_id: str, *, key: bytes) -> str:
    # The sink rewrites the runner's whole window (up to 5,000 ids) with every batch,
    # and the window mostly holds the ids of the batch before: 44 ms a batch uncached.
    return pseudonymise_post_id(external_id, key)


def _source_key(source_id: int) -> bytes | None:
    """The pseudonym key for a source's posts; None when its activation keeps handles."""
    keep = (
        Source.objects.filter(pk=source_id).values_list("activation__keep_handles", flat=True).get()
    )
    return None if keep else handle_key()


def _stored_post_fields(p: Any, key: bytes | None) -> tuple[str, str, str, dict[str, Any]]:
    """Text, URL, author key and raw payload of a received post (or of the new
    version of an edited one) as stored: without handles unless the
    activation keeps them (``key`` None). The one place these rules live."""
    text, url, author, raw = p.text, p.url or "", p.author_key or "", dict(p.raw)
    if key is not None:
        text = pseudonymise_mentions(text, key)
        url = "" if names_account(url) else url
        if author and not author.startswith("handle:"):
            author = handle_pseudonym(author, key)
        raw = pseudonymise_record(raw, key)
    return text, url, author, raw


def _may_hold_nul(item: Any) -> bool:
    """A fast test first (C-speed string searches: this runs for every post received),
    the walk only when it says yes."""
    for value in vars(item).values():
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            try:
                # JSON writes a NUL only as this escape (a written "\\u0000" also
                # matches: the walk then answers).
                if "\\u0000" in json.dumps(value, default=str) and holds_nul(value):
                    return True
            except (RecursionError, ValueError):
                if holds_nul(value):
                    return True
        elif (
            value is not None
            and not isinstance(value, int | float | datetime)
            and holds_nul(value)  # tuples of links, a change's new version
        ):
            return True
    return False


def _json_without_nul(value: Any) -> Any:
    """A JSON value (dicts, lists, strings…) with the NUL characters taken out of its
    strings and keys. A loop, not a recursion: a payload may be nested as deep as a
    parser allowed."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, slot = stack.pop()
        if isinstance(item, str):
            parent[slot] = item.replace("\x00", "")
        elif isinstance(item, dict):
            copy: dict[Any, Any] = {}
            parent[slot] = copy
            for k, v in item.items():
                k = k.replace("\x00", "") if isinstance(k, str) else k
                copy[k] = None
                stack.append((v, copy, k))
        elif isinstance(item, list | tuple):  # stored as JSON: a list either way
            items: list[Any] = [None] * len(item)
            parent[slot] = items
            stack.extend((v, items, i) for i, v in enumerate(item))
        else:
            parent[slot] = item
    return root[0]


def _without_nul(item: Any) -> Any:
    """A received post or change with the NUL characters taken out of its strings (its
    text, ids, links, raw payload). PostgreSQL's text and jsonb cannot hold one: a post
    carrying one (a remote account's text, a feed's id, a line of an imported file)
    failed its whole batch, and the source retried that batch for ever. The item itself
    when it holds none, which is the rule."""
    if not _may_hold_nul(item):
        return item
    changed: dict[str, Any] = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if isinstance(value, str):
            changed[f.name] = value.replace("\x00", "")
        elif isinstance(value, tuple):
            changed[f.name] = tuple(
                v.replace("\x00", "") if isinstance(v, str) else v for v in value
            )
        elif isinstance(value, dict):
            changed[f.name] = _json_without_nul(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            changed[f.name] = _without_nul(value)  # a change's new version: one level
    return dataclasses.replace(item, **changed)


def receive_items(source_id: int, items: Sequence[Any], checkpoint: dict[str, Any]) -> Any:
    """The runner's sink: new posts, then authors' edits and deletions, with
    the checkpoint that covers them, in one transaction.

    Returns a ``sources.Received``: the deletion of a post we never received
    is not an error, it is counted apart (``unknown_deletions``). The edit of a
    post we never received (an author added the watched hashtag, an old post
    edited on a public timeline) is received as a new post, in its new version.
    """
    from beffroi.watch.sources.base import EDIT, CoverageGap, GapFilled, RawPost, Received
    from beffroi.watch.sources.base import PostChange as Change

    items = [_without_nul(i) if isinstance(i, RawPost | Change) else i for i in items]
    if gaps := [i for i in items if isinstance(i, CoverageGap | GapFilled)]:
        # Recorded with the checkpoint that moves past them: a gap (or its filling)
        # is never lost nor written twice when the worker stops between two commits.
        with transaction.atomic():
            for gap in gaps:
                if isinstance(gap, CoverageGap):
                    record_coverage_gap(source_id, gap)
            rest = [i for i in items if not isinstance(i, CoverageGap | GapFilled)]
            received = receive_items(source_id, rest, checkpoint)
            # After the posts: the span's last ones may be in this very batch, and the
            # entry counts those that were new to the room.
            for gap in gaps:
                if isinstance(gap, GapFilled):
                    record_gap_filled(source_id, gap)
            return received
    changes = [i for i in items if isinstance(i, Change)]
    posts = [i for i in items if not isinstance(i, Change)]
    if not changes:
        return Received(new=_store_posts(source_id, posts, checkpoint))
    unknown_deletions = 0
    key = _source_key(source_id)
    ids = {id(c): _stored_id(c.external_id, key) for c in changes}
    with transaction.atomic():
        known = _known_ids(source_id, sorted(set(ids.values())))
        known.update(_stored_id(p.external_id, key) for p in posts)
        todo: list[Change] = []
        for change in changes:
            external_id = ids[id(change)]
            if external_id in known:
                todo.append(change)
            elif change.kind == EDIT and change.post is not None:
                posts.append(change.post)
                known.add(external_id)
            else:
                unknown_deletions += 1
        new = _store_posts(source_id, posts, checkpoint)
        stored = {
            p.external_id: p
            for p in Post.objects.filter(
                source_id=source_id, external_id__in={ids[id(c)] for c in todo}
            ).select_related("activation__organisation", "card")
        }
        for change in todo:
            post = stored[ids[id(change)]]
            if change.kind == EDIT:
                record_post_edit(post, change)
            else:
                record_post_deletion(post, at=change.at)
    return Received(new=new, unknown_deletions=unknown_deletions)


@transaction.atomic
def record_coverage_gap(source_id: int, gap: Any) -> None:
    """A span of posts the source could not receive (a ``sources.CoverageGap``: the
    platform no longer held them when the source came back). Journaled, since the
    journal is the activation's record of what the room could and could not see
    (DESIGN rule 3, docs/decisions/sources.md); the sources page shows the latest."""
    source = Source.objects.select_related("activation__organisation").get(pk=source_id)
    journal.append(
        "watch.source.gap",
        organisation=source.activation.organisation,
        subject=f"source:{source.pk}",
        data={
            "from": gap.start.isoformat() if gap.start is not None else None,
            "to": gap.end.isoformat(),
            "reason": gap.reason,
            "detail": _journaled(source.activation, gap.detail),
            "where": gap.where,
        },
    )


@transaction.atomic
def record_gap_filled(source_id: int, filled: Any) -> None:
    """A coverage gap the source stopped fetching afterwards (a ``sources.GapFilled``),
    journaled once with the checkpoint that forgets the span; ``to`` and ``where`` name
    the gap's entry. ``outcome`` says how it ended (``filled``; else why the rest was
    not received: ``not-served``, ``fill-off``, ``abandoned``, ``unwatched``), ``served``
    whether it was filled (docs/decisions/sources.md).

    ``received`` counts the span's posts that were new to the room (stored, marked by
    the source with the gap they filled), ``returned`` the statuses the instance gave
    back, some of which the stream may have brought already. Call it after the batch's
    posts are stored."""
    source = Source.objects.select_related("activation__organisation").get(pk=source_id)
    end = filled.end.isoformat()
    received = Post.objects.filter(
        source_id=source.pk, raw__fill=end, raw__stream=filled.where
    ).count()
    journal.append(
        "watch.source.gap.filled",
        organisation=source.activation.organisation,
        subject=f"source:{source.pk}",
        data={
            "from": filled.start.isoformat() if filled.start is not None else None,
            "to": end,
            "where": filled.where,
            "received": received,
            "returned": filled.returned,
            "skipped": filled.skipped,
            "served": filled.served,
            "outcome": filled.outcome,
            "failures": filled.failures,
            "detail": _journaled(source.activation, filled.detail),
        },
    )


def _locked(post: Post) -> Post:
    """The post read again under a row lock, and its card's if it has one.
    ``store_cards`` updates this row when it makes the post's card: either it
    has committed (the card is seen here) or it waits for this transaction and
    then finds the change pending; a change can never be left out of the card
    by the race."""
    # For no key update, here and on the card: rows that reference them (a change, a
    # decision, a line) check their foreign keys as they commit, holding the journal's
    # head (docs/decisions/0002-journal.md, "Lock order").
    Post.objects.select_for_update(no_key=True).filter(pk=post.pk).values_list("pk").get()
    # A second statement: under read committed it sees the card the worker
    # committed while we waited, which the locking statement's snapshot cannot.
    post = Post.objects.select_related("card", "activation__organisation").get(pk=post.pk)
    if post.card_id is not None:
        # The card's row too: a volunteer escalating it at this moment holds it
        # until the main courante line is committed; the lines are read after
        # this (later statements see that line), and an escalation that comes
        # after waits for this change and then quotes the card as changed.
        post.card = Card.objects.select_for_update(no_key=True).get(pk=post.card_id)
    return post


def _change_subject(post: Post) -> dict[str, Any]:
    # Not the external id: a Bluesky AT-URI names its author's DID, and the journal is
    # never purged (the subject "post:<pk>" leads to it while the post is kept).
    return {"source": post.source_id, "post": post.pk, "card": post.card_id}


@transaction.atomic
def record_post_edit(post: Post, change: Any) -> PostChange | None:
    """An author edited a post we hold (``change``: a ``sources.PostChange``).

    The post row keeps the version that arrived first; the new version is a
    ``PostChange`` row, stored without handles like a post. The card of which
    it is the own post shows the new text, marked, with the previous one.
    Returns None when this version was already recorded (seen twice)."""
    if change.kind != PostChangeKind.EDIT or change.post is None:
        raise InvalidInput(_("Modification sans nouvelle version du message."))
    version = change.version[:100]
    if PostChange.objects.filter(post=post, kind=PostChangeKind.EDIT, version=version).exists():
        return None
    post = _locked(post)
    activation = post.activation
    key = None if activation.keep_handles else handle_key()
    text, url, _author, raw = _stored_post_fields(change.post, key)
    row = PostChange.objects.create(
        post=post,
        kind=PostChangeKind.EDIT,
        version=version,
        text=text,
        url=url[:1000],
        language=(change.post.language or "")[:16],
        raw=raw,
        changed_at=change.at,
    )
    touched: list[int] = []
    if post.processed:
        _follow_changes([row], touched)
    journal.append(
        "watch.post.edit",
        organisation=activation.organisation,
        subject=f"post:{post.pk}",
        **_with_content(
            {**_change_subject(post), "version": version, "at": row.at.isoformat()},
            LogEntry.objects.filter(pk__in=touched),
        ),
    )
    return row


@transaction.atomic
def record_post_deletion(post: Post, *, at: datetime | None = None) -> PostChange | None:
    """An author deleted a post we hold: recorded (with the time) and followed
    by its card and main courante lines; the post row itself stays, as
    evidence for the team. Returns None if the deletion was already known."""
    if PostChange.objects.filter(post=post, kind=PostChangeKind.DELETE).exists():
        return None
    post = _locked(post)
    row = PostChange.objects.create(post=post, kind=PostChangeKind.DELETE, changed_at=at)
    touched: list[int] = []
    withdrawn = _follow_changes([row], touched) if post.processed else []
    journal.append(
        "watch.post.delete",
        organisation=post.activation.organisation,
        subject=f"post:{post.pk}",
        **_with_content(
            {**_change_subject(post), "at": row.at.isoformat(), "withdrawn_lines": withdrawn},
            LogEntry.objects.filter(pk__in=touched),
        ),
    )
    return row


def _when(at: datetime) -> str:
    return timezone.localtime(at).strftime("%d/%m/%Y %H:%M")


def _withdrawn_mark(at: datetime) -> str:
    return _("[Message supprimé par son auteur le %(when)s : texte retiré.]") % {"when": _when(at)}


def _entry_text(card: Card, summary: str) -> dict[str, Any]:
    """Text fields of a main courante line escalated from ``card``. The post of
    a card its author deleted is not quoted to partners; a volunteer's own
    summary is kept (docs/decisions/watch-edits-deletions.md)."""
    deleted = card.author_deleted_at
    if summary.strip() or deleted is None:
        return {"text": summary.strip() or card.text, "author_deleted_at": deleted}
    return {
        "text": _withdrawn_mark(deleted),
        "withdrawn_text": card.text,
        "author_deleted_at": deleted,
    }


def _card_text(text: str, keep_handles: bool) -> str:
    """What a card shows of a post's text: the pipeline's own normalisation."""
    from beffroi.watch.pipeline.model import Enriched, PostIn
    from beffroi.watch.pipeline.normalise import Normaliser

    item = Enriched(post=PostIn(id="", text=text, created_at=timezone.now()))
    Normaliser(keep_handles=keep_handles)([item])
    return item.text or text


def _follow_changes(changes: Sequence[PostChange], touched: list[int]) -> list[int]:
    """Bring the cards (and their main courante lines) of the changed posts up
    to date; marks the changes applied. Only a card's own post changes it:
    the copies grouped under it are recorded but leave the card as it is.
    Returns the numbers of the main courante lines whose text was withdrawn;
    the ids of every line it changed are added to ``touched`` (their digests go in
    the caller's journal entry)."""
    now = timezone.now()
    withdrawn: list[int] = []
    # Each change loaded with select_related holds its own copy of the card: two
    # changes of one post must work on one object, or the second saves a stale
    # copy over the first.
    cards: dict[int, Card] = {}
    for change in changes:
        post = change.post
        card = post.card
        if card is not None:
            card = cards.setdefault(card.pk, card)
        if card is not None and (card.source_id, card.external_id) == (
            post.source_id,
            post.external_id,
        ):
            entries = LogEntry.objects.filter(card=card)
            shown = card.author_edited_at
            if change.kind == PostChangeKind.EDIT and shown is not None and change.at < shown:
                # Arrived after a later edit (streams and rechecks do not keep
                # edit order): recorded and journaled, but the card keeps the
                # newest text.
                pass
            elif change.kind == PostChangeKind.EDIT:
                change.shown_before = card.text
                card.text = _card_text(change.text, post.activation.keep_handles)
                card.author_edited_at = change.at
                card.explanation = [
                    _("modifié par l'auteur le %(when)s ; version précédente : « %(text)s »")
                    % {"when": _when(change.at), "text": change.shown_before},
                    *card.explanation,
                ]
                touched.extend(entries.values_list("pk", flat=True))
                entries.update(author_edited_at=change.at, updated_at=now)
            else:
                card.author_deleted_at = change.at
                card.explanation = [
                    _("supprimé par l'auteur le %(when)s") % {"when": _when(change.at)},
                    *card.explanation,
                ]
                # What partners were sent must stop repeating a post its author
                # withdrew; a volunteer's own summary is not the author's text.
                earlier = post.changes.exclude(shown_before="")
                quoted = {card.text, *earlier.values_list("shown_before", flat=True)}
                for entry in entries:
                    touched.append(entry.pk)
                    entry.author_deleted_at = change.at
                    entry.updated_at = now
                    if entry.text in quoted:
                        entry.withdrawn_text = entry.text
                        entry.text = _withdrawn_mark(change.at)
                        withdrawn.append(entry.number)
                    entry.save(
                        update_fields=["author_deleted_at", "updated_at", "withdrawn_text", "text"]
                    )
            card.updated_at = now
            card.save(
                update_fields=[
                    "text", "author_edited_at", "author_deleted_at", "explanation", "updated_at"
                ]
            )  # fmt: skip
        change.applied_at = now
        change.save(update_fields=["shown_before", "applied_at"])
    return withdrawn


def follow_pending_changes(post_ids: Sequence[int], touched: list[int] | None = None) -> int:
    """Changes received before the pipeline had made the post's card: applied
    by ``store_cards`` once it has (same transaction). Returns how many; the ids of
    the main courante lines changed go to ``touched`` (a card made in this batch has
    none, but the caller journals their digests if ever it has)."""
    # Almost every batch finds none: one plain statement on the partial index
    # (a queryset cost ten times more than the look-up itself, per batch).
    table = connection.ops.quote_name(PostChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, post_id FROM {table} WHERE applied_at IS NULL")  # noqa: S608
        pending_rows = cursor.fetchall()
    if not pending_rows:
        return 0
    batch = set(post_ids)
    ids = [pk for pk, post_id in pending_rows if post_id in batch]
    if not ids:
        return 0
    pending = PostChange.objects.filter(pk__in=ids).select_related("post__card", "post__activation")
    _follow_changes(list(pending.order_by("pk")), [] if touched is None else touched)
    return len(ids)


# -- repairs -------------------------------------------------------------------------------


class _ScrubSeal:
    """``scrub.LineSeal`` for ``scrub_handles``: each batch that rewrites lines the
    journal vouched for journals their new digests in its own transaction."""

    def __init__(self, activation: Activation, actor: Any) -> None:
        self.activation, self.actor = activation, actor
        from django.utils.translation import ngettext

        self.vouch = courante_verify.Vouched(activation.pk)
        if self.vouch.foreign:
            # The repair can only vouch under the current key: a line it rewrote while its
            # digest is under the old one would read as forged, and then refuse every
            # re-seal for good.
            raise ActionError(
                ngettext(
                    "Activation « %(name)s » : %(n)s ligne de la main courante est scellée "
                    "sous une autre clé : lancez d'abord beffroi watch courante-reseal, puis "
                    "relancez la réparation.",
                    "Activation « %(name)s » : %(n)s lignes de la main courante sont "
                    "scellées sous une autre clé : lancez d'abord beffroi watch "
                    "courante-reseal, puis relancez la réparation.",
                    self.vouch.foreign,
                )
                % {"name": activation.name, "n": self.vouch.foreign}
            )

    def vouched(self, entries: Any) -> list[LogEntry]:
        return self.vouch.lines(entries)

    def written(self, entries: list[LogEntry]) -> None:
        if entries:
            journal.append(
                "watch.activation.scrub_lines",
                actor=self.actor,
                organisation=self.activation.organisation,
                subject=f"activation:{self.activation.pk}",
                **_with_content({"log_entries": len(entries)}, entries),
            )


def scrub_handles(
    activation: Activation,
    *,
    actor: Any = None,
    batch_size: int = 500,
    dry_run: bool = False,
    progress: Any = None,
) -> Any:
    """Re-apply today's handle rules to the rows ``activation`` stored before them (a
    post kept « RT@name: » as received until the mention pattern read it).

    Raw input is otherwise immutable; this privacy repair is the exception written down
    in docs/decisions/watch-handles.md. Batches of rows are rewritten in short
    transactions of their own (``watch.scrub``); a batch that rewrites main courante
    lines journals their new digests in its own transaction
    (``watch.activation.scrub_lines``); then one journal entry says how many
    rows of each table changed, never what they held; nothing changed, nothing
    journaled. An interrupted run journals what it did before stopping. Returns the
    counts (``dry_run``: what a run would change, nothing written)."""
    from beffroi.watch import scrub

    if activation.keep_handles:
        raise ActionError(
            _("Cette activation conserve les identifiants des comptes : rien à pseudonymiser.")
        )
    counts = scrub.Counts()
    interrupted = True
    # The lines it rewrites get their new digests batch by batch, in the batch's
    # transaction, if the journal vouched for them just before (a line changed behind
    # Beffroi's back stays reported; a stopped run leaves no false alarm).
    seal = None if dry_run else _ScrubSeal(activation, actor)
    try:
        scrub.scrub_activation(
            activation,
            handle_key(),
            _stored_post_fields,
            counts,
            stored_id=_stored_id,
            batch_size=batch_size,
            dry_run=dry_run,
            progress=progress,
            seal=seal,
        )
        # After the posts: a Jetstream source's followed set is rebuilt from their ids.
        counts.checkpoints += scrub.scrub_checkpoints(activation, handle_key(), dry_run=dry_run)
        counts.source_lines += scrub.scrub_source_lines(activation, handle_key(), dry_run=dry_run)
        interrupted = False
    finally:
        if not dry_run and counts.changed:
            try:
                journal.append(
                    "watch.activation.scrub_handles",
                    actor=actor,
                    organisation=activation.organisation,
                    subject=f"activation:{activation.pk}",
                    data={**counts.as_journal(), "interrupted": interrupted},
                )
            except Exception:
                if not interrupted:
                    raise
                # The run already failed (the database gone, locked): its own error is
                # the one to see; what its committed batches changed goes to the log (their
                # lines' digests were journaled with them).
                log.exception(
                    "activation %s: handle repair interrupted, its closing entry not journaled: %s",
                    activation.pk,
                    counts.as_journal(),
                )
    return counts


@dataclass
class Reseal:
    """What ``reseal_courante`` found and did."""

    report: courante_verify.Report
    broken: Break | None = None
    # Per activation, the lines whose digest was journaled again under the current key
    # (a dry run: would be).
    sealed: dict[int, int] = dataclasses.field(default_factory=dict)
    # Lines that changed between the check and their batch: not sealed again (those
    # changed through Beffroi already carry a digest under the current key; the others
    # stay reported). Run it again.
    changed_meanwhile: int = 0
    # Whether the lines the journal does not vouch for (``report.unvouched``) were
    # carried over anyway, at the operator's explicit request.
    carry_unvouched: bool = False

    @property
    def refused(self) -> bool:
        return (
            self.broken is not None
            or not self.report.ok
            or bool(self.report.unvouched and not self.carry_unvouched)
        )


def reseal_courante(
    *old_secrets: str | bytes,
    activation_ids: Sequence[int] | None = None,
    actor: Any = None,
    batch_size: int = 500,
    dry_run: bool = False,
    compromised_since: datetime | None = None,
    carry_unvouched: bool = False,
) -> Reseal:
    """After the deployment's pseudonym secret changed on purpose, journal again, under
    the key of the current secret, the digest of every main courante line whose latest
    digest is under the key of one of ``old_secrets`` (docs/decisions/courante-digest.md;
    several when the secret changed twice with no re-seal between).

    Refused, nothing written, unless the journal's chain holds and every line checks
    (under either key): a re-seal must not launder a line already rewritten behind
    Beffroi's back. Then, per activation, ``batch_size`` lines a transaction: the lines
    are locked, and those that still read as they were checked get their new digest
    in a ``watch.log.reseal`` entry of that transaction. A run stopped halfway leaves
    every line checkable; running it again finishes. Lines older than the digest (« non
    couvertes ») get none: sealing them would vouch for content nobody checked.

    A digest under an old key journaled after that key was retired (the server's first
    entry under another key), or after ``compromised_since``, could come from whoever
    held the leaked secret: such a line is carried over only if the journal's clear
    record of its changes leads back to an earlier digest (``courante_verify._replays``).
    Otherwise the whole re-seal is refused, listing the lines, unless ``carry_unvouched``:
    then they are sealed too, their ids listed under ``unvouched`` in the entry."""
    if not old_secrets:
        raise ActionError(_("Donnez l'ancien secret."))
    old_ids = [courante_verify.key_id(secret) for secret in old_secrets]
    if courante_verify.key_id() in old_ids:
        raise ActionError(
            _("L'ancien secret est celui du serveur : les empreintes sont déjà sous sa clé.")
        )
    broken = journal.verify()
    report = courante_verify.check(
        activation_ids, old_secret=old_secrets, compromised_since=compromised_since
    )
    result = Reseal(report=report, broken=broken, carry_unvouched=carry_unvouched)
    unvouched = {f.line_id for f in report.unvouched}
    if result.refused:
        return result
    # One old key keeps the entry's original shape; several are listed, in the order given.
    from_keys: dict[str, Any] = {"from_key": old_ids[0]}
    if len(set(old_ids)) > 1:
        from_keys = {"from_keys": list(dict.fromkeys(old_ids))}
    for activation_id, lines in sorted(report.stale.items()):
        if dry_run:
            result.sealed[activation_id] = len(lines)
            continue
        organisation = Organisation.objects.filter(activations__pk=activation_id).first()
        pks = sorted(lines)
        for start in range(0, len(pks), batch_size):
            with transaction.atomic():
                rows = LogEntry.objects.filter(pk__in=pks[start : start + batch_size])
                same = [
                    entry
                    for entry in rows.select_for_update().order_by("pk")
                    if courante_verify.line_fields(entry) == lines[entry.pk]
                ]
                result.changed_meanwhile += min(batch_size, len(pks) - start) - len(same)
                # Carried over at the operator's request: the journal keeps the mark.
                marked = [e.pk for e in same if e.pk in unvouched]
                if same:
                    journal.append(
                        "watch.log.reseal",
                        actor=actor,
                        organisation=organisation,
                        subject=f"activation:{activation_id}",
                        **_with_content(
                            {
                                **from_keys,
                                "log_entries": len(same),
                                **({"unvouched": marked} if marked else {}),
                            },
                            same,
                        ),
                    )
            result.sealed[activation_id] = result.sealed.get(activation_id, 0) + len(same)
    return result


# The watch prune deletes in slices so that its progress moves and no query carries a list
# of ids longer than a database accepts as parameters.
PRUNE_BATCH = 1000


@transaction.atomic
def prune_posts(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Any = None,
) -> Any:
    """Delete the posts of activations ended more than the period ago, with their authors'
    later versions, and the cards no main courante line uses, with their decisions
    (docs/decisions/retention.md).

    Kept: the main courante (the record), each card a line names and that card's posts (the
    line's digest names its card, and the provenance of what was reported stays checkable),
    the journal, the sources' counts and the learned classifier. The grouping index, made
    from the deleted texts, goes too. ``progress(n)`` is called as posts go."""
    from beffroi.core.actions import prune_entry, prune_start

    outcome, limit = prune_start("watch_posts", "BEFFROI_RETENTION_WATCH_POSTS_DAYS", now)
    if limit is None:
        return outcome
    counts = dict.fromkeys(("posts", "post_changes", "cards", "card_decisions"), 0)
    for activation in Activation.objects.filter(ends_at__lte=limit).order_by("pk"):
        kept_cards = Card.objects.filter(activation=activation, log_entries__isnull=False)
        posts = Post.objects.filter(activation=activation).filter(
            Q(card__isnull=True) | ~Q(card__in=kept_cards)
        )
        cards = Card.objects.filter(activation=activation, log_entries__isnull=True)
        found = {
            "posts": posts.count(),
            "post_changes": PostChange.objects.filter(post__in=posts).count(),
            "cards": cards.count(),
            "card_decisions": CardDecision.objects.filter(card__in=cards).count(),
        }
        if not any(found.values()):
            continue
        outcome.scope.append(activation.pk)
        for name, n in found.items():
            counts[name] += n
        if dry_run:
            if progress is not None:
                progress(found["posts"])
            continue
        while ids := list(posts.values_list("pk", flat=True)[:PRUNE_BATCH]):
            PostChange.objects.filter(post__in=ids).delete()
            Post.objects.filter(pk__in=ids).delete()
            if progress is not None:
                progress(len(ids))
        while ids := list(cards.values_list("pk", flat=True)[:PRUNE_BATCH]):
            CardDecision.objects.filter(card__in=ids).delete()
            Card.objects.filter(pk__in=ids).delete()
        ActivationModel.objects.filter(activation=activation).update(pipeline_state=None)
    outcome.counts = counts if outcome.scope else {}
    if (entry := prune_entry(outcome, dry_run=dry_run)) is not None:
        journal.append("retention.watch_posts", **entry)
    return outcome


def posts_to_prune(now: datetime | None = None) -> int:
    """How many posts ``prune_posts`` would delete: the total of its progress bar."""
    from beffroi.core.actions import prune_start

    _, limit = prune_start("watch_posts", "BEFFROI_RETENTION_WATCH_POSTS_DAYS", now)
    if limit is None:
        return 0
    kept_cards = Card.objects.filter(activation__ends_at__lte=limit, log_entries__isnull=False)
    return (
        Post.objects.filter(activation__ends_at__lte=limit)
        .filter(Q(card__isnull=True) | ~Q(card__in=kept_cards))
        .count()
    )


def prune_export_files(*, now: datetime | None = None, dry_run: bool = False) -> Any:
    """Delete the prepared main courante exports older than ``BEFFROI_WATCH_EXPORT_HOURS``:
    each export sweeps the older ones, but after the last export of a crisis nothing did."""
    from beffroi.core.actions import prune_entry
    from beffroi.core.retention import Outcome
    from beffroi.watch.tasks import export_dir, keep_files

    moment = (now or timezone.now()).timestamp()
    outcome = Outcome("export_files", None)
    old = []
    for path in export_dir().glob("*") if export_dir().is_dir() else []:
        try:
            if moment - path.stat().st_mtime > keep_files().total_seconds():
                old.append(path)
        except OSError:  # swept meanwhile by an export
            continue
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    outcome.counts["export_files"] = len(old)
    if (entry := prune_entry(outcome, dry_run=dry_run)) is not None:
        journal.append("retention.export_files", **entry)
    return outcome
