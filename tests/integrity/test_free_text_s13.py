"""What respondents typed is never tallied nor printed, in any output of the audit.

A comment box that a few parents of many filled (names, phone numbers) was taken for a
choice question: the CLI, the verdict, the HTML report and the JSON printed every
comment. The « other » box of a list was pooled into the list's tally, and the
« other » choice itself vanished as if unanswered.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.cli import main
from beffroi.integrity.load import load_limesurvey

SECRETS = [
    "Je suis Mme Léa Martin, maman de Noé (CE1), joignable au 06 11 22 33 01",
    "M. Karim Benali 0612345678",
    "Sophie B., 3 rue des Lilas",
    "Julie Lefèvre",
]
# Fragments that would betray one of them anywhere in an output (escaped or not).
NEEDLES = ["Martin", "06 11 22", "Benali", "0612345678", "Lilas", "Lef", "Sophie"]


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)
    return path


def _base(i: int, rng: random.Random) -> dict[str, str]:
    minute, second = divmod(i * 37, 60)
    hour = 8 + minute // 60
    sent = f"2026-03-02 {hour:02d}:{minute % 60:02d}:{second:02d}"
    return {
        "id": str(i + 1),
        "submitdate": sent,
        "startdate": sent,
        "ipaddr": f"90.{rng.randint(1, 250)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}",
        "ECOLE": rng.choice(["A1", "A2", "A3", "A4"]),
        "interviewtime": f"{rng.uniform(60, 400):.2f}",
    }


def comments_file(path: Path, forms: int = 300) -> Path:
    """Like the reviewer's comments.csv: a few comments among many forms."""
    rng = random.Random(7)
    header = [
        *("id", "submitdate", "startdate", "ipaddr", "ECOLE"),
        *("BLOUSE[SQ001]", "BLOUSE[SQ002]", "COMMENTAIRE", "interviewtime"),
    ]
    rows = []
    for i in range(forms):
        r = _base(i, rng)
        r["BLOUSE[SQ001]"] = rng.choice("YN")
        r["BLOUSE[SQ002]"] = rng.choice(["Y", "N", ""])
        # Each comment twice or more: a column of repeated prose is text all the same.
        r["COMMENTAIRE"] = SECRETS[i % 4] if i % 25 == 0 else ""
        rows.append(r)
    return _write(path, header, rows)


def other_file(path: Path, forms: int = 120) -> Path:
    """Like the reviewer's general.csv: a list with « other », and one repeated comment."""
    rng = random.Random(11)
    header = [
        *("id", "submitdate", "startdate", "ipaddr", "ECOLE"),
        *("Q1", "Q1[other]", "Q4", "Q5comment", "interviewtime"),
    ]
    rows = []
    for i in range(forms):
        r = _base(i, rng)
        r["Q1"] = rng.choice(["A1", "A2", "A3", "-oth-"])
        r["Q1[other]"] = SECRETS[i % 4] if r["Q1"] == "-oth-" else ""
        r["Q4"] = SECRETS[0] if i % 7 == 0 else ""
        r["Q5comment"] = "RAS" if i % 9 == 0 else ""
        rows.append(r)
    return _write(path, header, rows)


def _outputs(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    js, page = tmp_path / "a.json", tmp_path / "a.html"
    assert main(["audit", str(src), "--no-progress", "--json", str(js), "--report", str(page)]) == 0
    cap = capsys.readouterr()
    return {
        "cli": cap.out + cap.err,
        "json": js.read_text(encoding="utf-8"),
        "html": page.read_text(encoding="utf-8"),
    }


@pytest.mark.parametrize("make", [comments_file, other_file])
def test_no_typed_answer_in_any_output(
    make: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make(tmp_path / "export.csv")  # type: ignore[operator]
    text = src.read_text(encoding="utf-8")
    assert all(n in text for n in NEEDLES[:1])  # the file does hold them
    for name, out in _outputs(src, tmp_path, capsys).items():
        for needle in NEEDLES:
            assert needle not in out, f"{needle!r} printed in the {name} output"


def test_comment_column_is_text_not_a_question(tmp_path: Path) -> None:
    ds = load_limesurvey(comments_file(tmp_path / "c.csv"))
    assert ds.text_columns == ["COMMENTAIRE"]
    assert "COMMENTAIRE" not in [q.code for q in ds.questions]


def test_other_box_is_text_and_other_choice_is_an_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = other_file(tmp_path / "g.csv")
    ds = load_limesurvey(src)
    assert set(ds.text_columns) == {"Q1[other]", "Q4", "Q5comment"}
    q1 = next(q for q in ds.questions if q.code == "Q1")
    assert [c for c, _ in q1.rows] == ["Q1"]  # the « other » box is not a row of Q1
    assert q1.options == {"-oth-": "Autre"}
    chosen = sum(1 for v in ds.table.column("Q1").to_pylist() if v == "-oth-")
    assert chosen == sum(1 for line in src.read_text().splitlines() if '"-oth-"' in line)
    data = json.loads(_outputs(src, tmp_path, capsys)["json"])
    tally = next(q for q in data["scenarios"][0]["questions"] if q["question"] == "Q1")
    assert tally["counts"]["-oth-"] == chosen


def test_a_two_row_full_text_export_is_still_counted() -> None:
    """Too few answers to call a column typed text: schools named once each are a choice."""
    head = "id;submitdate;École;Blouse ?"
    rows = ["1;02/03/2026 18:00;Jules-Ferry;Oui", "2;02/03/2026 18:05;Pierre-Loti;Non"]
    ds = load_limesurvey(text="\n".join([head, *rows]))
    assert ds.text_columns == []


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàç", min_size=2, max_size=9)
typed = st.builds(lambda a, b, n: f"{a.title()} {b.title()} {n}", words, words, st.integers(0, 99))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(typed, min_size=1, max_size=12),
    st.integers(20, 200),
    st.integers(0, 3),
)
def test_typed_answers_never_counted(answers: list[str], forms: int, repeats: int) -> None:
    """However few, however repeated: typed answers in a coded export are text."""
    lines = ["id,submitdate,ECOLE,Q1,NOTE"]
    for i in range(forms):
        note = answers[i // (repeats + 1)] if i // (repeats + 1) < len(answers) else ""
        q1 = "A1" if i % 3 else "A2"
        lines.append(
            f'{i},2026-03-02 10:{i // 60 % 60:02d}:{i % 60:02d},A{i % 2 + 1},{q1},"{note}"'
        )
    ds = load_limesurvey(text="\n".join(lines))
    assert "NOTE" in ds.text_columns
    assert all(c != "NOTE" for q in ds.questions for c, _ in q.rows)
