"""A ballot holding a NUL character (``\\u0000`` in its JSON) — session 9 security review.
PostgreSQL's jsonb cannot store one: the writer's insert failed and its whole batch rolled
back, so with the group commit every ballot sent alongside was refused too (503), and
anyone could keep sending such ballots. Now refused before the writer, on every database,
with the reason; a literal backslash-u text is a text like any other."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.test import Client
from django.urls import reverse

from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.models import BoardEntry
from beffroi.core.nul import holds_nul

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]


pytestmark = pytest.mark.usefixtures("consult_writes_now")


@pytest.fixture
def box(org):
    c, private = setup_consultation(org, cid="nul", access="mixed", per_segment=2, all_kinds=True)
    return c, private


def _post(c, payload) -> tuple[int, dict]:
    response = Client(raise_request_exception=False).post(
        reverse("consult-submit", args=[c.cid]),
        json.dumps(payload),
        content_type="application/json",
    )
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "answers",
    [
        {"satisfaction": 4, "commentaire": "tout va\u0000 bien"},
        {"satisfaction": 4, "commentaire": "\u0000"},
    ],
)
def test_a_nul_in_an_answer_is_refused_with_the_reason(box, answers):
    c, private = box
    status, reply = _post(c, signed_payload(c, private[0].code, answers, ROWS, 3))
    assert (status, reply["error"]) == (400, "malformed")
    assert reply["message"] == "Bulletin non encodable : caractère nul (\\u0000) refusé"
    assert not BoardEntry.objects.filter(consultation=c).exists()
    # The box goes on: the next respondent's ballot is taken.
    status, reply = _post(c, signed_payload(c, private[1].code, {"satisfaction": 2}, ROWS, 1))
    assert status == 200 and reply["ok"]


def test_a_nul_anywhere_in_the_body_is_refused(box):
    c, private = box
    payload = signed_payload(c, private[0].code, {"satisfaction": 4}, ROWS, 3)
    payload["extra\u0000"] = 1  # a field the box would otherwise ignore
    assert _post(c, payload)[0] == 400
    rows = [dict(ROWS[0]), {"semaine\u0000": "4j"}]
    payload = signed_payload(c, private[0].code, {"satisfaction": 4}, ROWS, 3)
    payload["ballot"]["rows"] = rows
    assert _post(c, payload)[0] == 400


def test_a_written_backslash_u_is_an_ordinary_text(box):
    c, private = box
    answers = {"satisfaction": 4, "commentaire": "le code \\u0000 s'affiche"}
    status, reply = _post(c, signed_payload(c, private[0].code, answers, ROWS, 3))
    assert status == 200 and reply["ok"], reply
    stored = BoardEntry.objects.get(consultation=c).ballot
    assert stored["answers"]["commentaire"] == "le code \\u0000 s'affiche"


def test_the_walk_survives_deep_values():
    deep: object = "\u0000"
    for _ in range(5000):
        deep = [deep]
    assert holds_nul({"a": deep})
    assert not holds_nul({"a": [[["x"]]], "b\\u0000": "\\u0000"})


def test_the_walk_reads_keys_tuples_and_dataclasses():
    @dataclasses.dataclass
    class Post:
        text: str
        links: tuple[str, ...]

    assert holds_nul({"k\u0000": 1})
    assert holds_nul([Post("ok", ("https://a", "b\u0000"))])
    assert not holds_nul([Post("ok", ("https://a",)), Post, None, 3.5])
