"""The shipped classifier: hashed features and three linear heads stored as plain arrays.

The model file is a NumPy .npz (loaded with allow_pickle=False, so opening it cannot run
code) holding the weights, plus a JSON document inside it with labels, thresholds and the
feature configuration.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .features import FeatureConfig, Featurizer
from .labels import INFO_TYPES, SOURCES

FORMAT = "beffroi-classify/1"
HEADS = ("informative", "info_type", "source")


@dataclass
class Prediction:
    informative: bool
    informative_p: float
    info_type: str
    source: str
    source_p: dict[str, float] = field(default_factory=dict)


@dataclass
class Head:
    """A linear head. A binary head has one row (logit of classes[1]); otherwise softmax."""

    classes: tuple[str, ...]
    weights: np.ndarray  # (rows, n_features) float32
    bias: np.ndarray  # (rows,) float64

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2 and self.weights.shape[0] == 1

    def logits(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.weights.T, dtype=np.float64) + self.bias


def probabilities(head: Head, logits: np.ndarray) -> np.ndarray:
    """Class probabilities (n, len(classes)) from the head's logits."""
    if head.binary:
        p1 = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -50, 50)))
        return np.column_stack([1.0 - p1, p1])
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    def __init__(
        self,
        features: FeatureConfig,
        heads: dict[str, Head],
        *,
        threshold: float = 0.5,
        meta: dict[str, object] | None = None,
    ) -> None:
        missing = set(HEADS) - set(heads)
        if missing:
            raise ValueError(f"model lacks heads {sorted(missing)}")
        if heads["informative"].classes != ("False", "True"):
            raise ValueError("informative head must have classes ('False', 'True')")
        if set(heads["source"].classes) != set(SOURCES):
            raise ValueError("source head must have exactly the six CrisisLex sources")
        if not set(heads["info_type"].classes) <= set(INFO_TYPES):
            raise ValueError("info_type head has labels outside CrisisLex")
        for name, head in heads.items():
            if head.weights.shape[1] != features.width:
                raise ValueError(
                    f"{name} head has {head.weights.shape[1]} weights a row, "
                    f"features have {features.width} columns"
                )
        self.features = features
        self.featurizer = Featurizer(features)
        self.heads = heads
        self.threshold = threshold
        self.meta = dict(meta or {})

    # Prediction -----------------------------------------------------------------------
    def transform(
        self, texts: Sequence[str], author_kinds: Sequence[Sequence[str]] | None = None
    ) -> sp.csr_matrix:
        return self.featurizer.transform(texts, author_kinds)

    def logits(self, x: sp.csr_matrix) -> dict[str, np.ndarray]:
        return {name: head.logits(x) for name, head in self.heads.items()}

    def predict(
        self, texts: list[str], author_kinds: Sequence[Sequence[str]] | None = None
    ) -> list[Prediction]:
        if not texts:
            return []
        x = self.transform(texts, author_kinds)
        return self.predictions_from_logits(self.logits(x))

    def predictions_from_logits(self, logits: dict[str, np.ndarray]) -> list[Prediction]:
        p_inf = probabilities(self.heads["informative"], logits["informative"])[:, 1]
        p_type = probabilities(self.heads["info_type"], logits["info_type"])
        p_src = probabilities(self.heads["source"], logits["source"])
        types = self.heads["info_type"].classes
        srcs = self.heads["source"].classes
        out = []
        for i in range(len(p_inf)):
            out.append(
                Prediction(
                    informative=bool(p_inf[i] >= self.threshold),
                    informative_p=float(p_inf[i]),
                    info_type=types[int(np.argmax(p_type[i]))],
                    source=srcs[int(np.argmax(p_src[i]))],
                    source_p={s: float(p_src[i, j]) for j, s in enumerate(srcs)},
                )
            )
        return out

    # Storage --------------------------------------------------------------------------
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self._config(), sort_keys=True).encode())
        for name in HEADS:
            h.update(np.ascontiguousarray(self.heads[name].weights, dtype=np.float32).tobytes())
            h.update(np.ascontiguousarray(self.heads[name].bias, dtype=np.float64).tobytes())
        return h.hexdigest()[:16]

    def _config(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "features": self.features.to_json(),
            "threshold": self.threshold,
            "heads": {n: list(h.classes) for n, h in self.heads.items()},
            "meta": self.meta,
        }

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {
            "config": np.frombuffer(json.dumps(self._config()).encode(), dtype=np.uint8)
        }
        for name, head in self.heads.items():
            # int8 with one scale per row keeps the file at a few MB. Each post activates a
            # few hundred features of value ~0.05, so the rounding error on a logit stays
            # around 1e-2 (the training noise of SGD is larger).
            q, scale = quantize(head.weights)
            arrays[f"{name}.weights"] = q
            arrays[f"{name}.scale"] = scale
            arrays[f"{name}.bias"] = head.bias.astype(np.float64)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Classifier:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            config = json.loads(bytes(z["config"]).decode())
            if config.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} model (format {config.get('format')!r})")
            heads = {}
            for name, classes in config["heads"].items():
                heads[name] = Head(
                    tuple(classes),
                    dequantize(z[f"{name}.weights"], z[f"{name}.scale"]),
                    z[f"{name}.bias"].astype(np.float64),
                )
        return cls(
            FeatureConfig.from_json(config["features"]),
            heads,
            threshold=float(config["threshold"]),
            meta=config.get("meta") or {},
        )

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        return cls.from_bytes(Path(path).read_bytes())


def quantize(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = np.abs(w).max(axis=1)
    scale = np.where(top > 0, top / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    if q.dtype != np.int8 or scale.shape != (q.shape[0],):
        raise ValueError("model weights are not int8 rows with one scale each")
    return q.astype(np.float32) * scale.astype(np.float32)[:, None]


MODEL_RESOURCE = "model.npz"
_default: Classifier | None = None


def default_model_path() -> Path:
    return Path(
        str(resources.files(__package__ or "beffroi.watch.classify") / "data" / MODEL_RESOURCE)
    )


def load_default() -> Classifier:
    """The model shipped in the package (cached: it is read-only and costs ~1 s to load)."""
    global _default
    if _default is None:
        _default = Classifier.load(default_model_path())
    return _default
