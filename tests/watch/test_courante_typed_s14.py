"""A line dated away from when it was typed (a call logged late) says when it was typed,
under its time: « saisie à 15:02 par marie.d » for the team, without the name for the
partners. The exports carry « Saisie » (both) and « Saisie par » (the team's only), in
every format, inline and from the worker (docs/formats/courante-export.md)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from beffroi.watch import exports
from pdf_structure import Pdf

pytestmark = pytest.mark.django_db

AUTHOR = "marie.dupont"
LATE = "Appel de la mairie de Chasnais : digue fissurée"
ON_TIME = "Route D746 coupée au pont"
FORMATS = ["csv", "excel.csv", "xlsx", "ods", "pdf"]


@pytest.fixture
def marie(org, members):
    from beffroi.core import actions
    from beffroi.core.models import Role

    user = actions.create_account(AUTHOR, "pw-test-123456", email="m@example.org")
    actions.set_role(user, org, Role.VOLUNTEER, actor=members["coordinator"])
    return user


@pytest.fixture
def activation(org, members, marie):
    """Two shared lines by Marie: one typed at once, one typed at 15:02 for a call that
    came at 09:00 the same day (local time, yesterday: never in the future)."""
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    act = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    actions.add_log_entry(act, actor=marie, text=ON_TIME, channel="telephone", category="routes")
    late = actions.add_log_entry(
        act, actor=marie, text=LATE, channel="telephone", category="degats"
    )
    day = timezone.localtime().date() - timedelta(days=1)
    tz = timezone.get_current_timezone()
    LogEntry.objects.filter(pk=late.pk).update(
        at=datetime(day.year, day.month, day.day, 9, 0, tzinfo=tz),
        created_at=datetime(day.year, day.month, day.day, 15, 2, 30, tzinfo=tz),
    )
    return act


def _page(act) -> str:
    return reverse("watch-courante", args=[act.organisation.slug, act.pk])


def _export(act, fmt) -> str:
    return reverse("watch-courante-export", args=[act.organisation.slug, act.pk, fmt])


def _set_times(number: int, act, at: datetime, created: datetime) -> None:
    from beffroi.watch.models import LogEntry

    LogEntry.objects.filter(activation=act, number=number).update(at=at, created_at=created)


def _typed_note(html: str, text: str) -> str:
    """The note under the time of the row holding ``text`` ("" if none)."""
    row = html[: html.index(text)].rsplit("<tr ", 1)[1]
    if 'class="muted typed-at">' not in row:
        return ""
    return row.split('class="muted typed-at">', 1)[1].split("</small>", 1)[0]


# -- the page --------------------------------------------------------------------------------


def test_the_team_sees_when_and_by_whom_a_late_line_was_typed(client, members, activation):
    client.force_login(members["volunteer"])
    html = client.get(_page(activation)).content.decode()
    assert _typed_note(html, LATE) == f"saisie à 15:02 par {AUTHOR}"
    # A line typed when it happened says nothing more.
    assert _typed_note(html, ON_TIME) == ""
    # The live refresh draws the same rows.
    rows_url = reverse("watch-courante-rows", args=[activation.organisation.slug, activation.pk])
    assert (
        _typed_note(client.get(rows_url).content.decode(), LATE) == f"saisie à 15:02 par {AUTHOR}"
    )


@pytest.mark.parametrize("how", ["account", "link", "link rows"])
def test_partners_see_the_typing_time_but_never_the_name(client, members, activation, how):
    from beffroi.watch import actions

    if how == "account":
        client.force_login(members["partner"])
        html = client.get(_page(activation)).content.decode()
    else:
        _link, token = actions.create_partner_link(
            activation, label="COD 85", days=1, actor=members["coordinator"]
        )
        name = "watch-partner" if how == "link" else "watch-partner-rows"
        html = client.get(reverse(name, args=[token])).content.decode()
    assert _typed_note(html, LATE) == "saisie à 15:02"
    assert AUTHOR not in html


def test_the_gap_shows_from_five_minutes_on_either_way(client, members, activation):
    client.force_login(members["volunteer"])
    now = timezone.localtime().replace(second=0, microsecond=0)
    cases = {
        1: (now - timedelta(minutes=4, seconds=59), now),  # a call written up: nothing
        2: (now - timedelta(minutes=5, seconds=1), now),
    }
    for number, (at, created) in cases.items():
        _set_times(number, activation, at, created)
    html = client.get(_page(activation)).content.decode()
    assert _typed_note(html, ON_TIME) == ""
    assert _typed_note(html, LATE) == f"saisie à {now:%H:%M} par {AUTHOR}"
    # A line dated after its typing (the form allows a minute ahead; older rows may hold
    # more) says it the same way.
    _set_times(2, activation, now, now - timedelta(minutes=10))
    html = client.get(_page(activation)).content.decode()
    assert _typed_note(html, LATE) == f"saisie à {now - timedelta(minutes=10):%H:%M} par {AUTHOR}"


@pytest.mark.parametrize(
    ("at", "typed", "said"),
    [
        # Another day: the date.
        ((2026, 11, 23, 22, 40), (2026, 11, 24, 1, 5), "saisie le 24/11 à 01:05"),
        # Another year: the year too.
        ((2025, 12, 31, 23, 50), (2026, 1, 1, 0, 20), "saisie le 01/01/2026 à 00:20"),
    ],
)
def test_another_day_gives_the_date_and_another_year_the_year(
    client, members, activation, at, typed, said
):
    tz = timezone.get_current_timezone()
    client.force_login(members["volunteer"])
    _set_times(2, activation, datetime(*at, tzinfo=tz), datetime(*typed, tzinfo=tz))
    html = client.get(_page(activation)).content.decode()
    assert _typed_note(html, LATE) == f"{said} par {AUTHOR}"


def test_an_account_since_deleted_leaves_the_time_alone(client, members, activation, marie):
    marie.delete()
    client.force_login(members["volunteer"])
    html = client.get(_page(activation)).content.decode()
    assert _typed_note(html, LATE) == "saisie à 15:02"


def test_a_late_line_typed_through_the_form_says_so(client, org, members, marie):
    """End to end: the form's « Heure » field, no database edit."""
    from beffroi.watch import actions

    act = actions.create_activation(
        org,
        name="Tempête",
        event_type="tempete",
        actor=members["coordinator"],
    )
    client.force_login(marie)
    when = timezone.localtime() - timedelta(minutes=40)
    client.post(
        reverse("watch-courante-add", args=[act.organisation.slug, act.pk]),
        {
            "text": LATE,
            "channel": "telephone",
            "category": "routes",
            "at": when.strftime("%Y-%m-%dT%H:%M"),
            "for_partners": "on",
        },
    )
    note = _typed_note(client.get(_page(act)).content.decode(), LATE)
    assert note.startswith("saisie ") and note.endswith(f" par {AUTHOR}")


# -- the exports -----------------------------------------------------------------------------


def _table(fmt: str, body: bytes) -> list[list[str]]:
    """The header and rows of an export file, read back with a reader of its format."""
    if fmt in ("csv", "excel.csv"):
        text = body.decode("utf-8-sig")
        return list(
            csv.reader(io.StringIO(text, newline=""), delimiter=";" if "excel" in fmt else ",")
        )
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body)).active
        values = [["" if c.value is None else str(c.value) for c in r] for r in sheet.iter_rows()]
        return values[1:]  # under the title
    from odf.opendocument import load
    from odf.table import TableCell, TableRow
    from odf.teletype import extractText

    doc = load(io.BytesIO(body))
    values = [
        [extractText(c) for c in r.getElementsByType(TableCell)]
        for r in doc.spreadsheet.getElementsByType(TableRow)
    ]
    return values[1:]


def _by_text(table: list[list[str]]) -> dict[str, dict[str, str]]:
    header = table[0]
    return {
        row[header.index("Information")]: dict(zip(header, row, strict=True)) for row in table[1:]
    }


def _day_before() -> str:
    return f"{timezone.localtime().date() - timedelta(days=1):%Y-%m-%d}"


def _check_team(table: list[list[str]]) -> None:
    assert table[0] == list(exports.COLUMNS)
    assert table[0][-3:] == ["Saisie", "Saisie par", "Transmis aux partenaires"]
    late = _by_text(table)[LATE]
    assert late["Heure"] == f"{_day_before()} 09:00:00"
    assert late["Saisie"] == f"{_day_before()} 15:02:30"  # same format as « Heure »
    assert late["Saisie par"] == AUTHOR
    on_time = _by_text(table)[ON_TIME]
    assert on_time["Saisie par"] == AUTHOR and on_time["Saisie"][:10] == on_time["Heure"][:10]


def _check_partner(table: list[list[str]]) -> None:
    assert table[0] == list(exports.PARTNER_COLUMNS)
    assert "Saisie par" not in table[0] and "Saisie" in table[0]
    late = _by_text(table)[LATE]
    assert late["Saisie"] == f"{_day_before()} 15:02:30"
    assert all(AUTHOR not in cell for row in table for cell in row)


def _pdf(monkeypatch) -> list[str]:
    """The HTML the PDF is laid out from (its cells' text), captured on its way."""
    seen: list[str] = []
    real = exports.to_pdf

    def spy(html: str, base_url: str) -> bytes:
        seen.append(html)
        return real(html, base_url)

    monkeypatch.setattr(exports, "to_pdf", spy)
    return seen


def _pdf_headers(body: bytes) -> int:
    """Column headers of the tagged table, read from the PDF's structure (one page)."""
    return sum(1 for e in Pdf.read(body).structure() if e["S"] == "TH")


def _worker(client, url: str) -> bytes:
    job_url = client.post(url)["Location"]
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    response = client.get(job_url + "fichier")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.fixture
def worker(monkeypatch):
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pdf"])
def test_the_team_s_files_have_both_columns(client, members, activation, fmt):
    client.force_login(members["volunteer"])
    response = client.get(_export(activation, fmt))
    assert response.status_code == 200
    _check_team(_table(fmt, response.content))


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pdf"])
@pytest.mark.parametrize("how", ["account", "link"])
def test_the_partners_files_have_the_time_not_the_name(client, members, activation, fmt, how):
    from beffroi.watch import actions

    if how == "account":
        client.force_login(members["partner"])
        url = _export(activation, fmt)
    else:
        _link, token = actions.create_partner_link(
            activation, label="COD 85", days=1, actor=members["coordinator"]
        )
        url = reverse("watch-partner-export", args=[token, fmt])
    response = client.get(url)
    assert response.status_code == 200
    _check_partner(_table(fmt, response.content))


@pytest.mark.parametrize("who", ["volunteer", "partner"])
def test_the_pdf_snapshot_has_the_same_columns(
    client, members, activation, worker, monkeypatch, who
):
    html = _pdf(monkeypatch)
    client.force_login(members[who])
    body = _worker(client, _export(activation, "pdf"))
    columns = exports.COLUMNS if who == "volunteer" else exports.PARTNER_COLUMNS
    assert _pdf_headers(body) == len(columns)
    (page,) = html
    assert "<th>Saisie</th>" in page and f"{_day_before()} 15:02:30" in page
    assert ("<th>Saisie par</th>" in page) == (who == "volunteer")
    assert (AUTHOR in page) == (who == "volunteer")


@pytest.mark.parametrize("who", ["volunteer", "partner"])
def test_a_background_file_is_the_same_as_an_inline_one(
    client, members, activation, worker, monkeypatch, who
):
    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    client.force_login(members[who])
    table = _table("csv", _worker(client, _export(activation, "csv")))
    (_check_team if who == "volunteer" else _check_partner)(table)


def test_a_partner_links_background_file_has_no_name(
    client, members, activation, worker, monkeypatch
):
    from beffroi.watch import actions

    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)
    _link, token = actions.create_partner_link(
        activation, label="COD 85", days=1, actor=members["coordinator"]
    )
    _check_partner(
        _table("ods", _worker(client, reverse("watch-partner-export", args=[token, "ods"])))
    )


def test_an_empty_selection_still_has_the_right_header(client, members, activation):
    client.force_login(members["partner"])
    table = _table("csv", client.get(_export(activation, "csv") + "?q=introuvable").content)
    assert table == [list(exports.PARTNER_COLUMNS)]
    client.force_login(members["volunteer"])
    table = _table("csv", client.get(_export(activation, "csv") + "?q=introuvable").content)
    assert table == [list(exports.COLUMNS)]
