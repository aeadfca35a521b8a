"""Ballots per code, session 8 security review.

A later ballot with the same code replaces the earlier one, and every ballot stays on the
public board. Open answers have a limit per network; signed ballots had none, so one code's
holder could add entries to the board (and to every scrutineer's bundle) without bound.
Now a code has at most ``BEFFROI_CONSULT_MAX_BALLOTS_PER_KEY`` ballots on the board."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from beffroi.consult import api
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.models import BoardEntry
from english_catalogue import english

ROWS = [{"blouse": "oui", "drapeau": "non", "aide": "oui"}, {}]


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_MAX_BALLOTS_PER_KEY = 3
    api._SPEC_CACHE.clear()


def _send(client, c, code, seq):
    return client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(signed_payload(c, code, {}, ROWS, seq)),
        content_type="application/json",
    )


def test_a_code_has_at_most_so_many_ballots_on_the_board(client, org, members):
    c, private = setup_consultation(org, cid="par-code", access="credentialed", per_segment=1)
    code, other = private[0].code, private[1].code
    for seq in (1, 2, 3):
        assert _send(client, c, code, seq).json()["ok"] is True
    refused = _send(client, c, code, 4)
    assert refused.status_code == 400
    body = refused.json()
    assert body["error"] == "too_many"
    assert body["message"] == (
        "Ce code a atteint le nombre maximal de réponses (3) : la dernière enregistrée "
        "compte ; celle-ci n'a pas été enregistrée."
    )
    assert BoardEntry.objects.filter(consultation=c).count() == 3
    # The third one is what counts; another code is not held up.
    assert _send(client, c, other, 1).json()["ok"] is True
    # Counting a code's entries leaves the board's numbering alone.
    assert _send(client, c, other, 2).json()["n"] == 5
    assert list(BoardEntry.objects.filter(consultation=c).values_list("n", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_the_same_ballot_sent_again_still_gets_its_receipt(client, org, members):
    c, private = setup_consultation(org, cid="renvoi", access="credentialed", per_segment=1)
    code = private[0].code
    for seq in (1, 2, 3):
        _send(client, c, code, seq)
    # A retry of a ballot already on the board is answered with its entry, not refused.
    again = _send(client, c, code, 3).json()
    assert again["ok"] is True and again["new"] is False


def test_the_refusal_is_said_in_english(client, org, members, settings):
    c, private = setup_consultation(org, cid="anglais", access="credentialed", per_segment=1)
    code = private[0].code
    for seq in (1, 2, 3):
        _send(client, c, code, seq)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with english():
        body = _send(client, c, code, 4).json()
    assert body["error"] == "too_many"
    assert body["message"] == (
        "This code has reached the most answers allowed (3): the last one recorded counts; "
        "this one was not recorded."
    )
