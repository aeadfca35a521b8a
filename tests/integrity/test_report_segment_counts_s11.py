"""The audit report's « Par segment » table says what the number in brackets counts:
answers, one per filled row of a per-parent question, so more than the forms (a scrutineer
read « A1 86,3 % (1319) » for 688 forms and took it for a count of forms)."""

from __future__ import annotations

import pytest

from beffroi.integrity.audit import run_audit
from beffroi.integrity.report import render_html
from beffroi.integrity.simulate import simulate


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    sim = simulate(folder, attack="seedlike", forms=300, fakes=80, seed=3)
    return run_audit(sim.export)


def test_the_segment_table_says_its_brackets_count_answers(audit) -> None:
    # French spacing: a no-break space before the colon.
    page = render_html(audit).replace("\u202f", " ").replace("\u00a0", " ")
    table = page.index("<h3>Par segment</h3>")
    note = page.index("Entre parenthèses : le nombre de réponses à la question.")
    assert table < note < page.index("<table", table)


@pytest.mark.usesdb
def test_the_note_is_said_in_english(audit) -> None:
    from beffroi.consult.views_i18n import ReportWords
    from english_catalogue import english

    with english():
        page = render_html(audit, ReportWords())
    assert "In brackets: the number of answers to the question." in page
    assert "Entre parenthèses" not in page
