"""The enrichment pipeline: pure steps over batches, with incremental grouping state."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import multiprocessing
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.pool import AsyncResult
from typing import Any

import numpy as np

from beffroi.watch.pipeline.dedup import DedupIndex, PreparedKeys
from beffroi.watch.pipeline.language import (
    DEFAULT_LANGUAGES,
    EXPECTED_LANGUAGES,
    LanguageDetector,
)
from beffroi.watch.pipeline.model import Classifier, Enriched, PostIn, start
from beffroi.watch.pipeline.normalise import Normaliser
from beffroi.watch.pipeline.priority import PriorityScorer, urgency
from beffroi.watch.pipeline.steps import (
    ClassifierStep,
    Geocoder,
    declare_sources,
    split_classifier,
)

Step = Callable[[list[Enriched]], list[Enriched]]
STATE_VERSION = 1


@dataclass
class PipelineConfig:
    area: set[str] | None = None  # INSEE commune codes and/or département codes
    keep_handles: bool = False
    handle_key: bytes | None = None  # HMAC key for handle pseudonyms (not serialised)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    # The languages posts are expected in, absent other evidence (the activation's keyword
    # languages): the detector leans short posts towards them (see language.py).
    expected_languages: tuple[str, ...] = EXPECTED_LANGUAGES
    near_threshold: float = 0.6
    num_perm: int = 64
    max_groups: int = 200_000
    min_geo_confidence: float = 0.35
    reuse_cache: int = 50_000  # groups whose enrichment exact copies reuse


class Pipeline:
    """normalise → group → language → geocode → classify → priority.

    `process(batch)` returns one Enriched per post, in input order. The grouping index
    (which groups exist, their sizes) lives across calls; `dumps()`/`loads()` save and
    restore it so a restarted worker keeps counting into the same cards.
    """

    def __init__(
        self, config: PipelineConfig | None = None, *, classifier: Classifier | None = None
    ) -> None:
        self.config = config or PipelineConfig()
        c = self.config
        self.classifier = classifier
        self.dedup = DedupIndex(
            threshold=c.near_threshold, num_perm=c.num_perm, max_groups=c.max_groups
        )
        self._build_steps()
        self.processed = 0
        # The id of the last post the grouping state covers, as its caller numbers posts
        # (the worker: the highest post id stored); saved with the state, so a restart
        # knows which posts to group again (`regroup`).
        self.covered_until = 0
        self.timings: dict[str, float] = {}
        self.cpu_timings: dict[str, float] = {}

    def _build_steps(self) -> None:
        c = self.config
        self.normaliser = Normaliser(keep_handles=c.keep_handles, handle_key=c.handle_key)
        self._language: LanguageDetector | None = None
        self.geocoder = Geocoder(c.area, min_confidence=c.min_geo_confidence)
        self.classify_step = ClassifierStep(self.classifier) if self.classifier else None
        self.scorer = PriorityScorer()
        self._reuse: OrderedDict[str, Enriched] = OrderedDict()
        self._split = split_classifier(self.classifier) if self.classifier else None
        self._features: Any = None

    def language(self) -> LanguageDetector:
        # Loaded on first use: when a Preparer's children identify languages, this
        # process never needs the model (a second or so to load, and its memory).
        if self._language is None:
            c = self.config
            self._language = LanguageDetector(c.languages, expected=c.expected_languages)
        return self._language

    def expect_languages(self, expected: tuple[str, ...]) -> None:
        """Lean the detector towards ``expected`` from the next batch on (a restored state
        may have been saved with other expected languages, or before they were saved)."""
        if tuple(expected) != self.config.expected_languages:
            self.config.expected_languages = tuple(expected)
            self._language = None

    def set_area(self, area: set[str] | None) -> bool:
        """Locate the next batches in ``area`` (the activation's zone changed, or a restored
        state was saved with another zone). Returns whether it changed. Copies of a group
        seen before took its places and "inside the zone" from the group's first post:
        they are located again, from the next batch on."""
        new = {a.strip().upper() for a in area or () if a.strip()} or None
        old = {a.strip().upper() for a in self.config.area or () if a.strip()} or None
        if new == old:
            return False
        # A new config rather than a change in place: a Preparer may still be pickling
        # the old one for a batch handed out earlier.
        self.config = dataclasses.replace(self.config, area=new)
        self.geocoder = Geocoder(new, min_confidence=self.config.min_geo_confidence)
        self._reuse.clear()
        return True

    def _timed(self, name: str, step: Step, items: list[Enriched]) -> list[Enriched]:
        t0, c0 = time.perf_counter(), time.process_time()
        out = step(items) if items else items
        self._account(name, t0, c0)
        return out

    def _account(self, name: str, t0: float, c0: float) -> None:
        # Wall time for latency, CPU time for throughput on a machine shared with others.
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        self.cpu_timings[name] = self.cpu_timings.get(name, 0.0) + time.process_time() - c0

    def process(self, batch: list[PostIn]) -> list[Enriched]:
        items = start(batch)
        self._timed("normalise", self.normaliser, items)
        return self._after_normalise(items, prepared=None)

    def finish(self, prepared: Prepared) -> list[Enriched]:
        """The stateful rest of `process` over a batch a `Preparer` prepared.

        Batches must be finished in the order they arrived (grouping is sequential);
        the result is the same as `process` on the same batch."""
        self._features = prepared.features
        try:
            return self._after_normalise(prepared.items, prepared=prepared.keys)
        finally:
            self._features = None

    def process_stream(
        self,
        batches: Iterable[list[PostIn]],
        *,
        workers: int = 2,
        start_method: str | None = None,
    ) -> Iterator[list[Enriched]]:
        """`process` over a stream of batches, with `workers` child processes, in order.

        The children do the stateless work — normalisation, language, geocoding and, when
        the classifier exposes it (see `split_classifier`), featurisation for the
        classifier — while this process groups, finishes classification (the online part)
        and scores. The grouping state and the classifier stay here, so the results are the
        same as with `process`, batch after batch. On two cores, `workers=2`: the parent's
        share is small. `workers=0` runs everything here.
        """
        if workers <= 0:
            for batch in batches:
                yield self.process(batch)
            return
        if (
            start_method is None
            and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1
        ):
            # A plain stream (bench, command line) has no other threads: forking is safe
            # and lets children use a classifier defined anywhere, even in a script.
            # With other threads (a server, a test run) a lock one of them holds would
            # be copied held into the child, which then waits forever.
            start_method = "fork"
        with Preparer(self.classifier, workers=workers, start_method=start_method) as preparer:
            # Keep every child busy: one batch in flight per child, finished in order.
            pending: deque[PreparedResult] = deque()
            for batch in batches:
                pending.append(preparer.submit(batch, self.config))
                if len(pending) > workers:
                    yield self.finish(pending.popleft().get(STREAM_TIMEOUT))
            while pending:
                yield self.finish(pending.popleft().get(STREAM_TIMEOUT))

    def _after_normalise(
        self, items: list[Enriched], *, prepared: PreparedKeys | None
    ) -> list[Enriched]:
        """Group, then enrich what is new, reuse what is a copy, then score.

        `prepared`: language, geocoding and the grouping keys were already computed (by a
        child process).
        """
        self._timed("group", lambda todo: self.dedup.assign(todo, prepared), items)
        # Exact copies (retweets) share their group's language, places and prediction:
        # only posts with new text go through the costly steps.
        fresh: list[Enriched] = []
        copies: list[Enriched] = []
        first_in_batch: dict[str, Enriched] = {}
        for item in items:
            known = item.duplicate == "exact" and (
                item.group_id in self._reuse or item.group_id in first_in_batch
            )
            if known:
                copies.append(item)
            else:
                fresh.append(item)
                first_in_batch.setdefault(item.group_id, item)
        if prepared is None:
            self._timed("language", self.language(), fresh)
            located = [c for c in copies if c.post.coordinates is not None]
            self._timed("geocode", self.geocoder, fresh + located)
        if self.classify_step is not None and fresh:
            t0, c0 = time.perf_counter(), time.process_time()
            features, split = self._features, self._split
            if features is not None and split is not None:
                matrix, row_of = features
                rows = {id(it): row_of[i] for i, it in enumerate(items)}
                finish = split[1]

                def from_features(todo: list[Enriched]) -> list[Any]:
                    return finish(matrix[[rows[id(it)] for it in todo]])

                self.classify_step(fresh, from_features)
            else:
                self.classify_step(fresh)
            self._account("classify", t0, c0)
        for item in fresh:
            if item.group_id not in self._reuse:
                # A copy: a declared sender (below) is the post's own, not its group's.
                self._reuse[item.group_id] = copy.copy(item)
        t0, c0 = time.perf_counter(), time.process_time()
        for item in copies:
            source = self._reuse.get(item.group_id) or first_in_batch[item.group_id]
            item.prediction = source.prediction
            if prepared is None:
                item.lang, item.lang_p, item.lang_from = (
                    source.lang,
                    source.lang_p,
                    source.lang_from,
                )
                if item.post.coordinates is None:
                    item.communes, item.in_area = source.communes, source.in_area
        self._reuse_trim()
        self._account("reuse", t0, c0)
        # After the reuse: a group's prediction is the classifier's, each post's own source
        # may then declare its sender.
        self._timed("declared", declare_sources, items)
        self._timed(
            "priority",
            lambda todo: self.scorer(todo, urgency_known=prepared is not None),
            items,
        )
        self.processed += len(items)
        return items

    def regroup(self, batch: list[PostIn]) -> None:
        """Put posts already processed back into the grouping state, in order, and nothing
        else: a restart rebuilds with it the groups formed after the last saved state
        (group ids are taken from the posts' ids, so the same posts in the same order give
        the same groups, and the next copy joins its card)."""
        items = start(batch)
        self.normaliser(items)
        self.dedup.assign(items)

    def _reuse_trim(self) -> None:
        while len(self._reuse) > self.config.reuse_cache:
            self._reuse.popitem(last=False)

    # -- state ------------------------------------------------------------------------
    def dumps(self) -> bytes:
        c = self.config
        meta = {
            "version": STATE_VERSION,
            "processed": self.processed,
            "covered_until": self.covered_until,
            "area": sorted(c.area) if c.area else None,
            "keep_handles": c.keep_handles,
            "languages": list(c.languages),
            "expected_languages": list(c.expected_languages),
            "min_geo_confidence": c.min_geo_confidence,
        }
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            dedup=np.frombuffer(self.dedup.to_bytes(), dtype=np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def loads(
        cls,
        data: bytes,
        *,
        classifier: Classifier | None = None,
        handle_key: bytes | None = None,
    ) -> Pipeline:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                meta = json.loads(npz["meta"].tobytes().decode())
                dedup_bytes = npz["dedup"].tobytes()
        except (ValueError, KeyError, OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"état du pipeline illisible : {exc}") from exc
        if meta.get("version") != STATE_VERSION:
            raise ValueError(f"état du pipeline : version {meta.get('version')} inconnue")
        dedup = DedupIndex.from_bytes(dedup_bytes)
        config = PipelineConfig(
            area=set(meta["area"]) if meta["area"] else None,
            keep_handles=bool(meta["keep_handles"]),
            handle_key=handle_key,
            languages=tuple(meta["languages"]),
            # States saved before session 8 had no such entry: the detector's default then.
            expected_languages=tuple(meta.get("expected_languages", EXPECTED_LANGUAGES)),
            near_threshold=dedup.threshold,
            num_perm=dedup.num_perm,
            max_groups=dedup.max_groups,
            min_geo_confidence=float(meta["min_geo_confidence"]),
        )
        pipeline = cls(config, classifier=classifier)
        pipeline.dedup = dedup
        pipeline._build_steps()
        pipeline.processed = int(meta["processed"])
        pipeline.covered_until = int(meta.get("covered_until", 0))
        return pipeline


# -- child processes -----------------------------------------------------------------------


@dataclass
class Prepared:
    """A batch after the stateless steps: what `Pipeline.finish` completes."""

    items: list[Enriched]
    keys: PreparedKeys
    features: Any = None  # (matrix, row of each item) for the classifier, or None


# What a child computes for each post, in this order (see `_prepare`).
_FIELDS = (
    "text", "clean_text", "urls", "hashtags", "mentions", "is_repost",
    "lang", "lang_p", "lang_from", "communes", "in_area", "urgency", "urgency_cues",
)  # fmt: skip
_NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)  # the children's steps never read the date


class PreparedResult:
    """A batch in a child's hands; `get()` waits for it and returns `Prepared`."""

    def __init__(self, result: AsyncResult[Any], batch: list[PostIn]) -> None:
        self._result = result
        self._batch = batch

    def ready(self) -> bool:
        return self._result.ready()

    def get(self, timeout: float | None = None) -> Prepared:
        rows, keys, sketches, features = self._result.get(timeout)
        items = start(self._batch)
        if len(rows) != len(items):
            raise ValueError(f"lot préparé : {len(rows)} messages rendus pour {len(items)}")
        for item, row in zip(items, rows, strict=True):
            for name, value in zip(_FIELDS, row, strict=True):
                setattr(item, name, value)
        return Prepared(items, PreparedKeys(keys, sketches), features)


# A batch not back by then means the children cannot work (e.g. one that fails to
# start is replaced by the pool forever): raise instead of waiting for ever.
STREAM_TIMEOUT = 300.0


def default_start_method() -> str:
    # The watch worker runs source threads with open database connections: forking
    # it would copy locks held by other threads. A fork server is started clean once.
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class Preparer:
    """Child processes running the stateless steps of the pipeline, batch by batch.

    Normalisation, language, geocoding, grouping keys and MinHash sketches and, when the
    classifier exposes it (see `split_classifier`), the classifier's featurisation: most
    of the cost of a post. `submit(batch, config)` returns a `PreparedResult` whose
    `get()` is the `Prepared` batch; `Pipeline.finish` does the rest in this process
    (grouping state, the online classifier, priority). One `Preparer` serves any number
    of pipelines: the children keep their steps per configuration.
    """

    def __init__(
        self,
        classifier: Classifier | None = None,
        *,
        workers: int = 2,
        start_method: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        split = split_classifier(classifier) if classifier is not None else None
        featurize = split[0] if split else None
        ctx = multiprocessing.get_context(start_method or default_start_method())
        self.workers = workers
        self._pool = ctx.Pool(workers, initializer=_init_prepare, initargs=(featurize,))

    def submit(self, batch: list[PostIn], config: PipelineConfig) -> PreparedResult:
        # Only what the children read goes out, and only what they computed comes
        # back: pickling whole posts both ways cost the parent more than grouping.
        light = [(p.text, p.lang, p.coordinates, p.repost_of, p.author_kinds) for p in batch]
        return PreparedResult(self._pool.apply_async(_prepare, (light, config)), batch)

    def close(self) -> None:
        """Stop the children (work in flight is dropped: its posts stay pending)."""
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The base model's `transform(texts[, author_kinds])`.
_worker_featurize: list[Callable[..., Any]] = []
_worker_steps: dict[tuple[Any, ...], tuple[Normaliser, LanguageDetector, Geocoder, DedupIndex]] = {}


def _init_prepare(featurize: Callable[..., Any] | None) -> None:
    _worker_featurize[:] = [featurize] if featurize is not None else []


def _steps_for(
    config: PipelineConfig,
) -> tuple[Normaliser, LanguageDetector, Geocoder, DedupIndex]:
    c = config
    key = (
        tuple(sorted(c.area)) if c.area else None,
        c.keep_handles,
        c.handle_key,
        c.languages,
        c.expected_languages,
        c.min_geo_confidence,
        c.num_perm,
        c.near_threshold,
    )
    steps = _worker_steps.get(key)
    if steps is None:
        if len(_worker_steps) >= 32:  # activations come and go; keep the cache bounded
            _worker_steps.pop(next(iter(_worker_steps)))
        steps = (
            Normaliser(keep_handles=c.keep_handles, handle_key=c.handle_key),
            LanguageDetector(c.languages, expected=c.expected_languages),
            Geocoder(c.area, min_confidence=c.min_geo_confidence),
            # Only its sketching is used here: same seed, same permutations as the parent's.
            DedupIndex(threshold=c.near_threshold, num_perm=c.num_perm),
        )
        _worker_steps[key] = steps
    return steps


def _prepare(
    light: list[tuple[str, str | None, tuple[float, float] | None, str | None, tuple[str, ...]]],
    config: PipelineConfig,
) -> tuple[list[tuple[Any, ...]], list[str], list[np.ndarray | None], Any]:
    normaliser, language, geocoder, sketcher = _steps_for(config)
    batch = [
        PostIn(str(i), text, _NO_DATE, lang=lang, coordinates=coords, repost_of=repost_of)
        for i, (text, lang, coords, repost_of, _kinds) in enumerate(light)
    ]
    items = normaliser(start(batch))
    keys = sketcher.prepare(items)
    # Copies inside the batch (same folded text) are enriched once; a post that carries
    # coordinates is geocoded on its own.
    first: dict[str, int] = {}
    unique: list[Enriched] = []
    source_of: list[int] = []
    for item, key in zip(items, keys.keys, strict=True):
        if key not in first:
            first[key] = len(unique)
            unique.append(item)
        source_of.append(first[key])
    language(unique)
    geocoder(unique)
    located: list[Enriched] = []
    for item, u in zip(items, source_of, strict=True):
        src = unique[u]
        if item is not src:
            item.lang, item.lang_p, item.lang_from = src.lang, src.lang_p, src.lang_from
            item.communes, item.in_area = src.communes, src.in_area
            if item.post.coordinates is not None:
                located.append(item)
    geocoder(located)
    # Urgency reads only the text: here too, unrounded (the scorer rounds it).
    for item in items:
        item.urgency, item.urgency_cues = urgency(item.clean_text or item.text)
    rows = [tuple(getattr(item, name) for name in _FIELDS) for item in items]
    features = None
    if _worker_featurize and items:
        # The classifier reads the raw text (and the author's kinds when the source read
        # them): featurise each distinct pair once.
        raw_rows: dict[tuple[str, tuple[str, ...]], int] = {}
        row_of = [
            raw_rows.setdefault((item.post.text, kinds), len(raw_rows))
            for item, (*_, kinds) in zip(items, light, strict=True)
        ]
        texts = [text for text, _ in raw_rows]
        if any(kinds for _, kinds in raw_rows):
            matrix = _worker_featurize[0](texts, [kinds for _, kinds in raw_rows])
        else:
            matrix = _worker_featurize[0](texts)
        features = (matrix, row_of)
    return rows, keys.keys, keys.sketches, features
