"""Read labels from a LimeSurvey survey structure file (.lss, XML).

Only what the report needs: question texts (by question code), subquestion
texts (by answer column ``CODE[SUB]``) and answer option texts (by question code,
then answer code).  Works with the LimeSurvey 2/3 layout (texts on the rows) and
the 4+/5+/6 layout (texts in ``*_l10ns`` tables).
"""

from __future__ import annotations

import re

# Entity declarations are refused below, and expat ≥ 2.4 limits entity amplification.
import xml.etree.ElementTree as ET
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
    for a in pick(_rows(root, "answers")):
        code = by_qid.get(a.get("qid", ""), "")
        if not code:
            continue
        txt = a.get("answer") or a_l10n.get(a.get("aid", ""), "")
        options.setdefault(code, {})[a.get("code", "")] = _clean(txt)
    labels.pop("", None)
    return labels, options
