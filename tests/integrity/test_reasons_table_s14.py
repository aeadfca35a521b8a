"""Each response's reasons are kept once per distinct list (review R7, finding 10: one
list per flagged response filled the memory on 600,000 flagged rows). What each
response is given, and the JSON, must not change."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from beffroi.integrity import audit
from beffroi.integrity.audit import Reasons, _reasons, run_audit
from beffroi.integrity.detectors import analyse, combine
from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.simulate import simulate


def _one_list_per_row(a, sc, disabled):
    """The reasons as they were built before: a list per response."""
    out: dict[int, list[str]] = {}
    off = set(disabled)
    burst_of = {id(b.rows): b for b in a.bursts}
    for num, info in enumerate(sc.clusters, start=1):
        members = np.flatnonzero(sc.cluster == num)
        if not len(members):
            continue
        b = burst_of[id(info["rows"])]
        texts = [(f"groupe {num} : {info['evidence']}", None)]
        for chk in b.checks:
            if chk.significant and chk.key not in off:
                who = None if chk.sharing is None else set(chk.sharing.tolist())
                texts.append((chk.evidence, who))
        for i in members.tolist():
            out[i] = [t for t, who in texts if who is None or i in who]
    for key, (idx, msgs) in a.individual_reason.items():
        if key in off:
            continue
        for i in np.flatnonzero((idx >= 0) & (sc.score > 0)).tolist():
            out.setdefault(i, []).append(msgs[int(idx[i])])
    return out


@pytest.mark.parametrize(
    ("attack", "disabled"), [("seedlike", ()), ("seedlike", ("reseau",)), ("none", ())]
)
def test_every_response_is_given_what_it_was_given_before(
    tmp_path: Path, attack: str, disabled: tuple[str, ...]
) -> None:
    sim = simulate(tmp_path, attack=attack, forms=400, fakes=120, seed=11)
    a = analyse(load_limesurvey(sim.export))
    sc = combine(a, disabled)
    table = _reasons(a, sc, disabled)
    before = _one_list_per_row(a, sc, disabled)
    assert dict(table.items()) == before
    if attack == "seedlike":
        assert len(before) >= 100
        # Far fewer lists than responses given one.
        assert len(table.lists) < len(before) / 5


def test_the_table_reads_like_a_dict() -> None:
    table = Reasons(np.array([-1, 0, 1, 0], dtype=np.int32), [["a"], ["b", "c"]])
    assert dict(table) == {1: ["a"], 2: ["b", "c"], 3: ["a"]}
    assert table.get(0, []) == [] and table.get(9, []) == [] and len(table) == 3


@pytest.mark.parametrize("chunk", [7, 100_000])
def test_the_streamed_json_is_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    sim = simulate(tmp_path, attack="seedlike", forms=300, fakes=80, seed=3)
    result = run_audit(sim.export)
    monkeypatch.setattr(audit, "JSON_CHUNK", chunk)
    out = io.StringIO()
    result.write_json(out)
    streamed = json.loads(out.getvalue())
    whole = json.loads(json.dumps(result.to_json(), ensure_ascii=False))
    assert streamed == whole
    assert sum(1 for r in streamed["responses"] if r["reasons"]) >= 80
