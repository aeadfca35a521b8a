"""A flagged group's evidence gives the span of its dense part: one genuine answer
that fell in the scan's window (a quick fill, the same answer as the salvo) is counted
apart instead of stretching « 500 réponses en 32 s » to « 501 réponses en 22 min ».
Which responses are flagged does not change (decision integrity-score)."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from beffroi.integrity.audit import AuditResult, run_audit
from beffroi.integrity.detectors import _core_evidence, _dense_part

HEADER = ["id", "submitdate", "startdate", "datestamp", "ipaddr", "ECOLE", "BLOUSE[SQ001]",
          "BLOUSE[SQ002]", "interviewtime"]  # fmt: skip
SALVO = datetime(2026, 3, 8, 21, 0)


def _export(strays: list[float], seed: int = 11) -> bytes:
    """A LimeSurvey export: 300 parents over ten days, 500 fake forms in two salvos
    (25 s, a pause of 8 s, 25 s) from one hosting network, and genuine parents
    ``strays`` seconds from the salvo who filled in fast and answered like it."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 7, 0)
    forms = []
    for _ in range(300):
        at = start + timedelta(seconds=rng.randrange(10 * 86400))
        ip = ".".join(str(rng.randrange(1, 250)) for _ in range(4))
        vote = "Y" if rng.random() < 0.58 else "N"
        forms.append((at, ip, rng.choice(["A1", "A2"]), vote, rng.choice(["", vote]),
                      rng.uniform(60, 400)))  # fmt: skip
    for i in range(500):
        at = SALVO + timedelta(seconds=(i % 250) * 0.1 + (8 if i >= 250 else 0))
        forms.append((at, f"185.220.101.{rng.randrange(1, 40)}", "A1", "N", "N", rng.uniform(3, 6)))
    for k, s in enumerate(strays):
        forms.append((SALVO + timedelta(seconds=s), f"90.12.34.{k + 1}", "A1", "N", "N", 4.0))
    forms.sort(key=lambda f: f[0])
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(HEADER)
    for n, (at, ip, school, a, b, took) in enumerate(forms, start=1):
        stamp = at.strftime("%Y-%m-%d %H:%M:%S")
        began = (at - timedelta(seconds=took)).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([n, stamp, began, stamp, ip, school, a, b, f"{took:.2f}"])
    return out.getvalue().encode("utf-8")


def _audit(tmp_path: Path, strays: list[float]) -> AuditResult:
    path = tmp_path / "export.csv"
    path.write_bytes(_export(strays))
    return run_audit(path)


RATE = r", alors que le rythme habituel autour est d'environ \d+ par heure"


def test_a_genuine_answer_in_the_window_is_counted_apart(tmp_path: Path) -> None:
    result = _audit(tmp_path, [-21 * 60])
    [group] = result.clusters
    assert re.fullmatch(
        re.escape("500 réponses en 32 s, plus 1 à l'écart dans le temps (22 min en tout)") + RATE,
        group["evidence"],
    )
    # Still flagged with the salvo: it shares its completion time and its answer
    # (the score is unchanged; only the sentence measuring the group is).
    assert group["flagged"] == 501
    flagged_reasons = [r for r in result.reasons.values() if r]
    assert all(r[0].startswith("groupe 1 : 500 réponses en 32 s, plus 1 ") for r in flagged_reasons)


def test_strays_on_both_sides_and_a_salvo_alone(tmp_path: Path) -> None:
    [group] = _audit(tmp_path, [-15 * 60, 20 * 60]).clusters
    assert re.fullmatch(
        re.escape("500 réponses en 32 s, plus 2 à l'écart dans le temps (35 min en tout)") + RATE,
        group["evidence"],
    )
    assert group["flagged"] == 502
    [group] = _audit(tmp_path, []).clusters
    # Nothing apart: the sentence reports already stored use.
    assert re.fullmatch("500 réponses en 32 s" + RATE, group["evidence"])
    assert group["flagged"] == 500


def test_the_dense_part_follows_a_steady_script_and_two_salvos() -> None:
    # A drip every 50 s: each member is close to the next, none is apart.
    drip = np.arange(30) * 50.0
    assert _dense_part(drip) == (0, 29)
    # Two salvos ten minutes apart, half each: both are the group's dense part.
    two = np.concatenate([np.arange(50) * 0.1, 600 + np.arange(50) * 0.1])
    assert _dense_part(two) == (0, 99)
    # Too few to set any apart.
    assert _dense_part(np.array([0.0, 1.0, 2.0, 3.0, 900.0])) == (0, 4)
    # A salvo and one late answer: the late one is apart, an early close one is not.
    salvo = np.concatenate([[-40.0], np.arange(100) * 0.3, [1800.0]])
    assert _dense_part(salvo) == (0, 100)
    assert _core_evidence(salvo, 2 / 3600).startswith(
        "101 réponses en 70 s, plus 1 à l'écart dans le temps (31 min en tout)"
    )


@pytest.mark.parametrize("n", [2, 3, 9])
def test_small_groups_read_as_before(n: int) -> None:
    times = np.arange(n) * 400.0
    assert _core_evidence(times, 2 / 3600).startswith(f"{n} réponses en ")
    assert "écart" not in _core_evidence(times, 2 / 3600)
