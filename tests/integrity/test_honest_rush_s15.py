"""An honest rush with a sharp start is not a salvo, whatever its onset rate: its dense
seconds are followed by seconds almost as busy, while a salvo stops (decision
audit-honest-rush). Before, a newsletter bringing 6 answers a second or more within a
minute had its busiest 10 s compared with the rush's own thinner tail and was flagged
whole (1,000 answers at 10 a second: 544 flagged)."""

from __future__ import annotations

import numpy as np
import pytest

from beffroi.integrity import detectors as d
from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.load import from_table

WEEK = 7 * 86400.0


def _rush(rng: np.random.Generator, onset: float, size: int, ramp: float) -> np.ndarray:
    """People told at once: each answers after a uniform delay within ``ramp`` (the
    newsletter reaching inboxes) plus an exponential one (when they read it), so that
    arrivals rise to ``onset`` a second and decay over ``size / onset`` seconds."""
    return rng.uniform(0.0, ramp, size) + rng.exponential(size / onset, size)


def _times(rng: np.random.Generator, onset: float, size: int, ramp: float, history: bool):
    rush = _rush(rng, onset, size, ramp)
    if history:  # a quiet week of 500 answers, then the newsletter
        rush = np.concatenate([rng.uniform(0.0, WEEK, 500), WEEK + rush])
    return np.sort(np.floor(rush))  # LimeSurvey's whole seconds


def _rows(times: np.ndarray, rng: np.random.Generator, prefix: str = "h") -> list[dict]:
    return [
        {
            "id": f"{prefix}{k}",
            "submitted": float(t),
            "net": f"net{rng.integers(10**9)}",
            "ip": f"ip{rng.integers(10**9)}",
            "duration": float(rng.lognormal(4.8, 0.5)),
            "blouse[R1]": str(rng.choice(["oui", "non"])),
            "drapeau[R1]": str(rng.choice(["oui", "non"])),
        }
        for k, t in enumerate(times)
    ]


# Onset rates from just above the old limit (2.5 a second) to 50 a second, sizes from a
# school's mailing to a town's; the rush decays over size / onset seconds, at least five
# minutes here (people read a newsletter over minutes, not seconds).
GRID = [
    (onset, size)
    for onset in (3.0, 6.0, 10.0, 20.0, 50.0)
    for size in (1_000, 5_000, 20_000)
    if size / onset >= 300
]


@pytest.mark.parametrize("history", [True, False], ids=["after-a-week", "at-the-opening"])
@pytest.mark.parametrize("ramp", [0.0, 60.0], ids=["instant", "within-a-minute"])
@pytest.mark.parametrize(("onset", "size"), GRID)
def test_an_honest_rush_is_no_salvo(onset: float, size: int, ramp: float, history: bool) -> None:
    rng = np.random.default_rng(int(onset * 100) + size + int(ramp))
    times = _times(rng, onset, size, ramp, history)
    assert d._dense_stretches(times)[0] or onset < 6  # the rule is reached, not dodged
    assert d.find_salvos(times) == []
    assert d.find_paced_salvos(times) == []


@pytest.mark.parametrize(("onset", "size"), [(10.0, 5_000), (20.0, 20_000), (6.0, 2_000)])
def test_the_audit_flags_nobody_in_a_newsletters_rush(
    onset: float, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(int(onset) + size)
    times = _times(rng, onset, size, 30.0, True)
    rows = _rows(times, rng)
    result = audit_dataset(from_table(rows))
    assert int(result.flagged.sum()) == 0, result.summary["verdict"]
    assert result.bursts_not_flagged  # examined, and said so
    # With no burst of the scan around it (taken out here), its dense stretch is listed
    # as examined and let pass, with what let it pass.
    monkeypatch.setattr(d, "find_bursts", lambda times, rows: [])
    result = audit_dataset(from_table(rows))
    assert int(result.flagged.sum()) == 0, result.summary["verdict"]
    decaying = [e for e in result.bursts_not_flagged if e.get("decays")]
    assert decaying
    first = decaying[0]
    assert first["next_minute"] >= 120  # still two a second and more after it
    assert "une salve s'arrête net" in first["reason"]
    assert f"encore {first['next_minute']} réponses dans la minute qui suit" in first["reason"]


def _salvo(rng: np.random.Generator, start: float, n: int, rate: float) -> np.ndarray:
    """A script at ``rate`` a second on average, with random (exponential) gaps: only its
    start and its stop set it apart."""
    return start + np.cumsum(rng.exponential(1.0 / rate, n))


@pytest.mark.parametrize("history", [True, False], ids=["after-a-week", "at-the-opening"])
@pytest.mark.parametrize("rate", [6.0, 15.0, 40.0])
@pytest.mark.parametrize("size", [80, 250, 1_000])
def test_a_salvo_that_stops_is_still_a_salvo(rate: float, size: int, history: bool) -> None:
    rng = np.random.default_rng(int(rate) + size)
    calm = rng.uniform(0.0, WEEK, 500) if history else np.zeros(0)
    start = WEEK if history else 0.0
    salvo = _salvo(rng, start, size, rate)
    # Answers keep arriving at the calm rate after it (the stop is observed).
    after = salvo[-1] + np.sort(rng.uniform(0.0, 86400.0, 40))
    times = np.sort(np.floor(np.concatenate([calm, salvo, after])))
    found = d.find_paced_salvos(times) if history else d.find_salvos(times)
    # Every dense stretch is one of the salvo's, and every one is still found (at 6 a
    # second, random gaps leave some of its seconds below 50 in 10 s: not dense).
    stretches = d._dense_stretches(times)[0]
    assert stretches and [s[:2] for s in found] == stretches
    assert sum(hi - lo for lo, hi in stretches) >= (0.95 if rate > 6 else 0.5) * size


@pytest.mark.parametrize("offset", [120.0, 600.0, 1500.0])
def test_a_salvo_inside_an_honest_rush_is_still_found(offset: float) -> None:
    # The affair's salvo (250 at about 15 a second) sent while a newsletter's rush
    # (10 a second at its start, decaying over ten minutes) is still arriving.
    rng = np.random.default_rng(int(offset))
    calm = rng.uniform(0.0, WEEK, 500)
    rush = WEEK + _rush(rng, 10.0, 6_000, 30.0)
    salvo = WEEK + offset + np.cumsum(rng.uniform(0.02, 0.11, 250))
    times = np.sort(np.floor(np.concatenate([calm, rush, salvo])))
    found = d.find_paced_salvos(times)
    t0, t1 = np.floor(salvo[0]), np.floor(salvo[-1])
    (held,) = [(lo, hi) for lo, hi, *_ in found if times[lo] <= t0 + 2 and times[hi - 1] >= t1 - 2]
    # Only the salvo's seconds: the rush's dense minutes around it are not the salvo's
    # (before, the whole dense stretch was: 2,607 honest answers flagged with it).
    lo, hi = held
    assert times[hi - 1] - times[lo] < (t1 - t0) + 2 * d._SALVO_SECONDS


def test_a_stretch_at_the_end_of_the_file_is_judged_on_its_rate() -> None:
    # A live audit during a salvo: nothing recorded after it yet, so its stop cannot be
    # seen; the rate decides, as before, rather than let a salvo pass for a rush.
    rng = np.random.default_rng(2)
    calm = rng.uniform(0.0, WEEK, 500)
    salvo = _salvo(rng, WEEK, 200, 15.0)
    times = np.sort(np.concatenate([calm, salvo]))
    assert d.find_paced_salvos(times)
    # The same salvo seen a minute later, with the survey's calm after it: still found.
    later = np.sort(np.concatenate([times, [salvo[-1] + 200.0]]))
    assert d.find_paced_salvos(later)
    # And the rush seen a minute later, still arriving: let pass.
    rush = WEEK + np.sort(_rush(rng, 10.0, 5_000, 0.0))
    assert d.find_paced_salvos(np.sort(np.concatenate([calm, rush]))) == []


def test_a_rush_at_the_opening_is_listed_without_a_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    # At the opening the survey had no rate to judge the rush by: neither usual rate nor
    # p is made up, and the report and the CLI say so rather than print « nan ».
    import html
    import io
    import re
    from contextlib import redirect_stdout

    from beffroi.integrity.cli_audit import _print_summary
    from beffroi.integrity.report import render_html

    rng = np.random.default_rng(9)
    times = _times(rng, 10.0, 3_000, 30.0, False)
    monkeypatch.setattr(d, "find_bursts", lambda times, rows: [])
    result = audit_dataset(from_table(_rows(times, rng)))
    assert int(result.flagged.sum()) == 0
    (first, *_) = [e for e in result.bursts_not_flagged if e.get("decays")]
    assert first["usual_per_hour"] is None and first["p"] is None
    page = html.unescape(render_html(result))
    assert not re.search(r"\bnan\b", page, re.IGNORECASE)
    assert "une salve s'arrête net" in page
    out = io.StringIO()
    with redirect_stdout(out):
        _print_summary(
            result.summary, result.robustness, result.checks_skipped, result.bursts_not_flagged
        )
    assert "p inconnu, pas encore de rythme" in out.getvalue()
