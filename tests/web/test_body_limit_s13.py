"""Request bodies are bounded before Django copies them to a temporary file: an anonymous
POST of gigabytes to any page is refused with a 413, unread; the two upload pages keep
the room their forms allow."""

from __future__ import annotations

import asyncio

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from asgi_calls import http_scope, sent_by
from beffroi.web.body_limit import MIB, default_limit, limit_for, with_body_limit

pytestmark = pytest.mark.django_db


def _status(sent: list[dict]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def _text(sent: list[dict]) -> str:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()


def _streamed(app, scope: dict, chunk: bytes, chunks: int) -> tuple[list[dict], int]:
    """Send ``chunks`` pieces of body without a declared length (chunked transfer);
    the messages sent back and how many pieces the app pulled."""
    sent: list[dict] = []
    pulled = 0

    async def go() -> None:
        async def receive() -> dict:
            nonlocal pulled
            pulled += 1
            if pulled > chunks:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

        async def send(message: dict) -> None:
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(go())
    return sent, pulled


def _answered(app, scope: dict, body: bytes = b"") -> list[dict]:
    """Like ``sent_by``, but the client stays connected while the app answers (Django
    stops a response whose client has left)."""
    sent: list[dict] = []

    async def go() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            if messages:
                return messages.pop(0)
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict) -> None:
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(go())
    return sent


def test_a_declared_huge_body_is_refused_unread_in_french():
    pulled = []

    async def inner(scope, receive, send):  # must never run
        pulled.append(True)

    scope = http_scope("POST", "/connexion/", [(b"content-length", str(10 * 1024**3).encode())])
    sent = sent_by(with_body_limit(inner), scope, b"")
    assert _status(sent) == 413
    assert pulled == []
    assert "Envoi trop volumineux" in _text(sent)
    assert "Rien n'a été enregistré" in _text(sent)


def test_the_refusal_speaks_the_readers_language():
    scope = http_scope(
        "POST",
        "/connexion/",
        [(b"content-length", str(50 * MIB).encode()), (b"accept-language", b"en")],
    )
    sent = sent_by(with_body_limit(ASGIHandler()), scope, b"")
    assert _status(sent) == 413
    assert "Request too large" in _text(sent)


def test_a_body_without_length_is_cut_off_once_past_the_bound():
    chunk = b"x" * (256 * 1024)
    scope = http_scope("POST", "/connexion/", [(b"transfer-encoding", b"chunked")])
    sent, pulled = _streamed(with_body_limit(ASGIHandler()), scope, chunk, chunks=400)  # 100 MiB
    assert _status(sent) == 413
    # Django stopped reading one piece past the bound: the rest never reached the disk.
    assert pulled == default_limit() // len(chunk) + 1
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_a_body_longer_than_it_declared_is_cut_off_too():
    chunk = b"x" * (256 * 1024)
    scope = http_scope("POST", "/connexion/", [(b"content-length", b"10")])
    sent, pulled = _streamed(with_body_limit(ASGIHandler()), scope, chunk, chunks=400)
    assert _status(sent) == 413
    assert pulled < 400


def test_ordinary_requests_reach_the_app_unchanged():
    scope = http_scope("GET", "/connexion/")
    sent = _answered(with_body_limit(ASGIHandler()), scope)
    assert _status(sent) == 200
    # A small form post is Django's to judge (here: no CSRF cookie, so 403), not ours.
    body = b"username=a&password=b"
    post = http_scope(
        "POST",
        "/connexion/",
        [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
        ],
    )
    assert _status(_answered(with_body_limit(ASGIHandler()), post, body)) == 403


def test_upload_pages_keep_the_room_their_forms_allow():
    assert limit_for("/connexion/") == default_limit()
    assert limit_for("/nowhere/at/all/") == default_limit()
    with override_settings(BEFFROI_AUDIT_MAX_UPLOAD_MB=200):
        assert limit_for("/o/mairie/audits/") > 200 * MIB
    with override_settings(BEFFROI_AUDIT_MAX_UPLOAD_MB=500):
        assert limit_for("/o/mairie/audits/") > 500 * MIB
    assert limit_for("/o/mairie/consultations/abc/codes/importer/") > 64 * MIB
    # Only those: the consultation's other pages take form fields.
    assert limit_for("/o/mairie/consultations/abc/modifier/") == default_limit()


def test_an_upload_within_its_pages_bound_goes_through():
    seen = []

    async def inner(scope, receive, send):
        message = await receive()
        seen.append(len(message["body"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    body = b"x" * (20 * MIB)
    scope = http_scope("POST", "/o/mairie/audits/", [(b"content-length", str(len(body)).encode())])
    assert _status(sent_by(with_body_limit(inner), scope, body)) == 204
    assert seen == [len(body)]
    # The same body to a page that takes no file is refused.
    scope = http_scope("POST", "/o/mairie/", [(b"content-length", str(len(body)).encode())])
    assert _status(sent_by(with_body_limit(inner), scope, body)) == 413


def test_the_served_application_is_wrapped():
    from beffroi import asgi

    scope = http_scope("POST", "/connexion/", [(b"content-length", str(10 * 1024**3).encode())])
    assert _status(sent_by(asgi.application, scope, b"")) == 413


def test_other_connections_pass_through():
    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["type"])

    async def go():
        app = with_body_limit(inner)
        await app({"type": "lifespan"}, None, None)
        await app({"type": "websocket", "path": "/", "headers": []}, None, None)

    asyncio.run(go())
    assert calls == ["lifespan", "websocket"]
