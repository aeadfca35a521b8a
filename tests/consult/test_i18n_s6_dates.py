"""Session 6: the receipt and the public board show when a ballot arrived the way
their reader writes dates, in the deployment's time zone, while the exact canonical
value stays in the markup (``<time datetime>``) and the published files are unchanged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.translation import override

from beffroi.consult import actions, api
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.spec import format_time
from english_catalogue import english

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def _render(value: object, style: str = "") -> str:
    arg = f':"{style}"' if style else ""
    return Template("{% load moments %}{{ value|moment" + arg + " }}").render(
        Context({"value": value})
    )


def test_moment_shows_local_time_in_the_readers_language_and_keeps_the_value() -> None:
    iso = "2026-03-02T08:00:00.000000Z"  # 09:00 in Paris (winter time)
    with override("fr"):
        fr = _render(iso)
        fr_short = _render(iso, "SHORT_DATETIME_FORMAT")
    with override("en"):
        en = _render(iso)
    assert fr == (
        '<time datetime="2026-03-02T08:00:00.000000Z" title="2026-03-02T08:00:00.000000Z">'
        "2 mars 2026 09:00 (CET)</time>"
    )
    assert ">02/03/2026 09:00 (CET)<" in fr_short
    assert ">March 2, 2026, 09:00 (CET)<" in en
    # Summer time, and a datetime object.
    with override("fr"):
        assert ">1 juillet 2026 14:30 (CEST)<" in _render(datetime(2026, 7, 1, 12, 30, tzinfo=UTC))
        # Not a timestamp: shown as it is, escaped.
        assert _render("<b>hier</b>") == "&lt;b&gt;hier&lt;/b&gt;"
        assert _render("") == ""


def _spec(cid: str) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "id": cid,
        "title": "Cantine",
        "opens": format_time(now - timedelta(days=1)),
        "closes": format_time(now + timedelta(days=2)),
        "access": "open",
        "questions": [
            {
                "code": "menu",
                "label": "Menu",
                "kind": "single",
                "options": [{"code": "a", "label": "A"}, {"code": "b", "label": "B"}],
            }
        ],
    }


@pytest.fixture
def one_ballot(org, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="cantine", access="open", spec_dict=_spec("cantine"))
    ballot = make_ballot(c.get_spec(), {"menu": "a"}, [], public_key=None, seq=1)
    outcome = actions.submit_ballots(c.cid, [actions.Incoming(ballot, None)])[0]
    assert outcome.error is None
    return c, c.entries.get()


def test_receipt_and_board_pages_show_localized_times(client, one_ballot) -> None:
    c, entry = one_ballot
    iso = entry.received_at
    assert _ISO.fullmatch(iso)
    receipt = reverse("consult-receipt", args=[c.cid]) + "?recu=" + entry.public()["receipt"]
    board = reverse("consult-board", args=[c.cid])
    french = client.get(receipt, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with english():
        english_page = client.get(receipt, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        english_board = client.get(board, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french_board = client.get(board, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for page in (french, english_page, french_board, english_board):
        assert f'<time datetime="{iso}"' in page
        # The canonical text appears only as the machine value and its tooltip.
        assert page.count(iso) == 2
    assert re.search(r"reçue le <time [^>]*>\d{1,2} \w+ \d{4} \d\d:\d\d \(CES?T\)</time>\.", french)
    assert re.search(
        r"received on <time [^>]*>\w+\.? \d{1,2}, \d{4}, [^<]+ \(CES?T\)</time>\.", english_page
    )
    assert re.search(r">\d\d/\d\d/\d{4} \d\d:\d\d \(CES?T\)</time>", french_board)
    # The published files keep the canonical value.
    response = client.get(reverse("consult-board-jsonl", args=[c.cid]))
    jsonl = b"".join(response.streaming_content).decode()
    assert f'"received_at":"{iso}"' in jsonl.replace(" ", "")


def test_answer_page_dates_carry_their_zone_and_end_the_sentence_cleanly(client, one_ballot):
    c, _entry = one_ballot
    url = reverse("consult-answer", args=[c.cid])
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with english():
        english_page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(
        r"Réponses acceptées du <time datetime=\"[^\"]+\"[^>]*>[^<]+ \(CES?T\)</time> "
        r"au <time [^>]*>[^<]+ \(CES?T\)</time>\.",
        french,
    )
    # "… 6:57 p.m.." was the English sentence's end before the zone closed it.
    assert re.search(r"Responses accepted from <time [^>]*>[^<]+ \(CES?T\)</time>", english_page)
    assert ".." not in re.sub(r"<[^>]+>", "", english_page)
