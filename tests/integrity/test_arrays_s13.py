"""Arrays and multiple-choice questions are read as what they are.

Every LimeSurvey array and multiple choice names its rows SQ001, SQ002…: two of them
sharing those codes were taken for one measure answered by parent 1 and parent 2, a
Likert array was tallied pooled over its unrelated items, and a multiple choice (« Y »
or blank) became a one-answer question reported as « Q2 « » ».
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.simulate import simulate

MC = [f"Q2[SQ00{k}]" for k in range(1, 5)]
LIKERT = [f"Q3[SQ00{k}]" for k in range(1, 5)]


def general_text(forms: int = 90, seed: int = 5) -> str:
    """Like the reviewer's general.csv: a multiple choice and a Likert array, both with
    LimeSurvey's default row codes, placed before the school question."""
    rng = random.Random(seed)
    lines = [",".join(["id", "submitdate", *MC, *LIKERT, "ECOLE"])]
    for i in range(forms):
        ticks = [rng.choice(["Y", ""]) for _ in MC]
        likert = [rng.choice(["A1", "A2", "A3", "A4", "A5", ""]) for _ in LIKERT]
        sent = f"2026-05-04 {8 + i // 60:02d}:{i % 60:02d}:00"
        school = rng.choice(["E1", "E2", "E3"])
        lines.append(",".join([str(i + 1), sent, *ticks, *likert, school]))
    return "\n".join(lines) + "\n"


def test_default_row_codes_are_not_parents() -> None:
    ds = load_limesurvey(text=general_text())
    assert not any(q.repeated for q in ds.questions)
    assert [q.code for q in ds.questions] == [*MC, *LIKERT]
    for q in ds.questions:
        assert len(q.rows) == 1 and q.item_of in ("Q2", "Q3")
    assert ds.questions[0].label == "Q2 [SQ001]"


def test_an_array_item_is_never_taken_for_the_school() -> None:
    ds = load_limesurvey(text=general_text())
    assert ds.segment == "ECOLE"


def test_multiple_choice_is_yes_or_no_per_item() -> None:
    text = general_text()
    ds = load_limesurvey(text=text)
    assert all(q.multiple for q in ds.questions[:4])
    assert not any(q.multiple for q in ds.questions[4:])
    raw = [line.split(",") for line in text.splitlines()[1:]]
    items = [ds.table.column(c).to_pylist() for c in MC]
    for r, line in enumerate(raw):
        ticked = line[2:6]
        got = [col[r] for col in items]
        if "Y" in ticked:
            # Left blank by a response that ticked another item: « N ».
            assert got == ["Y" if t == "Y" else "N" for t in ticked]
        else:
            # Ticked nothing: skipped or never shown, LimeSurvey cannot say which.
            assert got == [None] * 4


def test_each_item_tallied_on_its_own() -> None:
    text = general_text()
    res = audit_dataset(load_limesurvey(text=text))
    brut = next(s for s in res.scenarios if s["scenario"] == "brut")
    tallies = {q["question"]: q for q in brut["questions"]}
    assert set(tallies) == {*MC, *LIKERT}
    raw = [line.split(",") for line in text.splitlines()[1:]]
    for k, col in enumerate(LIKERT):
        expected: dict[str, int] = {}
        for line in raw:
            if line[6 + k]:
                expected[line[6 + k]] = expected.get(line[6 + k], 0) + 1
        assert tallies[col]["counts"] == expected and tallies[col]["rows"] == []
    assert set(tallies[MC[0]]["counts"]) <= {"Y", "N"}


def test_named_rows_shared_by_two_questions_are_still_people() -> None:
    head = "id,submitdate,ECOLE,BLOUSE[P1],BLOUSE[P2],AIDE[P1],AIDE[P2]"
    rows = [f"{i},2026-03-02 18:{i:02d}:00,A{i % 2 + 1},Y,N,N,Y" for i in range(1, 30)]
    ds = load_limesurvey(text="\n".join([head, *rows]))
    assert [q.code for q in ds.questions] == ["BLOUSE", "AIDE"]
    assert all(q.repeated for q in ds.questions)


def test_structure_labels_make_default_codes_people(tmp_path: Path) -> None:
    """The simulator's parents are SQ001/SQ002 labelled « Parent 1 »/« Parent 2 » in its
    .lss: the labels, shared by the three measures, say the rows are people."""
    sim = simulate(tmp_path, attack="none", forms=120, fakes=0, seed=2)
    with_lss = load_limesurvey(sim.export, structure=tmp_path / "survey.lss")
    assert [q.code for q in with_lss.questions] == ["BLOUSE", "DRAPEAU", "AIDE"]
    assert all(q.repeated for q in with_lss.questions)
    without = load_limesurvey(sim.export)
    assert not any(q.repeated for q in without.questions)
    assert len(without.questions) == 6


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=2, max_size=60),
)
def test_ticks_fuzzed(ticks: list[list[bool]]) -> None:
    """Whatever is ticked: every tick kept, « N » only beside a tick, never invented."""
    cols = ["M[SQ001]", "M[SQ002]", "M[SQ003]"]
    lines = [",".join(["id", "submitdate", "S", *cols])]
    for i, row in enumerate(ticks):
        cells = ["Y" if t else "" for t in row]
        lines.append(",".join([str(i), f"2026-03-02 10:00:{i:02d}", "A1", *cells]))
    if not any(any(r) for r in ticks):
        return  # nothing ticked anywhere: no answer to count (refused as such)
    ds = load_limesurvey(text="\n".join(lines))
    got = [ds.table.column(c).to_pylist() for c in cols]
    for i, row in enumerate(ticks):
        values = [g[i] for g in got]
        if any(row):
            assert values == ["Y" if t else "N" for t in row]
        else:
            assert values == [None, None, None]
