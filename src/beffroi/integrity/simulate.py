"""Simulate the affair's school consultation as a LimeSurvey export, with ground truth.

The survey: one form per household, the school (list question ``ECOLE``,
codes A1–A4) and three measures asked as LimeSurvey arrays with one line per
parent (``BLOUSE[SQ001]`` = parent 1, ``BLOUSE[SQ002]`` = parent 2; answers
``Y``/``N`` or empty for "no answer").

Honest behaviour is deliberately messy, so that detectors are not tuned to a
toy: an invitation mail and a reminder produce waves that decay over days,
messages in parents' groups produce honest bursts, households answer in the
evening, two-parent households sometimes send two forms from their home
Wi-Fi, siblings in two schools mean two forms from one address, and mobile
operators put hundreds of phones behind a few carrier-grade NAT addresses.

Attacks:
- ``seedlike``: the attack of the affair: 250 forms with both parent lines in
  two salvos (an evening and the next morning), each form 1–30 s after the
  previous one, every line drawn on its own towards 80 % / 85 % / 35 % "no",
  schools in proportion to their pupils, addresses rotating in a VPN pool.
- ``drip``: the same number of fake forms spread over the days at honest hours,
  parents agreeing, addresses that look like mobile or home connections.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MEASURES = ("BLOUSE", "DRAPEAU", "AIDE")
MEASURE_LABELS = {
    "BLOUSE": "Port d'une blouse à l'école",
    "DRAPEAU": "Cérémonie de lever du drapeau",
    "AIDE": "Aide aux devoirs",
}
PARENT_ROWS = ("SQ001", "SQ002")
PARENT_LABELS = {"SQ001": "Parent 1", "SQ002": "Parent 2"}
# School code -> (name, pupils).
SCHOOLS: dict[str, tuple[str, int]] = {
    "A1": ("École Jules-Ferry", 640),
    "A2": ("École Pierre-Loti", 520),
    "A3": ("École Sainte-Marie", 760),
    "A4": ("École des Salines", 380),
}
# Honest share of "no" per measure, and per-school offsets (the truth differs by school).
HONEST_NO = {"BLOUSE": 0.38, "DRAPEAU": 0.46, "AIDE": 0.16}
SCHOOL_OFFSET = {"A1": 0.04, "A2": -0.03, "A3": 0.0, "A4": -0.05}
ATTACK_NO = {"BLOUSE": 0.80, "DRAPEAU": 0.85, "AIDE": 0.35}
ATTACKS = ("seedlike", "drip", "none")

OPEN = dt.datetime(2026, 3, 2, 16, 30)  # Monday: the invitation mail goes out via the school ENT
REMINDER_DAY = 7.02  # the next Monday, ~17:00
DAYS = 14.0

HEADER = [
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "startdate",
    "datestamp",
    "ipaddr",
    "refurl",
    "ECOLE",
    *[f"{m}[{r}]" for m in MEASURES for r in PARENT_ROWS],
    "interviewtime",
]


@dataclass
class Forms:
    """Columnar forms before they are written (times in seconds since OPEN)."""

    start: np.ndarray
    submit: np.ndarray  # NaN for incomplete responses
    ip: list[str]
    school: np.ndarray  # index into SCHOOLS
    answers: np.ndarray  # (n, measures, parents) int8: 0 empty, 1 yes, 2 no
    refurl: list[str]
    fake: np.ndarray


def _hour_weight(hours: np.ndarray) -> np.ndarray:
    """Relative propensity of parents to answer at each hour of the day."""
    prof = np.array(
        [
            *(0.05, 0.02, 0.01, 0.01, 0.01, 0.03, 0.15, 0.45, 0.55, 0.45, 0.35, 0.35),
            *(0.55, 0.6, 0.4, 0.4, 0.5, 0.7, 0.8, 0.85, 0.9, 1.0, 0.85, 0.35),
        ]
    )
    return np.asarray(prof[np.floor(hours).astype(int) % 24] / prof.max())


def _diurnal(rng: np.random.Generator, base: np.ndarray, delay_mean: float) -> np.ndarray:
    """Arrival times after ``base`` (days), thinned by the hour-of-day profile."""
    out = np.empty(len(base))
    todo = np.arange(len(base))
    while len(todo):
        cand = base[todo] + rng.exponential(delay_mean, len(todo))
        hours = ((cand * 24.0) + OPEN.hour + OPEN.minute / 60.0) % 24.0
        ok = rng.random(len(todo)) < _hour_weight(hours)
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return out


def _residential_ip(rng: np.random.Generator, n: int) -> list[str]:
    """Home connections: many ISP prefixes, a third of them IPv6 (one /64 per home)."""
    v4_firsts = np.array([2, 31, 78, 79, 82, 86, 88, 90, 92, 109, 176, 188])
    out: list[str] = []
    v6 = rng.random(n) < 0.3
    a = rng.choice(v4_firsts, n)
    b = rng.integers(0, 256, n)
    c = rng.integers(0, 256, n)
    d = rng.integers(1, 255, n)
    s = rng.integers(0, 65536, (n, 2))
    for i in range(n):
        if v6[i]:
            out.append(f"2a01:e0a:{s[i, 0]:x}:{s[i, 1]:x}:{b[i]:x}:{c[i]:x}:{d[i]:x}:1")
        else:
            out.append(f"{a[i]}.{b[i]}.{c[i]}.{d[i]}")
    return out


# Carrier-grade NAT pools of the mobile operators: few addresses, many phones.
_CGNAT_POOLS = [
    ("37.171.{}.{}", 6, 20),
    ("37.165.{}.{}", 4, 16),
    ("80.215.{}.{}", 5, 18),
    ("92.184.{}.{}", 4, 20),
    ("176.166.{}.{}", 3, 12),
]


def _mobile_ip(rng: np.random.Generator, n: int) -> list[str]:
    addrs: list[str] = []
    prng = np.random.default_rng(1234)  # the operators' pools are fixed, not per run
    for tpl, nets, per in _CGNAT_POOLS:
        thirds = prng.choice(256, nets, replace=False)
        for t in thirds:
            for h in prng.choice(np.arange(1, 255), per, replace=False):
                addrs.append(tpl.format(t, h))
    # Some addresses carry far more traffic than others.
    w = rng.pareto(1.5, len(addrs)) + 1.0
    idx = rng.choice(len(addrs), n, p=w / w.sum())
    return [addrs[i] for i in idx]


def _draw_lines(
    rng: np.random.Generator, p_no: np.ndarray, agree: float, two: np.ndarray, p_blank: float
) -> np.ndarray:
    """Answers (n, 2): parent 1 drawn, parent 2 agrees with prob ``agree`` else draws anew."""
    n = len(p_no)
    p1 = np.where(rng.random(n) < p_no, 2, 1)
    own = np.where(rng.random(n) < p_no, 2, 1)
    p2 = np.where(rng.random(n) < agree, p1, own)
    p1 = np.where(rng.random(n) < p_blank, 0, p1)
    p2 = np.where(rng.random(n) < p_blank, 0, p2)
    p2 = np.where(two, p2, 0)
    return np.stack([p1, p2], axis=1).astype(np.int8)


def _honest(rng: np.random.Generator, n_forms: int) -> Forms:
    codes = list(SCHOOLS)
    pupils = np.array([SCHOOLS[c][1] for c in codes], dtype=float)
    # Second forms of a household (other parent on the same Wi-Fi, or a sibling in
    # another school) reuse the first form's address.
    n_second = round(n_forms * 0.09)
    n_house = n_forms - n_second
    owner = np.concatenate([np.arange(n_house), rng.integers(0, n_house, n_second)])
    mobile = rng.random(n_house) < 0.3
    home = _residential_ip(rng, n_house)
    mob = _mobile_ip(rng, n_forms)
    ip = [home[h] if not mobile[h] else "" for h in owner]
    # A mobile household's second form comes from wherever the phone is NATed then.
    ip = [ip[i] if ip[i] else mob[i] for i in range(n_forms)]
    school = rng.choice(len(codes), n_forms, p=pupils / pupils.sum())
    school[n_house:] = np.where(
        rng.random(n_second) < 0.5, rng.choice(len(codes), n_second), school[owner[n_house:]]
    )
    two = rng.random(n_forms) < 0.68
    # A second form from the other parent on the same Wi-Fi carries one line only.
    two[n_house:] &= rng.random(n_second) < 0.5
    # Arrival kinds: invitation wave, reminder wave, background, parents'-group bursts.
    kind = rng.choice(4, n_forms, p=[0.42, 0.24, 0.22, 0.12])
    kind[n_house:] = np.where(kind[n_house:] == 3, 2, kind[n_house:])
    m3 = np.flatnonzero(kind == 3)
    n_bursts = max(1, len(m3) // 35)
    grp = rng.integers(0, n_bursts, len(m3))
    # A message in one school's parents' group brings that school's parents, and it
    # usually argues for a side: honest bursts are one-school and opinionated.
    burst_school = rng.choice(len(codes), n_bursts, p=pupils / pupils.sum())
    school[m3] = np.where(rng.random(len(m3)) < 0.8, burst_school[grp], school[m3])
    burst_measure = rng.integers(0, len(MEASURES), n_bursts)
    burst_push = rng.choice([-0.2, 0.2], n_bursts)
    # Household leanings vary: a Beta around the school's share, so that parents of
    # one household resemble each other more than strangers.
    answers = np.zeros((n_forms, len(MEASURES), 2), dtype=np.int8)
    offs = np.array([SCHOOL_OFFSET[c] for c in codes])[school]
    for k, m in enumerate(MEASURES):
        push = np.zeros(n_forms)
        push[m3] = np.where(burst_measure[grp] == k, burst_push[grp], 0.0)
        mean = np.clip(HONEST_NO[m] + offs + push, 0.03, 0.97)
        p = rng.beta(mean * 6.0, (1 - mean) * 6.0)
        answers[:, k, :] = _draw_lines(rng, p, 0.88, two, 0.04)
    t = np.empty(n_forms)
    m0 = kind == 0
    t[m0] = _diurnal(rng, np.zeros(m0.sum()), 1.1)
    m1 = kind == 1
    t[m1] = _diurnal(rng, np.full(m1.sum(), REMINDER_DAY), 1.0)
    m2 = kind == 2
    t[m2] = _diurnal(rng, rng.uniform(0, DAYS - 1, m2.sum()), 0.2)
    starts = np.sort(rng.uniform(0.2, DAYS - 2, n_bursts))
    # A message in a group lands at a busy hour; replies come within the hour.
    starts = np.floor(starts) + rng.uniform(12.0, 22.0, n_bursts) / 24.0 - OPEN.hour / 24.0
    t[m3] = starts[grp] + rng.exponential(18.0 / 1440.0, len(m3))
    t = np.clip(t, 0.0, DAYS - 0.01) * 86400.0
    # Later forms of a household come after the first one.
    later = np.arange(n_forms) >= n_house
    t[later] = np.maximum(t[later], t[owner[later]] + rng.uniform(60, 86400 * 2, later.sum()))
    t = np.minimum(t, DAYS * 86400.0 - 1)
    dur = rng.lognormal(np.log(np.where(two, 140.0, 95.0)), 0.55)
    start = t - dur
    submit = t.copy()
    incomplete = rng.random(n_forms) < 0.04
    submit[incomplete] = np.nan
    answers[incomplete, 1:, :] = 0
    ref = rng.random(n_forms)
    refurl = ["https://ent.ecoles.example/messagerie" if r < 0.12 else "" for r in ref]
    return Forms(start, submit, ip, school, answers, refurl, np.zeros(n_forms, dtype=bool))


def _vpn_pool(rng: np.random.Generator) -> list[str]:
    """Exit addresses of a commercial VPN: a few datacentre /24s, many addresses each,
    so that one-response-per-address keeps most of what goes through it."""
    out = []
    for prefix in ("185.65.134", "146.70.116", "193.32.249", "37.19.200"):
        for h in rng.choice(np.arange(2, 254), 60, replace=False):
            out.append(f"{prefix}.{h}")
    return out


def _fake(rng: np.random.Generator, n: int, attack: str) -> Forms:
    codes = list(SCHOOLS)
    pupils = np.array([SCHOOLS[c][1] for c in codes], dtype=float)
    school = rng.choice(len(codes), n, p=pupils / pupils.sum())
    answers = np.zeros((n, len(MEASURES), 2), dtype=np.int8)
    two = np.ones(n, dtype=bool)
    if attack == "seedlike":
        for k, m in enumerate(MEASURES):
            # Every line on its own: the script does not model households.
            answers[:, k, :] = _draw_lines(rng, np.full(n, ATTACK_NO[m]), 0.0, two, 0.0)
        first = n // 2
        evening = 2 * 86400 + (21.6 - OPEN.hour - OPEN.minute / 60) * 3600
        morning = 3 * 86400 + (7.1 - OPEN.hour - OPEN.minute / 60) * 3600
        g1 = evening + np.cumsum(rng.uniform(1.0, 30.0, first))
        g2 = morning + np.cumsum(rng.uniform(1.0, 30.0, n - first))
        t = np.concatenate([g1, g2])
        dur = rng.uniform(1.0, 6.0, n)
        pool = _vpn_pool(rng)
        ip = [pool[i] for i in rng.integers(0, len(pool), n)]
    else:
        for k, m in enumerate(MEASURES):
            answers[:, k, :] = _draw_lines(rng, np.full(n, ATTACK_NO[m]), 0.9, two, 0.02)
        t = _diurnal(rng, rng.uniform(0.3, DAYS - 1.5, n), 0.1) * 86400.0
        dur = rng.lognormal(np.log(140.0), 0.55, n)
        mob = _mobile_ip(rng, n)
        home = _residential_ip(rng, n)
        ip = [mob[i] if rng.random() < 0.5 else home[i] for i in range(n)]
    t = np.minimum(t, DAYS * 86400.0 - 1)
    return Forms(t - dur, t.copy(), ip, school, answers, [""] * n, np.ones(n, dtype=bool))


def _concat(a: Forms, b: Forms) -> Forms:
    return Forms(
        np.concatenate([a.start, b.start]),
        np.concatenate([a.submit, b.submit]),
        a.ip + b.ip,
        np.concatenate([a.school, b.school]),
        np.concatenate([a.answers, b.answers]),
        a.refurl + b.refurl,
        np.concatenate([a.fake, b.fake]),
    )


def _fmt_times(secs: np.ndarray) -> list[str]:
    base = np.datetime64(OPEN.isoformat(), "s")
    stamps = base + np.nan_to_num(secs).astype("int64").astype("timedelta64[s]")
    text = np.datetime_as_string(stamps, unit="s")
    return [
        "" if np.isnan(s) else str(x).replace("T", " ") for s, x in zip(secs, text, strict=True)
    ]


def write_lss(path: Path) -> None:
    """The survey's structure as a LimeSurvey 5-style .lss (labels for the report)."""
    from xml.sax.saxutils import escape

    def row(**fields: object) -> str:
        return (
            "<row>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items()) + "</row>"
        )

    qrows, qtext, srows, arows, atext = [], [], [], [], []
    qrows.append(row(qid=1, parent_qid=0, type="L", title="ECOLE"))
    qtext.append(row(id=1, qid=1, question="École de votre enfant", language="fr"))
    for aid, (code, (name, _)) in enumerate(SCHOOLS.items(), start=1):
        arows.append(row(aid=aid, qid=1, code=code, sortorder=aid))
        atext.append(row(id=aid, aid=aid, answer=name, language="fr"))
    qid = 2
    for m in MEASURES:
        parent = qid
        qrows.append(row(qid=parent, parent_qid=0, type="C", title=m))
        qtext.append(row(id=parent, qid=parent, question=MEASURE_LABELS[m], language="fr"))
        qid += 1
        for sq in PARENT_ROWS:
            srows.append(row(qid=qid, parent_qid=parent, type="T", title=sq))
            qtext.append(row(id=qid, qid=qid, question=PARENT_LABELS[sq], language="fr"))
            qid += 1

    def table(name: str, rows: list[str]) -> str:
        return f"<{name}><rows>{''.join(rows)}</rows></{name}>"

    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<document>'
        "<LimeSurveyDocType>Survey</LimeSurveyDocType><DBVersion>600</DBVersion>"
        "<languages><language>fr</language></languages>"
        + table("answers", arows)
        + table("answer_l10ns", atext)
        + table("questions", qrows)
        + table("subquestions", srows)
        + table("question_l10ns", qtext)
        + "</document>\n",
        encoding="utf-8",
    )


@dataclass
class Simulation:
    export: Path
    truth: Path
    n_forms: int
    n_fake: int


def simulate(
    out: Path, *, attack: str = "seedlike", forms: int = 1500, seed: int = 0, fakes: int = 250
) -> Simulation:
    """Write ``out/export.csv`` (LimeSurvey "Export responses", codes), ``out/truth.csv``
    (``id,fake``) and ``out/survey.lss`` (the structure, for labels)."""
    if attack not in ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; choose one of {', '.join(ATTACKS)}")
    if forms < 1:
        raise ValueError("forms must be at least 1")
    rng = np.random.default_rng(seed)
    data = _honest(rng, forms)
    if attack != "none":
        data = _concat(data, _fake(rng, fakes, attack))
    # LimeSurvey numbers responses when they start.
    order = np.argsort(data.start, kind="stable")
    out.mkdir(parents=True, exist_ok=True)
    codes = list(SCHOOLS)
    starts = _fmt_times(data.start[order])
    submits = _fmt_times(data.submit[order])
    seeds = rng.integers(10**8, 10**9, len(order))
    letters = np.array(["", "Y", "N"])
    export = out / "export.csv"
    truth = out / "truth.csv"
    with export.open("w", newline="", encoding="utf-8") as fh, truth.open("w", newline="") as th:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        tw = csv.writer(th, lineterminator="\n")
        w.writerow(HEADER)
        tw.writerow(["id", "fake"])
        for rid, i in enumerate(order, start=1):
            complete = not np.isnan(data.submit[i])
            ans = [str(letters[data.answers[i, k, p]]) for k in range(3) for p in range(2)]
            dur = data.submit[i] - data.start[i] if complete else np.nan
            w.writerow(
                [
                    rid,
                    submits[rid - 1],
                    2 if complete else 1,
                    "fr",
                    seeds[rid - 1],
                    starts[rid - 1],
                    submits[rid - 1] or starts[rid - 1],
                    data.ip[i],
                    data.refurl[i],
                    codes[data.school[i]],
                    *ans,
                    "" if np.isnan(dur) else f"{dur:.2f}",
                ]
            )
            tw.writerow([rid, int(data.fake[i])])
    write_lss(out / "survey.lss")
    return Simulation(export, truth, len(order), int(data.fake.sum()))
