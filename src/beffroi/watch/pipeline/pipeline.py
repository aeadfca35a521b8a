"""The enrichment pipeline: pure steps over batches, with incremental grouping state."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from beffroi.watch.pipeline.dedup import DedupIndex
from beffroi.watch.pipeline.language import DEFAULT_LANGUAGES, LanguageDetector
from beffroi.watch.pipeline.model import Classifier, Enriched, PostIn, start
from beffroi.watch.pipeline.normalise import Normaliser
from beffroi.watch.pipeline.priority import PriorityScorer
from beffroi.watch.pipeline.steps import ClassifierStep, Geocoder

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


class Pipeline:
    """normalise → language → group → geocode → classify → priority.

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

    def _build_steps(self) -> None:
        c = self.config
        steps: list[tuple[str, Step]] = [
            ("normalise", Normaliser(keep_handles=c.keep_handles, handle_key=c.handle_key)),
            ("language", LanguageDetector(c.languages)),
            ("group", self.dedup),
            ("geocode", Geocoder(c.area, min_confidence=c.min_geo_confidence)),
        ]
        if self.classifier is not None:
            steps.append(("classify", ClassifierStep(self.classifier)))
        steps.append(("priority", PriorityScorer()))
        self.steps = steps

    def process(self, batch: list[PostIn]) -> list[Enriched]:
        items = start(batch)
        for name, step in self.steps:
            t0 = time.perf_counter()
            items = step(items)
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        self.processed += len(items)
        return items

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
