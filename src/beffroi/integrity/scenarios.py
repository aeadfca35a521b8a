"""Tallies of a survey under several filtering scenarios.

A tally counts *answered rows*: a form with two parent lines contributes two
answers to a question pooled over its rows, one to each row's own tally, and
its answers to its segment's tally.  Incomplete responses never count.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow.compute as pc

from beffroi.integrity.detectors import DETECTORS, Analysis, Encoded, Scores, combine
from beffroi.integrity.load import Dataset


def _shares(counts: np.ndarray, cats: Sequence[str]) -> dict[str, Any]:
    total = int(counts.sum())
    return {
        "answers": total,
        "counts": {c: int(v) for c, v in zip(cats, counts, strict=True)},
        "shares": {
            c: (round(float(v) / total, 6) if total else None)
            for c, v in zip(cats, counts, strict=True)
        },
    }


def segment_codes(ds: Dataset) -> tuple[np.ndarray, list[str]]:
    if ds.segment is None:
        return np.full(ds.table.num_rows, -1, dtype=np.int64), []
    enc = pc.dictionary_encode(ds.table.column(ds.segment)).combine_chunks()
    idx = enc.indices.to_numpy(zero_copy_only=False)
    nulls = pc.is_null(enc.indices).to_numpy(zero_copy_only=False)
    return np.where(nulls, -1, np.nan_to_num(idx)).astype(np.int64), enc.dictionary.to_pylist()


def tally(
    ds: Dataset, encoded: list[Encoded], keep: np.ndarray, seg: tuple[np.ndarray, list[str]]
) -> list[dict[str, Any]]:
    seg_codes, seg_names = seg
    seg_kept = seg_codes[keep]
    out = []
    for enc in encoded:
        k = len(enc.categories)
        if k == 0:
            continue
        total = np.zeros(k, dtype=np.int64)
        rows = []
        by_seg = np.zeros((len(seg_names), k), dtype=np.int64)
        for r, (_, label) in enumerate(enc.question.rows):
            col = enc.codes[keep, r]
            ok = col >= 0
            c = np.bincount(col[ok], minlength=k)
            total += c
            rows.append({"row": label or enc.question.rows[r][0], **_shares(c, enc.categories)})
            if seg_names:
                s = seg_kept[ok]
                good = s >= 0
                by_seg += np.bincount(
                    s[good] * k + col[ok][good], minlength=len(seg_names) * k
                ).reshape(len(seg_names), k)
        out.append(
            {
                "question": enc.question.code,
                "label": enc.question.label,
                "repeated": enc.question.repeated,
                **_shares(total, enc.categories),
                "rows": rows if len(rows) > 1 else [],
                "segments": [
                    {"segment": name, "label": ds.segment_labels.get(name, name)}
                    | _shares(by_seg[i], enc.categories)
                    for i, name in enumerate(seg_names)
                ],
            }
        )
    return out


def one_per_ip(ds: Dataset, complete: np.ndarray, flagged: np.ndarray) -> tuple[np.ndarray, dict]:
    """Keep the first response of each address, as the town did; say whom it drops."""
    if "ip" not in ds.table.column_names:
        return complete.copy(), {"available": False}
    enc = pc.dictionary_encode(ds.table.column("ip")).combine_chunks()
    code = enc.indices.to_numpy(zero_copy_only=False)
    nulls = pc.is_null(enc.indices).to_numpy(zero_copy_only=False)
    code = np.where(nulls, -1, np.nan_to_num(code)).astype(np.int64)
    order = np.flatnonzero(complete)
    if "submitted" in ds.table.column_names:
        t = ds.table.column("submitted").to_numpy()
        order = order[np.argsort(t[order], kind="stable")]
    c = code[order]
    has = c >= 0
    _, first_pos = np.unique(c[has], return_index=True)
    keep = np.zeros(len(complete), dtype=bool)
    keep[order[~has]] = True
    keep[order[has][first_pos]] = True
    dropped = complete & ~keep
    per_ip = np.bincount(code[complete & (code >= 0)], minlength=len(enc.dictionary))
    n_at = per_ip[np.maximum(code, 0)]
    household = dropped & (n_at <= 3)
    shared = dropped & (n_at >= 4)
    return keep, {
        "available": True,
        "dropped": int(dropped.sum()),
        "dropped_small_shared_addresses": int(household.sum()),
        "dropped_large_shared_addresses": int(shared.sum()),
        "dropped_not_flagged": int((dropped & ~flagged).sum()),
        "dropped_flagged": int((dropped & flagged).sum()),
        "kept_flagged": int((keep & flagged).sum()),
    }


def scenarios(
    ds: Dataset, a: Analysis, sc: Scores, disabled: Sequence[str] = ()
) -> list[dict[str, Any]]:
    complete = a.complete
    seg = segment_codes(ds)
    out: list[dict[str, Any]] = []
    # Switching off a detector often changes nothing: tally each distinct filter once.
    cache: dict[bytes, list[dict[str, Any]]] = {}

    def add(key: str, label: str, keep: np.ndarray, **extra: Any) -> None:
        sig = np.packbits(keep).tobytes()
        if sig not in cache:
            cache[sig] = tally(ds, a.encoded, keep, seg)
        out.append(
            {
                "scenario": key,
                "label": label,
                "forms": int(keep.sum()),
                "excluded": int((complete & ~keep).sum()),
                "questions": copy.deepcopy(cache[sig]),
                **extra,
            }
        )

    add("brut", "Toutes les réponses complètes (brut)", complete.copy())
    keep_ip, info = one_per_ip(ds, complete, sc.flagged)
    if info["available"]:
        # A common filter, shown for comparison; named neutrally (it is no one's in particular).
        add(
            "une_par_ip",
            "Une réponse par adresse IP (filtre courant, pour comparaison)",
            keep_ip,
            details=info,
        )
    add(
        "beffroi",
        "Filtre Beffroi (réponses signalées retirées)",
        complete & ~sc.flagged,
        disabled=list(disabled),
    )
    for key, name in DETECTORS.items():
        if key in disabled:
            continue
        alt = combine(a, [*disabled, key])
        add(
            f"sans_{key}",
            f"Filtre Beffroi sans le détecteur « {name} »",
            complete & ~alt.flagged,
            detector_off=key,
            flagged=int(alt.flagged.sum()),
        )
    return out
