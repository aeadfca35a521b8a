"""Session 6: a « CSV (Excel) » export of the main courante, with semicolons, next to
the unchanged RFC 4180 CSV (docs/formats/courante-export.md)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch import exports
from english_catalogue import english

_cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(_cell, min_size=len(exports.COLUMNS), max_size=len(exports.COLUMNS)), max_size=6
    )
)
def test_excel_csv_round_trips_with_semicolons_and_never_starts_a_formula(data):
    body = exports.build("excel.csv", data, "titre")
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert text.startswith(";".join(exports.COLUMNS) + "\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert parsed[0] == list(exports.COLUMNS) and len(parsed) == len(data) + 1
    for row, original in zip(parsed[1:], data, strict=True):
        for got, value in zip(row, original, strict=True):
            formula = value[:1] in ("=", "+", "-", "@", "\t", "\r")
            assert got == ("'" + value if formula else value)


def test_the_comma_csv_is_unchanged() -> None:
    data = [
        [
            1,
            "23/11/2026 18:05",
            "Téléphone",
            "Routes",
            "Luçon",
            "85128",
            "a; b, c",
            "",
            "",
            "",
            "oui",
        ]
    ]
    body = exports.build("csv", data, "titre")
    assert (
        body
        == (
            "\ufeff" + ",".join(exports.COLUMNS) + "\r\n"
            '1,23/11/2026 18:05,Téléphone,Routes,Luçon,85128,"a; b, c",,,,oui\r\n'
        ).encode()
    )
    excel = exports.build("excel.csv", data, "titre").decode("utf-8-sig")
    assert (
        excel.splitlines()[1] == '1;23/11/2026 18:05;Téléphone;Routes;Luçon;85128;"a; b, c";;;;oui'
    )


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
    )
    return activation


def _url(org, activation, fmt):
    return reverse(
        "watch-courante-export",
        kwargs={"org": org.slug, "activation_id": activation.pk, "fmt": fmt},
    )


def test_excel_csv_is_offered_and_downloaded(client, members, org, courante):
    client.force_login(members["volunteer"])
    page = client.get(
        reverse("watch-courante", kwargs={"org": org.slug, "activation_id": courante.pk})
    ).content.decode()
    assert 'data-format="excel.csv" title="Points-virgules' in page and ">CSV (Excel)</a>" in page
    assert 'data-format="csv" title="Virgules, UTF-8' in page and ">CSV</a>" in page
    got = client.get(_url(org, courante, "excel.csv"))
    assert got.status_code == 200 and got["Content-Type"] == "text/csv; charset=utf-8"
    disposition = got["Content-Disposition"]
    assert disposition.startswith('attachment; filename="main-courante-crue-du-lay-')
    assert disposition.endswith('.excel.csv"')
    lines = got.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("N°;Heure;Canal;")
    assert '"Route coupée ; déviation"' in lines[1]
    with english():
        page = client.get(
            reverse("watch-courante", kwargs={"org": org.slug, "activation_id": courante.pk}),
            HTTP_ACCEPT_LANGUAGE="en",
        ).content.decode()
    assert 'title="Semicolons: what Excel expects' in page


def test_large_excel_csv_runs_in_the_background_like_the_others(
    client, members, org, courante, monkeypatch
):
    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    client.force_login(members["coordinator"])
    url = _url(org, courante, "excel.csv")
    assert "Cet export CSV (Excel) compte 1 ligne." in client.get(url).content.decode()
    job_url = client.post(url)["Location"]
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    body = b"".join(client.get(job_url + "fichier").streaming_content)
    assert body.decode("utf-8-sig").startswith("N°;Heure;")
