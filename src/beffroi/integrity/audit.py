"""The survey audit: load, detect, score, compare scenarios, measure robustness.

Entry points:

- :func:`run_audit` — a file on disk (LimeSurvey export or generic CSV + mapping).
- :func:`audit_dataset` — an already loaded :class:`~beffroi.integrity.load.Dataset`,
  e.g. the app's live ballot box through :func:`beffroi.integrity.load.from_table`
  (normalised column names are listed in :mod:`beffroi.integrity.load`).

The result serialises with :meth:`AuditResult.to_json` (documented in
docs/formats/audit-json.md) and renders with :mod:`beffroi.integrity.report`.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beffroi.integrity import robustness as rb
from beffroi.integrity.detectors import (
    DETECTORS,
    SALVO_COUNT,
    SALVO_SECONDS,
    THRESHOLD,
    Analysis,
    Burst,
    Scores,
    analyse,
    combine,
)
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import Dataset, load_limesurvey, load_mapped
from beffroi.integrity.scenarios import scenarios, segment_codes

SCHEMA_VERSION = 1
# Responses whose JSON lines are built at once (write_json).
JSON_CHUNK = 100_000
FORMATS = ("limesurvey", "csv")

Progress = Callable[[float, str], None]


def _noop(frac: float, msg: str) -> None:
    return None


class Reasons(Mapping[int, list[str]]):
    """Each response's reasons, read like ``{row: [reason, …]}`` (rows without any
    are absent), kept as one small table of distinct lists and a key per row.

    The members of a group share a handful of reason lists (the group's evidence and
    the tests each member shares), so a file of 600,000 flagged responses holds a few
    thousand lists, not 600,000: one list per row was what filled the memory (review
    R7, finding 10). Lists are shared: do not change one in place."""

    def __init__(self, keys: np.ndarray, lists: Sequence[list[str]]) -> None:
        self.row_keys = keys  # per row: index into ``lists``, -1 for none
        self.lists = list(lists)

    def __getitem__(self, i: int) -> list[str]:
        if not 0 <= i < len(self.row_keys) or self.row_keys[i] < 0:
            raise KeyError(i)
        return self.lists[int(self.row_keys[i])]

    def __iter__(self) -> Iterator[int]:
        return iter(np.flatnonzero(self.row_keys >= 0).tolist())

    def __len__(self) -> int:
        return int((self.row_keys >= 0).sum())


@dataclass
class AuditResult:
    source: str
    id_array: pa.Array  # the ids, exactly as in the input
    score: np.ndarray
    flagged: np.ndarray
    cluster: np.ndarray
    reasons: Reasons
    clusters: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]
    robustness: dict[str, Any]
    checks_skipped: list[dict[str, str]]
    summary: dict[str, Any]
    timeline: dict[str, Any]
    disabled: list[str] = field(default_factory=list)
    # The bursts examined and let pass, largest first, at most PASSED_SHOWN
    # (summary["bursts_not_flagged"] counts them all).
    bursts_not_flagged: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [str(x) for x in self.id_array.to_pylist()]

    def responses(self) -> list[dict[str, Any]]:
        score = np.round(self.score, 4).tolist()
        flagged = self.flagged.tolist()
        cluster = self.cluster.tolist()
        return [
            {
                "id": rid,
                "score": score[i],
                "flagged": flagged[i],
                "reasons": self.reasons.get(i, []),
                "cluster": cluster[i] or None,
            }
            for i, rid in enumerate(self.ids)
        ]

    def to_json(self) -> dict[str, Any]:
        return self.to_json_without_responses() | {"responses": self.responses()}

    def write_json(self, fh: IO[str]) -> None:
        """Stream the JSON; the response lines are built column-wise (a million is common)."""
        head = self.to_json_without_responses()
        text = json.dumps(head, ensure_ascii=False, indent=1)
        fh.write(text[:-2] + ',\n "responses": [\n')
        n = len(self.id_array)
        if n:
            ids = self.id_array
            plain = pc.all(pc.match_substring_regex(ids, r'^[^"\\\x00-\x1f\x7f]*$')).as_py()
            if plain:
                id_json = pc.binary_join_element_wise('"', ids, '"', "")
            else:
                id_json = pa.array(
                    [json.dumps(x, ensure_ascii=False) for x in ids.to_pylist()], pa.string()
                )
            # Each distinct reason list is written once; rows refer to it by key.
            said = pa.array(
                ["[]"] + [json.dumps(rs, ensure_ascii=False) for rs in self.reasons.lists],
                pa.string(),
            )
            keys = self.reasons.row_keys + 1
            chunk = JSON_CHUNK
            for lo in range(0, n, chunk):
                hi = min(lo + chunk, n)
                # Built a chunk at a time: the lines of a million responses at once
                # weighed more than the audit itself.
                score = pc.cast(pa.array(np.round(self.score[lo:hi], 4)), pa.string())
                flag = pc.if_else(pa.array(self.flagged[lo:hi]), "true", "false")
                clus = pc.if_else(
                    pa.array(self.cluster[lo:hi] > 0),
                    pc.cast(pa.array(self.cluster[lo:hi]), pa.string()),
                    "null",
                )
                part = pc.binary_join_element_wise(
                    '  {"id": ',
                    id_json.slice(lo, hi - lo),
                    ', "score": ',
                    score,
                    ', "flagged": ',
                    flag,
                    ', "reasons": ',
                    pc.take(said, pa.array(keys[lo:hi])),
                    ', "cluster": ',
                    clus,
                    "}",
                    "",
                )
                # Joined inside Arrow: one Python string per chunk, not one per response.
                offsets = pa.array([0, len(part)], pa.int32())
                joined = pc.binary_join(pa.ListArray.from_arrays(offsets, part), ",\n")
                fh.write(joined[0].as_py())
                fh.write(",\n" if lo + chunk < n else "\n")
        fh.write(" ]\n}\n")

    def to_json_without_responses(self) -> dict[str, Any]:
        return {
            "schema": "beffroi-audit",
            "version": SCHEMA_VERSION,
            "source": self.source,
            "threshold": THRESHOLD,
            "detectors": DETECTORS,
            "disabled": self.disabled,
            "summary": self.summary,
            "checks_skipped": self.checks_skipped,
            "clusters": self.clusters,
            "bursts_not_flagged": self.bursts_not_flagged,
            "scenarios": self.scenarios,
            "robustness": self.robustness,
            "timeline": self.timeline,
        }


def parse_electorate(text: str) -> dict[str, int]:
    """``A1=212,A2=168`` → {"A1": 212, "A2": 168}."""
    out: dict[str, int] = {}
    for i, part in enumerate(p for p in text.split(",") if p.strip()):
        if "=" not in part:
            raise InputError(f"--electorate : élément {i + 1} « {part} » sans « = » (ex. A1=212).")
        k, v = part.split("=", 1)
        try:
            n = int(v.strip())
        except ValueError:
            raise InputError(
                f"--electorate : « {v.strip()} » n'est pas un nombre entier (segment {k.strip()})."
            ) from None
        if n < 0:
            raise InputError(f"--electorate : effectif négatif pour {k.strip()}.")
        out[k.strip()] = n
    if not out:
        raise InputError("--electorate est vide.")
    return out


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _timeline(ds: Dataset, a: Analysis, sc: Scores) -> dict[str, Any]:
    if "submitted" not in ds.table.column_names:
        return {}
    t = ds.table.column("submitted").to_numpy()
    ok = a.complete & ~np.isnan(t)
    if not ok.any():
        return {}
    t0, t1 = float(np.nanmin(t[ok])), float(np.nanmax(t[ok]))
    if t0 == t1 and ok.sum() > 1:
        # Every response dated alike (an anonymised survey): one bar in 1980 says nothing.
        return {}
    span = max(t1 - t0, 1.0)
    step = 3600.0 if span <= 40 * 86400 else 86400.0
    start = np.floor(t0 / step) * step
    nb = int((t1 - start) // step) + 1
    b = ((t[ok] - start) // step).astype(np.int64)
    allc = np.bincount(b, minlength=nb)
    flag = np.bincount(b[sc.flagged[ok]], minlength=nb)
    # Daily shares of each question's leading answer, raw and filtered.
    day = 86400.0
    dstart = np.floor(t0 / day) * day
    nd = int((t1 - dstart) // day) + 1
    db = np.full(len(t), -1, dtype=np.int64)
    db[ok] = ((t[ok] - dstart) // day).astype(np.int64)
    shares = []
    for enc in a.encoded:
        if not enc.categories:
            continue
        tot = np.zeros(len(enc.categories), dtype=np.int64)
        for r in range(enc.codes.shape[1]):
            col = enc.codes[ok, r]
            tot += np.bincount(col[col >= 0], minlength=len(enc.categories))
        lead = int(np.argmax(tot))
        series: dict[str, list[float | None]] = {}
        for name, keep in (("brut", ok), ("beffroi", ok & ~sc.flagged)):
            num = np.zeros(nd)
            den = np.zeros(nd)
            for r in range(enc.codes.shape[1]):
                col = enc.codes[:, r]
                m = keep & (col >= 0)
                num += np.bincount(db[m], weights=(col[m] == lead), minlength=nd)
                den += np.bincount(db[m], minlength=nd)
            series[name] = [
                round(float(x / y), 4) if y else None for x, y in zip(num, den, strict=True)
            ]
            series[name + "_n"] = den.astype(int).tolist()
        shares.append(
            {
                "question": enc.question.code,
                "label": enc.question.label,
                "answer": enc.categories[lead],
                **series,
            }
        )
    return {
        "bin_seconds": step,
        "start": _iso(start),
        "arrivals": allc.tolist(),
        "flagged": flag.tolist(),
        "day_start": _iso(dstart),
        "shares_by_day": shares,
    }


# How many of the bursts examined and not flagged are detailed (the largest); the others
# are counted. A survey of 40,000 answers can hold thousands of honest bursts.
PASSED_SHOWN = 20


def _peak(b: Burst) -> dict[str, Any]:
    """The scan's best window of a burst (``detectors.Burst.peak_*``), the whole burst
    when it has none."""
    if not b.peak_size:
        seconds = max(b.end - b.start, 1.0)
        return {
            "start": _iso(b.start),
            "seconds": round(b.end - b.start),
            "size": len(b.rows),
            "per_hour": round(3600 * len(b.rows) / seconds, 1),
        }
    return {
        "start": _iso(b.peak_start),
        "seconds": round(b.peak_seconds),
        "size": b.peak_size,
        "per_hour": round(3600 * b.peak_size / b.peak_seconds, 1),
    }


def _span(start: float, end: float, size: int) -> dict[str, Any]:
    """When a stretch came, how many answers it holds, and their rate over it."""
    return {
        "start": _iso(start),
        "end": _iso(end),
        "seconds": round(end - start),
        "size": size,
        "per_hour": round(3600 * size / max(end - start, 1.0), 1),
    }


def bursts_not_flagged(
    a: Analysis, sc: Scores, disabled: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every burst the scan examined that flagged nobody, and every dense stretch the
    survey's rate explained, in time order: when it came, how many, how fast against
    the rate around it, and what let it pass (the group tests, or the salvo test's
    p-value). Calling them « ordinary » without showing them hid the affair's salvos
    (review R7). Nothing when the burst detector is off: nothing was judged."""
    off = set(disabled)
    if "rafales" in off:
        return []
    flagged = {id(c["rows"]) for c in sc.clusters if c["flagged"]}
    out: list[dict[str, Any]] = []
    for b in a.bursts:
        if id(b.rows) in flagged:
            continue
        out.append(
            {
                "kind": "rafale",
                **_span(b.start, b.end, len(b.rows)),
                # The window ``p`` and ``usual_per_hour`` are about (review R10): the
                # burst's own rate, diluted by the answers around its peak, is not.
                "peak": _peak(b),
                "usual_per_hour": None if np.isnan(b.expected) else round(3600 * b.expected, 1),
                "p": float(b.p),
                # The group tests that could judge it (not those with too few answers),
                # each with its one-sided p-value.
                "checks": [
                    {"check": c.key, "significant": c.significant, "p": float(c.p)}
                    for c in b.checks
                    if c.key not in off and c.ran
                ],
            }
        )
    for s in a.passed_stretches:
        out.append(
            {
                "kind": "salve",
                **_span(s.start, s.end, len(s.rows)),
                "peak": {
                    "start": None,
                    "seconds": round(SALVO_SECONDS),
                    "size": int(s.busiest),
                    "per_hour": round(3600 * s.busiest / SALVO_SECONDS, 1),
                },
                # None: a rush at the opening, before the survey had a rate.
                "usual_per_hour": None if np.isnan(s.judge) else round(3600 * s.judge, 1),
                "p": None if np.isnan(s.judge) else float(s.p),
                "busiest_10s": s.busiest,
                # Improbable (or judged with no rate yet) but still arriving after it, as
                # a rush does: not a salvo (decision audit-honest-rush).
                "decays": s.decays,
                "next_minute": s.next_minute,
            }
        )
    from beffroi.integrity.report import passed_reason

    for entry in out:
        entry["reason"] = passed_reason(entry)
    out.sort(key=lambda e: e["start"])
    return out


def _reasons(a: Analysis, sc: Scores, disabled: Sequence[str]) -> Reasons:
    """Each response's reasons: its group's evidence and the group tests it shares,
    then its own evidence (tokens, duplicates, fast fill). Rows are grouped by what
    they are given (group, tests shared, own evidence), and each distinct list is made
    once (see :class:`Reasons`)."""
    off = set(disabled)
    n = a.n
    burst_of = {id(b.rows): b for b in a.bursts}
    # Per cluster, its texts in order: (text, bit of the test when the member must share
    # it, or -1 when every member is given it).
    texts: dict[int, list[tuple[str, int]]] = {}
    mask = np.zeros(n, dtype=np.int64)
    for num, info in enumerate(sc.clusters, start=1):
        members = np.flatnonzero(sc.cluster == num)
        if not len(members):
            continue
        b = burst_of[id(info["rows"])]
        mine = [(f"groupe {num} : {info['evidence']}", -1)]
        for chk in b.checks:
            if not chk.significant or chk.key in off:
                continue
            if chk.sharing is None:
                mine.append((chk.evidence, -1))
            else:
                bit = len(mine)
                mine.append((chk.evidence, bit))
                mask[members] |= np.isin(members, chk.sharing).astype(np.int64) << bit
        texts[num] = mine
    own = [(k, idx, msgs) for k, (idx, msgs) in a.individual_reason.items() if k not in off]
    given = sc.score > 0
    pattern = np.stack(
        [sc.cluster.astype(np.int64), mask]
        + [np.where((idx >= 0) & given, idx.astype(np.int64) + 1, 0) for _, idx, _ in own],
        axis=1,
    )
    # Most rows of an honest survey are given nothing (an all-zero pattern, no list): only
    # the others are sorted into kinds (np.unique over a million rows was a quarter of the
    # audit's time). Same kinds in the same order, so the same lists and keys.
    given_any = np.flatnonzero(pattern.any(axis=1))
    keys = np.full(n, -1, dtype=np.int32)
    lists: list[list[str]] = []
    if not len(given_any):
        return Reasons(keys, lists)
    kinds, inverse = np.unique(pattern[given_any], axis=0, return_inverse=True)
    key_of = np.full(len(kinds), -1, dtype=np.int32)
    for k, row in enumerate(kinds.tolist()):
        num, bits, *mine_own = row
        said = [t for t, bit in texts.get(num, []) if bit < 0 or bits >> bit & 1]
        said += [msgs[v - 1] for (_, _, msgs), v in zip(own, mine_own, strict=True) if v]
        if said:
            key_of[k] = len(lists)
            lists.append(said)
    keys[given_any] = key_of[inverse.ravel()]
    return Reasons(keys, lists)


def audit_dataset(
    ds: Dataset,
    *,
    electorate: dict[str, int] | None = None,
    claimed_participation: float | None = None,
    disabled: Sequence[str] = (),
    progress: Progress | None = None,
) -> AuditResult:
    progress = progress or _noop
    unknown = [d for d in disabled if d not in DETECTORS]
    if unknown:
        raise InputError(
            f"Détecteur inconnu : {', '.join(unknown)} (disponibles : {', '.join(DETECTORS)})."
        )

    def sub(lo: float, hi: float) -> Progress:
        return lambda f, m: progress(lo + (hi - lo) * f, m)

    a = analyse(ds, sub(0.2, 0.7))
    sc = combine(a, disabled)
    progress(0.72, "scénarios")
    scen = scenarios(ds, a, sc, disabled)
    progress(0.85, "robustesse")
    n_forms = int(a.complete.sum())
    n_flag = int((sc.flagged & a.complete).sum())
    ks = sorted(
        {k for k in (n_flag, max(1, n_forms // 100), n_forms // 20, n_forms // 10) if k > 0}
    )
    rob_q = {}
    for name, keep in (("brut", a.complete), ("beffroi", a.complete & ~sc.flagged)):
        rob_q[name] = [
            r for r in (rb.question_robustness(e, keep, ks) for e in a.encoded) if r is not None
        ]
    seg_codes, seg_names = segment_codes(ds)
    counts = {s: int(((seg_codes == i) & a.complete).sum()) for i, s in enumerate(seg_names)}
    fcounts = {
        s: int(((seg_codes == i) & a.complete & ~sc.flagged).sum()) for i, s in enumerate(seg_names)
    }
    open_survey = "token" not in ds.table.column_names
    part = rb.participation(
        counts, electorate, claimed_participation, filtered_counts=fcounts, open_survey=open_survey
    )
    if electorate and ds.segment is None:
        part["statements"].insert(
            0, "Aucune question de segment ne correspond aux clés de --electorate."
        )
    robustness = {"k_values": ks, "questions": rob_q, "participation": part}
    progress(0.9, "motifs")
    reasons = _reasons(a, sc, disabled)
    clusters = []
    for c in sc.clusters:
        rows = c["rows"]
        assert isinstance(rows, np.ndarray)
        clusters.append(
            {k: v for k, v in c.items() if k != "rows"}
            | {
                "start": _iso(float(c["start"])),  # type: ignore[arg-type]
                "end": _iso(float(c["end"])),  # type: ignore[arg-type]
                "ids_sample": [a.ids[int(i)].as_py() for i in rows[:5]],
            }
        )
    fragile_beffroi = [r["label"] for r in rob_q["beffroi"] if r["fragile"]]
    limits = unchecked(ds.checks_skipped, disabled)
    passed = bursts_not_flagged(a, sc, disabled)
    shown = sorted(passed, key=lambda e: -int(e["size"]))[:PASSED_SHOWN]
    shown.sort(key=lambda e: e["start"])
    summary = {
        "responses": a.n,
        "complete": n_forms,
        "incomplete": ds.n_incomplete,
        "flagged": int(sc.flagged.sum()),
        "flagged_complete": n_flag,
        "clusters": sum(1 for c in clusters if c["flagged"]),
        "bursts_examined": len(a.bursts),
        "bursts_not_flagged": len(passed),
        # The two kinds apart: salves are dense stretches outside the scan's bursts,
        # not among bursts_examined, so bursts_not_flagged may exceed it (review R10).
        "rafales_not_flagged": sum(1 for e in passed if e["kind"] == "rafale"),
        "salves_not_flagged": sum(1 for e in passed if e["kind"] == "salve"),
        "fragile_questions": fragile_beffroi,
        "segment": ds.segment,
        "unchecked": limits,
        "verdict": _verdict(
            n_flag, n_forms, clusters, fragile_beffroi, limits=limits, disabled=disabled
        ),
    }
    progress(0.95, "terminé")
    return AuditResult(
        source=ds.source,
        id_array=pc.cast(a.ids, pa.string()).combine_chunks()
        if isinstance(a.ids, pa.ChunkedArray)
        else pc.cast(a.ids, pa.string()),
        score=sc.score,
        flagged=sc.flagged,
        cluster=sc.cluster,
        reasons=reasons,
        clusters=clusters,
        scenarios=scen,
        robustness=robustness,
        checks_skipped=list(ds.checks_skipped),
        summary=summary,
        timeline=_timeline(ds, a, sc),
        disabled=list(disabled),
        bursts_not_flagged=shown,
    )


# What the verdict may claim depends on what could be examined (decision
# docs/decisions/audit-verdict-limits.md). Without the arrivals no group is looked
# for at all; without both addresses and completion times a salvo's members can
# only be told apart by their answers (measured recall 0.88 against 1.00 with either).
ARRIVALS, NETWORK, DURATION = "rafales", "reseau", "duree"
_SKIPPED_AS = {
    "arrivées et rafales": ARRIVALS,
    "concentration réseau": NETWORK,
    "temps de remplissage": DURATION,
}


def unchecked(checks_skipped: Sequence[dict[str, str]], disabled: Sequence[str] = ()) -> list[str]:
    """The detectors (keys of ``DETECTORS``) whose absence keeps the verdict from being
    a clean one: ``["rafales"]`` when the arrivals could not be examined (or the burst
    detector is switched off), ``["reseau", "duree"]`` when neither the network nor the
    completion time could be, else nothing. Skipped checks that the remaining ones
    make up for (user agent, referrer, language, tokens of an open survey) do not count.
    """
    missing = {_SKIPPED_AS[c["check"]] for c in checks_skipped if c["check"] in _SKIPPED_AS}
    missing |= set(disabled) & {ARRIVALS, NETWORK, DURATION}
    if ARRIVALS in missing:
        return [ARRIVALS]
    if {NETWORK, DURATION} <= missing:
        return [NETWORK, DURATION]
    return []


def _flagged(n_flag: int, n: int) -> str:
    """« 1 réponse sur 96 est signalée », « 3 réponses sur 96 sont signalées »."""
    if n_flag == 1:
        return f"1 réponse sur {n} est signalée"
    return f"{n_flag} réponses sur {n} sont signalées"


def _verdict(
    n_flag: int,
    n: int,
    clusters: list[dict[str, Any]],
    fragile: list[str],
    *,
    limits: Sequence[str] = (),
    disabled: Sequence[str] = (),
) -> str:
    """The verdict: what was found, then what could not be looked for (``limits``, from
    :func:`unchecked`), then the fragile results. Each sentence is one template of
    ``consult.views_i18n.VERDICTS``: a new one needs its template and English."""
    groups = [c for c in clusters if c["flagged"]]
    if groups:
        arrived = "1 groupe arrivé" if len(groups) == 1 else f"{len(groups)} groupes arrivés"
        # A salvo before the survey had a rate is flagged on its rate alone: « plusieurs
        # anomalies » would claim what was not found (decision audit-first-salvo).
        how = (
            "avec plusieurs anomalies simultanées ou à un rythme qu'aucune ouverture "
            "ordinaire n'atteint"
            if any(c.get("by_rate") for c in groups)
            else "avec plusieurs anomalies simultanées"
        )
        text = f"{_flagged(n_flag, n)}, dans {arrived} en rafale {how} (détail ci-dessous)."
    elif n_flag:
        text = f"{_flagged(n_flag, n)} individuellement (détail ci-dessous)."
    elif ARRIVALS in limits:
        # Not looked for is not found: never « aucun groupe n'a été trouvé ».
        text = "Aucune réponse n'est signalée par les vérifications qui ont pu être faites."
    else:
        # What the checks cannot see, with the rules' own figure: below the salvo rate a
        # burst needs two simultaneous anomalies, which a script imitating people avoids.
        text = (
            "Aucun groupe de réponses automatisées n'a été trouvé. Cela ne prouve pas "
            "l'absence de fraude : ces vérifications ne voient pas un programme qui envoie "
            f"moins de {SALVO_COUNT} réponses en {SALVO_SECONDS:.0f} secondes (environ "
            f"{SALVO_COUNT / SALVO_SECONDS:.0f} par seconde), à intervalles irréguliers, en "
            "imitant les temps de remplissage et les adresses de vraies personnes : en dessous "
            "de ce rythme, une rafale n'est signalée que si elle réunit au moins deux anomalies "
            "simultanées (espacement régulier, remplissage trop rapide, réseaux inhabituels, "
            "réponses différentes du reste, lignes d'un formulaire incohérentes). De faux "
            "formulaires envoyés lentement, à des heures ordinaires, sont indiscernables de vrais."
        )
    if ARRIVALS in limits and ARRIVALS in disabled:
        text += (
            " Les groupes de réponses automatisées n'ont pas été recherchés : le détecteur des "
            "rafales d'arrivées est désactivé."
        )
    elif ARRIVALS in limits:
        text += (
            " Les groupes de réponses automatisées n'ont pas pu être recherchés : les arrivées "
            "des réponses n'ont pas pu être examinées (dates de soumission absentes ou toutes "
            "identiques)."
        )
    elif limits:
        text += (
            " Les groupes ont été recherchés sans adresses IP ni temps de remplissage : un "
            "groupe de réponses automatisées peut être manqué en partie."
        )
    if fragile:
        text += (
            " Résultat fragile pour : " + ", ".join(fragile) + " — quelques formulaires de plus "
            "ou de moins suffiraient à inverser la majorité."
        )
    return text


def run_audit(
    path: pathlib.Path,
    *,
    fmt: str = "limesurvey",
    mapping: pathlib.Path | None = None,
    electorate: dict[str, int] | None = None,
    progress: Callable[[float, str], None] | None = None,
    structure: pathlib.Path | None = None,
    claimed_participation: float | None = None,
    disabled: Sequence[str] = (),
) -> AuditResult:
    """Audit a survey export file; bad input raises :class:`InputError` (French)."""
    progress = progress or _noop
    progress(0.0, "lecture du fichier")
    if fmt not in FORMATS:
        raise InputError(f"Format inconnu « {fmt} » (attendu : {', '.join(FORMATS)}).")
    if fmt == "csv":
        if mapping is None:
            raise InputError("Le format csv demande un fichier de correspondance (--mapping).")
        ds = load_mapped(path, mapping, electorate=electorate)
    else:
        ds = load_limesurvey(path, electorate=electorate, structure=structure)
    progress(0.2, f"{ds.table.num_rows} réponses lues")
    return audit_dataset(
        ds,
        electorate=electorate,
        claimed_participation=claimed_participation,
        disabled=disabled,
        progress=progress,
    )
