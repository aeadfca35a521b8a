"""LimeSurvey's « abbreviated » headings and its dual-scale columns are matched to the
structure (.lss): the questions' types and answer options then apply to them.

The headings are written here the way LimeSurvey's exporter writes them (its
``Writer::getHeadingText`` and ``ellipsize``, read in its source): each part of a
heading, question, subquestion and scale, is cut on its own to its first 15 characters
and « .. » when it is longer than 18; the parts after the question are in brackets,
after one space. A dual-scale column names its scale (« [Scale 1] » in English,
« Échelle 1 » in French) in text headings, and « Q[SQ001][1] » in code headings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.integrity.errors import InputError
from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.lss import flatten_text, parse_heading_index, parse_lss, parse_types

DOC = (
    '<?xml version="1.0" encoding="UTF-8"?><document><LimeSurveyDocType>Survey</LimeSurveyDocType>'
)

# (qid, parent, type, code, text, scale of a subquestion)
QUESTIONS = [
    (1, 0, "L", "ECOLE", "Votre école ?", 0),
    # 18 characters: not cut (LimeSurvey cuts only past 15 + 3).
    (2, 0, "S", "NOM", "Prénom de l'<b>enfant</b>", 0),
    (3, 0, "N", "AGE", "Âge de l'enfant en années", 0),
    (4, 0, "F", "BLOUSE", "Port d'une blouse à l'école", 0),
    (5, 4, "T", "SQ001", "Premier parent de l'enfant", 0),
    (6, 4, "T", "SQ002", "Second parent de l'enfant", 0),
    # The same first 15 characters: their abbreviated headings cannot be told apart.
    (7, 0, "L", "AVIS1", "Êtes-vous d'accord avec la cantine ?", 0),
    (8, 0, "L", "AVIS2", "Êtes-vous d'accord avec l'horaire ?", 0),
    (9, 0, "1", "DUO", "Satisfaction et importance des activités", 0),
    (10, 9, "T", "SQ001", "Sport", 0),
    (11, 9, "T", "SQ002", "Musique", 0),
]
# (qid, code, text, scale_id): the two scales share codes, not labels.
ANSWERS = [
    (1, "A1", "Jules-Ferry", 0),
    (1, "A2", "Pierre-Loti", 0),
    (4, "Y", "Oui", 0),
    (4, "N", "Non", 0),
    (7, "A1", "Pour", 0),
    (7, "A2", "Contre", 0),
    (8, "A1", "Pour", 0),
    (8, "A2", "Contre", 0),
    (9, "A1", "Satisfait", 0),
    (9, "A2", "Insatisfait", 0),
    (9, "A1", "Important", 1),
    (9, "A2", "Secondaire", 1),
]


def lss_6(
    questions: list[tuple[int, int, str, str, str, int]] | None = None,
    answers: list[tuple[int, str, str, int]] | None = None,
    other: dict[int, str] | None = None,
) -> str:
    """A LimeSurvey 4+ structure (texts in the *_l10ns tables); ``other`` gives some
    questions their ``other`` flag (Y or N), left out for the rest."""
    q_rows, s_rows, l10n = [], [], []
    for qid, parent, kind, title, text, scale in QUESTIONS if questions is None else questions:
        flag = f"<other>{other[qid]}</other>" if other and qid in other else ""
        row = (
            f"<row><qid>{qid}</qid><parent_qid>{parent}</parent_qid><type>{kind}</type>"
            f"<title>{title}</title><scale_id>{scale}</scale_id>{flag}</row>"
        )
        (s_rows if parent else q_rows).append(row)
        l10n.append(
            f"<row><qid>{qid}</qid><question><![CDATA[{text}]]></question>"
            "<language>fr</language></row>"
        )
    answers = ANSWERS if answers is None else answers
    a_rows = "".join(
        f"<row><aid>{i}</aid><qid>{q}</qid><code>{c}</code><scale_id>{s}</scale_id></row>"
        for i, (q, c, _, s) in enumerate(answers)
    )
    a_l10n = "".join(
        f"<row><aid>{i}</aid><answer>{t}</answer><language>fr</language></row>"
        for i, (_, _, t, _) in enumerate(answers)
    )
    return (
        DOC + "<languages><language>fr</language></languages>"
        f"<questions><rows>{''.join(q_rows)}</rows></questions>"
        f"<subquestions><rows>{''.join(s_rows)}</rows></subquestions>"
        f"<question_l10ns><rows>{''.join(l10n)}</rows></question_l10ns>"
        f"<answers><rows>{a_rows}</rows></answers>"
        f"<answer_l10ns><rows>{a_l10n}</rows></answer_l10ns></document>"
    )


def cut(text: str, n: int | None = 15) -> str:
    """LimeSurvey's ``ellipsize(text, n, 1, '.. ')`` after ``flattenText``."""
    flat = flatten_text(text)
    return flat if n is None or len(flat) <= n + 3 else flat[:n] + ".. "


def heading(parts: list[str], n: int | None = 15) -> str:
    """``getHeadingText``: the question's part, then the others in brackets."""
    rest = "".join(f"[{cut(p, n)}]" for p in parts[1:]).strip()
    return cut(parts[0], n) + (f" {rest}" if rest else "")


TEXT = {t: x for _, parent, _, t, x, _ in QUESTIONS if not parent}
ROW = {"SQ001": "Premier parent de l'enfant", "SQ002": "Second parent de l'enfant"}
DUO_ROW = {"SQ001": "Sport", "SQ002": "Musique"}

COLUMNS = {
    "ECOLE": ["ECOLE"],
    "NOM": ["NOM"],
    "AGE": ["AGE"],
    "BLOUSE[SQ001]": ["BLOUSE", "SQ001"],
    "BLOUSE[SQ002]": ["BLOUSE", "SQ002"],
    "AVIS1": ["AVIS1"],
    "AVIS2": ["AVIS2"],
    **{
        f"DUO[{sq}#{s}]": ["DUO", sq, f"Échelle {s + 1}"]
        for sq in ("SQ001", "SQ002")
        for s in (0, 1)
    },
}


def text_heading(column: str, n: int | None) -> str:
    code, *rest = COLUMNS[column]
    parts = [TEXT[code]]
    if rest:
        parts.append((DUO_ROW if code == "DUO" else ROW)[rest[0]])
        parts += rest[1:]
    return heading(parts, n)


def code_heading(column: str) -> str:
    code, *rest = COLUMNS[column]
    if code == "DUO":
        return f"DUO[{rest[0]}][{int(rest[1][-1])}]"
    return f"{code}[{rest[0]}]" if rest else code


def export(headings: dict[str, str]) -> str:
    rng = np.random.default_rng(16)
    cols = list(headings)

    def quote(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    lines = [",".join(["id", "submitdate", *(quote(headings[c]) for c in cols)])]
    for i in range(1, 121):
        cells = {c: str(rng.choice(["A1", "A2"])) for c in cols}
        cells |= {
            "NOM": str(rng.choice(["Tom", "Léa", "Noah", "Lina"])),
            "AGE": str(rng.integers(6, 11)),
            "BLOUSE[SQ001]": str(rng.choice(["Y", "N"])),
            "BLOUSE[SQ002]": str(rng.choice(["Y", "N"])),
        }
        stamp = f"2026-03-0{1 + i % 7} {8 + i % 12:02d}:{i % 60:02d}:00"
        lines.append(",".join([str(i), stamp, *(cells[c] for c in cols)]))
    return "\n".join(lines) + "\n"


@pytest.fixture
def lss(tmp_path: Path) -> Path:
    path = tmp_path / "survey.lss"
    path.write_text(lss_6(), encoding="utf-8")
    return path


MODES = {
    "abbreviated": lambda c: text_heading(c, 15),
    "abbreviated-30": lambda c: text_heading(c, 30),
    "full": lambda c: text_heading(c, None),
    "code": code_heading,
}


def test_the_headings_are_what_limesurvey_writes() -> None:
    # The rule the helpers follow, spelled out on known cases.
    assert text_heading("AGE", 15) == "Âge de l'enfant.. "
    assert text_heading("NOM", 15) == "Prénom de l'enfant"
    assert text_heading("BLOUSE[SQ001]", 15) == "Port d'une blou..  [Premier parent .. ]"
    assert text_heading("DUO[SQ002#1]", 15) == "Satisfaction et..  [Musique][Échelle 2]"
    assert text_heading("DUO[SQ002#1]", None) == (
        "Satisfaction et importance des activités [Musique][Échelle 2]"
    )
    assert code_heading("DUO[SQ001#0]") == "DUO[SQ001][1]"


def headings_of(mode: str, leave: str = "AVIS2") -> dict[str, str]:
    """Every column's heading; AVIS2 is left out (its abbreviated heading is AVIS1's)."""
    return {c: MODES[mode](c) for c in COLUMNS if c != leave}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_headings_get_the_structures_codes(lss: Path, mode: str) -> None:
    ds = load_limesurvey(text=export(headings_of(mode)), structure=lss)
    # The typed answers are text, never tallied: their codes were found.
    assert {"AGE", "NOM"} <= set(ds.text_columns)
    items = {q.rows[0][0]: q for q in ds.questions if q.item_of is not None}
    # Each scale of the dual-scale question is a question of its own, with its options.
    assert items["DUO[SQ001#0]"].item_of == "DUO#0"
    assert items["DUO[SQ001#0]"].options == {"A1": "Satisfait", "A2": "Insatisfait"}
    assert items["DUO[SQ002#1]"].options == {"A1": "Important", "A2": "Secondaire"}
    assert items["DUO[SQ002#1]"].label == (
        "Satisfaction et importance des activités [échelle 2] [Musique]"
    )
    assert items["BLOUSE[SQ002]"].options.get("Y") == "Oui"


@pytest.mark.parametrize("mode", ["abbreviated", "full", "code"])
def test_only_the_ambiguous_headings_are_refused(lss: Path, mode: str) -> None:
    ds = load_limesurvey(text=export(headings_of(mode)), structure=lss)
    notes = [s["reason"] for s in ds.checks_skipped if s["check"] == "types des questions"]
    if mode != "abbreviated":
        assert not notes  # every column got its question's type
        return
    # « Êtes-vous d'acc.. » names AVIS1 or AVIS2: neither is chosen, and the note says
    # which heading, which columns, and how to export instead.
    refused = [n for n in notes if n.startswith("en-têtes qui peuvent désigner")]
    assert len(refused) == 1
    assert len(notes) == 1  # not said a second time as a question without a type
    assert "« Êtes-vous d'acc.. » (AVIS1, AVIS2)" in refused[0]
    assert "Code de la question" in refused[0]
    codes = {q.item_of or q.code for q in ds.questions} | {ds.segment or ""}
    assert "AVIS1" not in codes and "AVIS2" not in codes


def test_two_questions_under_one_abbreviated_heading_are_refused_clearly(lss: Path) -> None:
    # LimeSurvey wrote « Êtes-vous d'acc.. » twice: the file cannot say which is which.
    with pytest.raises(InputError) as err:
        load_limesurvey(text=export(headings_of("abbreviated", leave="")), structure=lss)
    assert "en-têtes abrégés de LimeSurvey" in str(err.value)
    assert "codes des questions" in str(err.value)
    assert err.value.line == 1


def test_the_length_rule_tells_questions_apart() -> None:
    index = parse_heading_index(lss_6(), "survey.lss")
    # LimeSurvey cuts a text at n characters only when it is longer than n + 3: cut at
    # 16, the 18 characters of NOM's text would have been written whole.
    assert index.match("Prénom de l'enfa.. ") == (None, [])
    # At 15 it would be, by 2.0 to 2.05, which always cut there.
    assert index.match("Prénom de l'enf.. ") == ("NOM", [])
    assert index.match("Prénom de l'enfant") == ("NOM", [])
    # Another cut length (the exporter's choice) is read from the heading.
    assert index.match("Âge de l'.. ") == ("AGE", [])
    # LimeSurvey 2.0 to 2.05: always 15 characters and « .. », the row by its code.
    assert index.match("Votre école ?.. ") == ("ECOLE", [])
    assert index.match("Port d'une blou.. [SQ002]") == ("BLOUSE[SQ002]", [])
    # LimeSurvey 1.92: « ... », the row's code and the scale counted from 0.
    assert index.match("Satisfaction et... [SQ002][1]") == ("DUO[SQ002#1]", [])
    assert index.match("Êtes-vous d'acc.. ") == (None, ["AVIS1", "AVIS2"])
    # A prefix that is no question's.
    assert index.match("Tout autre chos.. ") == (None, [])


def test_dual_scale_codes_without_a_structure() -> None:
    # Code headings are enough to keep the scales apart (1.92 counts them from 0 and
    # writes a space before the row).
    head = "id,submitdate,DUO[SQ001][1],DUO[SQ001][2],OLD [SQ001][0],OLD [SQ001][1]"
    lines = [head] + [
        f"{i},2026-03-01 10:{i:02d}:00,A{1 + i % 2},A{1 + i % 3},A1,A2" for i in range(40)
    ]
    ds = load_limesurvey(text="\n".join(lines) + "\n")
    columns = {q.rows[0][0] for q in ds.questions if q.item_of} | {ds.segment or ""}
    assert {"DUO[SQ001#0]", "DUO[SQ001#1]", "OLD[SQ001#0]", "OLD[SQ001#1]"} <= columns | set(
        ds.text_columns
    )


def test_types_and_options_of_each_scale() -> None:
    types = parse_types(lss_6(), "survey.lss")
    assert types["DUO"] == types["DUO#0"] == types["DUO#1"] == "1"
    labels, options = parse_lss(lss_6(), "survey.lss")
    assert options["DUO#1"] == {"A1": "Important", "A2": "Secondaire"}
    assert labels["DUO[SQ002#0]"] == "Musique"


# Headings a hurried or hostile file may carry: brackets, dots, entities, scale words.
_PIECES = st.sampled_from(
    ["[", "]", "..", "...", " ", "#0", "Échelle 2", "Scale 1", "&amp;", "<b>", "SQ001", "Êtes"]
)
_HEADING = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(_HEADING)
def test_any_heading_is_matched_or_not_never_crashes(h: str) -> None:
    index = parse_heading_index(lss_6(), "survey.lss")
    code, several = index.match(h)
    assert code is None or not several
    assert several == sorted(several)
    if code is not None:
        assert code.split("[")[0] in {q[3] for q in QUESTIONS if not q[1]}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_HEADING, min_size=1, max_size=4, unique=True))
def test_an_export_of_nonsense_headings_loads_or_is_refused_clearly(
    lss: Path, headings: list[str]
) -> None:
    cells = ",".join('"' + h.replace('"', '""') + '"' for h in headings)
    answers = ",".join("A1" for _ in headings)
    rows = "\n".join(f"{i},2026-03-01 10:00:{i:02d},{answers}" for i in range(3))
    try:
        ds = load_limesurvey(text=f"id,submitdate,{cells}\n{rows}\n", structure=lss)
    except InputError as exc:
        # Refused in French, with a reason (an empty or repeated heading, no answers…).
        assert str(exc) and str(exc)[0].isupper()
        return
    assert ds.table.num_rows == 3
