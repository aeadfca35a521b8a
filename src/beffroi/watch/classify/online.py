"""Learning from the volunteers' decisions within one activation.

The shipped model is a prior. For each head the learner fits a correction (a sparse weight
delta on the features seen in the activation's labelled posts, plus a bias shift) by
minimising the log loss on those posts with an L2 penalty that pulls the correction towards
zero, i.e. towards the shipped model. With a handful of labels the prior dominates; with a
few hundred, event-specific words (a hashtag, a place) and the event's base rate take over.

learn() only stores the hashed features of the post and its labels (O(length of the post));
the fit runs lazily on the next predict(), from zero each time, so the result depends only
on the set of labelled posts and not on the order of calls. The state holds hashed features,
never the text, and serialises to an .npz without pickle.

A lesson may carry a key (what it is about: a card of the triage room). The team changes
its mind: a later lesson with the same key replaces the earlier one, and forget() withdraws
it, so the learner holds what the team currently believes, not every verdict ever given.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .model import Classifier, Head, Prediction

STATE_FORMAT = "beffroi-classify-online/2"
# Saved before lessons had keys: read as unkeyed lessons (never replaced, never withdrawn).
STATE_FORMAT_UNKEYED = "beffroi-classify-online/1"
DEFAULT_HEAD_L2 = {"informative": 0.3}


@dataclass
class _Lesson:
    indices: np.ndarray  # int32 feature ids of the post, as the model hashed them
    data: np.ndarray  # float32 values
    codes: dict[str, int]  # per head, the class index taught, -1 when not given


@dataclass
class _Delta:
    features: np.ndarray  # sorted feature ids the correction may touch
    weights: np.ndarray  # (rows, len(features))
    bias: np.ndarray  # (rows,)


class OnlineLearner:
    def __init__(
        self,
        base: Classifier,
        *,
        l2: float = 1.0,
        l2_bias: float = 30.0,
        max_examples: int = 5000,
        head_l2: dict[str, float] | None = None,
    ) -> None:
        self.base = base
        self.l2 = l2
        # The informativeness head gains from a looser prior than the source head (whose
        # rare classes suffer when it bends to an activation's majority); see
        # docs/decisions/classifier.md for the measurements.
        self.head_l2 = dict(DEFAULT_HEAD_L2 if head_l2 is None else head_l2)
        unknown = set(self.head_l2) - set(base.heads)
        if unknown:
            raise ValueError(f"head_l2 names unknown heads {sorted(unknown)}")
        self.l2_bias = l2_bias
        self.max_examples = max_examples
        # Oldest first. Keyed lessons under their key (str), unkeyed ones under a number of
        # their own: a dict keeps the order, replaces and withdraws in O(1).
        self._lessons: dict[str | int, _Lesson] = {}
        self._unkeyed = itertools.count()
        self._deltas: dict[str, _Delta] | None = {}

    @property
    def n_examples(self) -> int:
        return len(self._lessons)

    def lesson_keys(self) -> list[str]:
        """The keys of the keyed lessons held, oldest first."""
        return [k for k in self._lessons if isinstance(k, str)]

    def labels(self, key: str) -> dict[str, str] | None:
        """The labels the lesson under ``key`` teaches (heads without one left out), or
        None when no lesson has that key."""
        lesson = self._lessons.get(key)
        if lesson is None:
            return None
        return {
            name: self.base.heads[name].classes[code]
            for name, code in lesson.codes.items()
            if code >= 0
        }

    def forget(self, key: str) -> bool:
        """Withdraw the lesson given under ``key`` (the card went back to the queue, or
        its new verdict teaches nothing). Returns whether there was one."""
        if self._lessons.pop(key, None) is None:
            return False
        self._deltas = None
        return True

    def learn(
        self,
        text: str,
        *,
        informative: bool | None = None,
        info_type: str | None = None,
        source: str | None = None,
        author_kinds: Sequence[str] = (),
        key: str | None = None,
    ) -> None:
        """Record one decision. `author_kinds`: the kinds of the post's author account, as
        given to `predict` (the lesson must see the post as the model saw it). `key`: what
        the lesson is about; a lesson already held under it is replaced (every head: the
        new lesson is the whole of what is now taught about it), and the new one counts
        as the most recent. Without a key, a lesson is never replaced nor withdrawn."""
        if key is not None and (not isinstance(key, str) or not key):
            raise ValueError("a lesson's key is a non-empty string")
        given = {"informative": None if informative is None else str(bool(informative))}
        given["info_type"] = info_type
        given["source"] = source
        if all(v is None for v in given.values()):
            raise ValueError("learn() needs at least one of informative, info_type, source")
        codes: dict[str, int] = {}
        for name, value in given.items():
            classes = self.base.heads[name].classes
            if value is None:
                codes[name] = -1
            elif value in classes:
                codes[name] = classes.index(value)
            else:
                raise ValueError(f"{name}={value!r} is not one of {', '.join(classes)}")
        row = self.base.transform([text], [tuple(author_kinds)] if author_kinds else None)
        lesson = _Lesson(row.indices.astype(np.int32), row.data.astype(np.float32), codes)
        self._add(key, lesson)
        self._deltas = None

    def _add(self, key: str | None, lesson: _Lesson) -> None:
        if key is None:
            self._lessons[next(self._unkeyed)] = lesson
        else:
            self._lessons.pop(key, None)  # re-inserted last: a correction is recent
            self._lessons[key] = lesson
        while len(self._lessons) > self.max_examples:
            # Oldest decisions go first: within an activation, recent ones describe it best.
            del self._lessons[next(iter(self._lessons))]

    # Fitting ---------------------------------------------------------------------------
    def _matrix(self) -> sp.csr_matrix:
        n_features = self.base.features.width
        lessons = list(self._lessons.values())
        if not lessons:
            return sp.csr_matrix((0, n_features), dtype=np.float32)
        indptr = np.cumsum([0] + [len(lesson.indices) for lesson in lessons])
        indices = np.concatenate([lesson.indices for lesson in lessons])
        data = np.concatenate([lesson.data for lesson in lessons])
        return sp.csr_matrix((data, indices, indptr), shape=(len(lessons), n_features))

    def _codes(self, name: str) -> list[int]:
        return [lesson.codes[name] for lesson in self._lessons.values()]

    def _fit(self) -> dict[str, _Delta]:
        if self._deltas is not None:
            return self._deltas
        x_all = self._matrix()
        deltas: dict[str, _Delta] = {}
        # The vectors are long but the work per call is small: multi-threaded BLAS spends
        # more time waking threads than computing (20x slower on a busy 2-core machine).
        with threadpool_limits(limits=1):
            for name, head in self.base.heads.items():
                labels = np.asarray(self._codes(name), dtype=np.int64)
                keep = labels >= 0
                if not keep.any():
                    continue
                l2 = self.head_l2.get(name, self.l2)
                deltas[name] = self._fit_head(head, x_all[keep], labels[keep], l2)
        self._deltas = deltas
        return deltas

    def _fit_head(self, head: Head, x: sp.csr_matrix, y: np.ndarray, l2: float) -> _Delta:
        feats = np.unique(x.indices)
        n = self.base.features.n_features
        if not head.weights[:, n:].any():
            # A head trained without the extra (author-kind) columns is corrected without
            # them too: the volunteers' labels refine what it knows, not a new input.
            feats = feats[feats < n]
        xs = x[:, feats].tocsr().astype(np.float64)
        base = head.logits(x)
        rows = head.weights.shape[0]
        n_w = rows * len(feats)
        if head.binary:
            target = y.astype(np.float64)[:, None]
        else:
            target = np.zeros((len(y), rows))
            target[np.arange(len(y)), y] = 1.0
        # The shipped heads were trained with balanced class weights; weighting the
        # activation's labels the same way (smoothed, since a class may have one example)
        # keeps the correction from drifting towards whichever class volunteers saw most.
        counts = np.bincount(y, minlength=len(head.classes)).astype(np.float64)
        present = counts > 0
        sample_w = (len(y) / (present.sum() * (counts + 1.0)))[y] * (1.0 + 1.0 / len(y))
        sw = sample_w[:, None]

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w = theta[:n_w].reshape(rows, len(feats))
            b = theta[n_w:]
            z = base + xs @ w.T + b
            if head.binary:
                # log(1 + e^z) - y z, computed stably
                loss = float(np.sum(sw * (np.logaddexp(0.0, z) - target * z)))
                err = sw * (1.0 / (1.0 + np.exp(-z)) - target)
            else:
                zmax = z.max(axis=1, keepdims=True)
                lse = zmax + np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
                loss = float(np.sum(sw * (lse - (target * z).sum(axis=1, keepdims=True))))
                err = sw * (np.exp(z - lse) - target)
            loss += 0.5 * l2 * float(np.sum(w * w)) + 0.5 * self.l2_bias * float(b @ b)
            gw = np.asarray((xs.T @ err).T) + l2 * w
            gb = err.sum(axis=0) + self.l2_bias * b
            return loss, np.concatenate([gw.ravel(), gb])

        theta0 = np.zeros(n_w + rows)
        res = minimize(loss_grad, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 200})
        theta = res.x
        return _Delta(feats, theta[:n_w].reshape(rows, len(feats)), theta[n_w:])

    # Prediction ------------------------------------------------------------------------
    def logits(self, x: sp.csr_matrix) -> dict[str, np.ndarray]:
        out = self.base.logits(x)
        for name, delta in self._fit().items():
            out[name] = out[name] + np.asarray(x[:, delta.features] @ delta.weights.T) + delta.bias
        return out

    def predict(
        self, texts: list[str], author_kinds: Sequence[Sequence[str]] | None = None
    ) -> list[Prediction]:
        if not texts:
            return []
        x = self.base.transform(texts, author_kinds)
        return self.base.predictions_from_logits(self.logits(x))

    # Storage ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        x = self._matrix()
        config = {
            "format": STATE_FORMAT,
            "base": self.base.fingerprint(),
            "l2": self.l2,
            "l2_bias": self.l2_bias,
            "max_examples": self.max_examples,
            "head_l2": self.head_l2,
            "n_features": self.base.features.width,
            "heads": {n: list(h.classes) for n, h in self.base.heads.items()},
        }
        arrays = {
            "config": np.frombuffer(json.dumps(config).encode(), dtype=np.uint8),
            "indptr": x.indptr.astype(np.int64),
            "indices": x.indices.astype(np.int32),
            "data": x.data.astype(np.float32),
            # "" for an unkeyed lesson (a key is never empty).
            "keys": np.asarray([k if isinstance(k, str) else "" for k in self._lessons], dtype=str),
        }
        for name in self.base.heads:
            arrays[f"labels.{name}"] = np.asarray(self._codes(name), dtype=np.int16)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, base: Classifier | None = None) -> OnlineLearner:
        """Restore a learner; base defaults to the shipped model and must be the one it
        was saved with (its fingerprint is checked)."""
        if base is None:
            from .model import load_default

            base = load_default()
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"not an online-learner state ({exc})") from None
        with z:
            try:
                config = json.loads(bytes(z["config"]).decode())
            except (KeyError, ValueError) as exc:
                raise ValueError(f"not an online-learner state ({exc})") from None
            if config.get("format") not in (STATE_FORMAT, STATE_FORMAT_UNKEYED):
                raise ValueError(f"not a {STATE_FORMAT} state (format {config.get('format')!r})")
            if config["base"] != base.fingerprint():
                raise ValueError(
                    f"state was learnt on model {config['base']}, not {base.fingerprint()}"
                )
            learner = cls(
                base,
                l2=float(config["l2"]),
                l2_bias=float(config["l2_bias"]),
                max_examples=int(config["max_examples"]),
                head_l2={str(k): float(v) for k, v in config.get("head_l2", {}).items()},
            )
            indptr, indices, values = z["indptr"], z["indices"], z["data"]
            n = len(indptr) - 1
            if indices.size and (indices.min() < 0 or indices.max() >= config["n_features"]):
                raise ValueError("state has feature ids outside the model's space")
            labels: dict[str, list[int]] = {}
            for name in base.heads:
                labels[name] = [int(v) for v in z[f"labels.{name}"]]
                if len(labels[name]) != n or any(
                    v >= len(base.heads[name].classes) for v in labels[name]
                ):
                    raise ValueError(f"state has inconsistent labels for {name}")
            keys = [str(k) for k in z["keys"]] if "keys" in z.files else [""] * n
            named = [k for k in keys if k]
            if len(keys) != n or len(set(named)) != len(named):
                raise ValueError("state has inconsistent lesson keys")
            for i, key in enumerate(keys):
                lo, hi = int(indptr[i]), int(indptr[i + 1])
                codes = {name: labels[name][i] for name in base.heads}
                lesson = _Lesson(indices[lo:hi].copy(), values[lo:hi].copy(), codes)
                learner._add(key or None, lesson)
        learner._deltas = None
        return learner
