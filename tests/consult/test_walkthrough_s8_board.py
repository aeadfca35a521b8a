"""The public board's latest entries in English and on a phone (session-8 walkthrough):
the number column was headed « n° » in English, and « unverified » was set in the
monospace of a key, broken mid-word at 390 px."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.urls import reverse

from beffroi.consult import api
from beffroi.consult.cli_example_bundle import setup_consultation, unsigned_payload
from english_catalogue import english


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 4
    api._SPEC_CACHE.clear()


def _solve(challenge: dict) -> str:
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{challenge['challenge']}:{nonce}".encode()).digest()
        if api.leading_zero_bits(digest) >= challenge["bits"]:
            return str(nonce)
        nonce += 1


def _latest_table(html: str) -> str:
    found = re.search(r'<table class="board">.*?</table>', html, re.S)
    assert found, "no table of latest entries"
    return found.group(0)


@pytest.mark.parametrize(
    "lang,number,unverified", [("fr", "N°", "non vérifiée"), ("en", "No.", "unverified")]
)
def test_latest_entries_column_and_unverified_key(client, org, lang, number, unverified) -> None:
    c, _ = setup_consultation(org, cid=f"s8-board-{lang}", access="open", per_segment=1)
    challenge = client.get(reverse("consult-challenge", args=[c.cid])).json()
    payload = unsigned_payload(c, {}, [{"blouse": "oui"}, {}], 1, "A1")
    payload["pow"] = {"challenge": challenge["challenge"], "nonce": _solve(challenge)}
    resp = client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(payload),
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    client.cookies["django_language"] = lang
    with english():
        html = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    table = _latest_table(html)
    assert re.search(rf"<th>{re.escape(number)}</th>", table)
    assert ">n°<" not in table
    assert re.search(rf'<td class="muted">{unverified}</td>', table)
    assert not re.search(rf'class="mono">{unverified}<', table)
