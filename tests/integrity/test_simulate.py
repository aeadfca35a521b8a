import csv
from pathlib import Path

import pytest

from beffroi.integrity.simulate import HEADER, simulate


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("attack", ["seedlike", "drip", "none"])
def test_truth_matches_export(tmp_path: Path, attack: str) -> None:
    sim = simulate(tmp_path, attack=attack, forms=300, seed=3, fakes=40)
    rows = _rows(sim.export)
    truth = _rows(sim.truth)
    assert list(rows[0]) == HEADER
    assert [r["id"] for r in rows] == [t["id"] for t in truth]
    n_fake = sum(t["fake"] == "1" for t in truth)
    assert n_fake == (0 if attack == "none" else 40)
    assert len(rows) == 300 + n_fake


def test_seedlike_fakes_arrive_in_two_salvos_spaced_1_to_30s(tmp_path: Path) -> None:
    sim = simulate(tmp_path, attack="seedlike", forms=200, seed=5, fakes=60)
    rows = _rows(sim.export)
    fake_ids = {t["id"] for t in _rows(sim.truth) if t["fake"] == "1"}
    times = sorted(r["submitdate"] for r in rows if r["id"] in fake_ids)
    days = {t[:10] for t in times}
    assert len(days) == 2
    # Every fake form carries both parents' lines.
    for r in rows:
        if r["id"] in fake_ids:
            assert all(
                r[f"{m}[{p}]"] in "YN" and r[f"{m}[{p}]"]
                for m in ("BLOUSE", "DRAPEAU", "AIDE")
                for p in ("SQ001", "SQ002")
            )


def test_honest_households_share_addresses(tmp_path: Path) -> None:
    sim = simulate(tmp_path, attack="none", forms=1500, seed=2)
    rows = _rows(sim.export)
    ips = [r["ipaddr"] for r in rows]
    shared = len(ips) - len(set(ips))
    # Families and mobile NAT make one-per-IP drop real people.
    assert shared > 100


def test_same_seed_same_output(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", seed=9, forms=100)
    b = simulate(tmp_path / "b", seed=9, forms=100)
    assert a.export.read_text() == b.export.read_text()
