"""Stand-in classifiers for the pipeline tests, importable by child processes."""

import numpy as np

from beffroi.watch.pipeline import Prediction

SOURCES = ("Eyewitness", "Government", "NGOs", "Business", "Media", "Outsiders")


class FakeClassifier:
    """Deterministic stand-in with the API of beffroi.watch.classify."""

    def __init__(self):
        self.calls = 0
        self.texts = 0

    def predict(self, texts):
        self.calls += 1
        self.texts += len(texts)
        out = []
        for t in texts:
            low = t.lower()
            informative = any(
                w in low for w in ("eau", "route", "digue", "coincé", "water", "évacu")
            )
            eyewitness = any(w in low for w in ("on est", "je suis", "chez moi", "we are", "my "))
            p_eye = 0.9 if eyewitness else 0.05
            source_p = {s: (1 - p_eye) / 5 for s in SOURCES} | {"Eyewitness": p_eye}
            source = "Eyewitness" if eyewitness else "Outsiders"
            p_inf = 0.9 if informative else 0.1
            out.append(Prediction(informative, p_inf, "Affected individuals", source, source_p))
        return out


class SplitFake(FakeClassifier):
    """FakeClassifier with the transform/logits split of beffroi.watch.classify."""

    def __init__(self):
        super().__init__()
        self.finished = 0
        self.predicted = 0

    def predict(self, texts):
        self.predicted += len(texts)
        return super().predict(texts)

    def transform(self, texts):
        return np.array(texts, dtype=object)

    def logits(self, x):
        return list(x)

    def predictions_from_logits(self, texts):
        self.finished += len(texts)
        return FakeClassifier.predict(self, list(texts))
