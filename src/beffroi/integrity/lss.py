"""Read labels from a LimeSurvey survey structure file (.lss, XML).

Only what the report needs: question texts (by question code), subquestion
texts (by answer column ``CODE[SUB]``) and answer option texts (by question code,
then answer code).  Works with the LimeSurvey 2/3 layout (texts on the rows) and
the 4+/5+/6 layout (texts in ``*_l10ns`` tables).
"""

from __future__ import annotations

import bisect
import html
import re

# Entity declarations are refused below, and expat ≥ 2.4 limits entity amplification.
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
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
        if code and kind == DUAL_SCALE:
            # Each scale is a question of its own (load._split_code: « Q[SQ#0] »).
            out[f"{code}#0"] = out[f"{code}#1"] = kind
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
    # The survey's base language: LimeSurvey lists the added languages first in
    # <languages> (getXMLData), the base one is on the surveys row.
    base = next((r["language"] for r in _rows(root, "surveys") if r.get("language")), None)
    lang = language or base or root.findtext("./languages/language") or ""

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
            if kind.get(qid, "") == DUAL_SCALE:
                scale = "1" if a.get("scale_id", "0") == "1" else "0"
                options.setdefault(f"{code}#{scale}", {})[a.get("code", "")] = txt
    # Options kept in label sets (1.x « flexible » questions; both scales of a dual one).
    sets = _label_sets(root, pick)
    for q in questions:
        for number, column in enumerate(("lid", "lid1")):
            lid = q.get(column, "")
            if lid not in ("", "0") and lid in sets and q.get("title"):
                options.setdefault(q["title"], {}).update(sets[lid])
                if q.get("type") == DUAL_SCALE:
                    options.setdefault(f"{q['title']}#{number}", {}).update(sets[lid])
    _dual_scale_labels(root, questions, labels, pick)
    labels.pop("", None)
    return labels, options


def _dual_scale_labels(
    root: ET.Element,
    questions: list[dict[str, str]],
    labels: dict[str, str],
    pick: Callable[[list[dict[str, str]]], list[dict[str, str]]],
) -> None:
    """Each scale of a dual-scale question is a question of its own (« Q#0 », « Q#1 »):
    its label is the question's followed by the scale's header (LimeSurvey's
    ``dualscale_headerA`` and ``dualscale_headerB`` attributes) or « échelle 1 » / « 2 »;
    its rows are the question's."""
    headers: dict[tuple[str, int], str] = {}
    for a in pick(_rows(root, "question_attributes")):
        for scale, name in enumerate(("dualscale_headerA", "dualscale_headerB")):
            if a.get("attribute") == name and _clean(a.get("value")):
                headers[(a.get("qid", ""), scale)] = _clean(a.get("value"))
    for q in questions:
        code = q.get("title", "")
        if q.get("type") != DUAL_SCALE or not code:
            continue
        rows = {k: v for k, v in labels.items() if k.startswith(f"{code}[") and "#" not in k}
        for scale in (0, 1):
            header = headers.get((q.get("qid", ""), scale), f"échelle {scale + 1}")
            labels[f"{code}#{scale}"] = f"{labels.get(code, code)} [{header}]"
            for column, text in rows.items():
                labels[f"{column[:-1]}#{scale}]"] = text


def parse_headings(text: str, path: str) -> dict[str, str]:
    """``{heading_key(full heading): column code}`` (the loader now uses
    :class:`HeadingIndex`, which also reads abbreviated and dual-scale headings): how
    LimeSurvey's « full question text » export names each column (« Question » or
    « Question [Subquestion] », in any of the survey's languages), so that such an
    export gets the structure's types and answer codes. A text that two questions share
    names neither: judged by its answers, as without a structure."""
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


# --------------------------------------------------------------------------- headings
# How LimeSurvey (2.06 and later, application/helpers/admin/export/Writer.php) writes a
# column's heading from the question's text: « flattened » (tags and scripts removed
# without a space, line breaks made spaces, « &nbsp; » a space, entities decoded,
# trimmed), then, for « abbreviated » headings (and « code & text » ones given a
# length), cut by ``ellipsize``: a text longer than n + 3 characters becomes its first
# n characters and « .. » (n is 15 unless the exporter chose another length). Each
# part (question, subquestion, scale) is cut on its own; parts after the question are
# in square brackets. LimeSurvey 2.0 to 2.05 always cut the question at 15 characters
# and added « .. » (a row then named by its code, « [SQ001] »); 1.92 added « ... » only
# when the cut was exactly 15 bytes long. Any of these prefixes is accepted below.
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_ELLIPSIS = re.compile(r"^(.*?)\.{2,3}$", re.DOTALL)
# LimeSurvey cuts at 15 characters by default (FormattingOptions::headingTextLength).
_DEFAULT_CUT = 15
# A dual-scale question's columns: one per subquestion and scale.
DUAL_SCALE = "1"
# The bracketed part of the columns LimeSurvey fills with typed text, as its exporter
# names them in English and in French: the « other » box of a list or multiple choice
# whose ``other`` is Y (``Q[other]``), and the comment of a list with comment or of a
# multiple choice with comments (``Qcomment``, ``Q[SQ001comment]``).
OTHER_ROWS = frozenset({"other", "autre"})
COMMENT_ROWS = frozenset({"comment", "commentaire"})
# The question types that have a comment column.
_COMMENTED = frozenset("OP")


def flatten_text(text: str) -> str:
    """A question's text as LimeSurvey's ``flattenText(text, false, true)`` writes it
    into a heading."""
    out = _SCRIPT.sub("", text)
    out = re.sub(r"</t([dh])", r" </t\1", out, flags=re.IGNORECASE)
    out = _TAG.sub("", out)
    out = _LINE_BREAKS.sub(" ", out).replace("&nbsp;", " ")
    return html.unescape(out).strip(" \t\n\r\0\x0b")


def _cut_prefix(part: str) -> str | None:
    """The text before LimeSurvey's « .. » (or 1.92's « ... »), or None when the part
    was not cut."""
    m = _ELLIPSIS.match(part.rstrip(" "))
    return m.group(1) if m else None


# LimeSurvey could have cut a text to a prefix when the text starts with it (compared
# as heading_key does) and was long enough to be cut (more than 3 characters past the
# cut), or was cut at 15 whatever its length (2.0 to 2.05, 1.92): _Texts.find.


class _Texts:
    """Codes and their texts, with the comparison keys computed once (an export may
    have a thousand columns, a structure hundreds of questions in several languages)."""

    def __init__(self, texts: dict[str, set[str]]) -> None:
        self.codes = list(texts)
        # Sorted by key: the texts a prefix starts are one run, found by bisection.
        self.keyed = sorted((heading_key(t), len(t), c) for c, own in texts.items() for t in own)
        self.keys = [k for k, _, _ in self.keyed]
        self.exact: dict[str, set[str]] = {}
        for key, _, code in self.keyed:
            self.exact.setdefault(key, set()).add(code)

    def find(self, part: str) -> set[str]:
        """The codes that ``part`` names: by a whole text, else, when it was cut, by a
        text it abbreviates (the rule above)."""
        key = heading_key(part)
        if not key:
            return set()
        if key in self.exact:
            return set(self.exact[key])
        prefix = _cut_prefix(part)
        if prefix is None:
            return set()
        pk, n = heading_key(prefix), len(prefix)
        if not pk:
            return set()
        found = set()
        for tk, m, code in self.keyed[bisect.bisect_left(self.keys, pk) :]:
            if not tk.startswith(pk):
                break
            if m > n + 3 or n == _DEFAULT_CUT or m == n:
                found.add(code)
        return found


@dataclass
class _Question:
    code: str
    kind: str
    texts: set[str] = field(default_factory=set)
    # Subquestion code → its texts, for each axis (scale_id 0, and 1 for the columns
    # of an array of numbers or texts).
    rows: tuple[dict[str, set[str]], dict[str, set[str]]] = field(default_factory=lambda: ({}, {}))
    # The structure's ``other`` flag; a structure that does not give it may have the box.
    other: bool = True

    def has_text_box(self, part: str) -> bool:
        """Whether ``part`` can name a free-text column of this question: its « other »
        box, or its comment."""
        name = part.strip().casefold()
        if name in OTHER_ROWS:
            return self.other
        return name in COMMENT_ROWS and self.kind in _COMMENTED


def scale_number(part: str) -> int | None:
    """The scale (0 or 1) a dual-scale heading part names: LimeSurvey writes « Scale 1 »
    (translated: « Échelle 1 »…) from 2.x on, and 1.92 the bare scale_id « 0 » / « 1 »."""
    part = part.strip()
    if part in ("0", "1"):
        return int(part)
    m = re.fullmatch(r"\D*\S\s*([12])", part)
    return int(m.group(1)) - 1 if m else None


_TRAILING_PART = re.compile(r"^(.*\S)?\s*\[([^\[\]]*)\]$", re.DOTALL)


def _splits(heading: str) -> list[tuple[str, list[str]]]:
    """Every way to read a heading as a text followed by up to three bracketed parts,
    the whole heading first (a question's own text may end with brackets)."""
    out: list[tuple[str, list[str]]] = [(heading, [])]
    main, parts = heading.strip(), list[str]()
    for _ in range(3):
        m = _TRAILING_PART.match(main)
        if not m or m.group(1) is None:
            break
        main, parts = m.group(1), [m.group(2), *parts]
        out.append((main, parts))
    return out


class HeadingIndex:
    """The survey's questions, to name the columns of a « full » or « abbreviated »
    text-heading export by their codes (``Q``, ``Q[SQ]``, ``Q[SQ#0]`` for a dual
    scale's first scale, ``Q[Y_X]`` for an array of numbers or texts)."""

    def __init__(self, questions: list[_Question]) -> None:
        self.questions = questions
        self._texts = _Texts({q.code: q.texts for q in questions})
        self._by_code = {q.code: q for q in questions}
        self._rows = {q.code: (_Texts(q.rows[0]), _Texts(q.rows[1])) for q in questions}

    def match(self, heading: str) -> tuple[str | None, list[str]]:
        """``(code, [])`` when the heading names one column; ``(None, codes)`` when it
        could name several (refused: which one cannot be told); ``(None, [])`` when it
        names none."""
        for main, parts in _splits(heading):
            found = self._texts.find(main)
            if not found:
                continue
            strong: set[str] = set()
            weak: set[str] = set()
            for code in found:
                q = self._by_code[code]
                column, sure = self._column(q, parts)
                # A free-text box the structure gives the question (« [Autre] ») is as
                # likely as a subquestion of that name in another question: both are
                # candidates, and two make the heading ambiguous, never a silent pick.
                sure = sure or (len(parts) == 1 and q.has_text_box(parts[0]))
                if column is not None:
                    (strong if sure else weak).add(column)
            columns = strong or weak
            if len(columns) == 1:
                return columns.pop(), []
            if columns:
                return None, sorted(columns)
        return None, []

    def _row(self, q: _Question, part: str, axis: int = 0) -> str | None:
        rows = self._rows[q.code][axis]
        found = rows.find(part)
        if not found:
            # 2.0 to 2.05 and 1.92 name an abbreviated heading's row by its code.
            found = {c for c in rows.codes if c.casefold() == part.strip().casefold()}
        return found.pop() if len(found) == 1 else None

    def _column(self, q: _Question, parts: list[str]) -> tuple[str | None, bool]:
        """The column that ``parts`` name in question ``q``, and whether each part was
        recognised (a row the structure does not name, « [Autre] », is kept as
        written, a weaker match)."""
        has_rows = bool(q.rows[0])
        if not parts or parts == [""]:
            return (None, False) if has_rows else (q.code, True)
        if len(parts) == 1:
            row = self._row(q, parts[0])
            if row is not None:
                return f"{q.code}[{row}]", True
            return f"{q.code}[{parts[0].strip()}]", False
        if len(parts) == 2 and q.kind == DUAL_SCALE:
            row, scale = self._row(q, parts[0]), scale_number(parts[1])
            if row is None or scale is None:
                return None, False
            return f"{q.code}[{row}#{scale}]", True
        if len(parts) == 2 and q.kind in ":;":
            y, x = self._row(q, parts[0]), self._row(q, parts[1], 1)
            if y is None or x is None:
                return None, False
            return f"{q.code}[{y}_{x}]", True
        return None, False


def parse_heading_index(text: str, path: str) -> HeadingIndex:
    """The questions of a structure, their texts in every language (flattened as
    LimeSurvey flattens them for headings) and their rows."""
    root = _root(text, path)
    l10n: dict[str, set[str]] = {}
    for r in _rows(root, "question_l10ns"):
        if r.get("question"):
            l10n.setdefault(r.get("qid", ""), set()).add(r["question"])
    by_qid: dict[str, _Question] = {}
    for q in _rows(root, "questions"):
        if q.get("parent_qid", "0") not in ("", "0") or not q.get("title"):
            continue
        item = by_qid.setdefault(
            q.get("qid", ""),
            _Question(q["title"], q.get("type", ""), other=q.get("other", "Y").strip() != "N"),
        )
        if q.get("question"):
            item.texts.add(q["question"])
    for qid, item in by_qid.items():
        item.texts |= l10n.get(qid, set())
    for sq in _rows(root, "subquestions"):
        parent = by_qid.get(sq.get("parent_qid", ""))
        if parent is None or not sq.get("title"):
            continue
        axis = 1 if sq.get("scale_id", "0") == "1" else 0
        own = parent.rows[axis].setdefault(sq["title"], set())
        own |= {sq["question"]} if sq.get("question") else set()
        own |= l10n.get(sq.get("qid", ""), set())
    if _old_layout(root):
        for a in _rows(root, "answers"):
            parent = by_qid.get(a.get("qid", ""))
            if parent is not None and parent.kind in _ROWS_IN_ANSWERS and a.get("code"):
                own = parent.rows[0].setdefault(a["code"], set())
                own |= {a["answer"]} if a.get("answer") else set()
    questions = list(by_qid.values())
    for item in questions:
        item.texts = {flatten_text(t) for t in item.texts}
        for rows in item.rows:
            for code in rows:
                rows[code] = {flatten_text(t) for t in rows[code]}
    return HeadingIndex(questions)


def read_heading_index(path: Path) -> HeadingIndex:
    """See :func:`parse_heading_index`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Impossible de lire la structure {path} : {exc}.") from exc
    return parse_heading_index(text, str(path))
