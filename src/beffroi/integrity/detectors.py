"""Detectors of automated or coordinated responses, and their combination into a score.

Everything works on a :class:`beffroi.integrity.load.Dataset` (see its module
for the normalised column names), so the same code audits a LimeSurvey export
and the app's live ballot box (build the dataset with ``load.from_table``).

How the pieces fit (the reasoning is in docs/decisions/integrity-score.md):

1. *Bursts* — a multi-scale scan statistic finds windows with far more
   arrivals than the survey's own rate just before **or** just after them.
   Comparing to the busier flank tolerates the honest waves that follow an
   invitation mail (they rise and decay), while a salvo starts and stops.
   A burst alone proves nothing: parents' groups make honest bursts too.
2. Each burst is then examined as a group: *regular spacing* of arrivals,
   *completion time*, *network concentration* (address, prefix, user agent,
   language, referrer), *answer shift* against the rest of the survey, and
   *consistency of repeated rows* (two parents of one household usually agree).
   Each test is one-sided with a strict significance level.
3. A burst with at least two significant group tests becomes a cluster; its
   members are scored by how much they individually share the cluster's
   anomalies (its over-represented networks, its short completion times, its
   shifted answers), so honest people who happened to answer during a salvo
   are not swept away with it.
4. Response-level detectors that need no burst (reused tokens, rare exact
   duplicates, very fast completion) add evidence through a noisy-OR.

A response is *flagged* when its score reaches :data:`THRESHOLD`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special

from beffroi.integrity import _stats
from beffroi.integrity.load import Dataset, Question

THRESHOLD = 0.5
# Detector keys (switchable in scenarios) and their French names.
DETECTORS: dict[str, str] = {
    "rafales": "rafales d'arrivées",
    "espacement": "espacement régulier",
    "duree": "temps de remplissage",
    "reseau": "concentration réseau",
    "deplacement": "déplacement des réponses",
    "coherence": "cohérence des lignes d'un formulaire",
    "doublons": "réponses identiques",
    "jetons": "état des jetons",
}
GROUP_CHECKS = ("espacement", "duree", "reseau", "deplacement", "coherence")
# Confidence of a cluster given the number of significant group tests.
_CONFIDENCE = {0: 0.0, 1: 0.0, 2: 0.75, 3: 0.9, 4: 0.95, 5: 0.98}
_SCALES = (300.0, 900.0, 1800.0, 3600.0, 7200.0)
_BURST_P = 1e-7
_GROUP_P = 1e-4
_MIN_DUP_COLUMNS = 10
# A salvo before the consultation has a rhythm of its own (decision audit-first-salvo):
# at least _SALVO_COUNT arrivals within _SALVO_SECONDS, with fewer than _SALVO_HISTORY
# arrivals before them, is flagged on its rate alone, with _SALVO_CONFIDENCE (that of
# two anomalies). The scan above compares with the survey's own rate, which does not
# exist yet: the affair's 500 answers in 32 s were the survey, and went unflagged.
_SALVO_COUNT = 50
_SALVO_SECONDS = 10.0
_SALVO_HISTORY = 30
_SALVO_CONFIDENCE = 0.75
# The verdict quotes the rate below which only a group's anomalies can flag a script.
SALVO_COUNT, SALVO_SECONDS = _SALVO_COUNT, _SALVO_SECONDS
# After a history, such a stretch is a salvo when its busiest _SALVO_SECONDS are beyond
# the survey's calm rate (p < _BURST_P): the busier of its calm flanks (_SALVO_FLANK
# each side) or the calm part's busiest hour, whichever is higher.
_SALVO_FLANK = 300.0
_CALM_HOUR = 3600.0
_CALM_SPAN_MIN = 600.0
# Its shape then decides whether its rate alone suffices (decision audit-honest-rush): a
# salvo stops, a rush of people told at once decays. The minute after the stretch is
# compared with its last _SALVO_SECONDS, and the half-minute after its busiest window
# with that window; either drop beyond _BURST_P is a stop. With less than
# _SHAPE_AFTER observed after it (a live audit during the salvo), the shape is unknown
# and the rate judges alone, as before.
_SHAPE_AFTER = 60.0
_SHAPE_POST = 30.0
# How much sharing a cluster's anomaly says about one member: a network or a
# completion time is the member's own trace; leaning the same way as the cluster
# in one's answers is what many honest people do too.
_FIT_WEIGHT = {"reseau": 1.0, "duree": 1.0, "deplacement": 0.5}

Progress = Callable[[float, str], None]


def _noop(frac: float, msg: str) -> None:
    return None


@dataclass
class GroupCheck:
    key: str
    significant: bool
    p: float
    evidence: str
    # Members (row indices) that individually share the anomaly; None: not individual.
    sharing: np.ndarray | None = None
    # False when the burst had too few answers (or columns) for the test to say anything:
    # the list of bursts let pass names only the tests that judged them.
    ran: bool = True


@dataclass
class Burst:
    rows: np.ndarray  # row indices, in arrival order
    start: float
    end: float
    expected: float
    p: float
    checks: list[GroupCheck] = field(default_factory=list)
    evidence: str = ""
    # Rows of a salvo with no history before it (find_salvos), flagged on their rate
    # alone; None when the burst holds none.
    salvo: np.ndarray | None = None
    salvo_evidence: str = ""
    # The scan's best window, the one ``expected`` and ``p`` come from: ``p`` is the
    # Poisson probability of ``peak_size`` arrivals in ``peak_seconds`` at ``expected``
    # per second. A merged burst is wider (every significant window of any scale, up
    # to 2 h, background answers included) and its own rate says nothing of ``p``.
    # Zero size when unknown (a burst made for a salvo: its window is the salvo's).
    peak_start: float = 0.0
    peak_seconds: float = 0.0
    peak_size: int = 0


@dataclass
class Encoded:
    """Answers as small integers, per question: (n, rows) with -1 for no answer."""

    question: Question
    categories: list[str]
    codes: np.ndarray


@dataclass
class PassedStretch:
    """A dense stretch (``_SALVO_COUNT`` in ``_SALVO_SECONDS``) that came after a history
    and that the survey's rate around it explains (p ≥ ``_BURST_P``), held by no burst:
    examined and let pass, which the report lists rather than leave unsaid."""

    rows: np.ndarray
    start: float
    end: float
    busiest: int  # arrivals in its busiest _SALVO_SECONDS
    judge: float  # the rate (per second) the test used: busier flank or busiest calm hour
    p: float
    # Improbable under that rate (or with no rate yet: NaN judge) but shaped like a rush,
    # still arriving after it: ``next_minute`` arrivals in the _SHAPE_AFTER that follow.
    decays: bool = False
    next_minute: int = 0


@dataclass
class Analysis:
    """Everything the detectors found, before the scores are combined."""

    n: int
    ids: pa.Array
    complete: np.ndarray
    bursts: list[Burst]
    individual: dict[str, np.ndarray]  # detector key -> evidence strength per row
    individual_reason: dict[str, tuple[np.ndarray, list[str]]]  # key -> (text idx, texts)
    encoded: list[Encoded]
    submitted: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    passed_stretches: list[PassedStretch] = field(default_factory=list)


@dataclass
class Scores:
    score: np.ndarray
    flagged: np.ndarray
    cluster: np.ndarray  # cluster number (1-based), 0 for none
    clusters: list[dict[str, object]]


# LimeSurvey's fixed answer codes (yes/no/uncertain questions and arrays).
DEFAULT_ANSWERS = {"Y": "Oui", "N": "Non", "U": "Incertain"}


def answer_label(q: Question, code: str) -> str:
    return q.options.get(code) or DEFAULT_ANSWERS.get(code, code)


def encode_answers(ds: Dataset) -> list[Encoded]:
    out = []
    for q in ds.questions:
        cats: list[str] = []
        cols = []
        for col, _ in q.rows:
            enc = pc.dictionary_encode(ds.table.column(col)).combine_chunks()
            d = enc.dictionary.to_pylist()
            idx = enc.indices.to_numpy(zero_copy_only=False)
            idx = np.where(pc.is_null(enc.indices).to_numpy(zero_copy_only=False), -1, idx)
            remap = []
            for v in d:
                if v not in cats:
                    cats.append(v)
                remap.append(cats.index(v))
            r = np.asarray([*remap, -1], dtype=np.int16)
            cols.append(r[np.where(idx < 0, len(remap), idx).astype(np.int64)])
        out.append(Encoded(q, cats, np.stack(cols, axis=1)))
    return out


def _fmt_dur(secs: float) -> str:
    secs = float(secs)
    if secs < 90:
        return f"{secs:.0f} s"
    if secs < 5400:
        return f"{secs / 60:.0f} min"
    return f"{secs / 3600:.1f} h".replace(".", ",")


def _fmt_rate(per_sec: float) -> str:
    per_hour = per_sec * 3600
    if per_hour >= 1:
        return f"{per_hour:.0f} par heure"
    return f"{per_hour * 24:.1f} par jour".replace(".", ",")


def _col(ds: Dataset, name: str) -> np.ndarray | None:
    if name not in ds.table.column_names:
        return None
    return np.asarray(ds.table.column(name).to_numpy(), dtype=float)


def _codes(ds: Dataset, name: str) -> np.ndarray | None:
    if name not in ds.table.column_names:
        return None
    enc = pc.dictionary_encode(ds.table.column(name)).combine_chunks()
    idx = enc.indices.to_numpy(zero_copy_only=False)
    nulls = pc.is_null(enc.indices).to_numpy(zero_copy_only=False)
    return np.where(nulls, -1, np.nan_to_num(idx)).astype(np.int64)


# --------------------------------------------------------------------------- bursts


def find_bursts(times: np.ndarray, rows: np.ndarray) -> list[Burst]:
    """Windows much busier than both their flanks, at several scales, merged.

    ``times`` are sorted.  Counting works on one-minute bins, so the cost depends on
    the survey's duration, not on its number of responses.
    """
    n = len(times)
    if n < 10:
        return []
    t0 = float(times[0])
    span = max(float(times[-1]) - t0, 1.0)
    step = max(60.0, span / 2_000_000)
    b = ((times - t0) // step).astype(np.int64)
    nb = int(b[-1]) + 1
    cum = np.concatenate([[0], np.cumsum(np.bincount(b, minlength=nb))])
    floor = 0.25 * n / span  # a quarter of the survey's mean rate
    cover = np.zeros(nb + 1, dtype=np.int64)
    best_p = np.ones(nb)
    expected_at = np.zeros(nb)
    # The window each best p was found in: its count and length (it starts at its bin).
    best_count = np.zeros(nb, dtype=np.int64)
    best_length = np.zeros(nb)
    starts = np.flatnonzero(np.diff(cum) > 0)  # windows start where someone arrived
    for w in _SCALES:
        wb = max(1, round(w / step))
        fb = 3 * wb
        j = starts
        e = np.minimum(j + wb, nb)
        cnt = cum[e] - cum[j]
        before = cum[j] - cum[np.maximum(j - fb, 0)]
        after = cum[np.minimum(e + fb, nb)] - cum[e]
        # Flanks cut by the survey's opening or closing are scaled to their real length.
        lb = (np.minimum(j, fb) + 1) * step
        la = (np.minimum(nb - e, fb)) * step + 1.0
        rate = np.maximum.reduce(
            [before / lb, np.where(la > wb * step, after / la, 0.0), np.full(len(j), floor)]
        )
        lam = rate * wb * step
        cand = (cnt >= 8) & (cnt >= 3 * lam)
        if not cand.any():
            continue
        p = np.ones(len(j))
        p[cand] = _stats.poisson_sf_ge(cnt[cand], lam[cand])
        sig = cand & (p < _BURST_P)
        cover += np.bincount(j[sig], minlength=nb + 1)
        cover -= np.bincount(e[sig], minlength=nb + 1)
        better = np.zeros(nb, dtype=bool)
        better[j[sig]] = p[sig] < best_p[j[sig]]
        pj = np.ones(nb)
        pj[j[sig]] = p[sig]
        lj = np.zeros(nb)
        lj[j[sig]] = lam[sig] / (wb * step)
        cj = np.zeros(nb, dtype=np.int64)
        cj[j[sig]] = cnt[sig]
        best_p[better] = pj[better]
        expected_at[better] = lj[better]
        best_count[better] = cj[better]
        best_length[better] = wb * step
    inside = np.cumsum(cover[:-1]) > 0
    bursts: list[Burst] = []
    if not inside.any():
        return bursts
    edges = np.diff(np.concatenate([[0], inside.astype(np.int8), [0]]))
    for lo, hi in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        r0, r1 = int(cum[lo]), int(cum[hi])
        if r1 - r0 < 2:
            continue
        seg = slice(lo, hi)
        k = lo + int(best_p[seg].argmin())
        burst = Burst(
            rows[r0:r1],
            float(times[r0]),
            float(times[r1 - 1]),
            float(expected_at[k]),
            float(best_p[k]),
        )
        burst.peak_start = t0 + k * step
        burst.peak_seconds = float(best_length[k])
        burst.peak_size = int(best_count[k])
        bursts.append(burst)
    return bursts


def _dense_stretches(times: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """``(lo, hi)`` index ranges of the sorted ``times`` where some ``_SALVO_SECONDS``
    hold at least ``_SALVO_COUNT`` arrivals, and each arrival's count within the
    ``_SALVO_SECONDS`` from it (windows start at an arrival)."""
    n = len(times)
    ends = np.searchsorted(times, times + _SALVO_SECONDS, side="left")
    counts = ends - np.arange(n)
    if n < _SALVO_COUNT:
        return [], counts
    dense = np.flatnonzero(counts >= _SALVO_COUNT)
    if not len(dense):
        return [], counts
    # Arrivals k and k + 1 are linked when one dense window holds both; a stretch is a
    # run of links (two salvos an hour apart are two stretches, with nothing between).
    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, dense, 1)
    np.add.at(cover, ends[dense] - 1, -1)
    linked = np.cumsum(cover[:-1])[:-1] > 0
    edges = np.diff(np.concatenate([[0], linked.astype(np.int8), [0]]))
    out = [
        (int(lo), int(last) + 1)  # the last link joins hi - 1 to hi
        for lo, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
    ]
    return out, counts


def find_salvos(times: np.ndarray) -> list[tuple[int, int]]:
    """``(lo, hi)`` index ranges (``hi`` excluded) of the sorted ``times`` where some
    ``_SALVO_SECONDS`` hold at least ``_SALVO_COUNT`` arrivals, and fewer than
    ``_SALVO_HISTORY`` arrivals outside such stretches came before: salvos that no
    rate of the survey's own can judge, since it has none yet."""
    return [s[:2] for s in _judge_stretches_full(times) if math.isnan(s[2]) and s[6] == _SALVO]


def find_paced_salvos(times: np.ndarray) -> list[tuple[int, int, float, float]]:
    """``(lo, hi, rate, p)`` of the dense stretches (as in :func:`find_salvos`) that come
    after a history and that the survey's own rate cannot explain: ``p`` is the Poisson
    probability of the stretch's busiest ``_SALVO_SECONDS`` under the busier of its
    flanks or the calm part's busiest hour, below ``_BURST_P``; ``rate`` (per second)
    is the calm rhythm around it, for the evidence (decision audit-first-salvo)."""
    return [s[:4] for s in _judge_stretches_full(times) if not math.isnan(s[2]) and s[6] == _SALVO]


def _flank_rate(ts: np.ndarray, t_lo: float, t_hi: float, span: np.ndarray | None = None) -> float:
    """The busier of the rates of ``ts`` in the _SALVO_FLANK before ``t_lo`` and after
    ``t_hi``, each cut by the survey's start or end (``span``: all its times) and then
    measured on its real length, at least _SALVO_SECONDS."""
    whole = ts if span is None else span
    len_b = max(min(_SALVO_FLANK, t_lo - float(whole[0])), _SALVO_SECONDS)
    len_a = max(min(_SALVO_FLANK, float(whole[-1]) - t_hi), _SALVO_SECONDS)
    before = np.searchsorted(ts, [t_lo - _SALVO_FLANK, t_lo], side="left")
    after = np.searchsorted(ts, [t_hi, t_hi + _SALVO_FLANK], side="right")
    return max(float(before[1] - before[0]) / len_b, float(after[1] - after[0]) / len_a)


def _judge_stretches(times: np.ndarray) -> list[tuple[int, int, float, float]]:
    """The dense stretches judged salvos, with the calm rate that judged them (NaN: no
    history yet, a salvo on its rate and shape) and their busiest window's probability."""
    return [s[:4] for s in _judge_stretches_full(times) if s[6] == _SALVO]


# What the shape test said of a dense stretch (the last field of _judge_stretches_full).
_SALVO, _PROBABLE, _DECAYS = "salvo", "probable", "decays"


def _in(times: np.ndarray, lo: float, hi: float) -> int:
    """Arrivals at ``lo`` or later and before ``hi`` (``times`` sorted)."""
    a, b = np.searchsorted(times, [lo, hi], side="left")
    return int(b - a)


def _unlikely(k: int, mean: float) -> bool:
    """At least ``k`` arrivals where ``mean`` were expected is beyond the scan's level."""
    p = _stats.poisson_sf_ge(np.asarray([k]), np.asarray([max(mean, 1e-9)]))[0]
    return bool(p < _BURST_P)


def _stops(
    times: np.ndarray, lo: int, hi: int, counts: np.ndarray
) -> tuple[bool, int, tuple[int, int]]:
    """Does the dense stretch ``times[lo:hi]`` stop, as a salvo does, rather than decay as
    a rush of people told at once (a mailing, a newsletter) does? And how many arrived in
    the _SHAPE_AFTER after it.

    A rush's busiest seconds are followed by seconds almost as busy (people read their
    mail over minutes, not seconds), and when its arrivals fall below the dense rate the
    minute after still holds people arriving at about that rate. A salvo's busiest
    window is followed by the calm survey, or by a second salvo's start, and its last
    seconds by the calm. Either drop, beyond the scan's level, is a stop. Not observed
    (less than _SHAPE_AFTER recorded after it): a stop, the rate judges as before.

    The last field is the salvo's own part of the stretch: all of it, but when only the
    drop after the busiest window stops it (a salvo sent during a rush, whose dense
    seconds it joins), the windows that the rate after it cannot explain; the rush's
    people before and after them are not the salvo's."""
    whole = (lo, hi)
    t_hi = float(times[hi - 1])
    nxt = _in(times, np.nextafter(t_hi, math.inf), t_hi + _SHAPE_AFTER + 1e-9)
    if float(times[-1]) - t_hi < _SHAPE_AFTER:
        return True, nxt, whole
    last = _in(times, t_hi - _SALVO_SECONDS, np.nextafter(t_hi, math.inf))
    if _unlikely(last, nxt * _SALVO_SECONDS / _SHAPE_AFTER):
        return True, nxt, whole
    i = lo + int(np.argmax(counts[lo:hi]))
    peak_end = float(times[i]) + _SALVO_SECONDS
    post = _in(times, peak_end, peak_end + _SHAPE_POST)
    mean = max(post * _SALVO_SECONDS / _SHAPE_POST, 1e-9)
    if not _unlikely(int(counts[i]), mean):
        return False, nxt, whole
    beyond = lo + np.flatnonzero(
        _stats.poisson_sf_ge(counts[lo:hi], np.full(hi - lo, mean)) < _BURST_P
    )
    return True, nxt, (int(beyond[0]), min(int((beyond + counts[beyond]).max()), hi))


def _judge_stretches_full(
    times: np.ndarray,
) -> list[tuple[int, int, float, float, float, int, str, int]]:
    """Every dense stretch with the calm rate that judges it (NaN: no history yet), its
    busiest window's probability, the rate the test used (per second), the busiest
    window's count, what the stretch is (``_SALVO``; ``_PROBABLE`` under the survey's
    rate; ``_DECAYS``: improbable, or with no rate yet, but shaped like a rush) and the
    arrivals in the minute after it: what the report quotes for a stretch let pass."""
    stretches, counts = _dense_stretches(times)
    if not stretches:
        return []
    # The calm part: arrivals outside every stretch (salvos are nobody's reference).
    calm_mask = np.ones(len(times), dtype=bool)
    for lo, hi in stretches:
        calm_mask[lo:hi] = False
    calm = times[calm_mask]
    # Its busiest hour (over its own span when shorter, but no less than _CALM_SPAN_MIN),
    # a floor under every stretch's reference: a salvo must beat the survey's best hour.
    busiest = 0.0
    if len(calm):
        per_hour = np.searchsorted(calm, calm + _CALM_HOUR, side="left") - np.arange(len(calm))
        span = min(max(float(calm[-1] - calm[0]), _CALM_SPAN_MIN), _CALM_HOUR)
        busiest = float(per_hour.max()) / span
    out: list[tuple[int, int, float, float, float, int, str, int]] = []
    earlier = 0  # arrivals in the stretches already found
    for lo, hi in stretches:
        k = int(counts[lo:hi].max())
        stops, nxt, (c_lo, c_hi) = _stops(times, lo, hi, counts)
        shape = _SALVO if stops else _DECAYS
        if lo - earlier < _SALVO_HISTORY:
            out.append((c_lo, c_hi, math.nan, 0.0, math.nan, k, shape, nxt))
        else:
            t_lo, t_hi = float(times[lo]), float(times[hi - 1])
            # The busier flank, as in the scan: an honest rush rises and decays around
            # its busiest seconds, a salvo starts and stops.
            # The test counts every arrival but the stretch's in its flanks: a rush's
            # other busy seconds are its own rhythm (and a second salvo nearby only
            # makes the test stricter). The evidence quotes the calm rhythm around.
            judge = max(_flank_rate(times, t_lo, t_hi), busiest)
            p = float(
                _stats.poisson_sf_ge(np.asarray([k]), np.asarray([judge * _SALVO_SECONDS]))[0]
            )
            calm_rate = max(_flank_rate(calm, t_lo, t_hi, times), busiest)
            if p >= _BURST_P:
                out.append((lo, hi, calm_rate, p, judge, k, _PROBABLE, nxt))
            elif shape == _SALVO:
                out.append((c_lo, c_hi, calm_rate, p, judge, k, shape, nxt))
            else:
                out.append((lo, hi, calm_rate, p, judge, k, shape, nxt))
        earlier += hi - lo
    return out


def _salvo_evidence(times: np.ndarray) -> str:
    n = len(times)
    return (
        f"{n} réponses en {_fmt_dur(max(float(times[-1] - times[0]), 1.0))} avant que le "
        f"rythme habituel de la consultation soit connu : au moins {_SALVO_COUNT} en "
        f"{_fmt_dur(_SALVO_SECONDS)}, un rythme qu'aucune ouverture ordinaire n'atteint"
    )


def _paced_evidence(times: np.ndarray, rate: float) -> str:
    span = _fmt_dur(max(float(times[-1] - times[0]), 1.0))
    return (
        f"{len(times)} réponses en {span}, alors que le rythme habituel autour est "
        f"d'environ {_fmt_rate(rate)}"
    )


def _owners(order: np.ndarray, bursts: list[Burst]) -> np.ndarray:
    """For each position of ``order``, the index of the burst holding its row, or -1."""
    owner = np.full(len(order), -1, dtype=np.int64)
    if not bursts:
        return owner
    pos = np.full(int(order.max()) + 1, -1, dtype=np.int64)
    pos[order] = np.arange(len(order))
    # Written in reverse, so that the first burst holding a row is the one kept.
    for k in range(len(bursts) - 1, -1, -1):
        owner[pos[bursts[k].rows]] = k
    return owner


def _attach_salvos(
    times: np.ndarray,
    order: np.ndarray,
    bursts: list[Burst],
    stretches: list[tuple[int, int, float, float]] | None = None,
) -> list[Burst]:
    """Mark the salvos (``find_salvos``, ``find_paced_salvos``) in the bursts that hold
    them; a salvo that no burst holds becomes a burst of its own (its expected rate
    unknown, NaN, before any history; the calm rate after one). ``stretches``: the
    salvos :func:`_judge_stretches` found, when already known."""
    out = list(bursts)
    judged = _judge_stretches(times) if stretches is None else stretches
    if not judged:
        return out
    # Where each row sits in ``order``, and which burst (index in ``out``) holds each
    # position: testing every salvo against every burst (np.isin) took minutes on a
    # file of 2,000 salvos. Bursts hold disjoint rows; the first that holds any of a
    # salvo's is its holder, as before.
    pos = np.full(int(order.max()) + 1, -1, dtype=np.int64)
    pos[order] = np.arange(len(order))
    owner = _owners(order, out)
    for lo, hi, rate, p in judged:
        rows = order[lo:hi]
        held_by = owner[lo:hi]
        held_by = held_by[held_by >= 0]
        if len(held_by):
            holder = out[int(held_by.min())]
        else:
            holder = Burst(rows, float(times[lo]), float(times[hi - 1]), rate, p)
            owner[lo:hi] = len(out)
            out.append(holder)
        mine = rows if holder.salvo is None else np.union1d(holder.salvo, rows)
        holder.salvo = mine
        held = np.sort(times[pos[mine]])
        # The words follow the rule that caught it: no rate yet, or beyond the calm one.
        holder.salvo_evidence = (
            _salvo_evidence(held) if math.isnan(rate) else _paced_evidence(held, rate)
        )
    out.sort(key=lambda b: b.start)
    return out


# --------------------------------------------------------------------------- group tests


# Gaps this regular are a clock; a larger shape would say nothing more.
_SHAPE_MAX = 1e6
# Beyond this the evidence says "more than 1000" (the gaps differ by a few per cent at most).
_SHAPE_SHOWN_MAX = 1000.0


def _gamma_shape(x: np.ndarray) -> float:
    """Maximum-likelihood shape of a gamma law (Minka's closed-form start + 2 Newton steps)."""
    s = float(np.log(x.mean()) - np.log(x).mean())
    # The shape is about 1/(2s) for small s. Gaps equal but for rounding (a script with a
    # fixed delay) leave s at ~1e-17, where Newton's denominator underflows to 0 and the
    # shape became NaN: the most regular arrivals were then never called regular.
    if s <= 1 / (2 * _SHAPE_MAX):
        return _SHAPE_MAX
    k = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(2):
        k -= (np.log(k) - special.digamma(k) - s) / (1 / k - special.polygamma(1, k))
    return float(min(k, _SHAPE_MAX))


def _unrounded(times: np.ndarray) -> np.ndarray:
    """Times recorded to the whole second (LimeSurvey's) spread uniformly within their
    second, with a fixed seed (the same file gives the same audit).

    Rounding down and dropping the resulting zero gaps took the short gaps that mark
    independent arrivals away: honest people arriving 1 a second looked like a clock.
    Given how many arrive in each second, Poisson arrivals are uniform within it, so
    the jitter restores their law exactly; a script's gaps of seconds keep their
    regularity (a fixed 3 s delay becomes 2 to 4 s, still far from exponential)."""
    if not len(times) or not np.all(times == np.floor(times)):
        return times
    rng = np.random.default_rng(len(times))
    return np.sort(times + rng.uniform(0.0, 1.0, len(times)))


# A fixed gap of one second, or below (_fmt_dur rounds it to « 0 s »), in words: « une
# toutes les 1 s » is not French, « une toutes les 0 s » not sense. _fmt_dur never
# writes « 1 min » or « 1 h » (below 90 s it counts seconds, below 1,5 h minutes).
_EVERY_ONE = {"1 s": "une par seconde", "0 s": "plusieurs par seconde"}


def _check_spacing(b: Burst, times_sorted: np.ndarray) -> GroupCheck:
    """Are the gaps between arrivals more regular than independent people's?

    Independent arrivals have exponential gaps (a gamma law of shape 1); a script
    waiting "1 to 30 s" between forms gives a shape near 3.  A likelihood-ratio
    test of shape 1 against a free shape > 1, on the burst's central 80 % (its
    edges carry ordinary traffic).
    """
    n = len(times_sorted)
    core = times_sorted[n // 10 : n - n // 10]
    shown = np.diff(core)
    shown = shown[shown > 0]
    gaps = np.diff(_unrounded(core))
    gaps = gaps[gaps > 0]
    if len(gaps) < 10:
        return GroupCheck("espacement", False, 1.0, "", ran=False)
    shape = _gamma_shape(gaps)
    mean = float(gaps.mean())
    m = len(gaps)
    # Log-likelihoods of the gamma (shape fitted, scale = mean/shape) and of the exponential.
    ll_gamma = float(
        m * (shape * np.log(shape / mean) - special.gammaln(shape))
        + (shape - 1) * np.log(gaps).sum()
        - shape / mean * gaps.sum()
    )
    ll_exp = float(-m * np.log(mean) - gaps.sum() / mean)
    lr = max(2.0 * (ll_gamma - ll_exp), 0.0)
    p = _stats.chi2_sf(lr, 1) / 2 if shape > 1 else 1.0
    sig = shape > 1.5 and p < _GROUP_P
    # The gaps shown are the file's own (whole seconds stay whole seconds).
    shown = shown if len(shown) else gaps
    low, high = (_fmt_dur(v) for v in np.percentile(shown, [5, 95]))
    # A script with a fixed delay gives one gap: "every 1 s to 1 s (median 1 s)" and an
    # index in the millions would read as a bug, not as the evidence it is.
    every = f"{low}" if low == high else f"{low} à {high} (médiane {_fmt_dur(np.median(shown))})"
    # « une toutes les 1 s » is not French: one unit is said in words.
    pace = _EVERY_ONE.get(every, f"une toutes les {every}")
    index = (
        f"indice de régularité {shape:.1f} au lieu de 1"
        if shape < _SHAPE_SHOWN_MAX
        else "écarts presque tous égaux : indice de régularité de plus de 1000 au lieu de 1"
    )
    text = (
        f"arrivées régulières : {pace}, alors que des personnes "
        f"indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
        f"quelques très longs ({index})"
    ).replace(".", ",")
    return GroupCheck("espacement", sig, p, text)


@dataclass
class _CalmDurations:
    sample: np.ndarray  # a bounded sample of the calm part's completion times
    median: float
    fast_cut: float


def _calm_durations(dur: np.ndarray, calm: np.ndarray) -> _CalmDurations | None:
    d = dur[calm]
    d = d[~np.isnan(d)]
    if len(d) < 20:
        return None
    med = float(np.median(d))
    cut = max(min(float(np.percentile(d, 1)), 0.3 * med), 1.0)
    if len(d) > 5000:
        d = np.random.default_rng(0).choice(d, 5000, replace=False)
    return _CalmDurations(d, med, cut)


def _check_duration(members: np.ndarray, dur: np.ndarray, calm: _CalmDurations) -> GroupCheck:
    d_in = dur[members]
    d_in = d_in[~np.isnan(d_in)]
    if len(d_in) < 5:
        return GroupCheck("duree", False, 1.0, "", ran=False)
    med_in = float(np.median(d_in))
    p = _stats.mannwhitney_less_p(d_in, calm.sample)
    sig = p < _GROUP_P and med_in < 0.5 * calm.median
    share = dur[members] < calm.fast_cut
    fast = int(share.sum())
    text = (
        f"temps de remplissage médian {_fmt_dur(med_in)} contre {_fmt_dur(calm.median)} "
        f"ailleurs ; {fast} {_plural(fast, 'réponse', 'réponses')} en moins de "
        f"{_fmt_dur(calm.fast_cut)}"
    )
    return GroupCheck("duree", sig, p, text, members[share])


# What the network check counts: column, the thing in the singular and in the plural,
# and whether it is feminine (« 1 adresse IP jamais vue », « 2 réseaux jamais vus »).
_NET_COLS = (
    ("net", "réseau (/24 ou /48)", "réseaux (/24 ou /48)", False),
    ("ip", "adresse IP", "adresses IP", True),
    ("ua", "navigateur", "navigateurs", False),
    ("ref", "URL de provenance", "URL de provenance", True),
    ("lang", "langue", "langues", True),
)


def _plural(n: int, one: str, several: str) -> str:
    """French agreement: 0 and 1 take the singular."""
    return one if n <= 1 else several


def _seen_outside(k: int, feminine: bool, outside: int) -> str:
    """How often ``k`` values were seen outside the bursts, the participle agreeing
    with them."""
    seen = "vu" + ("e" if feminine else "") + ("s" if k > 1 else "")
    if outside == 0:
        return f"jamais {seen} hors des rafales"
    return f"{seen} seulement {outside} fois hors des rafales"


def _check_network(
    members: np.ndarray, codes: dict[str, np.ndarray], totals: dict[str, np.ndarray]
) -> GroupCheck:
    share_any = np.zeros(len(members), dtype=bool)
    texts = []
    p_min = 1.0
    ran = False
    for col, one, several, feminine in _NET_COLS:
        c = codes.get(col)
        if c is None:
            continue
        v = c[members]
        ok = v >= 0
        if ok.sum() < 5:
            continue
        ran = True
        vals, cnt = np.unique(v[ok], return_counts=True)
        hot = vals[cnt >= 3]
        c_hot = cnt[cnt >= 3]
        if not len(hot):
            continue
        cout = totals[col]
        n_out_known = max(int(cout.sum()), 1)
        # Expected count inside from the value's share outside (with a pseudo-count
        # so that values never seen outside are not infinitely surprising).
        exp = ok.sum() * (cout[hot] + 0.5) / (n_out_known + 0.5 * len(cout))
        p = _stats.poisson_sf_ge(c_hot, exp)
        over = hot[p < 1e-6]
        if not len(over):
            continue
        inside = np.isin(v, over)
        frac = inside.sum() / len(members)
        p_min = min(p_min, float(p.min()))
        if frac >= 0.3:
            share_any |= inside
            outside = int(cout[over].sum())
            k = len(over)
            # At least 3 responses share each value kept: « réponses » is always plural.
            texts.append(
                f"{int(inside.sum())} réponses viennent de {k} {_plural(k, one, several)} "
                f"{_seen_outside(k, feminine, outside)}"
            )
    if texts:
        return GroupCheck("reseau", True, p_min, " ; ".join(texts), members[share_any])
    return GroupCheck("reseau", False, 1.0, "", ran=ran)


def _answer_counts(encoded: list[Encoded], rows: np.ndarray) -> list[np.ndarray]:
    out = []
    for enc in encoded:
        k = len(enc.categories)
        c = np.zeros(k)
        for r in range(enc.codes.shape[1]):
            a = enc.codes[rows, r]
            c += np.bincount(a[a >= 0], minlength=k)
        out.append(c)
    return out


def _check_shift(
    members: np.ndarray, calm_counts: list[np.ndarray], encoded: list[Encoded]
) -> tuple[GroupCheck, np.ndarray]:
    """Answer distribution inside vs outside; also each member's log-likelihood ratio."""
    llr = np.zeros(len(members))
    best_p, best_text = 1.0, ""
    n_tests = 0
    texts = []
    for enc, cout in zip(encoded, calm_counts, strict=True):
        k = len(enc.categories)
        if k < 2:
            continue
        cin = np.zeros(k)
        for r in range(enc.codes.shape[1]):
            a = enc.codes[members, r]
            cin += np.bincount(a[a >= 0], minlength=k)
        if cin.sum() < 10 or cout.sum() < 10:
            continue
        n_tests += 1
        tab = np.stack([cin, cout])
        tab = tab[:, tab.sum(axis=0) > 0]
        if tab.shape[1] < 2:
            continue
        p = _stats.chi2_contingency_p(tab)
        pin = (cin + 0.5) / (cin.sum() + 0.5 * k)
        pout = (cout + 0.5) / (cout.sum() + 0.5 * k)
        w = np.log(pin / pout)
        for r in range(enc.codes.shape[1]):
            a = enc.codes[members, r]
            llr += np.where(a >= 0, w[np.maximum(a, 0)], 0.0)
        j = int(np.argmax(np.abs(pin - pout)))
        if p < best_p:
            best_p = p
        if p * max(len(encoded), 1) < _GROUP_P:
            texts.append(
                f"« {answer_label(enc.question, enc.categories[j])} » à {enc.question.label} : "
                f"{100 * pin[j]:.0f} % dans le groupe contre {100 * pout[j]:.0f} % dans le reste"
            )
        best_text = texts[0] if texts else best_text
    sig = bool(texts)
    text = "réponses très différentes du reste : " + " ; ".join(texts[:3]) if sig else ""
    check = GroupCheck(
        "deplacement", sig, best_p * max(n_tests, 1), text, members[llr > 0], ran=n_tests > 0
    )
    return check, llr


def _agreement(encoded: list[Encoded], rows: np.ndarray) -> tuple[int, int]:
    agree = total = 0
    for enc in encoded:
        if not enc.question.repeated or enc.codes.shape[1] < 2:
            continue
        c = enc.codes[rows]
        both = (c[:, 0] >= 0) & (c[:, 1] >= 0)
        total += int(both.sum())
        agree += int((both & (c[:, 0] == c[:, 1])).sum())
    return agree, total


def _check_coherence(
    members: np.ndarray, encoded: list[Encoded], a_out: int, n_out: int
) -> GroupCheck:
    a_in, n_in = _agreement(encoded, members)
    if n_in < 10 or n_out < 30:
        return GroupCheck("coherence", False, 1.0, "", ran=False)
    r_in, r_out = a_in / n_in, a_out / n_out
    p = _stats.binom_cdf(a_in, n_in, r_out)
    sig = p < _GROUP_P and r_in < r_out - 0.1
    text = (
        f"les lignes d'un même formulaire (parent 1 et parent 2) ne concordent que dans "
        f"{100 * r_in:.0f} % des cas, contre {100 * r_out:.0f} % ailleurs : comme si chaque "
        f"ligne avait été tirée séparément"
    )
    return GroupCheck("coherence", sig, p, text)


# --------------------------------------------------------------------------- standalone


def _tokens(ds: Dataset, complete: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    n = ds.table.num_rows
    strength = np.zeros(n)
    reason = np.full(n, -1, dtype=np.int32)
    texts: list[str] = []
    c = _codes(ds, "token")
    if c is None:
        return strength, reason, texts
    has = c >= 0
    if has.sum() < 0.5 * n:
        return strength, reason, texts
    counts = np.bincount(c[has])
    reused = has & (counts[np.maximum(c, 0)] > 1)
    if reused.any():
        texts.append("jeton utilisé par plusieurs réponses")
        strength[reused] = 0.9
        reason[reused] = len(texts) - 1
    missing = ~has & complete
    if missing.any():
        texts.append("réponse sans jeton dans une enquête à jetons")
        strength[missing] = 0.7
        reason[missing] = len(texts) - 1
    return strength, reason, texts


def _duplicates(
    encoded: list[Encoded], n: int, text_codes: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Identical answer vectors that chance would almost never produce.

    Short questionnaires repeat the same vectors honestly, so a duplicate only
    counts when its probability under the survey's own per-column answer shares
    makes the observed count very unlikely.
    """
    strength = np.zeros(n)
    reason = np.full(n, -1, dtype=np.int32)
    texts: list[str] = []
    cols = [e.codes[:, r] for e in encoded for r in range(e.codes.shape[1])] + text_codes
    # Answers within a form are correlated (parents agree, opinions cluster), so the
    # independence model below is only trusted for questionnaires with many columns.
    if len(cols) < _MIN_DUP_COLUMNS or n < 20:
        return strength, reason, texts
    mat = np.stack(cols, axis=1).astype(np.int64)
    answered = (mat >= 0).sum(axis=1)
    m = mat.shape[1]
    logp_col = np.zeros((n, m))
    for j in range(m):
        v = mat[:, j] + 1
        freq = np.bincount(v) / n
        logp_col[:, j] = np.log(freq[v])
    logp = logp_col.sum(axis=1)
    # Vectors are compared through a polynomial hash (mod 2^64 wrap-around); masking
    # one column gives the "all but one answer equal" groups of near-duplicates.
    rng = np.random.default_rng(12345)
    weights = rng.integers(1, 2**62, m, dtype=np.int64) | 1
    with np.errstate(over="ignore"):
        terms = (mat + 2) * weights
        full = terms.sum(axis=1)
    hit_exact = _rare_groups(full, logp, n, answered >= _MIN_DUP_COLUMNS)
    hit_near = np.zeros(n, dtype=bool)
    for j in range(m):
        with np.errstate(over="ignore"):
            masked = full - terms[:, j]
        ok = (answered - (mat[:, j] >= 0)) >= _MIN_DUP_COLUMNS
        hit_near |= _rare_groups(masked, logp - logp_col[:, j], n, ok, tests=m)
    hit_near &= ~hit_exact
    if hit_exact.any():
        texts.append("réponse identique à plusieurs autres, ce que le hasard n'explique pas")
        strength[hit_exact] = 0.6
        reason[hit_exact] = len(texts) - 1
    if hit_near.any():
        texts.append(
            "réponse identique à plusieurs autres sauf une case, ce que le hasard n'explique pas"
        )
        strength[hit_near] = 0.5
        reason[hit_near] = len(texts) - 1
    return strength, reason, texts


def _rare_groups(
    key: np.ndarray, logp: np.ndarray, n: int, ok: np.ndarray, tests: int = 1
) -> np.ndarray:
    """Rows whose group (same key) is far larger than its probability allows."""
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    k = cnt[inv.ravel()]
    expected = n * np.exp(logp)
    cand = (k >= 3) & ok
    hit = np.zeros(n, dtype=bool)
    if cand.any():
        # Probability of k or more copies by chance, corrected for the number of groups.
        p = _stats.poisson_sf_ge(k[cand], expected[cand])
        hit[cand] = p * len(cnt) * tests < 1e-6
    return hit


# --------------------------------------------------------------------------- analysis


def analyse(ds: Dataset, progress: Progress | None = None) -> Analysis:
    progress = progress or _noop
    t = ds.table
    n = t.num_rows
    sub = _col(ds, "submitted")
    complete = np.ones(n, dtype=bool) if sub is None else ~np.isnan(sub)
    dur = _col(ds, "duration")
    encoded = encode_answers(ds)
    progress(0.1, "réponses encodées")
    codes: dict[str, np.ndarray] = {}
    for c, *_ in _NET_COLS:
        v = _codes(ds, c)
        if v is not None:
            codes[c] = v
    bursts: list[Burst] = []
    passed: list[PassedStretch] = []
    if sub is not None:
        rows = np.flatnonzero(complete)
        order = rows[np.argsort(sub[rows], kind="stable")]
        times = sub[order]
        stretches = _judge_stretches_full(times)
        salvos = [s[:4] for s in stretches if s[6] == _SALVO]
        bursts = _attach_salvos(times, order, find_bursts(times, order), salvos)
        # Dense stretches the survey's own rate explains, or shaped like a rush, and that
        # no burst holds (a burst is listed with its own tests): examined, let pass, and
        # said so.
        owner = _owners(order, bursts)
        for lo, hi, _rate, p, judge, k, shape, nxt in stretches:
            if shape == _SALVO or (owner[lo:hi] >= 0).any():
                continue
            held = order[lo:hi]
            passed.append(
                PassedStretch(
                    held,
                    float(times[lo]),
                    float(times[hi - 1]),
                    k,
                    judge,
                    p,
                    decays=shape == _DECAYS,
                    next_minute=nxt,
                )
            )
        if not bursts:
            progress(0.4, "aucune rafale repérée")
        elif len(bursts) == 1:
            progress(0.4, "1 rafale repérée")
        else:
            progress(0.4, f"{len(bursts)} rafales repérées")
        # Baselines come from the calm part of the survey: two salvos must not
        # serve as each other's reference.
        rest = complete.copy()
        for b in bursts:
            rest[b.rows] = False
        calm = np.flatnonzero(rest)
        totals = {
            k: np.bincount(v[calm][v[calm] >= 0], minlength=int(v.max()) + 1)
            for k, v in codes.items()
        }
        calm_agree, calm_total = _agreement(encoded, calm)
        calm_counts = _answer_counts(encoded, calm)
        calm_dur = _calm_durations(dur, calm) if dur is not None else None
        for i, b in enumerate(bursts):
            tb = sub[b.rows]
            if math.isnan(b.expected):  # a salvo no scan found: no rate to compare with
                b.evidence = b.salvo_evidence
            else:
                b.evidence = (
                    f"{len(b.rows)} réponses en {_fmt_dur(max(b.end - b.start, 1))}, alors "
                    f"que le rythme autour est d'environ {_fmt_rate(b.expected)}"
                )
            b.checks.append(_check_spacing(b, tb))
            if dur is not None and calm_dur is not None:
                b.checks.append(_check_duration(b.rows, dur, calm_dur))
            if codes:
                b.checks.append(_check_network(b.rows, codes, totals))
            shift, _ = _check_shift(b.rows, calm_counts, encoded)
            b.checks.append(shift)
            b.checks.append(_check_coherence(b.rows, encoded, calm_agree, calm_total))
            if i % 16 == 0:
                progress(0.4 + 0.4 * (i + 1) / max(len(bursts), 1), "examen des rafales")
    progress(0.8, "détecteurs individuels")
    individual: dict[str, np.ndarray] = {}
    reasons: dict[str, tuple[np.ndarray, list[str]]] = {}
    s, r, texts = _tokens(ds, complete)
    individual["jetons"], reasons["jetons"] = s, (r, texts)
    text_codes = [c for c in (_codes(ds, col) for col in ds.text_columns) if c is not None]
    s, r, texts = _duplicates(encoded, n, text_codes)
    individual["doublons"], reasons["doublons"] = s, (r, texts)
    if dur is not None:
        d = dur[complete & ~np.isnan(dur)]
        if len(d) >= 20:
            cut = min(float(np.percentile(d, 1)), 0.2 * float(np.median(d)))
            fast = np.nan_to_num(dur, nan=np.inf) < cut
            individual["duree"] = np.where(fast, 0.3, 0.0)
            reasons["duree"] = (
                np.where(fast, 0, -1).astype(np.int32),
                [f"rempli en moins de {_fmt_dur(cut)} (médiane {_fmt_dur(float(np.median(d)))})"],
            )
    out = Analysis(n, t.column("id"), complete, bursts, individual, reasons, encoded, sub)
    out.passed_stretches = passed
    return out


# The dense part of a flagged group: the shortest stretch holding this share of it…
_DENSE_SHARE = 0.9
# …widened by every neighbour closer than that stretch's length (at least one of the
# scan's one-minute bins) to its edge.
_DENSE_REACH_MIN = 60.0


def _dense_part(times: np.ndarray) -> tuple[int, int]:
    """``(lo, hi)``: indices in the sorted ``times`` of a flagged group's dense part.

    The scan window that found a salvo spans minutes; a genuine answer inside it that
    shares the salvo's traits (a quick fill, the same answer) is flagged with it, and
    measuring the group from its first to its last member stretched a 32 s salvo to
    22 min. The evidence gives the dense part's span and counts the others apart."""
    n = len(times)
    k = max(2, math.ceil(_DENSE_SHARE * n))
    if k >= n:
        return 0, n - 1
    widths = times[k - 1 :] - times[: n - k + 1]
    lo = int(np.argmin(widths))
    hi = lo + k - 1
    reach = max(float(times[hi] - times[lo]), _DENSE_REACH_MIN)
    while lo > 0 and times[lo] - times[lo - 1] <= reach:
        lo -= 1
    while hi < n - 1 and times[hi + 1] - times[hi] <= reach:
        hi += 1
    return lo, hi


def _core_evidence(times: np.ndarray, expected: float) -> str:
    """A flagged group's arrivals: its dense part's count and span, and the members
    apart from it (with the whole group's span) when there are any."""
    lo, hi = _dense_part(times)
    dense, apart = hi - lo + 1, len(times) - (hi - lo + 1)
    rate = f"alors que le rythme habituel autour est d'environ {_fmt_rate(expected)}"
    span = _fmt_dur(max(float(times[hi] - times[lo]), 1.0))
    if not apart:
        return f"{dense} réponses en {span}, {rate}"
    total = _fmt_dur(max(float(times[-1] - times[0]), 1.0))
    return (
        f"{dense} réponses en {span}, plus {apart} à l'écart dans le temps "
        f"({total} en tout), {rate}"
    )


def _not_retained(p: float) -> str:
    """A group test that is not significant, in words that accuse nobody: its own
    sentence (« arrivées régulières : … ») reads as a finding even when it is not."""
    shown = f"{p:.2g}".replace(".", ",")
    return (
        f"non retenu contre ce groupe : l'écart avec le reste de l'enquête est trop faible "
        f"ou trop incertain (p = {shown})"
    )


def combine(a: Analysis, disabled: Iterable[str] = ()) -> Scores:
    """Per-response score in [0, 1], flags and clusters, with some detectors switched off."""
    off = set(disabled)
    n = a.n
    cluster_score = np.zeros(n)
    cluster = np.zeros(n, dtype=np.int32)
    clusters: list[dict[str, object]] = []
    if "rafales" not in off:
        for b in a.bursts:
            sig = [c for c in b.checks if c.significant and c.key not in off]
            conf = _CONFIDENCE[min(len(sig), 5)]
            # A salvo before any rhythm of the survey is flagged on its rate alone: the
            # group tests had no calm part to compare it with, or too little.
            in_salvo = (
                np.isin(b.rows, b.salvo) if b.salvo is not None else np.zeros(len(b.rows), bool)
            )
            by_rate = conf < _SALVO_CONFIDENCE and bool(in_salvo.any())
            if by_rate:
                conf = _SALVO_CONFIDENCE
            if conf == 0:
                continue
            indiv = [c for c in sig if c.sharing is not None]
            if indiv:
                fit = np.zeros(len(b.rows))
                for c in indiv:
                    assert c.sharing is not None
                    fit += _FIT_WEIGHT[c.key] * np.isin(b.rows, c.sharing)
                fit /= sum(_FIT_WEIGHT[c.key] for c in indiv)
            else:
                fit = np.ones(len(b.rows))
            s = np.where(in_salvo, _SALVO_CONFIDENCE, 0.0) if by_rate else conf * fit
            # A salvo's members stay flagged whatever the group tests say of each.
            s = np.maximum(s, np.where(in_salvo, _SALVO_CONFIDENCE, 0.0))
            better = s > cluster_score[b.rows]
            cluster_score[b.rows] = np.maximum(cluster_score[b.rows], s)
            num = len(clusters) + 1
            chosen = b.rows[better & (s >= THRESHOLD)]
            cluster[chosen] = num
            core = b.rows[s >= THRESHOLD]
            evidence = b.evidence
            if by_rate or math.isnan(b.expected):  # no rate of the survey's to compare with
                evidence = b.salvo_evidence
            elif len(core) >= 2 and a.submitted is not None:
                evidence = _core_evidence(np.sort(a.submitted[core]), b.expected)
            # The group's span is its flagged members', not the scan window's: a header
            # « du 19:16 au 22:27 » above « 500 réponses en 76 s » misled (review R7).
            start, end = b.start, b.end
            if len(core) and a.submitted is not None:
                start, end = float(a.submitted[core].min()), float(a.submitted[core].max())
            clusters.append(
                {
                    "cluster": num,
                    "start": start,
                    "end": end,
                    "size": len(b.rows),
                    "flagged": int((s >= THRESHOLD).sum()),
                    "confidence": conf,
                    # Flagged on its rate alone (a salvo before the survey had a rate).
                    "by_rate": by_rate,
                    "evidence": evidence,
                    "checks": [
                        {
                            "check": c.key,
                            "significant": c.significant,
                            "p": c.p,
                            "evidence": c.evidence if c.significant else _not_retained(c.p),
                        }
                        for c in b.checks
                        if c.key not in off and c.evidence
                    ],
                    "rows": b.rows,
                }
            )
    keep = 1.0 - cluster_score
    for key, s in a.individual.items():
        if key in off:
            continue
        keep *= 1.0 - s
    score = np.clip(1.0 - keep, 0.0, 1.0)
    score[~a.complete] = np.minimum(score[~a.complete], 1.0)
    flagged = score >= THRESHOLD
    cluster[~flagged] = 0
    return Scores(score, flagged, cluster, clusters)


def reasons_for(a: Analysis, sc: Scores, i: int, off: Iterable[str] = ()) -> list[str]:
    """Readable reasons for response ``i``."""
    disabled = set(off)
    out: list[str] = []
    c = int(sc.cluster[i])
    if c:
        info = sc.clusters[c - 1]
        out.append(f"groupe {c} : {info['evidence']}")
        rows = info["rows"]
        assert isinstance(rows, np.ndarray)
        for b in a.bursts:
            if b.rows is rows:
                for chk in b.checks:
                    if not chk.significant or chk.key in disabled:
                        continue
                    if chk.sharing is None or i in set(chk.sharing.tolist()):
                        out.append(chk.evidence)
                break
    for key, (idx, texts) in a.individual_reason.items():
        if key in disabled:
            continue
        j = int(idx[i])
        if j >= 0:
            out.append(texts[j])
    return out
