"""The French report sets no-break spaces where French typography wants them: inside
« … » and before : ; ? ! %. Session 7's report could break a line right after « .
The audit's own sentences (journaled, published in bundles, in the JSON) keep their
plain spaces: only the page is set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.integrity import report, typography
from beffroi.integrity.audit import AuditResult, run_audit
from beffroi.integrity.report import FRENCH, french_spacing, render_html
from beffroi.integrity.simulate import simulate

NARROW, NO_BREAK = "\u202f", "\u00a0"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    sim = simulate(tmp_path_factory.mktemp("typo"), attack="seedlike", forms=200, fakes=40, seed=5)
    return run_audit(sim.export, electorate={"A1": 100, "A2": 50}, claimed_participation=62)


@pytest.fixture(scope="module")
def page(result: AuditResult) -> str:
    return render_html(result, FRENCH)


# A few lines are enough where the page's content does not matter (charts are slow).
TINY = "id,submitdate,Q1\n" + "".join(
    f"{i},2026-03-02 18:{i:02d}:00,{'ON'[i % 2]}\n" for i in range(1, 13)
)


def _text(page: str) -> str:
    # The pieces between tags, kept apart: joined, an indentation before one tag and
    # the text after it would look like a space before a mark.
    return "\n".join(typography._MARKUP.split(page)[::2])


def test_the_french_report_never_breaks_inside_guillemets_or_before_marks(
    result: AuditResult, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _text(page)
    assert "«" in text and "»" in text and " : " not in text
    for plain in ("« ", " »", " :", " ;", " ?", " !", " %"):
        assert plain not in text.replace("\n", "\n\n"), plain
    assert f"«{NARROW}" in text and f"{NARROW}»" in text
    assert f"Fichier{NO_BREAK}: " in text and re.search(rf"\d,\d{NARROW}%", text)
    # Only the text changed: every tag, attribute, style and chart is as before.
    monkeypatch.setattr(report, "french_spacing", lambda p: p)
    plain_page = render_html(result, FRENCH)

    def same_clips(text: str) -> str:  # matplotlib names clip paths and markers at random
        return re.sub(r"\b[pm][0-9a-f]{10}\b", "p", text)

    page, plain_page = same_clips(page), same_clips(plain_page)
    assert typography._MARKUP.findall(page) == typography._MARKUP.findall(plain_page)
    assert page.replace(NARROW, " ").replace(NO_BREAK, " ") == plain_page


def test_the_audits_own_sentences_keep_their_plain_spaces(result: AuditResult, page: str) -> None:
    # The page is set (the fixture rendered it); what the audit wrote is not.
    assert NARROW in page
    data = json.dumps(result.to_json(), ensure_ascii=False)
    assert NARROW not in data and NO_BREAK not in data
    assert " : " in result.summary["verdict"] or " : " in data


def test_the_english_report_is_left_alone() -> None:
    from beffroi.integrity.audit import audit_dataset
    from beffroi.integrity.load import load_limesurvey

    class English(type(FRENCH)):  # type: ignore[misc]
        language = "en"

    page = render_html(audit_dataset(load_limesurvey(text=TINY)), English())
    assert "« " in page  # the French words this stand-in keeps, as written
    assert NARROW not in page and NO_BREAK not in page


def test_the_cli_report_is_set_too(tmp_path: Path) -> None:
    from beffroi.cli import main

    export = tmp_path / "e.csv"
    export.write_text(TINY, encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["audit", str(export), "--report", str(out), "--no-progress"]) == 0
    assert f"Fichier{NO_BREAK}: " in out.read_text(encoding="utf-8")


@given(st.text(alphabet=st.sampled_from(list("ab «»:;?!%<>/= \"'-\u202f")), max_size=60))
def test_spacing_touches_only_spaces_outside_markup(page: str) -> None:
    spaced = french_spacing(page)

    def without_spaces(text: str) -> str:
        return re.sub(f"[ {NARROW}{NO_BREAK}]", "", text)

    assert without_spaces(spaced) == without_spaces(page)
    assert typography._MARKUP.findall(spaced) == typography._MARKUP.findall(page)
    # Idempotent: a page set twice is the page set once.
    assert french_spacing(spaced) == spaced
