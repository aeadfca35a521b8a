"""Session 7: an uploaded export's audit report (HTML and PDF) follows the reader's
language. The pure report writes French (the CLI's `beffroi audit`); the web task
renders it once per language, re-saying the audit's own French through the tables
of consult.views_i18n (decision 0006).

The real audit runs on simulated exports chosen to reach every part of the report, so
a sentence of the report or of the audit with no English fails here.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from audit_rows import audit_row
from beffroi.audits.models import Audit
from beffroi.consult.views_i18n import (
    REPORT_WORDS,
    SCENARIOS,
    SKIPPED,
    STATEMENTS,
    ReportWords,
    statement,
)
from beffroi.integrity.audit import AuditResult, run_audit
from beffroi.integrity.detectors import DEFAULT_ANSWERS, DETECTORS
from beffroi.integrity.load import from_table
from beffroi.integrity.report import render_html
from beffroi.integrity.simulate import simulate
from english_catalogue import english

SRC = Path(__file__).resolve().parents[2] / "src" / "beffroi"

# What French looks like once the survey's own words are cut out.
_FRENCH = re.compile(
    r"[éèêàçùœ«»]|\b(?:réponses?|formulaires?|groupes?|rafales?|alors|dans|contre|sur|les|la|"
    r"des|du|une|et|pas|ligne|Filtre|brut|Oui|Non|Fichier|Taux)\b"
)


def _visible(page: str) -> str:
    """The page's text as a reader sees it, the charts' SVG text included."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _survey_words(result: AuditResult) -> list[str]:
    """The survey's own words (its questions, segments, rows, ids, file name), longest
    first: they stay as the organiser wrote them."""
    data = result.to_json_without_responses()
    words = {Path(result.source).name, result.source}
    for scenario in data["scenarios"]:
        for q in scenario["questions"]:
            words.add(q["label"])
            words |= {s["label"] for s in q["segments"]} | {r["row"] for r in q["rows"]}
    for cluster in data["clusters"]:
        words |= set(cluster["ids_sample"])
    return sorted((w for w in words if w), key=len, reverse=True)


def _french_left(page: str, result: AuditResult) -> list[str]:
    text = _visible(page)
    for word in _survey_words(result):
        text = text.replace(word, " ")
    return sorted({m.group(0) for m in _FRENCH.finditer(text)})


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> list[AuditResult]:
    """Real audits reaching every part of the report: groups and none, an impossible
    and an unknown segment, an announced turnout, a detector switched off, a fragile
    and a tied majority, checks skipped for missing columns, anonymised dates, free
    text only."""
    out = []
    folder = tmp_path_factory.mktemp("attack")
    sim = simulate(folder, attack="seedlike", forms=300, fakes=80, seed=3)
    out.append(
        run_audit(
            sim.export,
            structure=folder / "survey.lss",
            electorate={"A1": 100, "A2": 50, "Z9": 10},
            claimed_participation=62.5,
            disabled=("coherence",),
        )
    )
    folder = tmp_path_factory.mktemp("calm")
    sim = simulate(folder, attack="none", forms=300, fakes=0, seed=1)
    out.append(run_audit(sim.export, claimed_participation=140))
    table = [
        {"id": str(i), "q": "A" if i % 2 else "B", "s": "x" if i < 20 else "y"} for i in range(40)
    ]
    out.append(_audit_table(table))
    out.append(_anonymised())
    out.append(_free_text_only())
    return out


def _free_text_only() -> AuditResult:
    from beffroi.integrity.audit import audit_dataset
    from beffroi.integrity.load import load_limesurvey

    rows = "".join(f"{i},2026-03-02 18:{i:02d}:00,commentaire {i}\n" for i in range(1, 60))
    return audit_dataset(load_limesurvey(text="id,submitdate,COMMENT\n" + rows))


def test_free_text_only_says_there_is_nothing_to_count() -> None:
    """Session 8: the results over time and the robustness of an export of free-text
    answers only were empty sections (and the first said the dates were at fault)."""
    result = _free_text_only()
    page = _visible(render_html(result))
    assert page.count("Aucune question à réponses fermées dans l'export") == 2
    assert "Les dates de soumission ne permettent pas" not in page
    with english():
        english_page = _visible(render_html(result, ReportWords()))
    assert english_page.count("No closed question in the export") == 2


def _anonymised() -> AuditResult:
    """An anonymised LimeSurvey survey: every response dated 1980-01-01 00:00:00."""
    from beffroi.integrity.audit import audit_dataset
    from beffroi.integrity.load import load_limesurvey

    rows = "".join(f"{i},1980-01-01 00:00:00,{'YN'[i % 3 == 0]}\n" for i in range(1, 41))
    return audit_dataset(load_limesurvey(text="id,submitdate,Q1\n" + rows))


def test_anonymised_dates_leave_no_empty_section() -> None:
    """Session 8: the arrivals and evolution sections of such an audit were a lone bar
    in 1980; they now say why there is nothing to draw, and the check is listed."""
    result = _anonymised()
    assert result.timeline == {}
    page = _visible(render_html(result))
    assert page.count("Les dates de soumission ne permettent pas de suivre") == 2
    assert "arrivées et rafales" in page and "1er janvier 1980" in page
    # Not looked for is not found.
    assert "Les rafales d'arrivées n'ont pas pu être recherchées" in page
    assert "aucune rafale d'arrivées." not in page
    with english():
        english_page = _visible(render_html(result, ReportWords()))
    assert english_page.count("The submission dates do not allow following") == 2
    assert "Bursts of arrivals could not be looked for" in english_page
    assert "1 January 1980" in english_page


def _audit_table(rows: list[dict[str, Any]]) -> AuditResult:
    from beffroi.integrity.audit import audit_dataset

    return audit_dataset(from_table(rows, segment="s"), claimed_participation=50)


def test_the_report_is_english_for_an_english_reader_and_french_as_written(audits) -> None:
    pages = []
    for result in audits:
        with english():
            page = render_html(result, ReportWords())
        assert page.startswith("<!DOCTYPE html><html lang=en>")
        assert _french_left(page, result) == [], result.summary["verdict"]
        french = render_html(result)
        assert "<html lang=fr>" in french and "Audit d'enquête" in _visible(french)
        assert french.count("<svg") == page.count("<svg")
        pages.append((french, page))
    french, english_page = pages[0]
    assert "Survey audit" in english_page and "Detectors switched off" in english_page
    assert "fragile result" in english_page and "Turnout" in english_page
    assert "Comment lire ce rapport" in french and "Détecteurs désactivés" in french
    # Numbers are the same, only written the English way.
    # (French sets a narrow no-break space before %: test_report_typography.py.)
    assert re.search("\\d,\\d\u202f%", french) and re.search(r"\d\.\d%", english_page)


def test_a_statement_no_template_knows_is_shown_as_written() -> None:
    with english():
        assert statement("Une phrase inconnue. Une autre.") == "Une phrase inconnue. Une autre."
        # One unknown sentence among known ones: the whole statement stays French,
        # never half re-said.
        mixed = "Un taux supérieur à 100 % est impossible. Une phrase inconnue."
        assert statement(mixed) == mixed
        assert statement(
            "Taux annoncé : 62 %, soit environ 99 participants sur 160. Un taux supérieur à "
            "100 % est impossible."
        ) == (
            "Announced rate: 62%, about 99 participants out of 160. A rate above 100% is "
            "impossible."
        )


def test_every_word_and_skipped_check_the_audit_writes_has_a_template() -> None:
    assert set(DETECTORS.values()) | set(DEFAULT_ANSWERS.values()) <= set(REPORT_WORDS)
    checks, reasons = set(), []
    tree = ast.parse((SRC / "integrity" / "load.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        # ds.skip("check", "reason") and the loops over (role, check, why) tuples.
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "skip":
            args = node.args
        elif (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Tuple)
            and "check" in [getattr(t, "id", "") for t in node.target.elts]
            and isinstance(node.iter, ast.Tuple)
        ):
            for row in node.iter.elts:
                assert isinstance(row, ast.Tuple)
                args = row.elts[1:]
                _collect(args, checks, reasons)
            continue
        else:
            continue
        _collect(args, checks, reasons)
    assert len(reasons) >= 9 and "langue" in checks
    assert sorted(checks - set(REPORT_WORDS)) == []
    assert [r for r in reasons if SKIPPED.match(r) is None] == []


def _collect(args: list[ast.expr], checks: set[str], reasons: list[str]) -> None:
    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(
                str(v.value) if isinstance(v, ast.Constant) else "token" for v in node.values
            )
        return None

    if len(args) == 2:
        check, reason = text(args[0]), text(args[1])
        if check is not None:
            checks.add(check)
        if reason is not None:
            reasons.append(reason)


def test_the_real_audits_statements_and_scenarios_all_have_templates(audits) -> None:
    statements = [s for r in audits for s in r.robustness["participation"]["statements"]] + [
        q["statement"] for r in audits for q in r.robustness["questions"]["beffroi"]
    ]
    labels = [s["label"] for r in audits for s in r.scenarios]
    assert any("égalité parfaite" in s for s in statements)
    assert any("résultat fragile" in s for s in statements)
    with english():
        for text in statements:
            assert statement(text) != text, text
        assert [label for label in labels if SCENARIOS.match(label) is None] == []
    assert STATEMENTS.match("Phrase inconnue.") is None


def _work() -> None:
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def test_the_web_serves_the_report_and_its_pdf_in_the_readers_language(
    transactional_db, client, members, org, tmp_path
) -> None:
    export = simulate(tmp_path, attack="seedlike", forms=200, fakes=40, seed=5).export
    client.force_login(members["scrutineer"])
    upload = SimpleUploadedFile("mars.csv", export.read_bytes(), content_type="text/csv")
    client.post(reverse("audits", args=[org.slug]), {"export": upload, "fmt": "limesurvey"})
    with english():
        _work()
    audit = Audit.objects.get()
    assert audit.status == "done", audit.error
    url = reverse("audit-report", args=[org.slug, audit.pk])
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    fr = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<html lang=en>" in en and "Survey audit" in en and "File: mars.csv" in en
    assert "Audit d'enquête" not in _visible(en) and "Comment lire" not in en
    assert "<html lang=fr>" in fr and "Fichier\u00a0: mars.csv" in fr
    pdf = reverse("audit-download", args=[org.slug, audit.pk, "pdf"])
    en_pdf = b"".join(client.get(pdf, HTTP_ACCEPT_LANGUAGE="en").streaming_content)
    fr_pdf = b"".join(client.get(pdf, HTTP_ACCEPT_LANGUAGE="fr").streaming_content)
    assert en_pdf.startswith(b"%PDF") and fr_pdf.startswith(b"%PDF")
    assert en_pdf == audit.output("report.en.pdf").read_bytes()
    assert fr_pdf == audit.output("report.pdf").read_bytes() != en_pdf
    # The JSON is data: one file, the audit's French sentences as written.
    data = b"".join(
        client.get(
            reverse("audit-download", args=[org.slug, audit.pk, "json"]),
            HTTP_ACCEPT_LANGUAGE="en",
        ).streaming_content
    ).decode()
    assert "réponses sur" in data


def test_an_audit_finished_before_english_reports_serves_its_french_one(
    client, members, org
) -> None:
    audit = audit_row(
        org,
        members["coordinator"],
        status=Audit.Status.DONE,
        summary={"responses": 2, "flagged": 1},
    )
    audit.folder.mkdir(parents=True, exist_ok=True)
    audit.output("report.html").write_text("<html lang=fr>ancien</html>", encoding="utf-8")
    client.force_login(members["scrutineer"])
    url = reverse("audit-report", args=[org.slug, audit.pk])
    assert "ancien" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    detail = reverse("audit-detail", args=[org.slug, audit.pk])
    # The count agrees with its noun (« 1 réponses signalées » before).
    with english():
        en = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 of 2 responses flagged." in en
    fr = client.get(detail, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "1 réponse signalée sur 2." in fr


def test_every_chart_is_one_image_with_a_text_alternative(audits) -> None:
    """A screen reader announces each chart as one image and reads its label (WCAG
    1.1.1), in the reader's language: the arrivals' peak is said in words, the others
    say where the same figures stand as text."""
    french = render_html(audits[0])
    with english():
        english_page = render_html(audits[0], ReportWords())
    for page in (french, english_page):
        charts = re.findall(r"<svg\b[^>]*>", page)
        assert len(charts) == 4, charts
        labels = [re.search(r"aria-label='([^']+)'", c) for c in charts]
        assert all("role='img'" in c for c in charts) and all(labels), charts
    said = [html.unescape(m[1]) for m in re.finditer(r"aria-label='([^']+)'", english_page)]
    assert all(not _FRENCH.search(text) for text in said), said
    assert re.search(r"at most \d+ responses? in one (hour|day)", said[0]), said[0]
    shown = [html.unescape(m[1]) for m in re.finditer(r"aria-label='([^']+)'", french)]
    assert re.search(r"au plus \d+ réponses? en un", shown[0]), shown[0]
    assert "tableau qui suit" in shown[1]
