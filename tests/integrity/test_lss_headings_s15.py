"""The structure (.lss) applies to LimeSurvey's « full question text » exports too: the
headings are matched to the questions' texts (« Question » or « Question [Subquestion] »,
in any of the survey's languages) so that the types decide, not the content rule; and
the answer options that LimeSurvey 1.x kept in label sets are read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.lss import heading_key, parse_headings, parse_lss, parse_types

NAMES = ["Tom", "Paul", "Emma", "Noah", "Lina", "Hugo"]
DOC = (
    '<?xml version="1.0" encoding="UTF-8"?><document><LimeSurveyDocType>Survey</LimeSurveyDocType>'
)


def _lss_4() -> str:
    """LimeSurvey 4+ layout: texts in question_l10ns, in French and English."""
    questions = [
        (1, 0, "L", "ECOLE", {"fr": "Votre école ?", "en": "Your school?"}),
        (2, 0, "S", "NOM", {"fr": "Prénom de l'<b>enfant</b>", "en": "Child's first name"}),
        (3, 0, "N", "AGE", {"fr": "Âge de l'enfant", "en": "Child's age"}),
        (4, 0, "F", "BLOUSE", {"fr": "Port d'une blouse", "en": "Wearing a smock"}),
        (5, 4, "T", "SQ001", {"fr": "Parent 1", "en": "Parent 1"}),
        (6, 4, "T", "SQ002", {"fr": "Parent 2", "en": "Parent 2"}),
    ]
    q_rows, s_rows, l10n = [], [], []
    for qid, parent, kind, title, texts in questions:
        row = (
            f"<row><qid>{qid}</qid><parent_qid>{parent}</parent_qid><type>{kind}</type>"
            f"<title>{title}</title></row>"
        )
        (s_rows if parent else q_rows).append(row)
        for lang, text in texts.items():
            l10n.append(
                f"<row><qid>{qid}</qid><question><![CDATA[{text}]]></question>"
                f"<language>{lang}</language></row>"
            )
    answers = [(1, "A1", "Jules-Ferry"), (1, "A2", "Pierre-Loti"), (4, "Y", "Oui"), (4, "N", "Non")]
    a_rows = "".join(
        f"<row><aid>{i}</aid><qid>{q}</qid><code>{c}</code></row>"
        for i, (q, c, _) in enumerate(answers)
    )
    a_l10n = "".join(
        f"<row><aid>{i}</aid><answer>{t}</answer><language>fr</language></row>"
        for i, (_, _, t) in enumerate(answers)
    )
    return (
        DOC + "<languages><language>fr</language><language>en</language></languages>"
        f"<questions><rows>{''.join(q_rows)}</rows></questions>"
        f"<subquestions><rows>{''.join(s_rows)}</rows></subquestions>"
        f"<question_l10ns><rows>{''.join(l10n)}</rows></question_l10ns>"
        f"<answers><rows>{a_rows}</rows></answers>"
        f"<answer_l10ns><rows>{a_l10n}</rows></answer_l10ns></document>"
    )


HEADINGS = {
    "full": {
        "ECOLE": "Votre école ?",
        "NOM": "Prénom de l'enfant",
        "AGE": "Âge de l'enfant",
        "BLOUSE[SQ001]": "Port d'une blouse [Parent 1]",
        "BLOUSE[SQ002]": "Port d'une blouse [Parent 2]",
    },
    "english": {
        "ECOLE": "Your school?",
        "NOM": "Child's first name",
        "AGE": "Child's age",
        "BLOUSE[SQ001]": "Wearing a smock [Parent 1]",
        "BLOUSE[SQ002]": "Wearing a smock [Parent 2]",
    },
    # LimeSurvey's « Question code & question text », with its default separator.
    "codetext": {
        "ECOLE": "ECOLE. Votre école ?",
        "NOM": "NOM. Prénom de l'enfant",
        "AGE": "AGE. Âge de l'enfant",
        "BLOUSE[SQ001]": "BLOUSE[SQ001]. Port d'une blouse [Parent 1]",
        "BLOUSE[SQ002]": "BLOUSE[SQ002]. Port d'une blouse [Parent 2]",
    },
}


def _export(headings: dict[str, str]) -> str:
    rng = np.random.default_rng(4)
    cols = list(headings)

    def quote(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    lines = [",".join(["id", "submitdate", *(quote(headings[c]) for c in cols)])]
    for i in range(1, 121):
        cells = {
            "ECOLE": str(rng.choice(["A1", "A2"])),
            # Typed answers that look like codes: the content rule reads them as choices.
            "NOM": str(rng.choice(NAMES)),
            "AGE": str(rng.integers(6, 11)),
            "BLOUSE[SQ001]": str(rng.choice(["Y", "N"])),
            "BLOUSE[SQ002]": str(rng.choice(["Y", "N"])),
        }
        stamp = f"2026-03-0{1 + i % 7} {8 + i % 12:02d}:{i % 60:02d}:00"
        lines.append(",".join([str(i), stamp, *(cells[c] for c in cols)]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("variant", sorted(HEADINGS))
def test_full_headings_get_the_structures_types(tmp_path: Path, variant: str) -> None:
    lss = tmp_path / "survey.lss"
    lss.write_text(_lss_4(), encoding="utf-8")
    ds = load_limesurvey(text=_export(HEADINGS[variant]), structure=lss)
    # The typed columns are text, never tallied: their codes were found.
    assert sorted(ds.text_columns) == ["AGE", "NOM"]
    codes = {q.item_of or q.code for q in ds.questions} | {ds.segment}
    assert codes == {"ECOLE", "BLOUSE"}
    blouse = [q for q in ds.questions if (q.item_of or q.code) == "BLOUSE"]
    assert {c for q in blouse for c, _ in q.rows} == {"BLOUSE[SQ001]", "BLOUSE[SQ002]"}
    assert all(q.options.get("Y") == "Oui" for q in blouse)
    # Every question's type was known: no « types des questions » note.
    assert not [s for s in ds.checks_skipped if s["check"] == "types des questions"]


def test_without_the_mapping_the_content_rule_decided(tmp_path: Path) -> None:
    # What the change fixes: the full headings matched no type, and the typed first
    # names and ages (code-like) were read as choices.
    lss = tmp_path / "survey.lss"
    lss.write_text(_lss_4(), encoding="utf-8")
    headings = parse_headings(_lss_4(), "survey.lss")
    assert headings[heading_key("Prénom de l'enfant")] == "NOM"
    assert headings[heading_key("Wearing a smock [Parent 2]")] == "BLOUSE[SQ002]"
    assert headings[heading_key("Votre   école ?")] == "ECOLE"


def test_a_text_two_questions_share_names_neither() -> None:
    text = _lss_4().replace("Child's age", "Child's first name")
    headings = parse_headings(text, "survey.lss")
    assert heading_key("Child's first name") not in headings
    assert headings[heading_key("Prénom de l'enfant")] == "NOM"


def _lss_1x() -> str:
    """A LimeSurvey 1.x structure: no subquestions table; the flexible array BLOUSE (F)
    keeps its rows in ``answers`` and its options in label set 7; the flexible list
    ECOLE (Z) only in label set 8; the text question NOM (S)."""
    q = [
        (1, "Z", "ECOLE", "Votre école ?", 8),
        (2, "F", "BLOUSE", "Port d'une blouse", 7),
        (3, "S", "NOM", "Prénom de l'enfant", 0),
    ]
    q_rows = "".join(
        f"<row><qid>{i}</qid><sid>1</sid><gid>1</gid><type>{k}</type><title>{t}</title>"
        f"<question>{x}</question><lid>{lid}</lid><lid1>0</lid1><language>fr</language></row>"
        for i, k, t, x, lid in q
    )
    a_rows = "".join(
        f"<row><qid>2</qid><code>{c}</code><answer>{t}</answer><sortorder>{n}</sortorder>"
        f"<language>fr</language></row>"
        for n, (c, t) in enumerate([("P1", "Parent 1"), ("P2", "Parent 2")])
    )
    labels = [(7, "Y", "Pour"), (7, "N", "Contre"), (8, "E1", "Jules-Ferry"), (8, "E2", "Salines")]
    l_rows = "".join(
        f"<row><lid>{lid}</lid><code>{c}</code><title>{t}</title><sortorder>{n}</sortorder>"
        f"<language>fr</language></row>"
        for n, (lid, c, t) in enumerate(labels)
    )
    sets = "".join(
        f"<row><lid>{lid}</lid><label_name>set {lid}</label_name><languages>fr</languages></row>"
        for lid in (7, 8)
    )
    return (
        DOC + "<DBVersion>126</DBVersion><languages><language>fr</language></languages>"
        f"<questions><rows>{q_rows}</rows></questions><answers><rows>{a_rows}</rows></answers>"
        f"<labelsets><rows>{sets}</rows></labelsets><labels><rows>{l_rows}</rows></labels>"
        "</document>"
    )


def test_label_sets_of_limesurvey_1x_give_the_answer_codes() -> None:
    labels, options = parse_lss(_lss_1x(), "old.lss")
    assert options["ECOLE"] == {"E1": "Jules-Ferry", "E2": "Salines"}
    assert options["BLOUSE"] == {"Y": "Pour", "N": "Contre"}
    # The array's rows were its answers: they are subquestions, not options.
    assert labels["BLOUSE[P1]"] == "Parent 1"
    assert "P1" not in options["BLOUSE"]
    assert parse_types(_lss_1x(), "old.lss") == {"ECOLE": "Z", "BLOUSE": "F", "NOM": "S"}
    headings = parse_headings(_lss_1x(), "old.lss")
    assert headings[heading_key("Port d'une blouse [Parent 2]")] == "BLOUSE[P2]"


def test_a_1x_survey_audits_with_its_label_sets(tmp_path: Path) -> None:
    lss = tmp_path / "old.lss"
    lss.write_text(_lss_1x(), encoding="utf-8")
    rng = np.random.default_rng(5)
    lines = ["id,submitdate,ECOLE,BLOUSE[P1],BLOUSE[P2],NOM"]
    for i in range(1, 121):
        stamp = f"2026-03-0{1 + i % 7} {8 + i % 12:02d}:{i % 60:02d}:00"
        cells = [rng.choice(["E1", "E2"]), rng.choice(["Y", "N"]), rng.choice(["Y", "N"])]
        lines.append(",".join([str(i), stamp, *map(str, cells), str(rng.choice(NAMES))]))
    ds = load_limesurvey(text="\n".join(lines) + "\n", structure=lss)
    # The codes were known, so the choice stayed a choice, with its labels.
    assert "ECOLE" not in ds.text_columns
    blouse = next(q for q in ds.questions if (q.item_of or q.code) == "BLOUSE")
    assert blouse.options.get("Y") == "Pour"
    assert ds.text_columns == ["NOM"]
    # An answer outside the label set is typed, not a choice (the safe mistake).
    bad = "\n".join([*lines[:2], lines[2].replace(",E1,", ",Z9,").replace(",E2,", ",Z9,")])
    ds = load_limesurvey(text=bad + "\n" + "\n".join(lines[3:]) + "\n", structure=lss)
    assert "ECOLE" in ds.text_columns
