"""Real crowds reacting at once to one shock (CrisisLexT26: an explosion, a meteor, an
earthquake) never hold a salvo: no 10 s of any event reaches _SALVO_COUNT, so neither
salvo rule can fire on them (decision audit-first-salvo)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from beffroi.integrity import detectors as d
from beffroi.watch.classify.crisislex import default_data_dir


def _events() -> list[Path]:
    root = default_data_dir() / "CrisisLexT26"
    return sorted(root.glob("*/*-tweetids_entire_period.csv")) if root.is_dir() else []


def _times(path: Path) -> np.ndarray:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    stamps = [dt.datetime.strptime(r[0], "%a %b %d %H:%M:%S %z %Y").timestamp() for r in rows]
    return np.sort(np.asarray(stamps, dtype=float))


@pytest.mark.skipif(not _events(), reason="shared CrisisLexT26 data not present")
def test_no_crisislex_event_holds_a_salvo() -> None:
    busiest = 0
    for path in _events():
        times = _times(path)
        _, counts = d._dense_stretches(times)
        busiest = max(busiest, int(counts.max()))
        assert d.find_salvos(times) == [], path.name
        assert d.find_paced_salvos(times) == [], path.name
    # The decision's figure: 17 in the busiest 10 s of any event, far below 50.
    assert busiest < d._SALVO_COUNT
    assert busiest >= 10  # the data were read: these are real crowds
