"""The cost of the public pages, session 8 security review.

The board, ``resultats.json``, ``tableau.csv``/``.jsonl`` and ``dossier.zip`` need no
account, and each request re-read the whole board and re-ran the tally or rebuilt the
bundle: 0.2 to 0.35 s of CPU per request for 5,000 ballots, so a few anonymous clients
could keep the server's cores busy while people vote, or on results day. Each process
now keeps the last board, results and bundle of a consultation with the state they were
computed from (board size and head, status, rules, the organisation's last journal
line: every revocation, flag, rule or exclusion is journaled), and computes again only
when that state moved. Nothing is ever served stale."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from beffroi.consult import actions, api, live
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload

ROWS = [{"blouse": "oui", "drapeau": "non", "aide": "oui"}, {}]
PAGES = (
    "consult-board",
    "consult-results-json",
    "consult-board-csv",
    "consult-board-jsonl",
    "consult-bundle",
)


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    api._PUBLIC.clear()


@pytest.fixture
def counted(monkeypatch):
    calls = {"entries": 0, "results": 0, "bundle": 0}
    for name in calls:
        original = getattr(live, name)

        def wrapper(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(live, name, wrapper)
    return calls


def _get_all(client, c):
    bodies = {}
    for name in PAGES:
        response = client.get(reverse(name, args=[c.cid]))
        assert response.status_code == 200, name
        bodies[name] = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
    return bodies


def _send(client, c, code, seq):
    body = client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(signed_payload(c, code, {}, ROWS, seq)),
        content_type="application/json",
    ).json()
    assert body["ok"] is True, body
    return body


def test_repeated_requests_compute_once(client, org, members, counted):
    c, private = setup_consultation(org, cid="cout", access="credentialed", per_segment=2)
    _send(client, c, private[0].code, 1)
    first = _get_all(client, c)
    computed = dict(counted)
    # The board page carries a fresh CSRF token (language form): the files are compared.
    files = {k: v for k, v in first.items() if k != "consult-board"}
    for _ in range(4):
        again = _get_all(client, c)
        assert {k: v for k, v in again.items() if k != "consult-board"} == files
    assert counted == computed
    assert computed["results"] <= 2 and computed["bundle"] == 1


def test_every_change_is_seen_at_once(client, org, members, counted):
    c, private = setup_consultation(org, cid="change", access="credentialed", per_segment=2)
    _send(client, c, private[0].code, 1)
    before = json.loads(_get_all(client, c)["consult-results-json"])
    # A new ballot: the board moved.
    _send(client, c, private[1].code, 1)
    after_ballot = _get_all(client, c)
    results = json.loads(after_ballot["consult-results-json"])
    assert results["counted"]["all"] == before["counted"]["all"] + 1
    assert private[1].public_key.encode() in after_ballot["consult-board-csv"]
    # A revocation changes no board entry, only the journal: the results follow.
    c.refresh_from_db()
    actions.revoke_credential(
        c, private[1].public_key, "code perdu", actor=members["coordinator"], replacement="ab" * 32
    )
    revoked = json.loads(_get_all(client, c)["consult-results-json"])
    assert revoked["counted"]["all"] == before["counted"]["all"]
    # Closing: the status moved.
    c.refresh_from_db()
    actions.close_consultation(c, actor=members["coordinator"])
    closed = _get_all(client, c)
    assert closed["consult-bundle"] != after_ballot["consult-bundle"]
