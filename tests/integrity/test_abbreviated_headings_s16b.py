"""Abbreviated headings that name a free-text box or one of LimeSurvey's own columns
(review R18, findings 5 and 6).

A list question's « other » box is written « Question.. [Autre] » (« [Other] » in
English), its comment « [Commentaire] »: the same heading as a subquestion « Autre » of
another question that starts alike. LimeSurvey also cuts the names of its own columns
(« Date de la dernière action ») as it cuts the questions' texts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.integrity.test_abbreviated_headings_s16 import ANSWERS, QUESTIONS, lss_6

from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.lss import parse_heading_index

# Q1, a list with an « other » box, and Q2, a multiple choice with a subquestion
# « Autre »: their headings start alike and are cut to the same 15 characters.
TWO = [
    (6, 0, "L", "Q1", "Que pensez-vous du projet ?", 0),
    (7, 0, "M", "Q2", "Que pensez-vous des équipements ?", 0),
    (8, 7, "T", "SQ001", "Autre", 0),
    (9, 7, "T", "SQ002", "Bancs", 0),
    (10, 0, "O", "Q3", "Que pensez-vous de la place ?", 0),
    (11, 0, "M", "Q4", "Que pensez-vous de la salle ?", 0),
    (12, 11, "T", "SQ001", "Commentaire", 0),
]
TWO_ANSWERS = [(6, "A1", "Bien", 0), (6, "A2", "Mal", 0), (10, "A1", "Oui", 0)]
TYPED = ["", "Je trouve que M. Dupont du 3 rue X est bruyant", "trop cher", "Y"]


def structure(tmp_path: Path, other: dict[int, str] | None = None) -> Path:
    path = tmp_path / "survey.lss"
    # The probe's two questions only (Q3 and Q4 start alike too).
    path.write_text(lss_6(TWO[:4], TWO_ANSWERS[:2], other), encoding="utf-8")
    return path


def probe_export() -> str:
    """The export of review R18's probe: Q1's answer and « other » box, one item of Q2
    (Q2's own « Autre » item is not among the exported columns)."""
    rng = np.random.default_rng(1)
    heads = ["Que pensez-vous..", "Que pensez-vous.. [Autre]", "Que pensez-vous.. [Bancs]"]
    lines = [",".join(["id", "submitdate", *(f'"{h}"' for h in heads)])]
    for i in range(1, 61):
        typed = rng.choice(TYPED)
        cells = [str(rng.choice(["A1", "A2"])), f'"{typed}"', str(rng.choice(["Y", ""]))]
        lines.append(",".join([str(i), f"2026-03-01 10:{i % 60:02d}:00", *cells]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("other", [None, {6: "Y", 7: "N"}])
def test_an_other_box_and_a_subquestion_under_one_heading_are_refused(
    tmp_path: Path, other: dict[int, str] | None
) -> None:
    # The structure gives Q1 an « other » box (or does not say): « [Autre] » may be it,
    # or Q2's item « Autre ». Neither is chosen.
    ds = load_limesurvey(text=probe_export(), structure=structure(tmp_path, other))
    notes = [s["reason"] for s in ds.checks_skipped if s["check"] == "types des questions"]
    assert any("« Que pensez-vous.. [Autre] » (Q1[Autre], Q2[SQ001])" in n for n in notes)
    # Q1's typed text never becomes an item of Q2, counted and shown.
    assert "Q2[SQ001]" not in {q.rows[0][0] for q in ds.questions}
    assert "Que pensez-vous..[Autre]" in ds.text_columns
    assert all("Autre" not in q.label for q in ds.questions)


def test_the_structure_says_when_there_is_no_box(tmp_path: Path) -> None:
    # No question has an « other » box: the subquestion « Autre » is the only reading.
    no_box = {6: "N", 7: "N", 10: "N", 11: "N"}
    index = parse_heading_index(lss_6(TWO, TWO_ANSWERS, no_box), "survey.lss")
    assert index.match("Que pensez-vous.. [Autre]") == ("Q2[SQ001]", [])
    # Q3, a list with comment, has a comment column, and Q4 an item « Commentaire »;
    # the list Q1 and the multiple choice Q2 have no comment column.
    assert index.match("Que pensez-vous.. [Commentaire]") == (
        None,
        ["Q3[Commentaire]", "Q4[SQ001]"],
    )
    # With its box, Q1 is one more reading of « [Autre] », in English too.
    index = parse_heading_index(lss_6(TWO, TWO_ANSWERS, {**no_box, 6: "Y"}), "survey.lss")
    assert index.match("Que pensez-vous.. [Autre]") == (None, ["Q1[Autre]", "Q2[SQ001]"])
    assert index.match("Que pensez-vous.. [Other]") == ("Q1[Other]", [])


def test_a_subquestion_named_like_a_box_of_the_same_question_is_not_ambiguous() -> None:
    # One question only: its row « Autre » and its box cannot be two columns here.
    questions = [*QUESTIONS, (20, 0, "M", "EQUIP", "Quels équipements utilisez-vous ?", 0)]
    questions.append((21, 20, "T", "SQ001", "Autre", 0))
    index = parse_heading_index(lss_6(questions, ANSWERS), "survey.lss")
    assert index.match("Quels équipemen.. [Autre]") == ("EQUIP[SQ001]", [])


def meta_export(heads: list[str], question: str = "Votre école ?") -> str:
    lines = [",".join(f'"{h}"' for h in [*heads, question])]
    for i in range(1, 61):
        stamp = f"2026-03-01 10:{i % 60:02d}:00"
        cells = [str(i), stamp, "3", "fr", stamp.replace(":00", ":30"), ["A1", "A2"][i % 2]]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_french_abbreviated_metadata_headings_keep_their_roles(tmp_path: Path) -> None:
    lss = tmp_path / "survey.lss"
    lss.write_text(lss_6(), encoding="utf-8")
    # Cut at 10 characters, the response ID and the submission date are abbreviated too.
    heads = ["ID de la r..", "Date de so..", "Dernière page", "Langue de départ"]
    ds = load_limesurvey(text=meta_export([*heads, "Date de la dern.."]), structure=lss)
    assert ds.table.column("id").to_pylist()[:2] == ["1", "2"]
    assert ds.table.column("submitted").null_count == 0
    assert set(ds.table.column("lang").to_pylist()) == {"fr"}
    # « Date de la dernière action » is LimeSurvey's, not a question to tally.
    assert [q.code for q in ds.questions] == ["ECOLE"]
    assert ds.text_columns == []


def test_a_cut_heading_after_the_answers_is_no_metadata(tmp_path: Path) -> None:
    # LimeSurvey writes its own columns first: after the first answer column,
    # « Date de la dern.. » is a question's text (from another version of the survey).
    lss = tmp_path / "survey.lss"
    lss.write_text(lss_6(), encoding="utf-8")
    lines = ['"ID de la réponse","Date de soumission","Votre école ?","Date de la dern.."']
    lines += [f"{i},2026-03-01 10:{i:02d}:00,A{1 + i % 2},visite {i}" for i in range(1, 41)]
    ds = load_limesurvey(text="\n".join(lines) + "\n", structure=lss)
    assert "Date de la dern.." in ds.text_columns
