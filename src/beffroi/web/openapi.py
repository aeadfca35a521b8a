"""The OpenAPI description of what anyone may call without an account: a consultation's
public data (challenge, ballot box, receipts, board, results, rules, scrutineer bundle)
and the health check.

Written by hand, not generated from views: there are a dozen endpoints, their formats are
the project's published ones (docs/formats/), and a generator would describe Django's
views rather than the contract a scrutineer's script relies on. The tests keep it honest:
every public URL is described, every described URL exists, the document validates as
OpenAPI 3.1, and real responses validate against its schemas (tests/web/test_openapi_s14.py).

Organisation pages and partner links are left out on purpose: they need an account or a
secret link and are for people, not scripts (docs/formats/http-api.md).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

import beffroi

HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
TIME = {
    "type": "string",
    "description": "RFC 3339, UTC, microseconds: 2026-11-24T19:18:22.215467Z",
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$",
}

# Every ``error`` a refused ballot can carry (the ballot box's own refusals and the
# ballot checks'); a test compares the list with the code.
SUBMIT_ERRORS = (
    "honeypot",
    "host",
    "https",
    "invalid",
    "invalid_answers",
    "invalid_signature",
    "malformed",
    "method",
    "origin",
    "out_of_period",
    "proof_of_work",
    "rate_limited",
    "revoked_key",
    "segment",
    "stale",
    "too_large",
    "too_many",
    "unavailable",
    "unknown",
    "unknown_key",
    "wrong_consultation",
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    answers = {
        "type": "object",
        "description": "question code → option code, list of option codes, integer or text",
        "additionalProperties": {
            "anyOf": [
                {"type": "string"},
                {"type": "integer"},
                {"type": "array", "items": {"type": "string"}},
            ]
        },
    }
    return {
        "Ballot": {
            "type": "object",
            "description": "docs/formats/ballot.md; its canonical JSON is what is signed",
            "required": [
                "v",
                "consultation",
                "spec_hash",
                "public_key",
                "seq",
                "segment",
                "answers",
                "rows",
            ],
            "additionalProperties": False,
            "properties": {
                "v": {"const": 1},
                "consultation": {"type": "string"},
                "spec_hash": HEX64,
                "public_key": {"anyOf": [HEX64, {"type": "null"}]},
                "seq": {"type": "integer", "minimum": 1, "maximum": 2**53 - 1},
                "segment": {"type": ["string", "null"]},
                "answers": answers,
                "rows": {"type": "array", "items": answers},
            },
        },
        "BoardEntry": {
            "type": "object",
            "description": "one line of the public bulletin board (docs/formats/bundle.md)",
            "required": ["n", "received_at", "ballot", "signature", "receipt", "prev", "hash"],
            "additionalProperties": False,
            "properties": {
                "n": {"type": "integer", "minimum": 1},
                "received_at": TIME,
                "ballot": _ref("Ballot"),
                "signature": {
                    "anyOf": [
                        {"type": "string", "pattern": "^[0-9a-f]{128}$"},
                        {"type": "null"},
                    ]
                },
                "receipt": HEX64,
                "prev": HEX64,
                "hash": HEX64,
            },
        },
        "Submission": {
            "type": "object",
            "required": ["ballot"],
            "properties": {
                "ballot": _ref("Ballot"),
                "signature": {
                    "type": ["string", "null"],
                    "description": "Ed25519 signature of the ballot's canonical JSON, "
                    "128 hex digits; null for an unverified ballot",
                },
                "pow": {
                    "type": "object",
                    "description": "unverified ballots only: a solved challenge (/defi/)",
                    "required": ["challenge", "nonce"],
                    "properties": {
                        "challenge": {"type": "string"},
                        "nonce": {"type": "string"},
                    },
                },
                "site_web": {"type": "string", "description": "must stay empty (bots fill it)"},
            },
        },
        "Accepted": {
            "type": "object",
            "required": ["ok", "new", "receipt", "n", "hash", "received_at"],
            "additionalProperties": False,
            "properties": {
                "ok": {"const": True},
                "new": {
                    "type": "boolean",
                    "description": "false when the same ballot was already on the board "
                    "(a retry): the first entry's receipt is returned",
                },
                "receipt": HEX64,
                "n": {"type": "integer", "minimum": 1},
                "hash": HEX64,
                "received_at": TIME,
            },
        },
        "Refusal": {
            "type": "object",
            "required": ["ok", "error", "message"],
            "properties": {
                "ok": {"const": False},
                "error": {"enum": list(SUBMIT_ERRORS)},
                "message": {
                    "type": "string",
                    "description": "for the respondent, in the language the request "
                    "asks for (Accept-Language or the language cookie), French by default",
                },
                "retry_after": {"type": "integer", "description": "seconds (429 only)"},
            },
        },
        "Challenge": {
            "type": "object",
            "required": ["challenge", "bits"],
            "additionalProperties": False,
            "properties": {
                "challenge": {"type": "string"},
                "bits": {
                    "type": "integer",
                    "description": "find a nonce whose SHA-256(challenge + ':' + nonce) "
                    "starts with this many zero bits",
                },
            },
        },
        "ReceiptCheck": {
            "type": "object",
            "required": ["found", "entry", "superseded_by", "counted", "excluded"],
            "additionalProperties": False,
            "properties": {
                "found": {"type": "boolean"},
                "entry": {"anyOf": [_ref("BoardEntry"), {"type": "null"}]},
                "superseded_by": {
                    "type": ["integer", "null"],
                    "description": "the board number of a later ballot of the same code",
                },
                "counted": {"type": "boolean"},
                "excluded": {
                    "type": ["object", "null"],
                    "description": "why the entry is on the board but not counted",
                },
            },
        },
        "Results": {
            "type": "object",
            "description": "the tally under the frozen rules, with what each rule set aside",
            "required": [
                "format",
                "consultation",
                "access",
                "board",
                "counted",
                "results",
                "segments",
                "rules",
                "exclusions",
                "exclusions_by_rule",
                "post_hoc_rules",
            ],
            "properties": {
                "format": {"const": "beffroi-results/1"},
                "consultation": {"type": "string"},
                "access": {"enum": ["open", "credentialed", "mixed"]},
                "board": {
                    "type": "object",
                    "required": ["entries", "head"],
                    "properties": {"entries": {"type": "integer"}, "head": HEX64},
                },
                "counted": {
                    "type": "object",
                    "required": ["all", "verified", "unverified"],
                    "additionalProperties": {"type": "integer"},
                },
                "results": {"type": "object"},
                "segments": {"type": "object"},
                "rules": {"type": "array", "items": {"type": "object"}},
                "exclusions": {"type": "array", "items": {"type": "object"}},
                "exclusions_by_rule": {
                    "type": "object",
                    "additionalProperties": {"type": "integer"},
                },
                "post_hoc_rules": {"type": "array"},
            },
        },
        "Rules": {
            "type": "object",
            "description": "the questions and rules frozen at opening, with the published "
            "hash (docs/formats/bundle.md, spec.json)",
            "required": [
                "format",
                "id",
                "title",
                "opens",
                "closes",
                "access",
                "questions",
                "segments",
                "rules",
                "opening",
            ],
            "properties": {
                "format": {"const": "beffroi-consultation/1"},
                "id": {"type": "string"},
                "title": {"type": "string"},
                "opens": TIME,
                "closes": TIME,
                "access": {"enum": ["open", "credentialed", "mixed"]},
                "questions": {"type": "array", "items": {"type": "object"}},
                "segments": {"type": "array", "items": {"type": "object"}},
                "rules": {"type": "array", "items": {"type": "object"}},
                "opening": {
                    "type": "object",
                    "required": ["spec_hash", "at"],
                    "properties": {"spec_hash": HEX64, "at": {"anyOf": [TIME, {"type": "null"}]}},
                },
            },
        },
        "Health": {
            "type": "object",
            "required": ["status", "database"],
            "properties": {
                "status": {"enum": ["ok", "error"]},
                "database": {"enum": ["ok", "error"]},
            },
        },
    }


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema)}}


def _download(media: str, what: str) -> dict[str, Any]:
    return {
        "200": {
            "description": what,
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="<cid>-….<ext>"',
                    "schema": {"type": "string"},
                }
            },
            "content": {media: {"schema": {"type": "string"}}},
        },
        "404": {"description": "no such consultation, or not opened yet"},
    }


CID = {
    "name": "cid",
    "in": "path",
    "required": True,
    "description": "the consultation's id, as in its public address",
    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
}
HTML = {"text/html": {"schema": {"type": "string"}}}
UNKNOWN = {"404": {"description": "no such consultation, or not opened yet"}}


def _paths() -> dict[str, Any]:
    def refused(why: str) -> dict[str, Any]:
        return {"description": why, "content": _json("Refusal")}

    def get(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"get": {"summary": summary, "responses": responses, **extra}}

    return {
        "/c/{cid}/": {
            "parameters": [CID],
            **get(
                "The answer page (for people: a form that signs in the browser)",
                {"200": {"description": "the page", "content": HTML}, **UNKNOWN},
                operationId="answerPage",
            ),
        },
        "/c/{cid}/defi/": {
            "parameters": [CID],
            **get(
                "A proof-of-work challenge, for an unverified (open or mixed) ballot",
                {
                    "200": {"description": "a fresh challenge", "content": _json("Challenge")},
                    **UNKNOWN,
                },
                operationId="challenge",
            ),
        },
        "/c/{cid}/bulletin/": {
            "parameters": [CID],
            "post": {
                "summary": "Put a ballot on the public board",
                "operationId": "submitBallot",
                "description": "No session and no CSRF token: a keyed ballot's signature is its "
                "authority. A browser's request from another site is refused (Origin). "
                "Success is answered only once the ballot is committed.",
                "requestBody": {"required": True, "content": _json("Submission")},
                "responses": {
                    "200": {"description": "on the board", "content": _json("Accepted")},
                    "400": refused("the ballot is refused (see error)"),
                    "403": refused("closed, not yet open, HTTPS required or foreign origin"),
                    "404": refused("no such consultation"),
                    "405": refused("not a POST"),
                    "413": refused("body too large"),
                    "429": {
                        **refused("too many unverified answers from one network"),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    },
                    "503": refused("not written: try again (nothing of it is on the board)"),
                },
            },
        },
        "/c/{cid}/recu/": {
            "parameters": [
                CID,
                {
                    "name": "recu",
                    "in": "query",
                    "required": False,
                    "description": "a receipt, 64 hex digits",
                    "schema": {"type": "string"},
                },
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "description": "json for the answer below; otherwise the page",
                    "schema": {"enum": ["json"]},
                },
            ],
            **get(
                "Check a receipt: is this ballot on the board, and is it counted?",
                {
                    "200": {
                        "description": "the check (JSON with format=json, else a page)",
                        "content": {**_json("ReceiptCheck"), **HTML},
                    },
                    **UNKNOWN,
                },
                operationId="checkReceipt",
            ),
        },
        "/c/{cid}/tableau/": {
            "parameters": [CID],
            **get(
                "The public bulletin board (for people)",
                {"200": {"description": "the page", "content": HTML}, **UNKNOWN},
                operationId="boardPage",
            ),
        },
        "/c/{cid}/tableau.jsonl": {
            "parameters": [CID],
            **get(
                "Every board entry, one JSON object (BoardEntry) a line, in board order",
                _download("application/x-ndjson", "the board, streamed"),
                operationId="boardJsonLines",
            ),
        },
        "/c/{cid}/tableau.csv": {
            "parameters": [CID],
            **get(
                "The board as CSV (answers and rows as JSON in their cells)",
                _download("text/csv", "the board"),
                operationId="boardCsv",
            ),
        },
        "/c/{cid}/resultats.json": {
            "parameters": [CID],
            **get(
                "The results under the frozen rules",
                {
                    "200": {"description": "the results", "content": _json("Results")},
                    **UNKNOWN,
                },
                operationId="results",
            ),
        },
        "/c/{cid}/consultation.json": {
            "parameters": [CID],
            **get(
                "The questions and rules, with the hash published at opening",
                {"200": {"description": "the rules", "content": _json("Rules")}, **UNKNOWN},
                operationId="rules",
            ),
        },
        "/c/{cid}/dossier.zip": {
            "parameters": [CID],
            **get(
                "The scrutineer bundle: board, journal, keys, rules, results "
                "(check it with `beffroi verify`)",
                _download("application/zip", "the bundle (docs/formats/bundle.md)"),
                operationId="bundle",
            ),
        },
        "/healthz": get(
            "Is the server up, and does its database answer?",
            {
                "200": {"description": "both answer", "content": _json("Health")},
                "503": {"description": "the database does not", "content": _json("Health")},
            },
            operationId="health",
        ),
        "/api/openapi.json": get(
            "This document",
            {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            operationId="openapi",
        ),
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Beffroi — public data",
            "version": beffroi.__version__,
            "description": "What anyone may call without an account: a consultation's "
            "ballot box, receipts, bulletin board, results, rules and scrutineer bundle. "
            "Formats: docs/formats/ (ballot.md, bundle.md, http-api.md).",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "paths": _paths(),
        "components": {"schemas": _schemas()},
    }


@require_GET
def openapi_json(request: HttpRequest) -> HttpResponse:
    body = json.dumps(document(), ensure_ascii=False, indent=1)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"  # public, no credentials: any tool may read it
    return response
