"""Geocoding and classification steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from beffroi.geo.geocode import Match, commune_at, find_communes
from beffroi.watch.pipeline.model import Classifier, Enriched, Prediction


class Geocoder:
    """Communes named in the text, plus the commune at the coordinates a post carries."""

    def __init__(self, area: set[str] | None = None, *, min_confidence: float = 0.35) -> None:
        self.area = {a.strip().upper() for a in area} if area else None
        self.min_confidence = min_confidence

    def __call__(self, items: list[Enriched]) -> list[Enriched]:
        area_communes = {a for a in self.area or () if len(a) == 5}
        area_deps = {a for a in self.area or () if len(a) in (2, 3)}
        for item in items:
            matches: list[Match] = find_communes(
                item.clean_text or item.text,
                area=self.area,
                lang=item.lang if item.lang_from else None,
                min_confidence=self.min_confidence,
            )
            if item.post.coordinates is not None:
                lat, lon = item.post.coordinates
                try:
                    at = commune_at(float(lat), float(lon))
                except (TypeError, ValueError):
                    at = None  # malformed coordinates: the text still speaks
                if at is not None and all(m.code != at.code for m in matches):
                    inside = (
                        None
                        if self.area is None
                        else (at.code in area_communes or at.dep in area_deps)
                    )
                    matches.insert(0, _with_area(at, inside))
            item.communes = tuple(matches)
            flags = [m.in_area for m in matches if m.in_area is not None]
            item.in_area = (any(flags) if flags else None) if self.area else None
        return items


def _with_area(m: Match, inside: bool | None) -> Match:
    from dataclasses import replace

    reasons = (*m.reasons, "dans la zone de l'activation") if inside else m.reasons
    return replace(m, in_area=inside, reasons=reasons)


class ClassifierStep:
    """Runs a classifier over a batch; exact duplicates reuse their group's prediction."""

    def __init__(self, classifier: Classifier, *, cache_size: int = 50_000) -> None:
        self.classifier = classifier
        self.cache_size = cache_size
        self._by_group: dict[str, object] = {}

    def __call__(
        self,
        items: list[Enriched],
        predict: Callable[[list[Enriched]], list[Any]] | None = None,
    ) -> list[Enriched]:
        """`predict` replaces `classifier.predict` (e.g. over features computed elsewhere)."""
        todo: list[Enriched] = []
        waiting: dict[str, list[Enriched]] = {}  # group -> exact copies in this batch
        for item in items:
            if item.duplicate == "exact":
                cached = self._by_group.get(item.group_id)
                if cached is not None:
                    item.prediction = cached
                    continue
                if item.group_id in waiting:
                    waiting[item.group_id].append(item)
                    continue
            todo.append(item)
            waiting.setdefault(item.group_id, [])
        if todo:
            # The classifier was trained on raw posts: give it the text as posted.
            if predict is not None:
                predictions = predict(todo)
            elif any(it.post.author_kinds for it in todo):
                predictions = self.classifier.predict(
                    [it.post.text for it in todo],
                    author_kinds=[it.post.author_kinds for it in todo],
                )
            else:
                predictions = self.classifier.predict([it.post.text for it in todo])
            if len(predictions) != len(todo):
                raise ValueError(
                    f"le classifieur a rendu {len(predictions)} prédictions pour {len(todo)} textes"
                )
            for item, pred in zip(todo, predictions, strict=True):
                item.prediction = pred
                if item.is_new_group or item.group_id not in self._by_group:
                    self._by_group[item.group_id] = pred
                for copy in waiting.get(item.group_id, ()):
                    if copy.prediction is None:
                        copy.prediction = pred
        while len(self._by_group) > self.cache_size:
            self._by_group.pop(next(iter(self._by_group)))
        return items


def geocode(items: list[Enriched], *, area: set[str] | None = None) -> list[Enriched]:
    return Geocoder(area)(items)


def classify(items: list[Enriched], classifier: Classifier) -> list[Enriched]:
    return ClassifierStep(classifier)(items)


def split_classifier(
    classifier: Any,
) -> tuple[Callable[[list[str]], Any], Callable[[Any], list[Any]]] | None:
    """(featurize, predict_from_features) when the classifier exposes them, else None.

    beffroi.watch.classify's `Classifier` has `transform`, `logits` and
    `predictions_from_logits`; its `OnlineLearner` has `logits` over the features of its
    `base`. Featurising is most of the cost and depends only on the base model, so
    `Pipeline.process_stream` runs it in the worker processes while the online part stays
    with the learner in the parent.
    """
    base = getattr(classifier, "base", classifier)
    needed = ("transform", "predictions_from_logits")
    if not all(callable(getattr(base, n, None)) for n in needed):
        return None
    if not callable(getattr(classifier, "logits", None)):
        return None

    def finish(x: Any) -> list[Any]:
        return list(base.predictions_from_logits(classifier.logits(x)))

    return base.transform, finish


def declare_sources(items: list[Enriched]) -> list[Enriched]:
    """A post from a source whose sender the coordinator declared (a préfecture's feed, a
    newsroom's account) takes that source type with certainty: the coordinator knows who
    runs the feed, which the words of one post only hint at. The other fields of the
    prediction stay the classifier's; copies of the post from other sources keep theirs."""
    for item in items:
        declared = item.post.declared_source
        pred = item.prediction
        if not declared or pred is None:
            continue
        classes = set(pred.source_p) | {declared}
        item.prediction = Prediction(
            informative=pred.informative,
            informative_p=pred.informative_p,
            info_type=pred.info_type,
            source=declared,
            source_p={c: 1.0 if c == declared else 0.0 for c in sorted(classes)},
        )
    return items
