"""The main courante's files are one fixed format whatever the page's language: French
column names and French labels (docs/formats/courante-export.md, "Language"), and the
page says so next to the download buttons, in French and in English."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from beffroi.watch import exports
from english_catalogue import english


def _french_labels() -> list[str]:
    from django.utils.translation import override

    from beffroi.watch.models import LogCategory, LogChannel

    with override("fr"):
        return [str(LogChannel("telephone").label), str(LogCategory("routes").label)]


FRENCH_ROW_END = ["Appel téléphonique", "Routes et transports"]


@pytest.fixture
def courante(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation,
        actor=coord,
        text="Route coupée ; déviation",
        channel="telephone",
        category="routes",
        for_partners=True,
    )
    return activation


def _page(org, activation) -> str:
    return reverse("watch-courante", kwargs={"org": org.slug, "activation_id": activation.pk})


def _export(org, activation, fmt) -> str:
    return reverse(
        "watch-courante-export",
        kwargs={"org": org.slug, "activation_id": activation.pk, "fmt": fmt},
    )


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_csv_from_the_english_page_is_the_french_fixed_format(client, members, org, courante):
    client.force_login(members["volunteer"])
    french = _csv(client.get(_export(org, courante, "csv")).content)
    with english():
        shown = client.get(_export(org, courante, "csv"), HTTP_ACCEPT_LANGUAGE="en").content
    # Same columns, same labels (channel, category, yes/no): byte for byte the same rows.
    assert _csv(shown) == french
    assert french[0] == list(exports.COLUMNS)
    assert _french_labels() == FRENCH_ROW_END
    assert french[1][2:4] == FRENCH_ROW_END and french[1][-1] == "oui"


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_spreadsheets_from_the_english_page_keep_the_french_labels(
    client, members, org, courante, fmt
):
    client.force_login(members["volunteer"])
    with english():
        body = client.get(_export(org, courante, fmt), HTTP_ACCEPT_LANGUAGE="en").content
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body)).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
    else:
        from odf.opendocument import load
        from odf.table import TableCell, TableRow
        from odf.teletype import extractText

        doc = load(io.BytesIO(body))
        values = [
            [extractText(c) for c in r.getElementsByType(TableCell)]
            for r in doc.spreadsheet.getElementsByType(TableRow)
        ]
    assert list(values[1]) == list(exports.COLUMNS)
    assert list(values[2][2:4]) == FRENCH_ROW_END


def test_the_background_export_is_the_same_format(client, members, org, courante, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    client.force_login(members["coordinator"])
    with english():
        job_url = client.post(_export(org, courante, "csv"), HTTP_ACCEPT_LANGUAGE="en")["Location"]
        call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
        body = b"".join(client.get(job_url + "fichier").streaming_content)
    rows = _csv(body)
    assert rows[0] == list(exports.COLUMNS) and rows[1][2:4] == FRENCH_ROW_END


def test_the_page_says_the_files_are_a_fixed_french_format(client, members, org, courante):
    client.force_login(members["volunteer"])
    page = client.get(_page(org, courante)).content.decode()
    assert "format fixe" in page
    with english():
        page = client.get(_page(org, courante), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "fixed format" in page and "format fixe" not in page


def test_the_partner_page_says_it_too(client, members, courante):
    from beffroi.watch import actions

    _link, token = actions.create_partner_link(
        courante, label="COD 85", days=1, actor=members["coordinator"]
    )
    url = reverse("watch-partner", args=[token])
    assert "format fixe" in client.get(url).content.decode()
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "fixed format" in page
    rows = _csv(client.get(reverse("watch-partner-export", args=[token, "csv"])).content)
    assert rows[1][2:4] == FRENCH_ROW_END
