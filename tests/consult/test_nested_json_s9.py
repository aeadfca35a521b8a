"""Ballots nested deeper than Python's JSON parser or the canonical encoder recurse
(session 9 security review). A few KB of ``[`` sent to the public ballot box, by anyone,
raised RecursionError: a 500 and a traceback in the log per request, on the Django view
and on the raw ASGI path. Now the refusal any unreadable ballot gets (400 ``malformed``)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from asgi_calls import http_scope, sent_by
from beffroi.consult import api
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]
DEPTHS = [50, 400, 800, 900, 960, 990, 1000, 1100, 5000, 30000]
PLACES = ["top", "answers", "answer", "rows", "signature"]
REFUSALS = {"malformed", "invalid_answers", "invalid_signature"}


pytestmark = pytest.mark.usefixtures("consult_writes_now")


@pytest.fixture
def ballot_box(org):
    c, private = setup_consultation(
        org, cid="imbrique", access="mixed", per_segment=2, all_kinds=True
    )
    good = signed_payload(c, private[0].code, {"satisfaction": 4}, ROWS, 3)
    return c, json.dumps(good)


def nested(text: str, place: str, depth: int) -> str:
    """``text`` (a ballot request) with arrays ``depth`` deep put at ``place``."""
    deep = "[" * depth + "]" * depth
    swaps = {
        "top": ("{", '{"zz": ' + deep + ", "),
        "answers": ('"answers": {', '"answers": {"zz": ' + deep + ", "),
        "answer": ('"satisfaction": 4', '"satisfaction": ' + deep),
        "rows": ('"rows": [', '"rows": [' + deep + ", "),
        "signature": ('"signature": ', '"signature": ' + deep + ', "x": '),
    }
    old, new = swaps[place]
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("place", PLACES)
def test_deeply_nested_ballots_are_refused_not_crashed(client, ballot_box, place):
    c, text = ballot_box
    url = reverse("consult-submit", args=[c.cid])
    for depth in DEPTHS:
        body = nested(text, place, depth).encode()
        if len(body) > api.MAX_BODY:
            continue
        response = client.post(url, body, content_type="application/json")
        if depth >= 1000:  # past the parser's depth: unreadable
            assert response.status_code == 400, (place, depth, response.content[:200])
            assert response.json()["error"] == "malformed"
        elif depth > 800:  # how deep still parses depends on the stack already in use
            assert response.status_code in {200, 400}, (place, depth, response.content[:200])
        elif place == "top":  # a field the box ignores: the ballot itself is good
            assert response.status_code == 200, (place, depth, response.content[:200])
        else:  # judged as any other ballot: an unknown question, a wrong answer…
            assert response.status_code == 400, (place, depth, response.content[:200])
            assert response.json()["error"] in REFUSALS, (place, depth)
    # The box still takes a good ballot afterwards.
    assert client.post(url, text, content_type="application/json").status_code == 200


def test_the_raw_asgi_path_refuses_them_too(ballot_box):
    c, _text = ballot_box
    app = api.with_fast_ballots(None)  # type: ignore[arg-type]  # never reached for ballots
    start, end = sent_by(app, http_scope("POST", f"/c/{c.cid}/bulletin/"), b"[" * 20000)
    assert start["status"] == 400 and json.loads(end["body"])["error"] == "malformed"


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pattern=st.lists(st.sampled_from(["[", '{"a":', "[1,", '{"b":[']), min_size=1, max_size=4),
    depth=st.integers(min_value=1, max_value=12000),
    closed=st.booleans(),
)
def test_fuzz_mixed_nesting_never_crashes(client, ballot_box, pattern, depth, closed):
    """Arrays and objects mixed, closed or not, at any depth: always an answer."""
    c, text = ballot_box
    openers = (pattern * (depth // len(pattern) + 1))[:depth]
    closers = "".join("]" if o.endswith("[") or o == "[1," else "}" for o in reversed(openers))
    deep = "".join(openers) + "1" + (closers if closed else "")
    body = text.replace('"answers": {', '"answers": {"zz": ' + deep + ", ", 1).encode()
    response = client.post(
        reverse("consult-submit", args=[c.cid]), body, content_type="application/json"
    )
    assert response.status_code in ({413} if len(body) > api.MAX_BODY else {400})
