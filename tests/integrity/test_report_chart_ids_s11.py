"""Each chart of the audit report owns its ids: matplotlib numbers them from 1 in every
figure, so the four charts of a report held « figure_1 », « patch_3 »… four times each
(invalid HTML; WeasyPrint warned « Anchor defined twice » for each one while laying out
the PDF, hundreds of log lines per audit)."""

from __future__ import annotations

import collections
import logging
import re
from pathlib import Path

import pytest

from beffroi.integrity.audit import run_audit
from beffroi.integrity.report import render_html, render_pdf
from beffroi.integrity.simulate import simulate


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    sim = simulate(folder, attack="seedlike", forms=300, fakes=80, seed=3)
    return run_audit(sim.export)


def test_every_id_is_unique_and_every_reference_resolves(audit) -> None:
    page = render_html(audit)
    assert page.count("<svg") >= 3
    ids = re.findall(r'\bid="([^"]+)"', page)
    twice = [k for k, n in collections.Counter(ids).items() if n > 1]
    assert ids and not twice, twice[:10]
    known = set(ids)
    refs = re.findall(r"url\(#([^)]+)\)", page) + re.findall(r'\bhref="#([^"]+)"', page)
    assert refs and set(refs) <= known, sorted(set(refs) - known)[:10]


def test_the_pdf_is_laid_out_without_duplicate_anchors(audit, tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdf(audit, tmp_path / "rapport.pdf")
    assert not [r for r in caplog.records if "defined twice" in r.getMessage()]
