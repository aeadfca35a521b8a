"""A draft consultation is not public: every public address answers for it exactly as for a
consultation that does not exist (same status, same body once the identifier is set aside),
the ballot box included, through Django and through the raw ASGI path. Once opened (or
closed) it is public and keeps its own refusals."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import Client

from asgi_calls import http_scope, sent_by
from beffroi.consult import actions, api, live
from beffroi.consult.cli_example_bundle import example_spec_dict

DRAFT = "fermeture-ecole"
# As long as the draft's name, so no length in a body can tell them apart.
NOTHING = "fermeture-ecolf"
RECEIPT = "ab" * 32

GETS = (
    "",
    "defi/",
    "recu/",
    f"recu/?recu={RECEIPT}",
    f"recu/?recu={RECEIPT}&format=json",
    "tableau/",
    "tableau.jsonl",
    "tableau.csv",
    "resultats.json",
    "consultation.json",
    "dossier.zip",
    "bulletin/",  # a GET on the ballot box
)


def _ballot(cid: str) -> bytes:
    ballot = {
        "consultation": cid,
        "spec_hash": "0" * 64,
        "public_key": None,
        "segment": None,
        "seq": 1,
        "nonce": "00" * 16,
        "answers": {},
        "rows": [],
    }
    return json.dumps({"ballot": ballot, "signature": None}).encode()


def _shape(cid: str, status: int, body: bytes) -> tuple[int, str]:
    # The CSRF token and CSP nonce a page may carry change on every request.
    text = body.decode("utf-8", "replace").replace(cid, "<cid>")
    text = re.sub(r'(nonce|value|content)="[A-Za-z0-9+/=_-]{16,}"', r'\1="…"', text)
    return status, text


def _draft(org):
    return actions.create_consultation(org, example_spec_dict(DRAFT, access="open"), actor=None)


def test_every_public_address_answers_a_draft_as_nothing(org, consult_writes_now):
    _draft(org)
    client = Client()
    seen = {}
    for cid in (DRAFT, NOTHING):
        for tail in GETS:
            r = client.get(f"/c/{cid}/{tail}")
            seen.setdefault(tail, []).append(_shape(cid, r.status_code, r.content))
        for raw in (_ballot(cid), b"{}"):
            r = client.post(f"/c/{cid}/bulletin/", data=raw, content_type="application/json")
            seen.setdefault(raw.replace(cid.encode(), b"<cid>"), []).append(
                _shape(cid, r.status_code, r.content)
            )
    for what, (draft, nothing) in seen.items():
        assert draft == nothing, what
    ballot_box = seen[_ballot(DRAFT).replace(DRAFT.encode(), b"<cid>")][0]
    assert ballot_box[0] == 404
    assert json.loads(ballot_box[1])["error"] == "unknown"


def test_an_opened_then_closed_consultation_keeps_its_own_refusal(org, consult_writes_now):
    c = _draft(org)
    actions.open_consultation(c, actor=None)
    actions.close_consultation(c, actor=None)
    r = Client().post(f"/c/{DRAFT}/bulletin/", data=_ballot(DRAFT), content_type="application/json")
    assert r.status_code == 403
    assert r.json()["message"] == "La consultation n'est pas ouverte aux réponses."
    assert Client().get(f"/c/{DRAFT}/tableau/").status_code == 200


@pytest.fixture
def _no_cached_specs():
    api._SPEC_CACHE.clear()
    yield
    api._SPEC_CACHE.clear()
    # The spec reader keeps its own connection (PostgreSQL refuses to drop a database in use).
    live.COMMITTER.close_connection()
    asyncio.run(sync_to_async(connections.close_all)())


async def _django(scope, receive, send):  # never reached: the ballot box answers first
    raise AssertionError(scope["path"])


def test_the_raw_ballot_box_answers_a_draft_as_nothing(transactional_db, org, _no_cached_specs):
    _draft(org)
    app = api.with_fast_ballots(_django)
    answers = []
    for cid in (DRAFT, NOTHING):
        start, end = sent_by(app, http_scope("POST", f"/c/{cid}/bulletin/"), _ballot(cid))
        answers.append((start["status"], end["body"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404 and json.loads(answers[0][1])["error"] == "unknown"


def test_the_writer_refuses_a_draft_as_nothing(org):
    # Reached only when the request's pre-check read the row before it changed.
    _draft(org)
    item = actions.Incoming(json.loads(_ballot(DRAFT))["ballot"], None, net="", addr="", ua="")
    draft = actions.submit_ballots(DRAFT, [item])[0].error
    nothing = actions.submit_ballots(NOTHING, [item])[0].error
    assert draft is not None and nothing is not None
    assert (draft.code, draft.message) == (nothing.code, nothing.message)
    assert draft.message == "Consultation inconnue."
