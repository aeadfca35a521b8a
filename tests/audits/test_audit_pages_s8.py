"""The audit pages, session 8: the list names each audit's state as a word users
expect (« Terminé », "Failed"…, not "done"/"failed"), and an audit finished before
session 7, which has its French report only, says so to a reader of another
language instead of switching to French silently."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit_rows import audit_row
from beffroi.audits.models import Audit
from english_catalogue import english


def _audit(org, members, status, **extra):
    return audit_row(
        org, members["coordinator"], original_name=f"{status}.csv", status=status, **extra
    )


def _states(page: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'<td data-status="(\w+)">([^<]*)</td>', page))


def test_the_audit_list_names_states_as_words(client, members, org) -> None:
    for status in ("queued", "running", "done", "failed"):
        _audit(org, members, status)
    client.force_login(members["scrutineer"])
    url = reverse("audits", args=[org.slug])
    fr = _states(client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert fr == {
        "queued": "En attente",
        "running": "En cours",
        "done": "Terminé",
        "failed": "Échec",
    }
    with english():
        en = _states(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert en == {"queued": "Queued", "running": "Running", "done": "Done", "failed": "Failed"}


def _finished(org, members, *languages: str) -> Audit:
    audit = _audit(org, members, "done", summary={"responses": 2, "flagged": 1})
    audit.folder.mkdir(parents=True, exist_ok=True)
    for language in languages:
        name = "report.html" if language == "fr" else f"report.{language}.html"
        audit.output(name).write_text(
            f"<!DOCTYPE html><html lang={language}><head></head><body><h1>{language}</h1>"
            "</body></html>",
            encoding="utf-8",
        )
    return audit


def test_a_french_only_report_says_so_to_an_english_reader(client, members, org) -> None:
    audit = _finished(org, members, "fr")
    client.force_login(members["scrutineer"])
    detail = reverse("audit-detail", args=[org.slug, audit.pk])
    report = reverse("audit-report", args=[org.slug, audit.pk])
    with english():
        page = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        served = client.get(report, HTTP_ACCEPT_LANGUAGE="en")
    assert "This report and its PDF exist in French only" in page
    assert 'hreflang="fr"' in page
    body = served.content.decode()
    assert served["Content-Language"] == "fr"
    # The notice comes first in the page, in the reader's language; the report follows.
    assert body.index("This report exists in French only") < body.index("<h1>fr</h1>")
    assert '<p lang="en"' in body
    # A French reader reads the report as it is.
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    served = client.get(report, HTTP_ACCEPT_LANGUAGE="fr")
    assert "french-only" not in page and "hreflang" not in page
    assert "n'existe qu'en français" not in served.content.decode()


@pytest.mark.parametrize("status", ["running", "failed"])
def test_no_notice_before_a_report_exists(client, members, org, status) -> None:
    audit = _audit(org, members, status)
    client.force_login(members["scrutineer"])
    with english():
        page = client.get(
            reverse("audit-detail", args=[org.slug, audit.pk]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    assert "French only" not in page


def test_a_report_in_both_languages_has_no_notice(client, members, org) -> None:
    audit = _finished(org, members, "fr", "en")
    client.force_login(members["scrutineer"])
    with english():
        page = client.get(
            reverse("audit-detail", args=[org.slug, audit.pk]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
        response = client.get(
            reverse("audit-report", args=[org.slug, audit.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
    served = response.content.decode()
    assert "French only" not in page and "French only" not in served
    assert "<h1>en</h1>" in served and response["Content-Language"] == "en"
