"""A salvo in a brand-new consultation is flagged from the first minute: at least
_SALVO_COUNT answers within _SALVO_SECONDS, with fewer than _SALVO_HISTORY before them,
is judged on its rate alone, since the survey has no rate of its own yet; an ordinary
opening rush after a mailing is not (decision audit-first-salvo)."""

from __future__ import annotations

import numpy as np
import pytest

from beffroi.integrity import detectors as d
from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.load import from_table

ANSWERS = ("oui", "non")


def _rows(times, *, prefix: str, rng: np.random.Generator, bot: bool) -> list[dict]:
    out = []
    for k, t in enumerate(times):
        who = int(rng.integers(0, 10**6))
        out.append(
            {
                "id": f"{prefix}{k}",
                "submitted": float(t),
                # A bot rotating through a VPN pool, or people on their own networks.
                "net": f"vpn{who % 20}" if bot else f"net{who}",
                "ip": f"vpnip{who % 40}" if bot else f"ip{who}",
                "ua": f"ua{who % 30}",
                "segment": ("A1", "A2")[who % 2],
                "blouse[R1]": str(rng.choice(ANSWERS)),
                "blouse[R2]": str(rng.choice(ANSWERS)),
                "drapeau[R1]": str(rng.choice(ANSWERS)),
                "drapeau[R2]": str(rng.choice(ANSWERS)),
            }
        )
    return out


def _audit(rows: list[dict], disabled=()):
    return audit_dataset(from_table(rows, segment="segment"), disabled=list(disabled))


def _salvo(rng, start: float, n: int) -> np.ndarray:
    # The affair: one form every few hundredths of a second (500 in 32 s, two salvos).
    return start + np.cumsum(rng.uniform(0.02, 0.11, n))


def _flagged(result, prefix: str) -> int:
    return sum(1 for i, x in enumerate(result.ids) if result.flagged[i] and x.startswith(prefix))


def test_find_salvos_needs_the_count_within_the_window_and_no_history() -> None:
    dense = np.arange(d._SALVO_COUNT) * (d._SALVO_SECONDS / d._SALVO_COUNT)
    assert d.find_salvos(dense) == [(0, d._SALVO_COUNT)]
    # One fewer in the window: nothing.
    assert d.find_salvos(dense[:-1]) == []
    spread = np.arange(d._SALVO_COUNT) * (d._SALVO_SECONDS / (d._SALVO_COUNT - 2))
    assert d.find_salvos(spread) == []
    # With a history of its own before it, the survey's rate judges (find_bursts).
    calm = np.arange(d._SALVO_HISTORY) * 600.0
    assert d.find_salvos(np.concatenate([calm, calm[-1] + 600 + dense])) == []
    few = calm[: d._SALVO_HISTORY - 1]
    found = d.find_salvos(np.concatenate([few, few[-1] + 600 + dense]))
    assert found == [(len(few), len(few) + d._SALVO_COUNT)]


def test_two_salvos_count_their_history_without_each_other() -> None:
    # A second salvo an hour later: the first one is not the survey's rhythm.
    rng = np.random.default_rng(1)
    first, second = _salvo(rng, 0.0, 250), _salvo(rng, 3600.0, 250)
    assert d.find_salvos(np.concatenate([first, second])) == [(0, 250), (250, 500)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_affair_in_a_new_consultation_is_flagged_from_the_first_minute(seed) -> None:
    rng = np.random.default_rng(seed)
    # Only the first salvo has partly arrived when the live audit first runs.
    early = _audit(_rows(_salvo(rng, 0.0, 80), prefix="f", rng=rng, bot=True))
    assert _flagged(early, "f") == 80
    # Both salvos, a few seconds apart: one group, every fake flagged.
    first = _salvo(rng, 0.0, 250)
    second = _salvo(rng, first[-1] + 5.0, 250)
    result = _audit(_rows(np.concatenate([first, second]), prefix="f", rng=rng, bot=True))
    assert _flagged(result, "f") == 500
    groups = [c for c in result.clusters if c["flagged"]]
    assert len(groups) == 1
    text = str(groups[0]["evidence"])
    assert text.startswith("500 réponses en ")
    assert "avant que le rythme habituel de la consultation soit connu" in text
    assert f"au moins {d._SALVO_COUNT} en {d._SALVO_SECONDS:.0f} s" in text
    assert "nan" not in text
    assert any("groupe 1 : 500 réponses en" in r for r in result.reasons.values() for r in r)


def test_a_salvo_with_nothing_else_odd_is_flagged_on_its_rate_alone() -> None:
    # Random gaps (a parallel script), a network and a browser each: no group test can
    # tell it apart, yet 250 answers in 20 s are no opening rush.
    rng = np.random.default_rng(7)
    times = np.sort(rng.uniform(0.0, 20.0, 250))
    rows = _rows(times, prefix="f", rng=rng, bot=False)
    result = _audit(rows)
    assert _flagged(result, "f") == 250
    cluster = next(c for c in result.clusters if c["flagged"])
    assert cluster["confidence"] == d._SALVO_CONFIDENCE
    assert cluster["by_rate"] is True
    # The verdict does not claim anomalies that were not found.
    assert "ou à un rythme qu'aucune ouverture ordinaire n'atteint" in result.summary["verdict"]
    # Switching the arrivals detector off switches the rule off with it.
    assert _flagged(_audit(rows, disabled=["rafales"]), "f") == 0


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_an_opening_rush_after_a_mailing_is_not_flagged(seed) -> None:
    rng = np.random.default_rng(seed)
    # 1,500 households answering a mailing, a third of them within 10 minutes on
    # average (delays decaying from the send), far busier than the affair's school.
    mailing = np.sort(rng.exponential(600.0, 1500))
    result = _audit(_rows(mailing, prefix="h", rng=rng, bot=False))
    assert d.find_salvos(mailing) == []
    assert _flagged(result, "h") == 0
    # A town-sized opening: 2 answers a second for ten minutes (7,200 an hour).
    town = np.sort(rng.uniform(0.0, 600.0, rng.poisson(1200)))
    assert d.find_salvos(town) == []


def test_a_salvo_after_a_history_keeps_the_scans_evidence() -> None:
    # With the survey's rate known, the group is the scan's: evidence against its rate.
    rng = np.random.default_rng(5)
    calm = np.sort(rng.uniform(0.0, 2 * 86400.0, 200))
    salvo = _salvo(rng, 2 * 86400.0 + 600, 250)
    rows = _rows(calm, prefix="h", rng=rng, bot=False) + _rows(salvo, prefix="f", rng=rng, bot=True)
    result = _audit(rows)
    # The scan's own rule (members judged by what they share) as before this rule.
    assert _flagged(result, "f") >= 240
    assert _flagged(result, "h") == 0
    group = next(c for c in result.clusters if c["flagged"])
    assert "alors que le rythme habituel autour est d'environ" in str(group["evidence"])
    assert group["by_rate"] is False
    assert "rythme qu'aucune ouverture" not in result.summary["verdict"]
