"""Session-6 walkthrough: the public board counts responses and entries with real
plurals in both languages ("(1 response)", "(2 responses)"), not "response(s)", and
names the ballots without a segment in the reader's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from beffroi.consult import actions, api
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.spec import format_time
from english_catalogue import english

NOW = datetime.now(UTC).replace(microsecond=0)
SPEC = {
    "id": "cantine",
    "title": "Cantine",
    "opens": format_time(NOW - timedelta(days=1)),
    "closes": format_time(NOW + timedelta(days=2)),
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


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def board(org, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="cantine", access="open", spec_dict=SPEC)

    def add(answer: str, seq: int) -> None:
        ballot = make_ballot(c.get_spec(), {"menu": answer}, [], public_key=None, seq=seq)
        assert actions.submit_ballots(c.cid, [actions.Incoming(ballot, None)])[0].error is None

    return reverse("consult-board", args=[c.cid]), add


def test_board_counts_one_and_several_responses_in_words(client, board):
    url, add = board
    add("a", 1)
    with english():
        one = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    un = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "(1 response)" in one and "1 response counted:" in one and "· 1 entry " in one
    assert "(1 réponse)" in un and "1 réponse comptée :" in un and "· 1 entrée " in un
    # Ballots with no segment are grouped under words of the reader's language.
    assert "no segment" in one and "sans segment" not in one
    add("b", 2)
    with english():
        two = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    deux = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "(2 responses)" in two and "2 responses counted:" in two and "· 2 entries " in two
    assert "(2 réponses)" in deux and "2 réponses comptées :" in deux and "· 2 entrées " in deux
    for page in (one, two, un, deux):
        assert "(s)" not in page
