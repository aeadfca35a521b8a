"""The structure reader on a LimeSurvey 1.92 ``.lss``, written the way 1.92 writes it.

LimeSurvey 1.90 to 1.92 (``admin/export_structure_xml.php``) dump the survey's tables
with ``BuildXMLFromQuery`` (``admin/export_data_functions.php``), read in LimeSurvey's
source: per table, an element named after it holding ``<fields>`` (one ``<fieldname>``
per column of the query, in the table's order) then ``<rows>``; per row, one element per
column whose value is not NULL, its text in CDATA (an empty string gives an empty
element; a column named from a digit gets a « _ », « # » becomes « - »; characters XML
forbids are dropped); a table with no rows is left out. The tables come in a fixed
order (answers, assessments, conditions, defaultvalues, groups, questions, subquestions,
question_attributes, quota…, surveys, surveys_languagesettings), after
``<LimeSurveyDocType>``, ``<DBVersion>`` and ``<languages>``, which lists the additional
languages first and the base language last. The writer indents by one space.

The columns below are those of 1.92's tables (DBVersion 146) that the export selects;
for ``surveys`` and ``surveys_languagesettings``, only the first ones are written (the
reader looks at the base language only). Unlike the CSV dump of 1.85 and earlier
(``export_structure_csv.php``), the ``.lss`` never carried label sets: 1.90 turned them
into answer options (``scale_id`` 1 for a dual scale's second scale).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from beffroi.integrity.load import load_limesurvey
from beffroi.integrity.lss import parse_heading_index, parse_lss, parse_types

ANSWERS = ("qid", "code", "answer", "sortorder", "assessment_value", "language", "scale_id")
GROUPS = (
    "gid",
    "sid",
    "group_name",
    "group_order",
    "description",
    "language",
    "randomization_group",
    "grelevance",
)
QUESTIONS = (
    "qid",
    "parent_qid",
    "sid",
    "gid",
    "type",
    "title",
    "question",
    "preg",
    "help",
    "other",
    "mandatory",
    "question_order",
    "language",
    "scale_id",
    "same_default",
    "relevance",
)
ATTRIBUTES = ("qid", "attribute", "value")
SURVEYS = ("sid", "admin", "expires", "startdate", "adminemail", "anonymized", "faxto",
           "format", "savetimings", "template", "language", "additional_languages")  # fmt: skip
LANGUAGE_SETTINGS = ("surveyls_survey_id", "surveyls_language", "surveyls_title")

_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Row = dict[str, object]


def _cdata(value: str) -> str:
    # XMLWriter::writeCData splits a « ]]> » inside the text into two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml_from_query(table: str, columns: tuple[str, ...], rows: list[Row]) -> list[str]:
    """What ``BuildXMLFromQuery`` writes for one table (lines, indented one level)."""
    if not rows:
        return []
    out = [f" <{table}>", "  <fields>"]
    out += [f"   <fieldname>{c}</fieldname>" for c in columns]
    out += ["  </fields>", "  <rows>"]
    for row in rows:
        out.append("   <row>")
        for column in columns:
            value = row.get(column)
            if value is None:
                continue
            key = ("_" + column if column[0].isdigit() else column).replace("#", "-")
            text = _FORBIDDEN.sub("", str(value))
            out.append(f"    <{key}>{_cdata(text)}</{key}>" if text else f"    <{key}/>")
        out.append("   </row>")
    out += ["  </rows>", f" </{table}>"]
    return out


def lss_192(tables: dict[str, list[Row]], languages: list[str], dbversion: int = 146) -> str:
    """A whole 1.92 ``.lss``: ``languages`` as ``getXMLData`` lists them (additional
    languages first, base language last)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<document>",
        " <LimeSurveyDocType>Survey</LimeSurveyDocType>",
        f" <DBVersion>{dbversion}</DBVersion>",
        " <languages>",
        *(f"  <language>{lang}</language>" for lang in languages),
        " </languages>",
    ]
    order = [
        ("answers", ANSWERS),
        ("groups", GROUPS),
        ("questions", QUESTIONS),
        ("subquestions", QUESTIONS),
        ("question_attributes", ATTRIBUTES),
        ("surveys", SURVEYS),
        ("surveys_languagesettings", LANGUAGE_SETTINGS),
    ]
    for table, columns in order:
        lines += build_xml_from_query(table, columns, tables.get(table, []))
    lines.append("</document>")
    return "\n".join(lines) + "\n"


SID = 48213


def _question(qid: int, kind: str, title: str, texts: dict[str, str], **extra: object) -> list[Row]:
    return [
        {
            "qid": qid,
            "parent_qid": extra.get("parent", 0),
            "sid": SID,
            "gid": 1,
            "type": kind,
            "title": title,
            "question": text,
            "preg": "",
            "help": "",
            "other": "N",
            "mandatory": "N",
            "question_order": qid,
            "language": lang,
            "scale_id": extra.get("scale", 0),
            "same_default": 0,
            "relevance": "1",
        }
        for lang, text in texts.items()
    ]


def survey_192() -> str:
    """French base language, English added; a list, a free text, an array, a dual
    scale and an array of numbers with its two axes."""
    fr_en = [("fr", 0), ("en", 1)]
    questions = [
        *_question(1, "L", "ECOLE", {"fr": "Votre école ?", "en": "Your school?"}),
        *_question(2, "S", "NOM", {"fr": "Prénom de l'<b>enfant</b>", "en": "First name"}),
        *_question(3, "F", "BLOUSE", {"fr": "Port d'une blouse", "en": "Wearing a smock"}),
        *_question(
            4, "1", "DUO", {"fr": "Satisfaction et importance", "en": "Satisfaction, weight"}
        ),
        *_question(5, ":", "NB", {"fr": "Nombre d'enfants par classe", "en": "Children"}),
    ]
    subs = [
        *_question(10, "T", "SQ001", {"fr": "Parent 1", "en": "Parent 1"}, parent=3),
        *_question(11, "T", "SQ002", {"fr": "Parent 2", "en": "Parent 2"}, parent=3),
        *_question(12, "T", "SQ001", {"fr": "Sport", "en": "Sport"}, parent=4),
        *_question(13, "T", "SQ002", {"fr": "Musique", "en": "Music"}, parent=4),
        *_question(14, "T", "Y1", {"fr": "CP", "en": "Year 1"}, parent=5),
        *_question(15, "T", "X1", {"fr": "Garçons", "en": "Boys"}, parent=5, scale=1),
    ]
    answers = []
    for qid, code, texts, scale in [
        (1, "A1", ("Jules-Ferry", "Jules-Ferry"), 0),
        (1, "A2", ("Pierre-Loti", "Pierre-Loti"), 0),
        (3, "Y", ("Oui", "Yes"), 0),
        (3, "N", ("Non", "No"), 0),
        (4, "A1", ("Satisfait", "Satisfied"), 0),
        (4, "A2", ("Insatisfait", "Unsatisfied"), 0),
        (4, "A1", ("Important", "Important"), 1),
        (4, "A2", ("Secondaire", "Minor"), 1),
    ]:
        for lang, i in fr_en:
            answers.append(
                {
                    "qid": qid,
                    "code": code,
                    "answer": texts[i],
                    "sortorder": code[-1],
                    "assessment_value": 0,
                    "language": lang,
                    "scale_id": scale,
                }
            )
    groups = [
        {"gid": 1, "sid": SID, "group_name": name, "group_order": 0, "description": "",
         "language": lang, "randomization_group": "", "grelevance": ""}
        for lang, name in (("fr", "École"), ("en", "School"))
    ]  # fmt: skip
    attributes = [
        {"qid": 4, "attribute": "dualscale_headerA", "value": "Satisfaction"},
        {"qid": 4, "attribute": "dualscale_headerB", "value": "Importance"},
    ]
    surveys = [
        {"sid": SID, "admin": "Mairie", "expires": None, "startdate": None,
         "adminemail": "", "anonymized": "N", "faxto": "", "format": "G",
         "savetimings": "N", "template": "default", "language": "fr",
         "additional_languages": "en"}
    ]  # fmt: skip
    settings = [
        {"surveyls_survey_id": SID, "surveyls_language": lang, "surveyls_title": title}
        for lang, title in (("fr", "Blouses"), ("en", "Smocks"))
    ]
    tables = {
        "answers": answers,
        "groups": groups,
        "questions": questions,
        "subquestions": subs,
        "question_attributes": attributes,
        "surveys": surveys,
        "surveys_languagesettings": settings,
    }
    # getXMLData: the additional languages, then the base language.
    return lss_192(tables, ["en", "fr"])


def test_the_fixture_is_what_build_xml_from_query_writes() -> None:
    text = survey_192()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<document>\n')
    assert "\n <answers>\n  <fields>\n   <fieldname>qid</fieldname>" in text
    # NULL columns are left out, empty strings are empty elements, values are CDATA.
    assert "<expires>" not in text and "<preg/>" in text
    assert "<title><![CDATA[DUO]]></title>" in text
    # No assessments, conditions or quotas: their tables are left out.
    assert "<assessments>" not in text and "<conditions>" not in text


def test_the_labels_are_the_base_languages() -> None:
    # The base language is the survey's, not the first <language> (an added one).
    labels, options = parse_lss(survey_192(), "old.lss")
    assert labels["ECOLE"] == "Votre école ?"
    assert labels["NOM"].startswith("Prénom")  # not « First name »
    assert labels["BLOUSE[SQ002]"] == "Parent 2"
    assert options["BLOUSE"] == {"Y": "Oui", "N": "Non"}
    # The dual scale: one question per scale, with its header and its own options.
    assert options["DUO#0"] == {"A1": "Satisfait", "A2": "Insatisfait"}
    assert options["DUO#1"] == {"A1": "Important", "A2": "Secondaire"}
    assert labels["DUO#1"] == "Satisfaction et importance [Importance]"
    assert labels["DUO[SQ002#1]"] == "Musique"
    types = parse_types(survey_192(), "old.lss")
    assert types == {
        "ECOLE": "L",
        "NOM": "S",
        "BLOUSE": "F",
        "DUO": "1",
        "DUO#0": "1",
        "DUO#1": "1",
        "NB": ":",
    }


def test_headings_in_every_language_and_both_axes() -> None:
    index = parse_heading_index(survey_192(), "old.lss")
    assert index.match("Wearing a smock [Parent 2]") == ("BLOUSE[SQ002]", [])
    assert index.match("Satisfaction et importance [Musique][Scale 2]") == ("DUO[SQ002#1]", [])
    # An array of numbers: « [row][column] », named « Y_X » as LimeSurvey's codes are.
    assert index.match("Nombre d'enfants par classe [CP][Garçons]") == ("NB[Y1_X1]", [])


def test_a_192_export_audits_with_its_structure(tmp_path: Path) -> None:
    lss = tmp_path / "old.lss"
    lss.write_text(survey_192(), encoding="utf-8")
    # 1.92's own headings: codes with a space before the row and scales from 0
    # (« headcodes ») and its abbreviated text (15 characters and « ... »).
    head = [
        "id",
        "submitdate",
        "ECOLE",
        "NOM",
        "BLOUSE [SQ001]",
        "Port d'une blou... [SQ002]",
        "DUO [SQ001][0]",
        "DUO [SQ001][1]",
        "Satisfaction et... [SQ002][0]",
        "Satisfaction et... [SQ002][1]",
    ]
    rng = np.random.default_rng(192)
    lines = [",".join(head)]
    for i in range(1, 81):
        stamp = f"2010-05-0{1 + i % 7} {8 + i % 12:02d}:{i % 60:02d}:00"
        cells = [
            str(rng.choice(["A1", "A2"])),
            str(rng.choice(["Tom", "Léa", "12"])),
            *(str(rng.choice(["Y", "N"])) for _ in range(2)),
            *(str(rng.choice(["A1", "A2"])) for _ in range(4)),
        ]
        lines.append(",".join([str(i), stamp, *cells]))
    ds = load_limesurvey(text="\n".join(lines) + "\n", structure=lss)
    items = {q.rows[0][0]: q for q in ds.questions if q.item_of}
    assert items["DUO[SQ002#1]"].options == {"A1": "Important", "A2": "Secondaire"}
    assert items["DUO[SQ001#0]"].options == {"A1": "Satisfait", "A2": "Insatisfait"}
    assert items["BLOUSE[SQ002]"].options == {"Y": "Oui", "N": "Non"}
    assert "NOM" in ds.text_columns
