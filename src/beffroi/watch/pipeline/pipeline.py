"""The enrichment pipeline: pure steps over batches, with incremental grouping state."""

from __future__ import annotations

import io
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from beffroi.watch.pipeline.dedup import DedupIndex, exact_key_text
from beffroi.watch.pipeline.language import DEFAULT_LANGUAGES, LanguageDetector
from beffroi.watch.pipeline.model import Classifier, Enriched, PostIn, start
from beffroi.watch.pipeline.normalise import Normaliser
from beffroi.watch.pipeline.priority import PriorityScorer
from beffroi.watch.pipeline.steps import ClassifierStep, Geocoder, split_classifier

Step = Callable[[list[Enriched]], list[Enriched]]
STATE_VERSION = 1


@dataclass
class PipelineConfig:
    area: set[str] | None = None  # INSEE commune codes and/or département codes
    keep_handles: bool = False
    handle_key: bytes | None = None  # HMAC key for handle pseudonyms (not serialised)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
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
        self.timings: dict[str, float] = {}
        self.cpu_timings: dict[str, float] = {}

    def _build_steps(self) -> None:
        c = self.config
        self.normaliser = Normaliser(keep_handles=c.keep_handles, handle_key=c.handle_key)
        self.language = LanguageDetector(c.languages)
        self.geocoder = Geocoder(c.area, min_confidence=c.min_geo_confidence)
        self.classify_step = ClassifierStep(self.classifier) if self.classifier else None
        self.scorer = PriorityScorer()
        self._reuse: OrderedDict[str, Enriched] = OrderedDict()
        self._split = split_classifier(self.classifier) if self.classifier else None
        self._features: Any = None

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
        return self._after_normalise(items, prepared=False)

    def process_stream(
        self, batches: Iterable[list[PostIn]], *, workers: int = 2
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
        import multiprocessing

        split = split_classifier(self.classifier) if self.classifier is not None else None
        featurize = split[0] if split else None
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(
            workers, initializer=_init_prepare, initargs=(self.config, featurize)
        ) as pool:
            for items, features in pool.imap(_prepare, batches):
                self._features = features
                try:
                    yield self._after_normalise(items, prepared=True)
                finally:
                    self._features = None

    def _after_normalise(self, items: list[Enriched], *, prepared: bool) -> list[Enriched]:
        """Group, then enrich what is new, reuse what is a copy, then score.

        `prepared`: language and geocoding were already done (by a worker process).
        """
        self._timed("group", self.dedup, items)
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
        if not prepared:
            self._timed("language", self.language, fresh)
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
                self._reuse[item.group_id] = item
        t0, c0 = time.perf_counter(), time.process_time()
        for item in copies:
            source = self._reuse.get(item.group_id) or first_in_batch[item.group_id]
            item.prediction = source.prediction
            if not prepared:
                item.lang, item.lang_p, item.lang_from = (
                    source.lang,
                    source.lang_p,
                    source.lang_from,
                )
                if item.post.coordinates is None:
                    item.communes, item.in_area = source.communes, source.in_area
        self._reuse_trim()
        self._account("reuse", t0, c0)
        self._timed("priority", self.scorer, items)
        self.processed += len(items)
        return items

    def _reuse_trim(self) -> None:
        while len(self._reuse) > self.config.reuse_cache:
            self._reuse.popitem(last=False)

    # -- state ------------------------------------------------------------------------
    def dumps(self) -> bytes:
        c = self.config
        meta = {
            "version": STATE_VERSION,
            "processed": self.processed,
            "area": sorted(c.area) if c.area else None,
            "keep_handles": c.keep_handles,
            "languages": list(c.languages),
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
            near_threshold=dedup.threshold,
            num_perm=dedup.num_perm,
            max_groups=dedup.max_groups,
            min_geo_confidence=float(meta["min_geo_confidence"]),
        )
        pipeline = cls(config, classifier=classifier)
        pipeline.dedup = dedup
        pipeline._build_steps()
        pipeline.processed = int(meta["processed"])
        return pipeline


# -- worker side of process_stream -------------------------------------------------------
_worker_steps: list[Step] = []
_worker_featurize: list[Callable[[list[str]], Any]] = []


def _init_prepare(config: PipelineConfig, featurize: Callable[[list[str]], Any] | None) -> None:
    _worker_steps[:] = [
        Normaliser(keep_handles=config.keep_handles, handle_key=config.handle_key),
        LanguageDetector(config.languages),
        Geocoder(config.area, min_confidence=config.min_geo_confidence),
    ]
    _worker_featurize[:] = [featurize] if featurize is not None else []


def _prepare(batch: list[PostIn]) -> tuple[list[Enriched], Any]:
    normaliser, language, geocoder = _worker_steps
    items = normaliser(start(batch))
    # Copies inside the batch (same folded text) are enriched once; a post that carries
    # coordinates is geocoded on its own.
    first: dict[str, int] = {}
    unique: list[Enriched] = []
    source_of: list[int] = []
    for item in items:
        key = exact_key_text(item.clean_text or item.text)
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
    if not _worker_featurize or not items:
        return items, None
    # The classifier reads the raw text: featurise each distinct raw text once.
    raw_rows: dict[str, int] = {}
    row_of = [raw_rows.setdefault(item.post.text, len(raw_rows)) for item in items]
    matrix = _worker_featurize[0](list(raw_rows))
    return items, (matrix, row_of)
