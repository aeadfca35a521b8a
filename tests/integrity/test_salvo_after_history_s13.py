"""A salvo is caught at any point of a consultation, not only before it has a rate of
its own: after a history, a stretch of at least _SALVO_COUNT answers in _SALVO_SECONDS
is flagged when the survey's calm rate (the busier of its flanks, or its busiest calm
hour) makes it improbable; an honest rush, whose flanks are as busy, is not (decision
audit-first-salvo; review R7, finding 1)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from beffroi.integrity import detectors as d
from beffroi.integrity.audit import audit_dataset, run_audit
from beffroi.integrity.load import from_table
from beffroi.integrity.simulate import simulate

FMT = "%Y-%m-%d %H:%M:%S"


def _affair_smart(tmp_path: Path, seed: int) -> tuple[Path, Path, set[str]]:
    """An honest simulated export, and the affair's two salvos of 250 (one form every
    0.02-0.11 s, 60 s apart) after a day of answers: whole-second times, human fill
    times, every address in its own /24, all answering « Non » to the first question."""
    sim = simulate(tmp_path, attack="none", forms=400, seed=seed)
    with sim.export.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    submitted = sorted(r["submitdate"] for r in rows if r["submitdate"])
    start = dt.datetime.strptime(submitted[len(submitted) // 2], FMT)
    rng = np.random.default_rng(seed)
    fakes = set()
    for salvo in range(2):
        t = start + dt.timedelta(seconds=60 * salvo)
        for _ in range(250):
            t += dt.timedelta(seconds=float(rng.uniform(0.02, 0.11)))
            fill = float(rng.uniform(60, 240))
            rid = str(len(rows) + 1)
            fakes.add(rid)
            ip = ".".join(str(int(x)) for x in rng.integers([77, 1, 1, 1], [94, 255, 255, 255]))
            flag = str(rng.choice(["Y", "N"]))
            aid = "Y" if rng.random() < 0.85 else "N"
            row = dict.fromkeys(header, "")
            row |= {
                "id": rid,
                "submitdate": t.replace(microsecond=0).strftime(FMT),
                "startdate": (t - dt.timedelta(seconds=fill)).strftime(FMT),
                "datestamp": t.replace(microsecond=0).strftime(FMT),
                "lastpage": "2",
                "startlanguage": "fr",
                "seed": str(int(rng.integers(10**8, 10**9))),
                "ipaddr": ip,
                header[9]: str(rng.choice(["A1", "A2", "A3", "A4"])),
                header[10]: "N",
                header[11]: "N",
                header[12]: flag,
                header[13]: flag,
                header[14]: aid,
                header[15]: aid,
                "interviewtime": f"{fill:.2f}",
            }
            rows.append(row)
    with sim.export.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)
    return sim.export, tmp_path / "survey.lss", fakes


@pytest.mark.parametrize("seed", [1, 2])
def test_the_affairs_salvos_after_a_history_are_flagged(tmp_path: Path, seed: int) -> None:
    export, lss, fakes = _affair_smart(tmp_path, seed)
    result = run_audit(export, structure=lss)
    flagged = {str(x) for i, x in enumerate(result.ids) if result.flagged[i]}
    assert len(flagged & fakes) >= 450
    assert len(flagged - fakes) <= 10  # honest forms mostly not
    group = next(c for c in result.clusters if c["flagged"])
    # Its evidence is the rate it beat, and the verdict does not blame slow fakes.
    assert "alors que le rythme habituel autour est d'environ" in str(group["evidence"])
    assert "lentement" not in result.summary["verdict"]
    assert "rafale" in result.summary["verdict"]
    # The group's header gives its flagged members' span (the salvos: about 76 s), not
    # the scan window's hours.
    span = dt.datetime.fromisoformat(str(group["end"])) - dt.datetime.fromisoformat(
        str(group["start"])
    )
    assert dt.timedelta(seconds=60) < span < dt.timedelta(seconds=120)


def test_find_paced_salvos_judges_a_stretch_by_the_calm_rate() -> None:
    rng = np.random.default_rng(3)
    calm = np.sort(rng.uniform(0.0, 86400.0, 300))
    dense = 90000.0 + np.arange(d._SALVO_COUNT) * (d._SALVO_SECONDS / d._SALVO_COUNT)
    times = np.concatenate([calm, dense])
    (found,) = d.find_paced_salvos(times)
    assert found[:2] == (300, 300 + d._SALVO_COUNT)
    assert found[3] < d._BURST_P
    # Only the history rule's salvos are find_salvos'.
    assert d.find_salvos(times) == []
    # Where the flanks are as busy as the stretch (an honest rush), it is their rhythm:
    # 4 a second for 20 min has some 10 s of 50 and more, none improbable.
    busy = np.sort(np.concatenate([calm, rng.uniform(89400.0, 90600.0, 4800)]))
    assert d._dense_stretches(busy)[0]
    assert d.find_paced_salvos(busy) == []
    # The same salvo on top of that rush is still beyond it.
    assert d.find_paced_salvos(np.sort(np.concatenate([busy, dense])))


def _rows(times: np.ndarray, rng: np.random.Generator) -> list[dict]:
    return [
        {
            "id": f"h{k}",
            "submitted": float(t),
            "net": f"net{rng.integers(10**9)}",
            "ip": f"ip{rng.integers(10**9)}",
            "duration": float(rng.lognormal(4.8, 0.5)),
            "blouse[R1]": str(rng.choice(["oui", "non"])),
            "drapeau[R1]": str(rng.choice(["oui", "non"])),
        }
        for k, t in enumerate(times)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_audit_leaves_a_towns_opening_rush_unflagged(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # A town's opening: 2 answers a second for ten minutes, then a calm day; whole seconds.
    town = rng.uniform(0.0, 600.0, rng.poisson(1200))
    day = rng.uniform(600.0, 86400.0, 400)
    result = audit_dataset(from_table(_rows(np.floor(np.concatenate([town, day])), rng)))
    assert int(result.flagged.sum()) == 0, result.summary["verdict"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_reminders_rush_after_a_history_is_not_a_salvo(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # A quiet week, then a reminder: 3 a second at its peak, decaying over ten minutes,
    # busy enough for some 10 s to hold 50 answers now and then.
    week = rng.uniform(0.0, 7 * 86400.0, 500)
    reminder = 7 * 86400.0 + rng.exponential(600.0, 1800)
    times = np.sort(np.floor(np.concatenate([week, reminder])))
    assert d.find_paced_salvos(times) == []
    result = audit_dataset(from_table(_rows(times, rng)))
    assert int(result.flagged.sum()) == 0, result.summary["verdict"]
