"""Session 8: the verdict does not claim what the audit could not check.

An anonymised LimeSurvey survey dates every response 1980-01-01, so no burst can be
looked for; the verdict used to say, in green, « Aucun groupe de réponses automatisées
n'a été trouvé ». It now says which detectors could not run and is never shown as a
clean result (decision docs/decisions/audit-verdict-limits.md): in the report (HTML,
and the PDF made from it), the CLI, the web pages, in French and English. Verdicts
stored before still display.
"""

from __future__ import annotations

import html
import itertools
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from beffroi.audits.models import Audit
from beffroi.cli import main
from beffroi.consult.views_i18n import VERDICTS, ReportWords, verdict
from beffroi.core import journal
from beffroi.core.models import JournalEntry
from beffroi.integrity.audit import AuditResult, _verdict, audit_dataset, unchecked
from beffroi.integrity.load import from_table, load_limesurvey
from beffroi.integrity.report import render_html
from beffroi.integrity.typography import french_text
from english_catalogue import english

OLD_CLEAN = (
    "Aucun groupe de réponses automatisées n'a été trouvé. Cela ne prouve pas l'absence de "
    "fraude : des faux formulaires envoyés lentement, à des heures ordinaires, sont "
    "indiscernables de vrais."
)
NOT_LOOKED_FOR = "Les groupes de réponses automatisées n'ont pas pu être recherchés"
WEAK = "Les groupes ont été recherchés sans adresses IP ni temps de remplissage"


def _export(header: str, row: str, n: int = 40) -> str:
    return (
        header
        + "\n"
        + "".join(row.format(i=i, m=i % 60, o="YN"[i % 3 == 0]) + "\n" for i in range(1, n + 1))
    )


ANONYMISED = _export("id,submitdate,Q1", "{i},1980-01-01 00:00:00,{o}")
# The same, with one token used twice: one response is flagged on its own.
ANONYMISED_TOKEN = _export("id,submitdate,token,Q1", "{i},1980-01-01 00:00:00,t{i},{o}").replace(
    "\n2,1980-01-01 00:00:00,t2,", "\n2,1980-01-01 00:00:00,t1,"
)
BARE = _export("id,submitdate,Q1", "{i},2026-03-02 18:{m:02d}:00,{o}")
WITH_IP = _export("id,submitdate,ipaddr,Q1", "{i},2026-03-02 18:{m:02d}:00,10.0.{i}.1,{o}")
WITH_TIMES = _export(
    "id,submitdate,startdate,Q1", "{i},2026-03-02 18:{m:02d}:30,2026-03-02 18:{m:02d}:00,{o}"
)
IDENTICAL_IPS = _export("id,submitdate,ipaddr,Q1", "{i},2026-03-02 18:{m:02d}:00,192.0.2.1,{o}")


def _audit(text: str, **kw: object) -> AuditResult:
    return audit_dataset(load_limesurvey(text=text), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text,expected",
    [
        (ANONYMISED, ["rafales"]),
        (BARE, ["reseau", "duree"]),
        (IDENTICAL_IPS, ["reseau", "duree"]),  # anonymised addresses count as none
        (WITH_IP, []),  # either trace left keeps the measured recall (decision)
        (WITH_TIMES, []),
    ],
)
def test_which_missing_checks_limit_the_verdict(text: str, expected: list[str]) -> None:
    result = _audit(text)
    assert result.summary["unchecked"] == expected
    assert unchecked(result.checks_skipped) == expected
    said = result.summary["verdict"]
    assert (NOT_LOOKED_FOR in said) == (expected == ["rafales"])
    assert (WEAK in said) == (expected == ["reseau", "duree"])
    assert said.startswith("Aucun groupe") == (expected != ["rafales"])


def test_an_anonymised_survey_is_never_given_a_clean_verdict() -> None:
    result = _audit(ANONYMISED)
    said = result.summary["verdict"]
    assert "Aucun groupe" not in said
    assert said.startswith("Aucune réponse n'est signalée par les vérifications qui ont pu")
    page = render_html(result)
    assert "class='verdict limited'" in page and "verdict ok" not in page
    with english():
        english_page = render_html(result, ReportWords())
    shown = html.unescape(re.search(r"<p class='verdict limited'>(.*?)</p>", english_page)[1])  # type: ignore[index]
    assert shown == (
        "No response is flagged by the checks that could be made. Groups of automated "
        "responses could not be looked for: the responses' arrivals could not be examined "
        "(submission dates missing or all identical)."
    )
    # The same rule holds with a response flagged on its own (a reused token).
    flagged = _audit(ANONYMISED_TOKEN)
    assert flagged.summary["flagged"] >= 1
    assert flagged.summary["verdict"].endswith(
        "individuellement (détail ci-dessous). Les groupes de réponses automatisées n'ont "
        "pas pu être recherchés : les arrivées des réponses n'ont pas pu être examinées "
        "(dates de soumission absentes ou toutes identiques)."
    )


def test_a_clean_full_result_is_still_green() -> None:
    result = _audit(WITH_TIMES)
    # Since session 14 the clean verdict says what the checks cannot see (test in
    # tests/integrity/test_verdict_wording_s14.py); old verdicts keep their template.
    assert result.summary["verdict"].startswith(OLD_CLEAN.split(" : ")[0] + " : ces vérif")
    assert "class='verdict ok'" in render_html(result)
    assert "class='verdict limited'" in render_html(_audit(BARE))


def test_the_burst_detector_switched_off_is_said() -> None:
    result = _audit(WITH_TIMES, disabled=("rafales",))
    assert result.summary["unchecked"] == ["rafales"]
    assert result.summary["verdict"].endswith(
        "Les groupes de réponses automatisées n'ont pas été recherchés : le détecteur des "
        "rafales d'arrivées est désactivé."
    )
    assert unchecked([], ("reseau", "duree")) == ["reseau", "duree"]
    assert unchecked([], ("reseau",)) == []


def test_a_ballot_box_without_addresses_or_times_is_a_weak_verdict() -> None:
    """The live audit's table always has an ip column; empty, the check did not run."""
    rows = [
        {"id": str(i), "submitted": 1.7e9 + 97 * i, "ip": None, "ua": None, "q": "AB"[i % 2]}
        for i in range(40)
    ]
    ds = from_table(rows)
    assert {"check": "concentration réseau", "reason": "colonne « ip » vide dans la table"} in (
        ds.checks_skipped
    )
    assert audit_dataset(ds).summary["unchecked"] == ["reseau", "duree"]
    rows = [r | {"ip": f"a{i}"} for i, r in enumerate(rows)]
    assert audit_dataset(from_table(rows)).summary["unchecked"] == []


FRAGILE_TAIL = ["Q. 1 : a, b ; c. Les groupes ont été recherchés sans"]  # a label quoting a marker


# A group always holds flagged responses: no shape with groups and nothing flagged.
SHAPES = [
    (n_flag, groups, limits, disabled, fragile)
    for n_flag, groups, limits, disabled, fragile in itertools.product(
        (0, 1, 3),
        ([], [{"flagged": 3}], [{"flagged": 3}, {"flagged": 2}]),
        ([], ["rafales"], ["reseau", "duree"]),
        ((), ("rafales",)),
        ([], ["Q. 1"], FRAGILE_TAIL),
    )
    if n_flag or not groups
]


@pytest.mark.parametrize("n_flag,groups,limits,disabled,fragile", SHAPES)
def test_every_verdict_shape_reads_in_english(n_flag, groups, limits, disabled, fragile) -> None:
    text = _verdict(n_flag, 96, groups, fragile, limits=limits, disabled=disabled)
    with english():
        said = verdict(text)
    head = said.split(" Fragile result for: ")[0]
    assert not re.search(r"[éèàù«»]|\b(?:réponses?|groupes?|sur|les)\b", head), said
    if fragile:
        assert said.endswith("would be enough to reverse the majority.")
        assert fragile[0] in said  # the question's label as the organiser wrote it
    # French readers get it as written, set the French way (no break before : ; « »).
    assert verdict(text) == french_text(text)


def test_old_verdicts_still_display() -> None:
    """A live audit's last verdict is stored (its task result): the wording of every
    session before this one still matches a template."""
    with english():
        assert verdict(OLD_CLEAN).startswith("No group of automated responses was found.")
        old = "1 réponses sur 96 sont signalées individuellement (détail ci-dessous)."
        assert verdict(old).startswith("1 responses out of 96")
        assert VERDICTS.match(OLD_CLEAN + " Résultat fragile pour") is None


def test_the_cli_says_what_could_not_be_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "anonyme.csv"
    export.write_text(ANONYMISED, encoding="utf-8")
    report = tmp_path / "rapport.html"
    assert main(["audit", str(export), "--report", str(report), "--no-progress"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "Aucun groupe" not in first and NOT_LOOKED_FOR in first
    assert " - non vérifié : arrivées et rafales (toutes les dates de soumission" in out
    assert "class='verdict limited'" in report.read_text(encoding="utf-8")


def _work() -> None:
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def test_the_audit_pages_say_the_search_was_incomplete(
    transactional_db, client, members, org
) -> None:
    client.force_login(members["scrutineer"])
    for name, text in (("anonyme.csv", ANONYMISED), ("complet.csv", WITH_TIMES)):
        upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
        response = client.post(
            reverse("audits", args=[org.slug]), {"export": upload, "fmt": "limesurvey"}
        )
        assert response.status_code == 302
    with english():  # the English report is written with the EN table
        _work()
    anonymised = Audit.objects.get(original_name="anonyme.csv")
    complete = Audit.objects.get(original_name="complet.csv")
    assert anonymised.status == complete.status == "done"
    assert anonymised.summary["unchecked"] == ["rafales"] and complete.summary["unchecked"] == []
    # Journaled as keys, never as sentences.
    entry = JournalEntry.objects.get(action="audit.complete", subject=f"audit:{anonymised.pk}")
    assert entry.data["unchecked"] == ["rafales"]

    def get(url: str, language: str = "fr") -> str:
        return html.unescape(client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode())

    def detail(audit: Audit, language: str = "fr") -> str:
        return get(reverse("audit-detail", args=[org.slug, audit.pk]), language)

    assert "n'ont pas pu être recherchés" in detail(anonymised)
    assert 'data-testid="audit-unchecked"' not in detail(complete)
    assert get(reverse("audits", args=[org.slug])).count("recherche incomplète") == 1
    report_url = reverse("audit-report", args=[org.slug, anonymised.pk])
    report = get(report_url)
    assert "verdict limited" in report and "Aucun groupe" not in report
    with english():
        page = detail(anonymised, "en")
        assert "Groups of automated responses could not be looked for" in page
        assert "incomplete search" in get(reverse("audits", args=[org.slug]), "en")
    english_report = get(report_url, "en")
    assert "<html lang=en>" in english_report and "verdict limited" in english_report
    assert "Groups of automated responses could not be looked for" in english_report

    # An audit finished before (its summary without the key) shows as it did, and the
    # organisation's journal, old entries and new, still verifies.
    Audit.objects.filter(pk=anonymised.pk).update(
        summary={k: v for k, v in anonymised.summary.items() if k != "unchecked"}
    )
    assert 'data-testid="audit-unchecked"' not in detail(anonymised)
    assert journal.verify() is None
