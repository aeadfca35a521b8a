"""With the survey's structure (.lss), a choice type no longer makes a column a choice
whatever it holds: answers outside the structure's codes, or more than 30 distinct
ones, are typed; an array of numbers with input boxes is typed; and questions the
structure does not know are said, as without a structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from beffroi.integrity.load import build_questions, load_limesurvey
from beffroi.integrity.lss import parse_types
from beffroi.integrity.simulate import simulate


def _lss(attributes: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><document><LimeSurveyDocType>Survey'
        "</LimeSurveyDocType><questions><rows>"
        "<row><qid>1</qid><parent_qid>0</parent_qid><type>:</type><title>Q1</title></row>"
        "<row><qid>2</qid><parent_qid>0</parent_qid><type>L</type><title>Q2</title></row>"
        "</rows></questions><question_attributes><rows>" + attributes + "</rows>"
        "</question_attributes></document>"
    )


def _boxes(value: str) -> str:
    return (
        f"<row><qid>1</qid><attribute>input_boxes</attribute><value>{value}</value>"
        "<language>fr</language></row>"
    )


def test_an_array_of_numbers_with_input_boxes_is_typed() -> None:
    assert parse_types(_lss(), "s.lss") == {"Q1": ":", "Q2": "L"}
    assert parse_types(_lss(_boxes("0")), "s.lss")["Q1"] == ":"
    assert parse_types(_lss(_boxes("1")), "s.lss") == {"Q1": ";", "Q2": "L"}


def _table(n: int = 400) -> pa.Table:
    rng = np.random.default_rng(3)
    return pa.table(
        {
            "Q1[SQ001_SQ001]": [str(v) for v in rng.integers(0, 500, n)],
            "Q2": [str(rng.choice(["A1", "A2"])) for _ in range(n)],
            "Q3": [str(rng.choice(["A1", "A2", "Léa"])) for _ in range(n)],
        }
    )


def test_many_distinct_answers_are_text_whatever_the_type() -> None:
    table = _table()
    cols = table.column_names
    # The reviewer's case: 400 typed numbers 0-500 under a drop-down type.
    questions, text = build_questions(cols, table, limesurvey=True, types={"Q1": ":"})
    assert "Q1[SQ001_SQ001]" in text
    assert "Q1[SQ001_SQ001]" not in {c for q in questions for c, _ in q.rows}


def test_answers_outside_the_structures_codes_are_text() -> None:
    table = _table()
    types = {"Q1": ";", "Q2": "L", "Q3": "L"}
    codes = {"Q2": {"A1", "A2"}, "Q3": {"A1", "A2"}}
    questions, text = build_questions(
        table.column_names, table, limesurvey=True, types=types, answer_codes=codes
    )
    assert "Q3" in text and "Q2" not in text
    assert {q.code for q in questions} == {"Q2"}
    # Without the codes to check against, « Léa » passes as a choice (the old rule).
    questions, text = build_questions(table.column_names, table, limesurvey=True, types=types)
    assert "Q3" not in text


def test_questions_the_structure_does_not_know_are_said(tmp_path: Path) -> None:
    sim = simulate(tmp_path, attack="none", forms=120, fakes=0, seed=2)
    full = load_limesurvey(sim.export, structure=tmp_path / "survey.lss")
    assert "types des questions" not in {c["check"] for c in full.checks_skipped}
    # The same survey's structure, but from a version without its first question.
    lss = (tmp_path / "survey.lss").read_text(encoding="utf-8")
    codes = sorted({q.item_of or q.code for q in full.questions})
    old = tmp_path / "old.lss"
    old.write_text(
        lss.replace(f"<title>{codes[0]}</title>", "<title>ZZOLD</title>"), encoding="utf-8"
    )
    ds = load_limesurvey(sim.export, structure=old)
    reasons = {c["check"]: c["reason"] for c in ds.checks_skipped}
    why = reasons["types des questions"]
    assert why.startswith("la structure de l'enquête (.lss) ne donne pas le type des questions")
    assert codes[0] in why and "ZZOLD" not in why
