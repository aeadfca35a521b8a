"""A refused ballot's message in the respondent's language: the answer page shows it
as the API words it, so an English page gets English.  The ``error`` code and the
status stay the same whatever the language (scripts read them).

Every refusal the API, the ballot checks, the answer checks and the writer can word
is read from their source and must be recognised by a template of
``consult.views_i18n.REFUSALS``: a new message without one fails here.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from asgi_calls import http_scope, sent_by
from beffroi.consult import api
from beffroi.consult.ballot import InvalidAnswers
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload, unsigned_payload
from beffroi.consult.views_i18n import REFUSALS, answer_error, refusal
from english_catalogue import english

SRC = Path(api.__file__).resolve().parent
ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]
_FRENCH = re.compile(r"[éèêàçù«»]| : |\b(?:réponses?|bulletin|consultation n|rechargez)\b", re.I)
_BALLOT_ERRORS = {
    "MalformedBallot",
    "InvalidSignature",
    "WrongConsultation",
    "OutOfPeriod",
    "UnknownKey",
    "RevokedKey",
    "SegmentError",
    "StaleBallot",
    "CanonicalError",
}
# What an f-string's placeholders stand for when its message is rebuilt from source.
_SAMPLES = {"label": "question « q »", "prefix": "Parent 1, ", "where": "inconnue"}


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                name = part.value.id if isinstance(part.value, ast.Name) else ""
                out.append(_SAMPLES.get(name, "23/11/2026 18:05" if part.format_spec else "7"))
        return "".join(out)
    return None


def _messages(module: str) -> list[str]:
    tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        args: list[ast.expr] = []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "_refusal":
                args = node.args[1:2]
            elif node.func.id in _BALLOT_ERRORS:
                args = node.args[:1]
        elif isinstance(node, ast.FunctionDef) and node.name == "check_pow":
            args = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "msg" for t in node.targets
        ):
            args = [n for n in ast.walk(node.value) if isinstance(n, ast.Constant)]
        found += [t for t in map(_text, args) if t is not None]
    return found


def _answer_errors() -> list[str]:
    tree = ast.parse((SRC / "spec.py").read_text(encoding="utf-8"))
    texts = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and getattr(node.func.value, "id", "") == "errors"
        ):
            texts.append(_text(node.args[0]))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "AnswersError":
            texts += [_text(e) for e in getattr(node.args[0], "elts", [])]
    return [t for t in texts if t is not None]


def test_every_refusal_in_the_code_has_its_english() -> None:
    messages = [
        m for f in ("api.py", "ballot.py", "actions.py", "canonical.py") for m in _messages(f)
    ]
    messages.append(
        "Bulletin non encodable : /answers/q: nombre décimal refusé (entiers seulement)"
    )
    # The source reader itself must find them: the anti-robot, the shape, the writer's.
    assert len(messages) > 40
    assert "Calcul anti-robot absent : rechargez la page." in messages
    assert "Consultation inconnue." in messages
    untranslated = []
    with english():
        for message in set(messages):
            said = refusal(message)
            if REFUSALS.match(message) is None or _FRENCH.search(said):
                untranslated.append((message, said))
    assert untranslated == []


def test_every_answer_error_has_its_english_with_the_row_label_kept() -> None:
    errors = _answer_errors()
    assert len(errors) > 15
    with english():
        said = [answer_error(e) for e in errors]
        assert [
            (e, s)
            for e, s in zip(errors, said, strict=True)
            if _FRENCH.search(s.replace("Parent 1, ", ""))
        ] == []
        assert answer_error("Parent 1, question « mercredi » : réponse obligatoire") == (
            "Parent 1, question “mercredi”: answer required"
        )
        joined = refusal(
            InvalidAnswers(
                ["question « q1 » : réponse obligatoire", "lignes : au moins 1 ligne à remplir"]
            ).message
        )
    assert joined == (
        "Invalid answers: question “q1”: answer required; rows: at least 1 row to fill in"
    )


def test_dates_and_numbers_follow_the_reader() -> None:
    with english():
        assert refusal(
            "La consultation n'est pas ouverte : réponses acceptées du 01/12/2026 08:00 au "
            "15/12/2026 18:00 (UTC)."
        ) == (
            "The consultation is not open: responses accepted from 2026-12-01 08:00 to "
            "2026-12-15 18:00 (UTC)."
        )
    # French readers, and a message no template knows, get the text as written.
    assert refusal("Défi anti-robot expiré : renvoyez la réponse.") == (
        "Défi anti-robot expiré : renvoyez la réponse."
    )
    with english():
        assert refusal("Un refus que personne n'a prévu.") == "Un refus que personne n'a prévu."


# -- through the two ways a ballot arrives --------------------------------------------


def _asgi(path: str, body: bytes, headers: list[tuple[bytes, bytes]], method: str = "POST"):
    async def django(scope, receive, send) -> None:  # never reached by a ballot
        raise AssertionError(scope["path"])

    sent = sent_by(api.with_fast_ballots(django), http_scope(method, path, headers), body)
    return sent[0]["status"], json.loads(sent[1]["body"])


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 4
    api._SPEC_CACHE.clear()
    api._CLIENTS.clear()


def test_the_fast_path_answers_in_the_pages_language_with_the_same_code() -> None:
    path = "/c/x/bulletin/"
    french = _asgi(path, b"\xff{", [])
    with english():
        english_reply = _asgi(path, b"\xff{", [(b"accept-language", b"en-GB,en;q=0.9")])
        # The language chosen on the site (its cookie) wins over the browser's.
        chosen = _asgi(
            path,
            b"[]",
            [
                (b"accept-language", b"fr-FR,fr;q=0.9"),
                (b"cookie", b"csrftoken=abc; django_language=en"),
            ],
        )
        method = _asgi(path, b"", [(b"accept-language", b"en")], method="GET")
    assert french == (
        400,
        {"ok": False, "error": "malformed", "message": "Réponse illisible (JSON attendu)."},
    )
    assert english_reply == (
        400,
        {"ok": False, "error": "malformed", "message": "Unreadable response (JSON expected)."},
    )
    assert chosen[1]["message"] == "Unreadable response (JSON object expected)."
    assert method == (
        405,
        {"ok": False, "error": "method", "message": "Send the response with POST."},
    )
    # A language the site does not offer falls back to French.
    assert _asgi(path, b"\xff{", [(b"accept-language", b"de")])[1] == french[1]


def _solve(challenge: str, bits: int) -> str:
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
        if api.leading_zero_bits(digest) >= bits:
            return str(nonce)
        nonce += 1


def _post(client, cid, payload, **extra):
    return client.post(
        reverse("consult-submit", args=[cid]),
        data=json.dumps(payload),
        content_type="application/json",
        **extra,
    )


def test_the_view_refuses_in_english_for_an_english_page(client, org, settings) -> None:
    c, private = setup_consultation(
        org, cid="langues", access="mixed", per_segment=1, all_kinds=True
    )
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    ch = client.get(reverse("consult-challenge", args=[c.cid])).json()
    trap = unsigned_payload(c, {"satisfaction": 2}, ROWS, 1, "A1")
    trap |= {"site_web": "http://spam", "pow": {"challenge": ch["challenge"], "nonce": "0"}}
    with english():
        honeypot = _post(client, c.cid, trap, **en)
        settings.BEFFROI_CONSULT_OPEN_LIMIT = 0
        ch = client.get(reverse("consult-challenge", args=[c.cid])).json()
        fast = unsigned_payload(c, {"satisfaction": 2}, ROWS, 2, "A1")
        fast["pow"] = {"challenge": ch["challenge"], "nonce": _solve(ch["challenge"], ch["bits"])}
        limited = _post(client, c.cid, fast, **en)
        code = private[0].code
        first = _post(client, c.cid, signed_payload(c, code, {"satisfaction": 2}, ROWS, 10), **en)
        older = _post(client, c.cid, signed_payload(c, code, {"satisfaction": 3}, ROWS, 9), **en)
    assert honeypot.status_code == 400 and honeypot.json() == {
        "ok": False,
        "error": "honeypot",
        "message": "The “Website” field must stay empty: it is there to spot robots.",
    }
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert limited.json()["retry_after"] > 0
    assert limited.json()["message"] == (
        "Many responses are coming from your network: your response was not recorded yet. "
        "Keep this page open: it will be sent again automatically."
    )
    assert first.status_code == 200 and first.json()["ok"] is True, first.content
    # Refused by the writer, in its transaction.
    assert older.status_code == 400 and older.json() == {
        "ok": False,
        "error": "stale",
        "message": "A more recent response with this code is already on the board; "
        "this one was not recorded.",
    }
    # The same refusal for a French page keeps the code and says it in French.
    again = _post(client, c.cid, signed_payload(c, code, {"satisfaction": 3}, ROWS, 9))
    assert again.json()["error"] == "stale" and again.json()["message"].startswith(
        "Une réponse plus récente"
    )
