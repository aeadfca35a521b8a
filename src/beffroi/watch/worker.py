"""The watch room's worker: live sources in, triage queue out.

``run_forever(stop)`` is what ``beffroi worker`` (next to the task queue) and
``beffroi demo`` run.  It does three things, each of which may fail alone:

- one thread per enabled source of an open activation, running the sources
  package's ``run_source`` (reconnect, backoff, checkpoints); its sink stores
  raw posts (and their authors' edits and deletions) and the checkpoint in
  one transaction, and its status callback writes the state shown on the
  Sources page.  A source that raises only
  stops itself; a failed source is started again when an organiser
  suspends and resumes it.
- per activation, the enrichment pipeline over pending posts, in batches,
  then ``actions.store_cards`` into the queue.  The stateless steps run in
  child processes (``pipeline.Preparer``, ``BEFFROI_WATCH_PIPELINE_PROCESSES``,
  2 by default) while this process groups, scores and stores the previous
  batch; a batch is marked processed only when its cards are committed, so
  work lost with a child is simply done again.  A batch that fails is logged
  and retried; other activations go on.
- per activation, the online learner fed with the volunteers' decisions
  (persisted in ``ActivationModel``), which classifies the next batches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from beffroi.watch import actions
from beffroi.watch.models import (
    Activation,
    Card,
    CardDecision,
    CardState,
    Decision,
    Post,
    Source,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from beffroi.watch.pipeline import PipelineConfig

log = logging.getLogger("beffroi.watch.worker")

BATCH_SIZE = 1000
# Child processes for the pipeline's stateless steps (0: everything in this process).
PIPELINE_PROCESSES = 2
# A child that takes longer than this for one batch is considered stuck: the
# children are restarted and the batch done again.
PREPARE_TIMEOUT = 120.0
# The same for a batch of one post. A post takes milliseconds; fresh children building
# their steps for a zone took 3.5 to 5 s on a loaded 2-core machine: a wide margin, and
# a hostile post costs seconds, not minutes (docs/decisions/pipeline.md).
ALONE_TIMEOUT = 30.0
# After this many restarts of stuck children, the worker enriches in its own thread.
MAX_STUCK = 2
TICK_SECONDS = 0.2
SYNC_SOURCES_SECONDS = 2.0
SAVE_STATE_SECONDS = 30.0
RESTART_SECONDS = 5.0

# What a decision teaches the informativeness head.  "Faux" is left out on
# purpose: a false claim may be perfectly on-topic, and teaching "not
# informative" would bury the next copy of a rumour volunteers must debunk.
# A card corrected to "Faux" has its earlier lesson withdrawn (learn()).
INFORMATIVE_BY_DECISION: dict[str, bool] = {
    Decision.IRRELEVANT: False,
    Decision.RELEVANT: True,
    Decision.TO_VERIFY: True,
    Decision.VERIFIED: True,
    Decision.RUMOUR: True,
}


def card_lesson_key(card_id: int) -> str:
    """The learner's key for what a card's decision teaches (informativeness)."""
    return f"card:{card_id}"


def source_lesson_key(card_id: int) -> str:
    """The learner's key for a card's source correction."""
    return f"card:{card_id}:source"


def _pseudonym_key() -> bytes:
    return actions.handle_key()


def base_classifier() -> Any:
    """The shipped classifier, or None when the model file is not there (yet):
    the queue then runs on urgency, novelty and area alone."""
    try:
        from beffroi.watch.classify import load_default

        return load_default()
    except Exception as exc:  # a missing or unreadable model must not stop the queue
        log.warning("no classifier model (%s): priorities without classification", exc)
        return None


# -- processing ----------------------------------------------------------------------------


def expected_languages(activation: Activation) -> tuple[str, ...]:
    """The languages of the activation's keywords that the detector knows, in the order
    the coordinator wrote them; the detector's default (French, English) without any.

    The sources match posts on these keywords, so most posts are in these languages: the
    detector leans short posts towards them (CrisisLexT26's Spanish, Italian and
    Portuguese events: 67.2 % agreement with the event's language with French and English
    expected, more with the event's own; docs/decisions/pipeline.md)."""
    from beffroi.watch.pipeline.language import DEFAULT_LANGUAGES, EXPECTED_LANGUAGES

    keywords = activation.keywords if isinstance(activation.keywords, dict) else {}
    known = tuple(lang for lang in keywords if lang in DEFAULT_LANGUAGES)
    return known or EXPECTED_LANGUAGES


def pipeline_config(activation: Activation) -> PipelineConfig:
    """The pipeline settings of one activation, as the worker runs it."""
    from beffroi.watch.pipeline import PipelineConfig

    return PipelineConfig(
        area=set(activation.area) or None,
        keep_handles=activation.keep_handles,
        handle_key=_pseudonym_key(),
        expected_languages=expected_languages(activation),
    )


class ActivationProcessor:
    """The pipeline and learner of one activation, restored from its saved state."""

    def __init__(self, activation: Activation, classifier: Any, preparer: Any = None) -> None:
        from beffroi.watch.pipeline import Pipeline

        self.activation = activation
        self.base = classifier
        # A pipeline.Preparer shared by the worker's activations, or None.
        self.preparer = preparer
        # Batches handed to the preparer, oldest first: (result, post rows).
        self.in_flight: deque[tuple[Any, list[tuple[Any, ...]]]] = deque()
        self.in_flight_ids: set[int] = set()
        # The rows of the batch whose preparation just timed out, if one did.
        self.timed_out: list[tuple[Any, ...]] | None = None
        model = actions.model_state(activation)
        self.learner = None
        if classifier is not None:
            from beffroi.watch.classify import OnlineLearner

            self.learner = OnlineLearner(classifier)
            if model.learner_state:
                try:
                    restored = OnlineLearner.from_bytes(bytes(model.learner_state), classifier)
                except ValueError as exc:  # another model version: start afresh, say so
                    log.warning("activation %s: learner state dropped (%s)", activation.pk, exc)
                    model.learned_until = 0
                else:
                    if restored.n_examples > len(restored.lesson_keys()):
                        # Learnt before lessons were keyed by card: a corrected or
                        # requeued decision could not reach them. Every decision row is
                        # still there, so they are learnt again from the first, keyed.
                        log.info("activation %s: learning its decisions again", activation.pk)
                        model.learned_until, model.labels_learned = 0, 0
                    else:
                        self.learner = restored
        self.learned_until = model.learned_until
        self.labels_learned = model.labels_learned
        predictor = self.learner if self.learner is not None else classifier
        self.pipeline = None
        if model.pipeline_state:
            try:
                self.pipeline = Pipeline.loads(
                    bytes(model.pipeline_state), classifier=predictor, handle_key=_pseudonym_key()
                )
            except ValueError as exc:
                log.warning("activation %s: pipeline state dropped (%s)", activation.pk, exc)
        self.dirty = False
        if self.pipeline is None:
            self.pipeline = Pipeline(pipeline_config(activation), classifier=predictor)
        else:
            # The saved state holds the zone and languages it was saved with; the
            # activation may have changed since (« Modifier l'activation »).
            self.follow(activation)
        self.saved_at = time.monotonic()
        self._catch_up()

    def _catch_up(self) -> None:
        """Group again the posts stored after the saved state was written.

        The state is saved every ``SAVE_STATE_SECONDS``, the cards with every batch: after a
        SIGKILL, an out-of-memory kill or a power cut, the groups of the last seconds were
        in the queue but not in the state, and the next copy of such a post made a second
        card. Grouping is deterministic, so those posts, grouped again in id order, give the
        same groups back (only normalisation and grouping run: cheap)."""
        assert self.pipeline is not None
        covered = self.pipeline.covered_until
        if not covered and self.pipeline.processed:
            # A state saved before it said which posts it covers: taken as covering every
            # post processed (grouping them again would count them twice in their groups).
            self.pipeline.covered_until = (
                Post.objects.filter(activation=self.activation, processed=True)
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            ) or 0
            return
        done = 0
        while True:
            rows = list(
                Post.objects.filter(activation=self.activation, processed=True, pk__gt=covered)
                .order_by("pk")
                .values_list(*_ROW_FIELDS)[:BATCH_SIZE]
            )
            if not rows:
                break
            # A set-aside post (its analysis timed out twice) is in no group, and its text
            # may be what made the children hang: it is not normalised again here, in the
            # worker's own thread with no timeout.
            aside = set(
                Post.objects.filter(
                    activation=self.activation,
                    pk__gt=covered,
                    pk__lte=rows[-1][0],
                    card__explanation=[SET_ASIDE_LINE],
                ).values_list("pk", flat=True)
            )
            kept = [row for row in rows if row[0] not in aside]
            if kept:
                self.pipeline.regroup(_batch(kept))
            covered, done = rows[-1][0], done + len(kept)
        if done:
            log.info(
                "activation %s: %s posts stored after the saved state grouped again",
                self.activation.pk,
                done,
            )
            self.pipeline.covered_until = covered
            self.dirty = True

    def follow(self, activation: Activation) -> None:
        """Take up what a coordinator changed in the activation while it runs: its
        keywords' languages and its zone, from the next batch on. Batches already handed
        to the preparer were located in the old zone: they are dropped, their posts are
        still pending and are handed out again (nothing is lost: a post is marked
        processed only with its card; nothing is counted twice: a dropped batch never
        reached the grouping state)."""
        assert self.pipeline is not None
        self.activation = activation
        self.pipeline.expect_languages(expected_languages(activation))
        if self.pipeline.set_area(set(activation.area) or None):
            log.info("activation %s: zone now %s", activation.pk, activation.area or "none")
            self.in_flight.clear()
            self.in_flight_ids.clear()
            self.dirty = True

    def learn(self) -> int:
        """Feed the decisions taken since the last call to the learner, in the order they
        were taken. Returns the number of lessons given (withdrawals not counted).

        Lessons are keyed by card, so the learner holds what the team currently believes
        of each card: a corrected decision replaces the card's lesson; a decision that
        teaches nothing (« Faux ») or a return to the queue (a row with neither decision
        nor source, see ``actions.return_to_queue``) withdraws it. A source correction is
        a lesson of its own (``card:N:source``): a later decision leaves it standing, as
        the card keeps its corrected source."""
        if self.learner is None:
            return 0
        decisions = list(
            CardDecision.objects.filter(card__activation=self.activation, pk__gt=self.learned_until)
            .select_related("card")
            .order_by("pk")[:500]
        )
        kinds = self._author_kinds({d.card for d in decisions})
        taught = 0
        for d in decisions:
            if d.decision and d.card.state == CardState.QUEUED:
                # The card is back in the queue now: its verdict is withdrawn, by a later
                # row of its own or, for a card put back before requeues wrote one, by
                # nothing else (a state learnt again from the first decision).
                self.learner.forget(card_lesson_key(d.card_id))
                continue
            if d.decision:
                key, source = card_lesson_key(d.card_id), None
                informative = INFORMATIVE_BY_DECISION.get(d.decision)
            elif d.source:
                key, informative, source = source_lesson_key(d.card_id), None, d.source
            else:  # back in the queue: the team no longer holds the verdict
                self.learner.forget(card_lesson_key(d.card_id))
                continue
            if informative is None and source is None:
                self.learner.forget(key)
                continue
            try:
                self.learner.learn(
                    d.card.text,
                    informative=informative,
                    source=source,
                    author_kinds=kinds.get(d.card_id, ()),
                    key=key,
                )
            except ValueError as exc:  # a label this model does not know: skip, say so
                log.warning(
                    "activation %s: decision %s not learned (%s)", self.activation.pk, d.pk, exc
                )
                continue
            taught += 1
        if decisions:
            self.learned_until = decisions[-1].pk
            self.labels_learned += taught
            actions.store_model_state(
                self.activation,
                learner_state=self.learner.to_bytes(),
                learned_until=self.learned_until,
                labels_learned=self.labels_learned,
            )
        return taught

    @staticmethod
    def _author_kinds(cards: set[Card]) -> dict[int, tuple[str, ...]]:
        """The author kinds of each card's own post (the one its text comes from), so a
        lesson sees the post as the classifier did."""
        own = {(c.source_id, c.external_id): c.pk for c in cards}
        found: dict[int, tuple[str, ...]] = {}
        rows = Post.objects.filter(
            card__in=[c.pk for c in cards], external_id__in={c.external_id for c in cards}
        ).exclude(author_kinds="")  # not every copy of a group of thousands
        for source_id, external_id, kinds in rows.values_list(
            "source_id", "external_id", "author_kinds"
        ):
            card_id = own.get((source_id, external_id))
            if card_id is not None:
                found[card_id] = tuple(kinds.split(","))
        return found

    def _pending(self, limit: int) -> list[tuple[Any, ...]]:
        """The oldest pending posts not already handed to the preparer.

        Not simply "ids above the last one handed out": on PostgreSQL a
        transaction that took lower ids may commit after a later one, and its
        posts must still be seen. The in-flight ids are few (a few batches)."""
        pending = Post.objects.filter(activation=self.activation, processed=False)
        top = max(self.in_flight_ids, default=0)
        if top and pending.filter(pk__lte=top).count() == len(self.in_flight_ids):
            # The usual case: every pending post up to the last one handed out is
            # in flight, so what is new lies above it (one indexed range).
            pending = pending.filter(pk__gt=top)
        elif self.in_flight_ids:
            ids = [
                pk
                for pk in pending.order_by("pk").values_list("pk", flat=True)[
                    : limit + len(self.in_flight_ids)
                ]
                if pk not in self.in_flight_ids
            ][:limit]
            if not ids:
                return []
            pending = Post.objects.filter(pk__in=ids)
        return list(pending.order_by("pk").values_list(*_ROW_FIELDS)[:limit])

    def process(self, limit: int = BATCH_SIZE) -> int:
        """Enrich the oldest pending posts and put them in the queue.

        With a preparer, up to one batch more than it has children is in
        flight: this call hands new batches out, then finishes and stores the
        oldest one.
        Returns the number of posts stored (0: nothing was pending)."""
        assert self.pipeline is not None
        if self.preparer is None:
            rows = self._pending(limit)
            if not rows:
                return 0
            enriched = self.pipeline.process(_batch(rows))
        else:
            # One batch more than children: they start the next one while this
            # thread finishes and stores the oldest.
            while len(self.in_flight) <= self.preparer.workers:
                todo = self._pending(limit)
                if not todo:
                    break
                result = self.preparer.submit(_batch(todo), self.pipeline.config)
                self.in_flight.append((result, todo))
                self.in_flight_ids.update(row[0] for row in todo)
            if not self.in_flight:
                return 0
            result, rows = self.in_flight[0]
            try:
                prepared = result.get(timeout=ALONE_TIMEOUT if len(rows) == 1 else PREPARE_TIMEOUT)
            except multiprocessing.TimeoutError:
                self.timed_out = rows  # the worker decides: restart, split or set aside
                raise
            self.in_flight.popleft()
            self.in_flight_ids.difference_update(row[0] for row in rows)
            enriched = self.pipeline.finish(prepared)
        actions.store_cards(
            self.activation,
            [_update(e, row) for e, row in zip(enriched, rows, strict=True)],
            # A zone changed after this batch was located is applied by the action.
            enriched_area=sorted(self.pipeline.config.area or ()),
        )
        self.pipeline.covered_until = max(self.pipeline.covered_until, rows[-1][0])
        self.dirty = True
        return len(rows)

    def save(self, force: bool = False) -> None:
        if not self.dirty or self.pipeline is None:
            return
        if not force and time.monotonic() - self.saved_at < SAVE_STATE_SECONDS:
            return
        actions.store_model_state(self.activation, pipeline_state=self.pipeline.dumps())
        self.dirty, self.saved_at = False, time.monotonic()


# What the worker reads of a post (``_batch`` and ``_update`` unpack it in this order).
_ROW_FIELDS = (
    "pk", "text", "created_at", "language", "latitude", "longitude", "repost_of",
    "source__kind", "source__declared_source", "author_kinds",
    "source_id", "external_id", "url",
)  # fmt: skip


def _batch(rows: list[tuple[Any, ...]]) -> list[Any]:
    from beffroi.watch.pipeline import PostIn

    return [
        PostIn(
            id=str(pk),
            text=text,
            created_at=created_at,
            lang=language or None,
            coordinates=(lat, lon) if lat is not None and lon is not None else None,
            source_kind=kind,
            repost_of=repost_of or None,
            declared_source=declared or None,
            author_kinds=tuple(kinds.split(",")) if kinds else (),
        )
        for pk, text, created_at, language, lat, lon, repost_of, kind, declared, kinds, *_rest in (
            rows
        )
    ]


def _update(e: Any, row: tuple[Any, ...]) -> actions.CardUpdate:
    pk, _text, created_at, *_middle, source_id, external_id, url = row
    if int(e.post.id) != pk:
        raise RuntimeError(f"pipeline output out of order: post {e.post.id}, expected {pk}")
    pred = e.prediction
    communes = [
        {"code": m.code, "name": m.name, "dep": m.dep, "evidence": m.evidence} for m in e.communes
    ]
    return actions.CardUpdate(
        post_id=int(e.post.id),
        group_id=e.group_id,
        is_new_group=e.is_new_group,
        group_size=e.group_size,
        text=e.text or e.post.text,
        lang=e.lang if e.lang != "und" else "",
        priority=float(e.priority),
        explanation=list(e.explanation),
        urgency_cues=list(e.urgency_cues),
        communes=communes,
        in_area=e.in_area,
        informative_p=float(pred.informative_p) if pred is not None else None,
        info_type=pred.info_type if pred is not None else "",
        source_type=pred.source if pred is not None else "",
        source_id=source_id,
        external_id=external_id,
        url=url,
        posted_at=created_at,
        # declare_sources replaced the classifier's reading only where it ran.
        declared_source=(e.post.declared_source or "") if pred is not None else "",
    )


# The explanation of a card made for a post set aside (French, as every explanation line;
# the pages translate it).
SET_ASIDE_LINE = (
    "non analysé : le message a dépassé deux fois le délai d'analyse ; lisez-le vous-même"
)


def _set_aside(row: tuple[Any, ...]) -> actions.CardUpdate:
    """A card for a post whose analysis timed out twice: its text as the pipeline would
    have read it, a middle priority so it is seen, and a line saying why."""
    from beffroi.watch.pipeline.model import cap_text

    pk, text, created_at, *_middle, source_id, external_id, url = row
    return actions.CardUpdate(
        post_id=pk,
        group_id=f"g:{pk}",
        is_new_group=True,
        group_size=1,
        text=cap_text(text or ""),
        lang="",
        priority=0.5,
        explanation=[SET_ASIDE_LINE],
        urgency_cues=[],
        communes=[],
        in_area=None,
        informative_p=None,
        info_type="",
        source_type="",
        source_id=source_id,
        external_id=external_id,
        url=url,
        posted_at=created_at,
    )


# -- sources ---------------------------------------------------------------------------------


@dataclass
class _Running:
    thread: threading.Thread
    stop: threading.Event
    fingerprint: str
    started: float = field(default_factory=time.monotonic)


@dataclass
class Supervisor:
    """Starts, stops and restarts source threads to match the database."""

    stop: threading.Event
    source_options: dict[str, Any] = field(default_factory=dict)
    runner_options: dict[str, Any] = field(default_factory=dict)
    running: dict[int, _Running] = field(default_factory=dict)
    # Threads told to stop (source changed or removed) that may still be ending.
    retired: list[threading.Thread] = field(default_factory=list)
    # Whether this process still holds the watch lease (None: no lease, as in tests and
    # tools that run sources alone). Asked before each batch is committed.
    lease_ok: Callable[[], bool] | None = None

    def wanted(self) -> list[Source]:
        now = timezone.now()
        return list(
            Source.objects.filter(enabled=True, activation__starts_at__lte=now)
            .filter(Q(activation__ends_at__isnull=True) | Q(activation__ends_at__gt=now))
            .select_related("activation")
        )

    def sync(self) -> None:
        wanted = {s.pk: s for s in self.wanted()}
        for pk in list(self.running):
            if pk not in wanted or self.running[pk].fingerprint != _fingerprint(wanted[pk]):
                old = self.running.pop(pk)
                old.stop.set()
                self.retired.append(old.thread)
        self.retired = [t for t in self.retired if t.is_alive()]
        for pk, source in wanted.items():
            current = self.running.get(pk)
            if current is not None and current.thread.is_alive():
                continue
            # A finished import, or a failure that retrying cannot fix (bad
            # configuration), waits until an organiser changes the source.
            # Anything else that ended (a crash outside the runner) restarts.
            if source.status in ("done", "failed"):
                continue
            if current is not None and time.monotonic() - current.started < RESTART_SECONDS:
                continue
            self.running[pk] = self.start(source)

    def start(self, source: Source) -> _Running:
        stop = threading.Event()
        thread = threading.Thread(
            target=_run_one,
            args=(
                source.pk,
                stop,
                self.stop,
                self.source_options,
                self.runner_options,
                self.lease_ok,
            ),
            name=f"watch-source-{source.pk}",
            daemon=True,
        )
        thread.start()
        return _Running(thread, stop, _fingerprint(source))

    def shutdown(self, timeout: float = 5.0) -> None:
        for r in self.running.values():
            r.stop.set()
        deadline = time.monotonic() + timeout
        for r in self.running.values():
            r.thread.join(max(0.0, deadline - time.monotonic()))


def _fingerprint(source: Source) -> str:
    payload = json.dumps(
        [source.kind, source.config, source.activation.keep_handles], sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _run_one(
    source_id: int,
    stop: threading.Event,
    global_stop: threading.Event,
    source_options: dict[str, Any],
    runner_options: dict[str, Any],
    lease_ok: Callable[[], bool] | None = None,
) -> None:
    from beffroi.watch.sources import build_source, handle_pseudonymiser, run_source
    from beffroi.watch.sources.runner import SourceStatus, describe_error

    both = _Either(stop, global_stop)
    try:
        source = Source.objects.select_related("activation").get(pk=source_id)

        def status(s: SourceStatus) -> None:
            if lease_ok is not None and not lease_ok():
                return  # the worker that holds the lease now says how this source is
            _report(
                source_id,
                s.state,
                s.message,
                s.at,
                s.retry_in,
                s.skipped,
                s.last_skip_reason,
                s.unknown_deletions,
            )

        try:
            runnable = build_source(
                source.kind,
                str(source.pk),
                source.config,
                pseudonymise=handle_pseudonymiser(
                    _pseudonym_key(), keep_handles=source.activation.keep_handles
                ),
                **source_options.get(source.kind, {}),
            )
        except Exception as exc:  # a bad config stops this source only
            _report(source_id, "failed", describe_error(exc), timezone.now())
            return
        options = dict(runner_options)
        if callable(options.get("backoff")):
            options["backoff"] = options["backoff"]()  # one per source: it counts attempts
        run_source(
            runnable,
            source.checkpoint or None,
            _sink(source_id, lease_ok),
            stop_event=both,
            on_status=status,
            **options,
        )
    except Exception as exc:  # never let a source take the worker down
        log.exception("source %s crashed", source_id)
        _report(
            source_id,
            "error",
            f"Erreur interne : {exc}. Nouvel essai dans {RESTART_SECONDS:.0f} s.",
            timezone.now(),
            retry_in=RESTART_SECONDS,
        )
    finally:
        connection.close()


class LeaseLost(RuntimeError):
    """A batch refused because this worker no longer holds the watch lease."""


def _sink(source_id: int, lease_ok: Callable[[], bool] | None) -> Callable[..., Any]:
    """The runner's sink: posts and authors' edits and deletions, with the checkpoint.

    With a lease, a batch is committed only while this worker holds it: a worker that
    lost it (stopped past the lease, wedged, out-voted) would otherwise write posts and
    move a checkpoint back under the worker that took over. The refusal is an error for
    the runner: not delivered, its checkpoint unchanged."""

    def sink(items: list[Any], checkpoint: dict[str, Any]) -> Any:
        if lease_ok is None:
            return actions.receive_items(source_id, items, checkpoint)
        with transaction.atomic():
            received = actions.receive_items(source_id, items, checkpoint)
            # Asked last, inside the transaction: a lease lost while the batch was being
            # written takes the batch back with it, checkpoint included.
            if not lease_ok():
                raise LeaseLost("Ce worker n'a plus la main sur la veille : lot non enregistré.")
            return received

    return sink


def _report(
    source_id: int,
    state: str,
    message: str,
    at: datetime,
    retry_in: float | None = None,
    skipped: int | None = None,
    last_skip_reason: str | None = None,
    unknown_deletions: int | None = None,
) -> None:
    try:
        actions.record_source_status(
            source_id,
            state=state,
            message=message,
            at=at,
            retry_in=retry_in,
            skipped=skipped,
            last_skip_reason=last_skip_reason,
            unknown_deletions=unknown_deletions,
        )
    except Exception:  # the status is for humans; losing one must not stop the source
        log.exception("could not record the status of source %s", source_id)


class _Either(threading.Event):
    """Set when either the source's own stop or the worker's stop is set."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        super().__init__()
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = 0.25 if end is None else min(0.25, end - time.monotonic())
            if left <= 0:
                break
            self.a.wait(left)
        return self.is_set()


# -- the watch lease -------------------------------------------------------------------------

# One process runs the watch loop (sources and enrichment) at a time: it holds this entry
# of the shared database cache, renewed every LEASE_RENEW_SECONDS, with an expiry of
# LEASE_SECONDS so that a killed holder's lease lapses on its own. Other workers wait, say
# so in their log and in the cache (``watch_workers``), and take over when it lapses.
LEASE_KEY = "watch-lease"
STANDBY_KEY = "watch-standby:"
LEASE_SECONDS = 60.0
LEASE_RENEW_SECONDS = 15.0
# The renewer renews only while the loop moves: once the loop's last tick is older than
# this, the loop is taken to be wedged (a database call or a child's answer that never
# comes) and the lease is left to lapse so the standby worker takes over. A step may
# wait PREPARE_TIMEOUT for one activation's batch; twice that and a minute is a bound no
# working loop reaches (docs/decisions/worker-liveness.md).
WEDGED_SECONDS = 2 * PREPARE_TIMEOUT + 60.0


def worker_name() -> str:
    """How a worker is named to people: its host and process id."""
    import os
    import socket

    return f"{socket.gethostname()} (pid {os.getpid()})"


class Lease:
    """This process's claim on the watch loop (see ``LEASE_KEY``)."""

    def __init__(self, name: str | None = None) -> None:
        from django.utils.crypto import get_random_string

        self.name = name or worker_name()
        # Unique even for two workers of one name (a pid reused in another container).
        self.id = get_random_string(12)
        self.token = f"{self.id} {self.name}"

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or its holder let it lapse), or renew it."""
        from django.core.cache import cache

        if self._add():
            cache.delete(STANDBY_KEY + self.id)
            return True
        return self.renew()

    def _add(self) -> bool:
        """The cache's ``add``, exclusive even over a lapsed entry.

        Django's database cache replaces an expired row with a plain SELECT then UPDATE:
        on PostgreSQL two workers taking over a killed worker's lapsed lease both read it
        expired and both write, and both believe they hold it. Locking the row first makes
        the second wait for the first's commit, then see a live lease (its INSERT then
        meets the primary key: refused). SQLite needs no lock: its IMMEDIATE transactions
        already serialise the writers."""
        from django.core.cache import cache
        from django.db import connections, router, transaction

        store = cast(Any, cache)
        db = router.db_for_write(store.cache_model_class)
        conn = connections[db]
        if conn.vendor != "postgresql":
            return bool(cache.add(LEASE_KEY, self.token, LEASE_SECONDS))
        quote = conn.ops.quote_name
        with transaction.atomic(using=db), conn.cursor() as cursor:
            # The table is the settings' cache table, quoted; the key is a parameter.
            cursor.execute(
                f"SELECT 1 FROM {quote(store._table)} WHERE cache_key = %s FOR UPDATE",  # noqa: S608
                [cache.make_and_validate_key(LEASE_KEY)],
            )
            return bool(cache.add(LEASE_KEY, self.token, LEASE_SECONDS))

    def renew(self) -> bool:
        """Extend the lease; False if another worker holds it (this one lost it)."""
        from django.core.cache import cache

        if not self.holds():
            return False
        return bool(cache.touch(LEASE_KEY, LEASE_SECONDS))

    def holds(self) -> bool:
        """Whether the live lease is this worker's."""
        from django.core.cache import cache

        return bool(cache.get(LEASE_KEY) == self.token)

    def release(self) -> None:
        from django.core.cache import cache

        if cache.get(LEASE_KEY) == self.token:
            cache.delete(LEASE_KEY)
        cache.delete(STANDBY_KEY + self.id)

    def holder(self) -> str | None:
        """The name of the worker that holds the lease, None if nobody does."""
        from django.core.cache import cache

        token = cache.get(LEASE_KEY)
        return token.split(" ", 1)[-1] if isinstance(token, str) else None

    def standby(self) -> None:
        """Say in the cache that this worker waits for the lease (``watch_workers``)."""
        from django.core.cache import cache

        cache.set(STANDBY_KEY + self.id, self.name, LEASE_SECONDS)


def watch_workers() -> dict[str, Any]:
    """Who runs the watch loop: ``{"running": name or None}``; the workers waiting for it
    are in the cache under ``STANDBY_KEY`` (their count is not needed by any page yet)."""
    return {"running": Lease("").holder()}


# -- main loop -------------------------------------------------------------------------------


class Worker:
    """The watch room's loop; ``run()`` until ``stop`` is set, then ``join_sources``.

    ``processes``: children for the pipeline's stateless steps (default: the
    ``BEFFROI_WATCH_PIPELINE_PROCESSES`` setting, else ``PIPELINE_PROCESSES``;
    0 runs the whole pipeline in this process)."""

    def __init__(
        self, stop: threading.Event, *, processes: int | None = None, **supervisor_options: Any
    ) -> None:
        self.stop = stop
        self.supervisor = Supervisor(stop, **supervisor_options)
        self.classifier = base_classifier()
        if processes is None:
            processes = int(
                getattr(settings, "BEFFROI_WATCH_PIPELINE_PROCESSES", PIPELINE_PROCESSES)
            )
        self.processes = processes
        self.preparer: Any = None
        self.stuck = 0  # times the children were found stuck
        self.processors: dict[int, ActivationProcessor] = {}
        self.errors: dict[int, str] = {}
        self.lease = Lease()
        # Whether the children ever prepared a batch: a timeout is then the batch's fault.
        self.children_worked = False
        # Timeouts per batch (its first post id), and per activation the last post id of a
        # batch whose posts are tried one by one.
        self.timeouts: dict[int, int] = {}
        self.alone: dict[int, int] = {}
        self.wedged = False
        # When the loop last showed it moves (monotonic): the lease's renewer stops renewing
        # once it is older than WEDGED_SECONDS, so a wedged loop does not keep the standby
        # worker out for ever.
        self.tick = time.monotonic()

    def _preparer(self) -> Any:
        # Started on the first batch: a worker with nothing to enrich starts no process.
        if self.preparer is None and self.processes > 0:
            from beffroi.watch.pipeline import Preparer

            self.preparer = Preparer(self.classifier, workers=self.processes)
        return self.preparer

    def _close_preparer(self) -> None:
        if self.preparer is not None:
            self.preparer.close()
            self.preparer = None
        for proc in self.processors.values():
            proc.in_flight.clear()
            proc.in_flight_ids.clear()

    def processor(self, activation: Activation) -> ActivationProcessor:
        proc = self.processors.get(activation.pk)
        if proc is None:
            proc = ActivationProcessor(activation, self.classifier, self._preparer())
            self.processors[activation.pk] = proc
        elif proc.pipeline is not None:
            # A coordinator may change the keywords and the zone while the activation
            # runs: they apply from the next batch on, without a restart.
            proc.follow(activation)
        return proc

    def join_sources(self, timeout: float = 15.0) -> bool:
        """Wait for the source threads after ``run()`` returned; True if none is left.

        ``run()`` itself waits a few seconds only (a source blocked in a network
        call ends at its timeout); whoever owns the worker's lifetime (a test,
        a command) can wait for the rest here."""
        threads = [r.thread for r in self.supervisor.running.values()]
        threads += self.supervisor.retired
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def step(self) -> int:
        """Learn, then process one batch per activation with pending posts."""
        done = 0
        # One indexed look-up per activation (activation, processed, id): a
        # "processed = false" filter over the whole table would read every post
        # ever received, five times a second.
        pending = [
            a
            for a in Activation.objects.all()
            if Post.objects.filter(activation=a, processed=False).exists()
        ]
        learning = Activation.objects.filter(
            pk__in=CardDecision.objects.values("card__activation_id")
        )
        for activation in {a.pk: a for a in [*pending, *learning]}.values():
            # Each activation may wait PREPARE_TIMEOUT for its batch: the loop still moves.
            self.tick = time.monotonic()
            proc = None
            try:
                proc = self.processor(activation)
                proc.learn()
                stored = proc.process(self._limit(activation))
                if stored and self.processes:
                    # The children work: a later timeout is the batch's, not theirs.
                    self.children_worked, self.stuck = True, 0
                done += stored
                proc.save()
                self.errors.pop(activation.pk, None)
            except Exception as exc:  # one activation's bad batch must not stop the others
                message = f"{type(exc).__name__}: {exc}"
                if self.errors.get(activation.pk) != message:
                    log.exception("activation %s: processing failed", activation.pk)
                self.errors[activation.pk] = message
                if isinstance(exc, multiprocessing.TimeoutError):
                    # Stuck children: start afresh; their batches are still pending.
                    self._close_preparer()
                    self.processors.clear()
                    rows = proc.timed_out if proc is not None else None
                    if rows and self._batch_at_fault(activation, rows):
                        continue
                    self.stuck += 1
                    if self.stuck >= MAX_STUCK and self.processes:
                        # Children that cannot work (a model they fail to load…)
                        # must not stop the queue: slower, in this thread.
                        log.error(
                            "pipeline processes stuck %s times: enriching in the worker's "
                            "thread from now on",
                            self.stuck,
                        )
                        self.processes = 0
                self.processors.pop(activation.pk, None)  # rebuilt from the saved state
        return done

    def wait_for_lease(self) -> bool:
        """Wait until this worker holds the watch lease (True) or is stopped (False)."""
        said = None
        while not self.stop.is_set():
            try:
                if self.lease.acquire():
                    if said is not None:
                        log.warning("watch loop taken over by this worker (%s)", self.lease.name)
                    return True
                holder = self.lease.holder()
                if holder != said:
                    log.warning(
                        "watch loop already run by worker %s: this one (%s) waits and takes "
                        "over if that one stops",
                        holder,
                        self.lease.name,
                    )
                    said = holder
                self.lease.standby()
            except Exception:  # the database is away: try again
                log.warning("could not ask for the watch lease", exc_info=True)
                close_old_connections()
            self.stop.wait(LEASE_RENEW_SECONDS)
        return False

    def _limit(self, activation: Activation) -> int:
        """The batch size for ``activation``: one post at a time while the posts of a batch
        that timed out twice are tried alone, else ``BATCH_SIZE``."""
        until = self.alone.get(activation.pk)
        if until is None:
            return BATCH_SIZE
        oldest = (
            Post.objects.filter(activation=activation, processed=False)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if oldest is None or oldest > until:
            del self.alone[activation.pk]
            return BATCH_SIZE
        return 1

    def _batch_at_fault(self, activation: Activation, rows: list[tuple[Any, ...]]) -> bool:
        """After a timeout: True when the batch, not the children, is to blame (children
        that have worked before). A batch of several posts is then tried one by one at
        once (retrying it whole would cost another ``PREPARE_TIMEOUT`` for nothing), and a
        post that times out twice alone is set aside; the others go on. False: the
        children are counted stuck, as before."""
        if not self.children_worked:
            return False
        key = rows[0][0]
        if len(rows) > 1:
            self.stuck = 0  # the batch is to blame: the timeouts so far were not stuck children
            log.warning(
                "activation %s: batch of posts %s to %s timed out: its posts are tried one by one",
                activation.pk,
                key,
                rows[-1][0],
            )
            self.alone[activation.pk] = max(self.alone.get(activation.pk, 0), rows[-1][0])
            return True
        self.timeouts[key] = self.timeouts.get(key, 0) + 1
        if self.timeouts[key] < 2:
            # A post's first timeout alone is that post's: once more alone, with fresh
            # children, before it is set aside.
            self.alone[activation.pk] = max(self.alone.get(activation.pk, 0), key)
            return True
        del self.timeouts[key]
        log.error(
            "activation %s: post %s timed out twice alone: set aside (a card says it was "
            "not analysed)",
            activation.pk,
            key,
        )
        actions.store_cards(activation, [_set_aside(rows[0])])
        return True

    def run(self) -> None:
        """Wait for the watch lease, then run the loop while holding it."""
        try:
            while self.wait_for_lease():
                self._run_holding()
        finally:
            try:
                self.lease.release()
            except Exception:
                log.warning("could not release the watch lease", exc_info=True)
            connection.close()

    def _renew(self, lost: threading.Event, done: threading.Event) -> None:
        """Renew the lease until ``done``; set ``lost`` if another worker holds it, or if
        the loop has not moved for ``WEDGED_SECONDS`` (the lease is then left to lapse).

        A thread of its own: one batch may take longer than the lease lasts."""
        try:
            while not done.wait(LEASE_RENEW_SECONDS):
                still = time.monotonic() - self.tick
                if still > WEDGED_SECONDS:
                    self.wedged = True
                    log.error(
                        "the watch loop has not moved for %.0f s (stuck in a database call or "
                        "waiting for a pipeline process): this worker stops renewing the watch "
                        "lease so that a standby worker takes over within %.0f s; its sources "
                        "no longer store anything",
                        still,
                        LEASE_SECONDS,
                    )
                    lost.set()
                    return
                try:
                    held = self.lease.renew()
                except Exception:  # the database is away: the next renewal will tell
                    log.warning("could not renew the watch lease", exc_info=True)
                    close_old_connections()
                    continue
                if not held:
                    lost.set()
                    return
        finally:
            connection.close()

    def _run_holding(self) -> None:
        last_sync = 0.0
        lost, ended = threading.Event(), threading.Event()
        self.tick, self.wedged = time.monotonic(), False
        self.supervisor.lease_ok = lambda: not lost.is_set() and self.lease.holds()
        renewer = threading.Thread(
            target=self._renew, args=(lost, ended), name="watch-lease", daemon=True
        )
        renewer.start()
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                idle, self.tick = now - self.tick, now
                if lost.is_set() or not renewer.is_alive():
                    if self.wedged:
                        log.error(
                            "the watch loop moves again after %.0f s stuck: this worker stops "
                            "its sources and asks for the lease again",
                            idle,
                        )
                    elif lost.is_set():
                        log.error(
                            "watch lease lost to worker %s: this worker stops its sources "
                            "and waits",
                            self.lease.holder(),
                        )
                    else:
                        # Nobody renews: the lease lapses within LEASE_SECONDS and another
                        # worker may take it while this one still runs its sources.
                        log.error(
                            "the watch lease's renewal thread died: this worker stops its "
                            "sources and asks for the lease again"
                        )
                    self.processors.clear()  # another worker's state may be the newer one
                    return
                if time.monotonic() - last_sync >= SYNC_SOURCES_SECONDS:
                    try:
                        self.supervisor.sync()
                    except Exception:
                        log.exception("could not synchronise the sources")
                    last_sync = time.monotonic()
                try:
                    done = self.step()
                except Exception:
                    log.exception("watch worker step failed")
                    done = 0
                if not done:
                    self.stop.wait(TICK_SECONDS)
                close_old_connections()
        finally:
            self.supervisor.shutdown()
            try:
                self._close_preparer()
            except Exception:
                log.exception("could not stop the pipeline processes")
            for proc in self.processors.values():
                try:
                    proc.save(force=True)
                except Exception:
                    log.exception("could not save the state of activation %s", proc.activation.pk)
            self.processors.clear()
            ended.set()
            renewer.join(5)


def run_forever(stop: threading.Event) -> None:
    """Run the live sources and the enrichment of every open activation until ``stop``."""
    Worker(stop).run()
