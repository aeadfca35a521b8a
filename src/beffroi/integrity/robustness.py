"""How solid is a reported majority?

All counts are per *form*: removing or adding a form removes or adds all of its
rows (both parents), which is what a ballot stuffer or a filter does.

- ``flip_by_removal``: the fewest forms whose removal makes the runner-up
  strictly ahead (greedy on each form's net contribution, which is exact here
  because removing a form only ever subtracts its own net contribution).
- ``flip_by_addition``: the fewest added forms, each giving all its rows to the
  runner-up.
- ``share_range``: the smallest and largest share the majority answer can take
  if up to K of the counted forms were fake and are removed (greedy over form
  types; exact for single-row questions).
- ``participation``: forms per segment against a declared electorate, with a
  plain statement when a rate is impossible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from beffroi.integrity.detectors import Encoded, answer_label

# A majority is called fragile when this share of the counted forms could flip it:
# an open survey without eligibility checks cannot rule out a quiet drip that size.
FRAGILE_SHARE = 0.10


def form_counts(enc: Encoded, keep: np.ndarray) -> np.ndarray:
    """(forms, categories) answer counts of each kept form."""
    k = len(enc.categories)
    codes = enc.codes[keep]
    n = codes.shape[0]
    flat = np.zeros(n * k, dtype=np.int64)
    base = np.arange(n, dtype=np.int64) * k
    for r in range(codes.shape[1]):
        col = codes[:, r]
        ok = col >= 0
        flat += np.bincount(base[ok] + col[ok], minlength=n * k)
    return flat.reshape(n, k)


def flip_by_removal(counts: np.ndarray, a: int, b: int) -> int | None:
    totals = counts.sum(axis=0)
    margin = int(totals[a] - totals[b])
    if margin < 0:
        return None
    net = np.sort(counts[:, a] - counts[:, b])[::-1]
    net = net[net > 0]
    cum = np.cumsum(net)
    k = int(np.searchsorted(cum, margin + 1))
    return k + 1 if k < len(cum) else None


def flip_by_addition(margin: int, rows_per_form: int) -> int:
    return margin // max(rows_per_form, 1) + 1


def share_range(counts: np.ndarray, a: int, k: int) -> tuple[float, float]:
    return share_ranges(counts, a, [k])[0]


def share_ranges(counts: np.ndarray, a: int, ks: Sequence[int]) -> list[tuple[float, float]]:
    """Min and max share of answer ``a`` after removing up to ``k`` forms.

    Removing a set S of forms gives the share (A - x(S)) / (T - n(S)), with x the
    form's answers ``a`` and n all its answers.  Dinkelbach's method finds the
    extreme ratio exactly: for a trial ratio r, the best S maximises
    sum(x - r n) (or its opposite), i.e. the k forms with the largest positive
    weights; r is then updated to the ratio S gives, until it stops moving.
    """
    own = counts[:, a].astype(np.int64)
    size = counts.sum(axis=1).astype(np.int64)
    tot_a, tot = float(own.sum()), float(size.sum())
    if tot == 0:
        return [(float("nan"), float("nan")) for _ in ks]
    # Forms only differ by (x, n): work on the few distinct types.
    width = int(size.max()) + 1
    avail = np.bincount(own * width + size, minlength=width * width)
    key = np.flatnonzero(avail)
    avail = avail[key]
    tx, tn = (key // width).astype(float), (key % width).astype(float)
    return [_range_of_types(tx, tn, avail, tot_a, tot, k) for k in ks]


def _range_of_types(
    tx: np.ndarray, tn: np.ndarray, avail: np.ndarray, tot_a: float, tot: float, k: int
) -> tuple[float, float]:
    base = tot_a / tot
    out = []
    for sign in (1.0, -1.0):  # 1: minimise the share, -1: maximise it
        r = base
        for _ in range(50):
            w = sign * (tx - r * tn)
            order = np.argsort(-w, kind="stable")
            take = np.zeros(len(tx))
            left = k
            for j in order:
                if w[j] <= 0 or left <= 0:
                    break
                m = min(int(avail[j]), left)
                # Never remove every answer: the share would be undefined.
                if tot - (take * tn).sum() - m * tn[j] <= 0:
                    m = max(0, m - 1)
                take[j] = m
                left -= m
            na = tot_a - float((take * tx).sum())
            nt = tot - float((take * tn).sum())
            new = na / nt if nt > 0 else r
            if abs(new - r) < 1e-12:
                break
            r = new
        out.append(r)
    lo, hi = out
    return (min(lo, base), max(hi, base))


def _forms(k: int) -> str:
    """« 1 formulaire », « 3 formulaires »: French takes the singular below two."""
    return f"{k} formulaire" if k <= 1 else f"{k} formulaires"


def question_robustness(enc: Encoded, keep: np.ndarray, ks: Sequence[int]) -> dict[str, Any] | None:
    counts = form_counts(enc, keep)
    totals = counts.sum(axis=0)
    if len(totals) < 2 or totals.sum() == 0:
        return None
    order = np.argsort(-totals, kind="stable")
    a, b = int(order[0]), int(order[1])
    margin = int(totals[a] - totals[b])
    n_forms = int((counts.sum(axis=1) > 0).sum())
    rows = enc.codes.shape[1]
    remove = flip_by_removal(counts, a, b) if margin > 0 else 0
    add = flip_by_addition(margin, rows) if margin > 0 else 0
    ranges = [
        {"k": int(k), "min": round(lo, 6), "max": round(hi, 6)}
        for k, (lo, hi) in zip(ks, share_ranges(counts, a, ks), strict=True)
    ]
    flip = min(x for x in (remove, add) if x is not None)
    fragile = margin == 0 or flip <= FRAGILE_SHARE * max(n_forms, 1)
    cats = [answer_label(enc.question, c) for c in enc.categories]
    share = float(totals[a] / totals.sum())
    if margin == 0:
        statement = f"{enc.question.label} : égalité parfaite entre « {cats[a]} » et « {cats[b]} »."
    else:
        pct = f"{100 * share:.1f}".replace(".", ",")
        plural = "s" if add > 1 else ""
        removal = (
            f"ou d'en retirer {remove}"
            if remove is not None
            else "(aucun retrait de formulaires ne suffirait)"
        )
        statement = (
            f"{enc.question.label} : « {cats[a]} » l'emporte avec {pct} % ; il suffirait "
            f"d'ajouter {add} formulaire{plural} {removal} pour que « {cats[b]} » passe devant"
        )
        statement += (
            f" : résultat fragile ({_forms(flip)} sur {n_forms})."
            if fragile
            else f" ({_forms(flip)} sur {n_forms})."
        )
    return {
        "question": enc.question.code,
        "label": enc.question.label,
        "majority": enc.categories[a],
        "runner_up": enc.categories[b],
        "share": round(share, 6),
        "margin_answers": margin,
        "forms": n_forms,
        "flip_by_removal": remove,
        "flip_by_addition": add,
        "fragile": bool(fragile),
        "ranges": ranges,
        "statement": statement,
    }


def participation(
    seg_counts: dict[str, int],
    electorate: dict[str, int] | None,
    claimed: float | None,
    *,
    filtered_counts: dict[str, int] | None = None,
    open_survey: bool = True,
) -> dict[str, Any]:
    """Forms per segment against the declared electorate; impossible rates said plainly."""
    out: dict[str, Any] = {"segments": [], "statements": []}
    if not electorate:
        if claimed is not None:
            out["statements"].append(
                f"Un taux de participation de {claimed:g} % est annoncé, mais aucun électorat "
                "n'est déclaré : ce taux ne peut pas être vérifié."
            )
        return out
    total_e = sum(electorate.values())
    total_f = 0
    total_ff = 0
    for seg, e in electorate.items():
        n = int(seg_counts.get(seg, 0))
        nf = int((filtered_counts or seg_counts).get(seg, 0))
        total_f += n
        total_ff += nf
        rate = n / e if e else None
        row = {
            "segment": seg,
            "electorate": e,
            "forms": n,
            "forms_filtered": nf,
            "rate": round(rate, 6) if rate is not None else None,
            "rate_filtered": round(nf / e, 6) if e else None,
            "impossible": bool(e == 0 and n > 0) or (rate is not None and rate > 1),
        }
        out["segments"].append(row)
        if row["impossible"]:
            # An electorate of 0 has no rate to quote (it said « inf % »).
            impossible = (
                "aucun électeur n'y est déclaré"
                if not e
                else f"une participation de {100 * n / e:.0f} % est impossible"
            )
            out["statements"].append(
                f"Segment {seg} : {_forms(n)} pour un électorat déclaré de {e} — {impossible} ; "
                "des réponses ne viennent pas d'électeurs de ce segment."
            )
    unknown = {k: v for k, v in seg_counts.items() if k not in electorate and v}
    for seg, n in unknown.items():
        gives = "indique" if n == 1 else "indiquent"
        out["statements"].append(
            f"{_forms(n)} {gives} le segment « {seg} », absent de l'électorat déclaré."
        )
    out["total"] = {
        "electorate": total_e,
        "forms": total_f,
        "forms_filtered": total_ff,
        "rate": round(total_f / total_e, 6) if total_e else None,
        "rate_filtered": round(total_ff / total_e, 6) if total_e else None,
    }
    if claimed is not None:
        implied = claimed / 100 * total_e
        about = f"{implied:.0f}"
        participants = "participant" if about in ("0", "1") else "participants"
        complete = "formulaire complet" if total_f <= 1 else "formulaires complets"
        text = (
            f"Taux annoncé : {claimed:g} %, soit environ {about} {participants} sur "
            f"{total_e}. L'export contient {total_f} {complete}"
            f" ({total_ff} après le filtre Beffroi)."
        )
        if claimed > 100:
            text += " Un taux supérieur à 100 % est impossible."
        elif open_survey:
            text += (
                " Dans une enquête ouverte, sans contrôle d'éligibilité, personne ne sait combien "
                "d'électeurs ont réellement répondu : ce taux ne peut pas être connu."
            )
        if total_ff > implied * 1.05 and claimed <= 100:
            text += " Même après filtrage, il y a plus de formulaires que le taux ne l'implique."
        out["statements"].append(text)
        out["claimed"] = claimed
    return out
