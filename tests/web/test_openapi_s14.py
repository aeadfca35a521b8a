"""The OpenAPI document of the public endpoints says what the server really does: it
validates as OpenAPI 3.1, names every public consultation URL (and only URLs that exist),
lists every refusal code the ballot box can send, and real answers of a consultation with
a ballot on its board validate against its schemas."""

from __future__ import annotations

import ast
import inspect
import json
import re

import jsonschema
import pytest
from django.urls import URLPattern, reverse
from openapi_spec_validator import validate

from beffroi.consult import api, ballot
from beffroi.consult import urls as consult_urls
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.web import openapi

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]


def test_the_document_is_valid_openapi_3_1():
    validate(openapi.document())


def _template(pattern: URLPattern) -> str:
    route = str(pattern.pattern)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_public_consultation_url_is_described_and_nothing_else():
    public = {_template(p) for p in consult_urls.public_urlpatterns}
    described = set(openapi.document()["paths"])
    assert public <= described, public - described
    assert described - public == {"/healthz", "/api/openapi.json"}


def test_described_fixed_paths_answer(client, db):
    for path in ("/healthz", "/api/openapi.json"):
        assert client.get(path).status_code == 200, path


def _codes_refused_in(module) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "_refusal"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_every_refusal_code_is_listed():
    codes = _codes_refused_in(api) | {
        cls.code
        for cls in vars(ballot).values()
        if isinstance(cls, type) and issubclass(cls, ballot.BallotError)
    }
    assert codes == set(openapi.SUBMIT_ERRORS)


def _schema(name: str) -> dict:
    """A component schema with the document's other components reachable by $ref."""
    doc = openapi.document()
    return {"$defs": doc["components"]["schemas"], **doc["components"]["schemas"][name]}


def _check(instance, name: str) -> None:
    schema = json.loads(json.dumps(_schema(name)).replace("#/components/schemas/", "#/$defs/"))
    jsonschema.Draft202012Validator(schema).validate(instance)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _media(response) -> str:
    return response["Content-Type"].split(";")[0]


def _documented_media(path: str, status: str) -> set[str]:
    op = openapi.document()["paths"][path]
    method = "post" if "post" in op else "get"
    return set(op[method]["responses"][status].get("content", {}))


@pytest.mark.usesdb
def test_real_answers_validate_against_the_schemas(client, org, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, private = setup_consultation(
        org, cid="rythmes", access="mixed", per_segment=2, all_kinds=True
    )
    payload = signed_payload(c, private[0].code, {"satisfaction": 2}, ROWS, 10)
    _check(payload, "Submission")
    sent = client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(payload),
        content_type="application/json",
    )
    assert sent.status_code == 200
    _check(sent.json(), "Accepted")
    assert _media(sent) in _documented_media("/c/{cid}/bulletin/", "200")

    payload["ballot"]["answers"]["satisfaction"] = 1  # no longer what was signed
    refused = client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(payload),
        content_type="application/json",
    )
    assert refused.status_code == 400
    _check(refused.json(), "Refusal")

    receipt = sent.json()["receipt"]
    checked = client.get(
        reverse("consult-receipt", args=[c.cid]), {"recu": receipt, "format": "json"}
    )
    _check(checked.json(), "ReceiptCheck")
    assert checked.json()["found"] is True

    for name, schema, path in (
        ("consult-challenge", "Challenge", "/c/{cid}/defi/"),
        ("consult-results-json", "Results", "/c/{cid}/resultats.json"),
        ("consult-rules-json", "Rules", "/c/{cid}/consultation.json"),
    ):
        response = client.get(reverse(name, args=[c.cid]))
        assert response.status_code == 200
        assert _media(response) in _documented_media(path, "200"), name
        _check(json.loads(_body(response)), schema)

    board = client.get(reverse("consult-board-jsonl", args=[c.cid]))
    assert _media(board) in _documented_media("/c/{cid}/tableau.jsonl", "200")
    lines = _body(board).decode().splitlines()
    assert len(lines) == 1
    # BoardEntry allows no other field: nothing private (address, pseudonym) is published.
    _check(json.loads(lines[0]), "BoardEntry")

    for name, path in (
        ("consult-board-csv", "/c/{cid}/tableau.csv"),
        ("consult-bundle", "/c/{cid}/dossier.zip"),
    ):
        response = client.get(reverse(name, args=[c.cid]))
        assert _media(response) in _documented_media(path, "200"), name
        assert response["Content-Disposition"].startswith("attachment;")

    _check(client.get("/healthz").json(), "Health")


def test_a_private_field_on_the_board_would_fail_the_schema():
    entry = {
        "n": 1,
        "received_at": "2026-11-24T19:18:22.215467Z",
        "ballot": {
            "v": 1,
            "consultation": "x",
            "spec_hash": "0" * 64,
            "public_key": None,
            "seq": 1,
            "segment": "A1",
            "answers": {},
            "rows": [],
        },
        "signature": None,
        "receipt": "1" * 64,
        "prev": "2" * 64,
        "hash": "3" * 64,
    }
    _check(entry, "BoardEntry")
    with pytest.raises(jsonschema.ValidationError):
        _check(entry | {"net": "203.0.113.0/24"}, "BoardEntry")


def test_the_document_is_served_to_anyone(client, db):
    response = client.get("/api/openapi.json")
    assert response["Content-Type"].startswith("application/json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.content) == json.loads(json.dumps(openapi.document()))
