"""Crisis-post classifier: informativeness, information type and source (CrisisLex labels).

Pure (no Django). Typical use::

    from beffroi.watch.classify import load_default, OnlineLearner
    clf = load_default()
    clf.predict(["Route coupée à Vaison, l'eau monte devant chez moi"])
    learner = OnlineLearner(clf)            # one per activation
    learner.learn(text, informative=True, source="Eyewitness")
    learner.predict(texts); state = learner.to_bytes()
"""

from .labels import INFO_TYPES, SOURCES
from .model import Classifier, Prediction, load_default
from .online import OnlineLearner

__all__ = ["INFO_TYPES", "SOURCES", "Classifier", "OnlineLearner", "Prediction", "load_default"]
