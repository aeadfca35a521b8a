"""Typed answers that look like codes (« Tom », « 12 ») were read as choices and
printed. With the survey's structure (.lss), LimeSurvey's own question types decide:
its free-text types are never tallied nor printed; without it, the report says that
typed answers read as choices are printed, and how to avoid it."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.cli_audit import _print_summary
from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.lss import FREE_TEXT_TYPES, parse_types
from beffroi.integrity.report import render_html
from beffroi.integrity.simulate import simulate

NAMES = ["Tom", "Paul", "Emma", "Noah", "Lina", "Hugo"]
TYPED = ["NOM", "AGE", "ENF[SQ001]", "ENF[SQ002]", "NB[SQ001]", "JOUR", "CALC", "AVIS[other]"]
CHOICES = ["ECOLE", "AVIS", "ARR[SQ001]", "ARR[SQ002]"]
# question code -> LimeSurvey type letter (short text, numerical, multiple short text,
# multiple numerical, date, equation; list, list with « other », array).
TYPES = {"ECOLE": "L", "NOM": "S", "AGE": "N", "ENF": "Q", "NB": "K", "JOUR": "D",
         "CALC": "*", "AVIS": "L", "ARR": "F"}  # fmt: skip


def _lss() -> str:
    rows, subs, qid = [], [], 1
    for code, kind in TYPES.items():
        rows.append(
            f"<row><qid>{qid}</qid><parent_qid>0</parent_qid><type>{kind}</type>"
            f"<title>{code}</title><question>{code} ?</question></row>"
        )
        parent = qid
        qid += 1
        for sq in ("SQ001", "SQ002") if code in ("ENF", "NB", "ARR") else ():
            # LimeSurvey writes « T » on subquestion rows, whatever their question.
            subs.append(
                f"<row><qid>{qid}</qid><parent_qid>{parent}</parent_qid><type>T</type>"
                f"<title>{sq}</title><question>{sq}</question></row>"
            )
            qid += 1
    return (
        '<?xml version="1.0" encoding="UTF-8"?><document><LimeSurveyDocType>Survey'
        "</LimeSurveyDocType><questions><rows>" + "".join(rows) + "</rows></questions>"
        "<subquestions><rows>" + "".join(subs) + "</rows></subquestions></document>"
    )


def _export() -> str:
    rng = np.random.default_rng(2)
    head = ["id", "submitdate", "ipaddr", *CHOICES[:2], "AVIS[other]", *CHOICES[2:], *TYPED[:7]]
    lines = [",".join(head)]
    for i in range(1, 121):
        avis = str(rng.choice(["A1", "A2", "-oth-"]))
        cells = {
            "id": str(i),
            "submitdate": f"2026-03-0{1 + i % 7} {8 + i % 12:02d}:{i % 60:02d}:00",
            "ipaddr": f"10.0.{i % 50}.{i}",
            "ECOLE": str(rng.choice(["A1", "A2"])),
            "AVIS": avis,
            "AVIS[other]": str(rng.choice(NAMES)) if avis == "-oth-" else "",
            "ARR[SQ001]": str(rng.choice(["A1", "A2", "A3"])),
            "ARR[SQ002]": str(rng.choice(["A1", "A2", "A3"])),
            "NOM": str(rng.choice(NAMES)),
            "AGE": str(rng.integers(6, 11)),
            "ENF[SQ001]": str(rng.choice(NAMES)),
            "ENF[SQ002]": str(rng.choice(NAMES)),
            "NB[SQ001]": str(rng.integers(1, 4)),
            "JOUR": "2026-03-01",
            "CALC": str(rng.integers(10, 14)),
        }
        lines.append(",".join(cells[h] for h in head))
    return "\n".join(lines) + "\n"


def _outputs(result) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        _print_summary(
            result.summary, result.robustness, result.checks_skipped, result.bursts_not_flagged
        )
    page = render_html(result)
    return json.dumps(result.to_json(), ensure_ascii=False) + page + out.getvalue()


def test_the_type_letters_are_limesurveys_free_text_types() -> None:
    # Short/long/huge free text, multiple short text, numerical, multiple numerical,
    # date, equation, file upload, array of texts; never a choice type.
    assert set("STUQNKD*|;") == FREE_TEXT_TYPES
    assert not FREE_TEXT_TYPES & set("LO!5YGMPFABCEH1R:I")


def test_the_structure_keeps_only_the_questions_types() -> None:
    types = parse_types(_lss(), "s.lss")
    assert types == TYPES  # the subquestions' « T » is not taken for their question's


def test_with_the_structure_typed_answers_are_never_tallied_nor_printed(tmp_path: Path) -> None:
    lss = tmp_path / "enquete.lss"
    lss.write_text(_lss(), encoding="utf-8")
    ds = load_limesurvey(text=_export(), structure=lss)
    assert set(TYPED) <= set(ds.text_columns)
    codes = {q.code for q in ds.questions}
    assert codes == set(CHOICES) - {"ECOLE"} | ({"ECOLE"} - {ds.segment or ""})
    assert "types des questions" not in {c["check"] for c in ds.checks_skipped}
    text = _outputs(audit_dataset(ds))
    for name in NAMES:
        assert f"« {name} »" not in text and f'"{name}"' not in text, name
    # The « other » choice is still counted, as « Autre ».
    assert "Autre" in text


def test_without_it_the_rule_stays_and_the_report_says_how_to_avoid_it() -> None:
    ds = load_limesurvey(text=_export())
    # Short typed answers still read as a choice (the rule without a structure)…
    assert "NOM" in {q.code for q in ds.questions}
    reasons = {c["check"]: c["reason"] for c in ds.checks_skipped}
    why = reasons["types des questions"]
    assert why.startswith("pas de structure de l'enquête (.lss)")
    assert "même si les répondants les ont tapées" in why and "--structure" in why
    result = audit_dataset(ds)
    page = render_html(result).replace("\u202f", " ").replace("\u00a0", " ")
    assert "types des questions" in page and "--structure enquete.lss" in page
    assert "non vérifié : types des questions (pas de structure" in _outputs(result)


def test_an_export_of_limesurveys_own_codes_needs_no_warning(tmp_path: Path) -> None:
    sim = simulate(tmp_path, attack="none", forms=120, fakes=0, seed=2)
    ds = load_limesurvey(sim.export)
    assert "types des questions" not in {c["check"] for c in ds.checks_skipped}
    # Its .lss names the arrays' subquestions « T »: they stay choices.
    with_lss = load_limesurvey(sim.export, structure=tmp_path / "survey.lss")

    def columns(d):
        return {c for q in d.questions for c, _ in q.rows}

    assert columns(with_lss) == columns(ds) and len(columns(ds)) >= 6
    assert with_lss.text_columns == ds.text_columns == []
