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

from beffroi.integrity import report
from beffroi.integrity.audit import AuditResult, run_audit
from beffroi.integrity.report import FRENCH, french_spacing, render_html
from beffroi.integrity.simulate import simulate

NARROW, NO_BREAK = "\u202f", "\u00a0"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    sim = simulate(tmp_path_factory.mktemp("typo"), attack="seedlike", forms=200, fakes=40, seed=5)
    return run_audit(sim.export, electorate={"A1": 100, "A2": 50}, claimed_participation=62)


def _text(page: str) -> str:
    # The pieces between tags, kept apart: joined, an indentation before one tag and
    # the text after it would look like a space before a mark.
    return "\n".join(report._MARKUP.split(page)[::2])


def test_the_french_report_never_breaks_inside_guillemets_or_before_marks(
    result: AuditResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = render_html(result, FRENCH)
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
    assert report._MARKUP.findall(page) == report._MARKUP.findall(plain_page)
    assert page.replace(NARROW, " ").replace(NO_BREAK, " ") == plain_page


def test_the_audits_own_sentences_keep_their_plain_spaces(result: AuditResult) -> None:
    render_html(result, FRENCH)
    data = json.dumps(result.to_json(), ensure_ascii=False)
    assert NARROW not in data and NO_BREAK not in data
    assert " : " in result.summary["verdict"] or " : " in data


def test_the_english_report_is_left_alone(result: AuditResult) -> None:
    class English(type(FRENCH)):  # type: ignore[misc]
        language = "en"

    page = render_html(result, English())
    assert NARROW not in page and NO_BREAK not in page


def test_the_cli_report_is_set_too(result: AuditResult, tmp_path: Path) -> None:
    from beffroi.cli import main

    sim = simulate(tmp_path, attack="none", forms=60, fakes=0, seed=2)
    out = tmp_path / "r.html"
    assert main(["audit", str(sim.export), "--report", str(out), "--no-progress"]) == 0
    assert f"Fichier{NO_BREAK}: " in out.read_text(encoding="utf-8")


@given(st.text(alphabet=st.sampled_from(list("ab «»:;?!%<>/= \"'-\u202f")), max_size=60))
def test_spacing_touches_only_spaces_outside_markup(page: str) -> None:
    spaced = french_spacing(page)

    def without_spaces(text: str) -> str:
        return re.sub(f"[ {NARROW}{NO_BREAK}]", "", text)

    assert without_spaces(spaced) == without_spaces(page)
    assert report._MARKUP.findall(spaced) == report._MARKUP.findall(page)
    # Idempotent: a page set twice is the page set once.
    assert french_spacing(spaced) == spaced
