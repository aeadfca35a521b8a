"""Rebuild the shipped model from the shared CrisisLex data, deterministically.

python -m beffroi.watch.classify.train [--out PATH] [--exclude-event NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import SGDClassifier

from .accounts import ACCOUNT_WORDS
from .crisislex import Event, default_data_dir, load_lexicon, load_t26
from .features import FeatureConfig, Featurizer
from .labels import INFO_TYPES, SOURCES, info_type_target, informative_target, source_target
from .model import Classifier, Head, default_model_path

ALPHA = 3e-5
EPOCHS = 15
SEED = 20140101
# Class weights are (n / (k * count)) ** power: 1 is sklearn's "balanced". The source head
# over-weights its rare classes a little more (Business, NGOs, Government have a few hundred
# examples against ~9,000 Media); 1.3 was chosen on the benchmark's own events (pooled
# source macro-F1 0.484 -> 0.488 over 25 held-out events; 0.5 gave 0.439), see
# docs/decisions/classifier.md.
SOURCE_WEIGHT_POWER = 1.3
# Feature blocks added for the source head (author-kind cues, relayed account).
CUE_WEIGHT = 0.6
RELAY_WEIGHT = 1.0
# Kinds of relayed accounts read in their handles (accounts.py): 0.5 chosen between 0.5
# and 1.0 on the benchmark's events, see docs/decisions/classifier.md.
KIND_WEIGHT = 0.5
EXTRA_FEATURES = 2**16


def _sgd(alpha: float, class_weight: dict[str, float]) -> SGDClassifier:
    # Fixed epochs and no early stopping: same data and seed give the same weights.
    return SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        max_iter=EPOCHS,
        tol=None,
        class_weight=class_weight,
        random_state=SEED,
    )


def class_weights(y: np.ndarray, power: float = 1.0) -> dict[str, float]:
    labels, counts = np.unique(y, return_counts=True)
    base = len(y) / (len(labels) * counts.astype(np.float64))
    return {str(c): float(w**power) for c, w in zip(labels, base, strict=True)}


def fit_head(
    x: sp.csr_matrix,
    y: np.ndarray,
    classes: Sequence[str],
    alpha: float,
    *,
    weight_power: float = 1.0,
    n_columns: int | None = None,
) -> Head:
    """Fit one head; with n_columns, only the first n_columns features are used (the
    others get zero weights)."""
    keep = y != ""
    width = x.shape[1]
    xs, ys = x[keep], y[keep]
    if n_columns is not None and n_columns < width:
        xs = xs[:, :n_columns]
    present = [c for c in classes if c in set(ys)]
    if len(present) < 2:
        raise ValueError(f"need at least two classes to train, got {present}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fixed epochs: the convergence warning is expected
        clf = _sgd(alpha, class_weights(ys, weight_power)).fit(xs, ys)
    fitted = [str(c) for c in clf.classes_]
    coef = np.zeros((clf.coef_.shape[0], width), dtype=np.float32)
    coef[:, : clf.coef_.shape[1]] = clf.coef_
    if len(fitted) == 2 and clf.coef_.shape[0] == 1:
        return Head(tuple(fitted), coef, clf.intercept_.astype(float))
    # Order rows as the label list so the model file does not depend on sklearn's sort;
    # a class absent from training gets a logit far below the others.
    w = np.zeros((len(classes), width), dtype=np.float32)
    b = np.full(len(classes), -30.0)
    for i, c in enumerate(classes):
        if c in fitted:
            j = fitted.index(c)
            w[i] = coef[j]
            b[i] = clf.intercept_[j]
    return Head(tuple(classes), w, b)


def targets(events: Sequence[Event]) -> dict[str, np.ndarray]:
    posts = [p for e in events for p in e.posts]
    return {
        "informative": np.array([str(informative_target(p.informativeness)) for p in posts]),
        "info_type": np.array(
            [info_type_target(p.info_type, p.informativeness) or "" for p in posts]
        ),
        "source": np.array([source_target(p.source) or "" for p in posts]),
    }


def default_config(lexicon: Sequence[str]) -> FeatureConfig:
    return FeatureConfig(
        lexicon=tuple(lexicon),
        cue_weight=CUE_WEIGHT,
        relay_weight=RELAY_WEIGHT,
        kind_weight=KIND_WEIGHT,
        account_words=tuple(ACCOUNT_WORDS.items()),
        extra_features=EXTRA_FEATURES,
    )


def train(
    events: Sequence[Event],
    lexicon: Sequence[str],
    *,
    config: FeatureConfig | None = None,
    alpha: float = ALPHA,
    features: sp.csr_matrix | None = None,
) -> Classifier:
    """Train the three heads on the given events. `features` may pass the already hashed
    posts of `events` (in order) to save time when training many models (the benchmark)."""
    cfg = config or default_config(lexicon)
    x = features
    if x is None:
        x = Featurizer(cfg).transform([p.text for e in events for p in e.posts])
    y = targets(events)
    heads = {
        # The author-kind columns serve the source head only: learnt on English tweets, they
        # pushed French informative posts (no URL, no hashtag) towards "not informative".
        "informative": fit_head(
            x, y["informative"], ("False", "True"), alpha, n_columns=cfg.n_features
        ),
        "info_type": fit_head(x, y["info_type"], INFO_TYPES, alpha, n_columns=cfg.n_features),
        "source": fit_head(x, y["source"], SOURCES, alpha, weight_power=SOURCE_WEIGHT_POWER),
    }
    meta: dict[str, object] = {
        "trained_on": [e.name for e in events],
        "n_posts": int(x.shape[0]),
        "alpha": alpha,
        "epochs": EPOCHS,
        "seed": SEED,
        "source_weight_power": SOURCE_WEIGHT_POWER,
        "sklearn": sklearn.__version__,
        "data": "CrisisLexT26 (Olteanu, Vieweg, Castillo 2015), MIT licence",
        "informative_mapping": "'Related and informative' -> True; every other value -> False",
    }
    model = Classifier(cfg, heads, threshold=0.5, meta=meta)
    # Round-trip through the file format so the returned model is exactly the one a later
    # load() gives (same quantised weights, same fingerprint).
    return Classifier.from_bytes(model.to_bytes())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m beffroi.watch.classify.train")
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument(
        "--exclude-event",
        action="append",
        default=[],
        metavar="NAME",
        help="CrisisLexT26 folder name to leave out (repeatable)",
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.data_dir or default_data_dir()
    started = time.monotonic()
    events = load_t26(root, exclude=frozenset(args.exclude_event))
    known = {e.name for e in load_t26(root)}
    unknown = set(args.exclude_event) - known
    if unknown:
        print(f"unknown event(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    print(f"training on {len(events)} events, {sum(len(e.posts) for e in events)} posts…")
    model = train(events, load_lexicon(root))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    size = args.out.stat().st_size
    print(
        f"wrote {args.out} ({size / 1e6:.1f} MB, fingerprint {model.fingerprint()}) "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
