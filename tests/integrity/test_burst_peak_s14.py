"""A burst let pass shows the window its p-value and usual rate come from (review R10,
finding 3): the row said « 60 answers over 3 h 46, 16/h against 7.5/h, p = 6e-43 »,
figures whose own Poisson p is 1e-7, while the 30-in-20-s peak that made the burst was
nowhere. The p of the figures listed must be the p listed."""

from __future__ import annotations

import html
import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from beffroi.integrity import _stats, detectors
from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.cli_audit import _print_summary
from beffroi.integrity.load import from_table
from beffroi.integrity.report import render_html


def _times() -> np.ndarray:
    rng = np.random.default_rng(10)
    spread = rng.uniform(0, 5 * 86400, 1000)
    peak = 2.5 * 86400 + rng.uniform(0, 20, 30)
    return np.sort(np.concatenate([spread, peak]))


def test_the_bursts_p_is_the_p_of_its_peak_window() -> None:
    times = _times()
    bursts = detectors.find_bursts(times, np.arange(len(times)))
    assert bursts
    for b in bursts:
        assert b.peak_size >= 8 and b.peak_seconds >= 300
        assert b.start - 60 <= b.peak_start <= b.end
        inside = np.sum((times >= b.peak_start) & (times < b.peak_start + b.peak_seconds))
        assert inside == b.peak_size
        lam = b.expected * b.peak_seconds
        assert np.isclose(_stats.poisson_sf_ge(b.peak_size, lam), b.p, rtol=1e-9)


def _rows(times: np.ndarray) -> list[dict]:
    rng = np.random.default_rng(11)
    out = []
    for k, t in enumerate(times):
        who = int(rng.integers(0, 10**9))
        out.append(
            {
                "id": f"r{k}",
                "submitted": float(t),
                "ip": f"ip{who}",
                "net": f"net{who}",
                "duration": float(rng.lognormal(4.8, 0.5)),
                "q": str(rng.choice(["oui", "non"])),
            }
        )
    return out


def test_the_listed_figures_give_the_listed_p() -> None:
    result = audit_dataset(from_table(_rows(_times())))
    rafales = [e for e in result.bursts_not_flagged if e["kind"] == "rafale"]
    assert rafales
    for e in rafales:
        peak = e["peak"]
        assert peak["size"] <= e["size"] and peak["seconds"] in (300, 900, 1800, 3600, 7200)
        assert peak["per_hour"] == round(3600 * peak["size"] / peak["seconds"], 1)
        lam = e["usual_per_hour"] / 3600 * peak["seconds"]
        # usual_per_hour is rounded to 0.1 per hour: the p agrees to that rounding.
        assert np.isclose(
            np.log10(_stats.poisson_sf_ge(peak["size"], lam)), np.log10(e["p"]), rtol=0.02
        )
    # The report and the CLI show the peak beside the usual rate and p.
    page = html.unescape(render_html(result)).replace("\u202f", " ").replace("\u00a0", " ")
    e = max(rafales, key=lambda e: e["size"])
    assert "Pointe (la fenêtre jugée)" in page
    assert re.search(rf"{e['peak']['size']} réponses en \d+ (min|s|h) \(", page)
    assert "probabilité d'autant de réponses dans cette fenêtre" in page
    assert f"pointe de {e['peak']['size']} en " in _cli(result)


def _cli(result) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        _print_summary(
            result.summary, result.robustness, result.checks_skipped, result.bursts_not_flagged
        )
    return out.getvalue()


def test_a_salvo_shows_its_busiest_ten_seconds_and_the_counts_say_what_they_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A survey steadily at 4.5 a second: 50 in 10 s now and then by chance, let pass by
    # the salvo test; no burst of the scan (taken out), so none examined.
    rng = np.random.default_rng(3)
    busy = np.cumsum(rng.exponential(1 / 4.5, 8100))
    monkeypatch.setattr(detectors, "find_bursts", lambda times, rows: [])
    result = audit_dataset(from_table(_rows(busy)))
    salves = [e for e in result.bursts_not_flagged if e["kind"] == "salve"]
    assert salves
    for e in salves:
        assert e["peak"]["size"] == e["busiest_10s"] and e["peak"]["seconds"] == 10
        assert e["peak"]["per_hour"] == 360 * e["busiest_10s"]
    summary = result.summary
    # bursts_not_flagged > bursts_examined, and the summary says why.
    assert summary["bursts_not_flagged"] > summary["bursts_examined"] == 0
    assert summary["rafales_not_flagged"] == 0
    assert summary["salves_not_flagged"] == summary["bursts_not_flagged"]
    page = html.unescape(render_html(result)).replace("\u202f", " ").replace("\u00a0", " ")
    n = summary["salves_not_flagged"]
    said = (
        "Rafales trouvées par la détection : 0, dont 0 non signalées ; pointes d'au moins "
        f"50 réponses en 10 s hors de ces rafales, laissées passer (salves) : {n}."
    )
    assert said in page
    assert said.lower() in _cli(result)
