"""Leave-one-event-out quality of the crisis-post classifier (issue 5, item 8).

For each CrisisLexT26 event: train on the other events only (never the shipped model), then
on the held-out event report macro-F1 of
  - informativeness, cold (no in-event label);
  - informativeness after the first 100 rows of the event's file have been taught to the
    OnlineLearner (the files are sorted by tweet id, i.e. by time, so these are the first
    100 posts a volunteer would have seen);
  - source, cold and after the same 100 labels;
and the same for a plain baseline: character 2–5-gram TF (hashed, L2-normalised) + logistic
regression (SGD, log loss, sklearn defaults, no class weighting); its "after 100" retrains
with the 100 in-event rows added.

All figures are measured on the rows after the first 100 of the event, so the cold and
after-100 columns score the same posts. Informativeness: "Related and informative" vs the
rest, macro over the two classes. Source: rows whose gold source is one of the six CrisisLex
sources.

Two summaries are printed, both over the same predictions (docs/decisions/classifier.md says
why the first is the headline):
  - POOLED: the predictions of every held-out event put together, then one macro-F1 (over
    the six sources for source). Each class weighs the same; an event with 3 eyewitness
    posts does not make a third of a class score on its own.
  - MEAN: macro-F1 per held-out event (source: over the sources present in that event),
    then the mean over events. The per-event lines of the table use this definition.

    python bench/classify_quality.py            # all 25 events (~10 min on 2 busy cores)
    python bench/classify_quality.py --quick    # 5 events
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from beffroi.watch.classify.crisislex import load_lexicon, load_t26
from beffroi.watch.classify.features import Featurizer
from beffroi.watch.classify.labels import SOURCES, informative_target, source_target
from beffroi.watch.classify.model import Prediction
from beffroi.watch.classify.online import OnlineLearner
from beffroi.watch.classify.train import default_config, train

QUICK = (
    "2012_Colorado_wildfires",
    "2012_Typhoon_Pablo",
    "2013_Boston_bombings",
    "2013_Manila_floods",
    "2013_Savar_building_collapse",
)
K = 100


def macro(gold: np.ndarray, pred: np.ndarray, labels: list[str] | None = None) -> float:
    return float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))


def score_inf(gold: np.ndarray, preds: list[Prediction]) -> float:
    return macro(gold, np.array([q.informative for q in preds]))


def score_src(
    gold: np.ndarray, has_src: np.ndarray, labels: list[str], preds: list[Prediction]
) -> float:
    pred = np.array([q.source for q in preds])
    return macro(gold[has_src], pred[has_src], labels)


def baseline_fit(x: sp.csr_matrix, y: np.ndarray) -> SGDClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SGDClassifier(loss="log_loss", random_state=0).fit(x, y)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only 5 held-out events")
    parser.add_argument("--events", help="comma-separated event names to hold out")
    parser.add_argument(
        "--l2", default=None, help="OnlineLearner L2[/bias L2] variants to try, comma-separated"
    )
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    events = load_t26()
    lexicon = load_lexicon()
    names = [e.name for e in events]
    held = names
    if args.quick:
        held = [n for n in names if n in QUICK]
    if args.events:
        held = args.events.split(",")
        unknown = set(held) - set(names)
        if unknown:
            print(f"unknown events: {sorted(unknown)}", file=sys.stderr)
            return 2

    started = time.monotonic()
    featurizer = Featurizer(default_config(lexicon))
    base_vec = HashingVectorizer(analyzer="char", ngram_range=(2, 5), n_features=2**18)
    feats, bfeats = [], []
    for e in events:
        texts = [p.text for p in e.posts]
        feats.append(featurizer.transform(texts))
        bfeats.append(base_vec.transform(texts))
    inf = [np.array([informative_target(p.informativeness) for p in e.posts]) for e in events]
    src = [np.array([source_target(p.source) or "" for p in e.posts]) for e in events]
    print(f"hashed {sum(len(e.posts) for e in events)} posts in {time.monotonic() - started:.0f} s")

    print(f"{'held-out event':32s} " + " ".join(f"{c:>9s}" for c in COLS), flush=True)
    rows: list[list[float]] = []
    kept: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = []
    for name in held:
        h = names.index(name)
        others = [i for i in range(len(events)) if i != h]
        model = train(
            [events[i] for i in others],
            lexicon,
            features=sp.vstack([feats[i] for i in others]).tocsr(),
        )
        posts = events[h].posts
        rest_texts = [p.text for p in posts[K:]]
        gold_inf = inf[h][K:]
        gold_src = src[h][K:]
        has_src = gold_src != ""
        src_labels = [s for s in SOURCES if s in set(gold_src[has_src])]

        cold = model.predict(rest_texts)
        warms = []
        for spec in [None] if args.l2 is None else args.l2.split(","):
            if spec is None:
                learner = OnlineLearner(model)
            else:
                l2, _, l2b = spec.partition("/")
                learner = OnlineLearner(model, l2=float(l2), l2_bias=float(l2b or 30.0), head_l2={})
            for p in posts[:K]:
                learner.learn(
                    p.text,
                    informative=informative_target(p.informativeness),
                    source=source_target(p.source),
                )
            warms.append(learner.predict(rest_texts))
        warm = warms[0]

        f_inf = functools.partial(score_inf, gold_inf)
        f_src = functools.partial(score_src, gold_src, has_src, src_labels)

        if args.no_baseline:
            extra = [f"{f_inf(w):.3f}/{f_src(w):.3f}" for w in warms]
            print(f"{name:32s} {f_inf(cold):.3f} {f_src(cold):.3f} l2 variants: {extra}")
            continue
        # Baseline: same split, plain char n-grams.
        bx = sp.vstack([bfeats[i] for i in others]).tocsr()
        by = np.concatenate([inf[i] for i in others])
        b_inf = baseline_fit(bx, by).predict(bfeats[h][K:])
        b_inf100 = baseline_fit(
            sp.vstack([bx, bfeats[h][:K]]).tocsr(), np.concatenate([by, inf[h][:K]])
        ).predict(bfeats[h][K:])
        bs = np.concatenate([src[i] for i in others])
        b_src = np.full(len(gold_src), "", dtype=object)
        b_src[has_src] = baseline_fit(bx[bs != ""], bs[bs != ""]).predict(bfeats[h][K:][has_src])

        # Predicted labels per column, kept for the pooled summary.
        preds = {
            "inf cold": np.array([q.informative for q in cold]),
            "inf +100": np.array([q.informative for q in warm]),
            "src cold": np.array([q.source for q in cold], dtype=object),
            "src +100": np.array([q.source for q in warm], dtype=object),
            "base inf": b_inf,
            "base +100": b_inf100,
            "base src": b_src,
        }
        gold = {"inf": gold_inf, "src": gold_src}
        row = [score_col(c, gold, preds[c], src_labels) for c in COLS]
        rows.append(row)
        kept.append((gold, preds))
        print(f"{name:32s} " + " ".join(f"{v:9.3f}" for v in row), flush=True)

    if not rows:
        return 0
    mean = np.mean(np.array(rows), axis=0)
    gold_all = {k: np.concatenate([g[k] for g, _ in kept]) for k in ("inf", "src")}
    pooled = [
        score_col(c, gold_all, np.concatenate([p[c] for _, p in kept]), list(SOURCES)) for c in COLS
    ]
    n = len(rows)
    print(f"{'POOLED over ' + str(n) + ' events':32s} " + " ".join(f"{v:9.3f}" for v in pooled))
    print(f"{'MEAN over ' + str(n) + ' events':32s} " + " ".join(f"{v:9.3f}" for v in mean))
    print(
        "POOLED: one macro-F1 over all held-out rows (source: the six sources). "
        "MEAN: per-event macro-F1 (source: sources present in the event), averaged."
    )
    targets = {"inf cold": 0.78, "inf +100": 0.82, "src cold": 0.50}
    for label, values in (("pooled", pooled), ("mean", mean)):
        for c, t in targets.items():
            v = values[COLS.index(c)]
            print(f"target {c} >= {t:.2f} ({label}): {v:.3f} {'met' if v >= t else 'NOT met'}")
    print(f"total {time.monotonic() - started:.0f} s, cpu {time.process_time():.0f} s")
    return 0


COLS = ["inf cold", "inf +100", "src cold", "src +100", "base inf", "base +100", "base src"]


def score_col(
    col: str, gold: dict[str, np.ndarray], pred: np.ndarray, src_labels: list[str]
) -> float:
    if "src" in col:
        has = gold["src"] != ""
        return macro(gold["src"][has], pred[has].astype(str), src_labels)
    return macro(gold["inf"], pred.astype(bool))


if __name__ == "__main__":
    # Single-threaded BLAS: on 2 shared cores the thread wake-ups cost more than they save.
    with threadpool_limits(limits=1):
        raise SystemExit(main())
