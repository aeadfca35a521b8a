"""Read labels from a LimeSurvey survey structure file (.lss, XML).

Only what the report needs: question texts (by question code), subquestion
texts (by answer column ``CODE[SUB]``) and answer option texts (by question code,
then answer code).  Works with the LimeSurvey 2/3 layout (texts on the rows) and
the 4+/5+/6 layout (texts in ``*_l10ns`` tables).
"""

from __future__ import annotations

import html
import re

# Entity declarations are refused below, and expat ≥ 2.4 limits entity amplification.
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from beffroi.integrity.errors import InputError

_TAG = re.compile(r"<[^>]+>")

# LimeSurvey's question types whose answers the respondent types (the letters of its
# ``QuestionType`` constants): short, long and huge free text (S, T, U), multiple short
# text (Q), numerical input (N), multiple numerical (K), date (D), equation (*), file
# upload (|) and array of texts (;). Their columns are never tallied nor printed.
# An array of numbers (:) is a choice when shown as drop-down lists (LimeSurvey's
# default) and typed when its ``input_boxes`` attribute is on: :func:`parse_types` then
# gives it the array of texts' letter (;). The ``[other]`` and ``[comment]`` parts of
# lists and multiple choices are recognised by their column (integrity.load._text_heading).
FREE_TEXT_TYPES = frozenset("STUQNKD*|;")


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", _TAG.sub(" ", text or "")).strip()


def heading_key(text: str) -> str:
    """A full-text heading, or a question's text from the structure, reduced to what
    both keep: LimeSurvey strips the tags and entities of the text for its « full
    question text » headings and may drop or keep the spaces around them, so every
    space is dropped and the case folded."""
    return re.sub(r"\s+", "", html.unescape(_TAG.sub(" ", text))).casefold()


# LimeSurvey 1.x (before subquestions) kept the rows of arrays and multiple choices in
# ``answers``, and the answer options of its « flexible » questions (arrays F, H, dual
# scale 1, lists W and Z) in label sets that the question names by ``lid`` (and
# ``lid1``, the dual scale's second scale). These types' ``answers`` are their rows.
_ROWS_IN_ANSWERS = frozenset("ABCEFH1:;KQMP")


def _old_layout(root: ET.Element) -> bool:
    """A 1.x structure: no subquestions table, and questions that name label sets."""
    return root.find("./subquestions") is None and any("lid" in q for q in _rows(root, "questions"))


def _label_sets(
    root: ET.Element, pick_rows: Callable[[list[dict[str, str]]], list[dict[str, str]]]
) -> dict[str, dict[str, str]]:
    """``{label set id: {code: text}}``; the text on the row (1.x) or in
    ``label_l10ns`` (4+)."""
    l10n = {
        r.get("label_id", ""): r.get("title", "") for r in pick_rows(_rows(root, "label_l10ns"))
    }
    out: dict[str, dict[str, str]] = {}
    for r in pick_rows(_rows(root, "labels")):
        text = r.get("title") or l10n.get(r.get("id", ""), "")
        out.setdefault(r.get("lid", ""), {})[r.get("code", "")] = _clean(text)
    return out


def _rows(root: ET.Element, table: str) -> list[dict[str, str]]:
    out = []
    for row in root.findall(f"./{table}/rows/row"):
        out.append({child.tag: (child.text or "") for child in row})
    return out


def read_lss(
    path: Path, language: str | None = None
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Impossible de lire la structure {path} : {exc}.") from exc
    return parse_lss(text, str(path), language)


def read_types(path: Path) -> dict[str, str]:
    """The type letter of each question, by question code (see :func:`parse_types`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Impossible de lire la structure {path} : {exc}.") from exc
    return parse_types(text, str(path))


def parse_types(text: str, path: str) -> dict[str, str]:
    """``{question code: LimeSurvey type letter}`` of the survey's questions. Only the
    questions themselves: LimeSurvey writes its own type (often « T ») on subquestion
    rows, which says nothing of how they are answered. An array of numbers (:) with
    input boxes is given the letter of an array of texts (;), typed like it."""
    root = _root(text, path)
    # LimeSurvey's attribute for an array of numbers answered in text boxes
    # (``QuestionAttribute`` « input_boxes », 0 or 1; the row has a language in some
    # versions, the same value in each).
    boxes = {
        a.get("qid", "")
        for a in _rows(root, "question_attributes")
        if a.get("attribute") == "input_boxes" and a.get("value", "").strip() not in ("", "0")
    }
    out: dict[str, str] = {}
    for q in _rows(root, "questions"):
        if q.get("parent_qid", "0") not in ("", "0"):
            continue
        code, kind = q.get("title", ""), q.get("type", "")
        if kind == ":" and q.get("qid", "") in boxes:
            kind = ";"  # typed numbers: answered as an array of texts is
        if code and kind:
            out[code] = kind
    return out


def _root(text: str, path: str) -> ET.Element:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InputError(f"Structure {path} refusée : déclarations DOCTYPE/ENTITY interdites.")
    try:
        root = ET.fromstring(text)  # noqa: S314 (see the import)
    except ET.ParseError as exc:
        line = exc.position[0]
        raise InputError(
            f"Structure .lss illisible ({path}), ligne {line} : {exc}.", line=line
        ) from exc
    if root.findtext("LimeSurveyDocType") not in ("Survey", None):
        raise InputError(f"{path} n'est pas une structure d'enquête LimeSurvey (.lss).")
    return root


def parse_lss(
    text: str, path: str, language: str | None = None
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The labels and answer options of a structure already read; ``path`` names it
    in the errors (an upload's name, in the app)."""
    root = _root(text, path)
    lang = language or root.findtext("./languages/language") or ""

    def pick(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        # Keep the survey's first language when rows exist in several.
        if any(r.get("language") for r in rows):
            chosen = [r for r in rows if r.get("language") == lang]
            return chosen or rows
        return rows

    questions = pick(_rows(root, "questions"))
    subs = pick(_rows(root, "subquestions"))
    q_l10n = {r["qid"]: r.get("question", "") for r in pick(_rows(root, "question_l10ns"))}
    by_qid: dict[str, str] = {}
    labels: dict[str, str] = {}
    for q in questions:
        by_qid[q["qid"]] = q.get("title", "")
        labels[q.get("title", "")] = _clean(q.get("question") or q_l10n.get(q["qid"], ""))
    for sq in subs:
        parent = by_qid.get(sq.get("parent_qid", ""), "")
        if parent:
            txt = sq.get("question") or q_l10n.get(sq["qid"], "")
            labels[f"{parent}[{sq.get('title', '')}]"] = _clean(txt)
    a_l10n = {r.get("aid", ""): r.get("answer", "") for r in pick(_rows(root, "answer_l10ns"))}
    options: dict[str, dict[str, str]] = {}
    old = _old_layout(root)
    kind = {q["qid"]: q.get("type", "") for q in questions}
    for a in pick(_rows(root, "answers")):
        qid = a.get("qid", "")
        code = by_qid.get(qid, "")
        if not code:
            continue
        txt = _clean(a.get("answer") or a_l10n.get(a.get("aid", ""), ""))
        if old and kind.get(qid, "") in _ROWS_IN_ANSWERS:
            # 1.x: an array's answers are its rows, named as subquestions are since.
            labels[f"{code}[{a.get('code', '')}]"] = txt
        else:
            options.setdefault(code, {})[a.get("code", "")] = txt
    # Options kept in label sets (1.x « flexible » questions; both scales of a dual one).
    sets = _label_sets(root, pick)
    for q in questions:
        for field in ("lid", "lid1"):
            lid = q.get(field, "")
            if lid not in ("", "0") and lid in sets and q.get("title"):
                options.setdefault(q["title"], {}).update(sets[lid])
    labels.pop("", None)
    return labels, options


def read_headings(path: Path) -> dict[str, str]:
    """See :func:`parse_headings`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Impossible de lire la structure {path} : {exc}.") from exc
    return parse_headings(text, str(path))


def parse_headings(text: str, path: str) -> dict[str, str]:
    """``{heading_key(full heading): column code}``: how LimeSurvey's « full question
    text » export names each column (« Question » or « Question [Subquestion] », in any
    of the survey's languages), so that such an export gets the structure's types and
    answer codes. A text that two questions share names neither: judged by its answers,
    as without a structure."""
    root = _root(text, path)
    texts: dict[str, set[str]] = {}
    title: dict[str, str] = {}
    parent: dict[str, str] = {}
    for table in ("questions", "subquestions"):
        for q in _rows(root, table):
            qid = q.get("qid", "")
            title[qid] = q.get("title", "")
            if q.get("parent_qid", "0") not in ("", "0"):
                parent[qid] = q["parent_qid"]
            if q.get("question"):
                texts.setdefault(qid, set()).add(q["question"])
    for r in _rows(root, "question_l10ns"):
        if r.get("question"):
            texts.setdefault(r.get("qid", ""), set()).add(r["question"])
    if _old_layout(root):
        # 1.x: the rows of arrays and multiple choices are answers (see parse_lss).
        kinds = {q.get("qid", ""): q.get("type", "") for q in _rows(root, "questions")}
        for a in _rows(root, "answers"):
            up = a.get("qid", "")
            if kinds.get(up, "") in _ROWS_IN_ANSWERS and a.get("answer"):
                row = f"{up}#{a.get('code', '')}"
                title[row], parent[row] = a.get("code", ""), up
                texts.setdefault(row, set()).add(a["answer"])
    found: dict[str, set[str]] = {}
    for qid, own in texts.items():
        if qid in parent:
            up = parent[qid]
            for p in texts.get(up, ()):
                for t in own:
                    key = heading_key(f"{p}[{t}]")
                    found.setdefault(key, set()).add(f"{title.get(up, '')}[{title[qid]}]")
        else:
            for t in own:
                found.setdefault(heading_key(t), set()).add(title[qid])
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1 and k}
