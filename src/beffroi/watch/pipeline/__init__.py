"""Enrichment pipeline of the watch room (pure: no Django).

    from beffroi.watch.pipeline import Pipeline, PipelineConfig, PostIn
    pipe = Pipeline(PipelineConfig(area={"85", "44109"}), classifier=model)
    cards = pipe.process(posts)          # list[Enriched], input order
    state = pipe.dumps(); pipe = Pipeline.loads(state, classifier=model)

    with Preparer(model, workers=2) as prep:   # stateless steps in child processes
        cards = pipe.finish(prep.submit(posts, pipe.config).get())

Each step is also usable alone over a list of Enriched (see the modules).
"""

from beffroi.watch.pipeline.dedup import DedupIndex
from beffroi.watch.pipeline.language import LanguageDetector, detect_languages
from beffroi.watch.pipeline.model import Classifier, Enriched, PostIn, Prediction, start
from beffroi.watch.pipeline.normalise import Normaliser, normalise
from beffroi.watch.pipeline.pipeline import Pipeline, PipelineConfig, Prepared, Preparer
from beffroi.watch.pipeline.priority import PriorityScorer, score, urgency
from beffroi.watch.pipeline.steps import ClassifierStep, Geocoder, classify, geocode

__all__ = [
    "Classifier",
    "ClassifierStep",
    "DedupIndex",
    "Enriched",
    "Geocoder",
    "LanguageDetector",
    "Normaliser",
    "Pipeline",
    "PipelineConfig",
    "PostIn",
    "Prediction",
    "Prepared",
    "Preparer",
    "PriorityScorer",
    "classify",
    "detect_languages",
    "geocode",
    "normalise",
    "score",
    "start",
    "urgency",
]
