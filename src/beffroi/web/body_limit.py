"""Request bodies bounded before Django reads them.

Django's ASGI handler copies a request's whole body into a temporary file before any
middleware or view runs: ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and the upload forms' own size
checks only look at it afterwards. Without a bound here, anyone could POST gigabytes to
the login page and fill the server's disk. A reverse proxy should bound bodies too
(docs/operations.md); this holds when it does not.

Most requests carry a few kilobytes of form fields. The two pages that take files get
the room their forms allow: a survey export to audit, and a consultation's public list of
voting keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MIB = 1024 * 1024
# Multipart boundaries, headers and the small fields beside a form's files.
MARGIN = MIB


def _audit_upload() -> int:
    from beffroi.audits.forms import MAX_MAPPING_BYTES, MAX_STRUCTURE_BYTES

    export = settings.BEFFROI_AUDIT_MAX_UPLOAD_MB * MIB
    return export + MAX_MAPPING_BYTES + MAX_STRUCTURE_BYTES + MARGIN


def _key_import() -> int:
    from beffroi.consult.forms import MAX_PUBLIC_LIST_BYTES

    return MAX_PUBLIC_LIST_BYTES + MARGIN


# URL names of the views whose forms take files, and the body each may receive.
UPLOADS: dict[str, Callable[[], int]] = {
    "audits": _audit_upload,
    "consult-import": _key_import,
}


def default_limit() -> int:
    """What any other request may send: Django refuses more form data anyway."""
    return (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + MARGIN


def limit_for(path: str) -> int:
    """The largest body ``path`` accepts."""
    try:
        name = resolve(path).url_name
    except Resolver404:
        return default_limit()
    allowed = UPLOADS.get(name or "")
    return max(default_limit(), allowed()) if allowed else default_limit()


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _TooLarge(Exception):
    pass


def with_body_limit(app: Any) -> Any:
    """Wrap an ASGI app so that an HTTP request whose body exceeds its path's limit gets
    a 413 without the body being stored anywhere."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        limit: int | None = None

        def allowed() -> int:
            # Resolved only for a body past the common bound: most requests never pay it.
            nonlocal limit
            if limit is None:
                limit = limit_for(scope.get("path", ""))
            return limit

        declared = _declared_length(scope)
        if declared is not None and declared > default_limit() and declared > allowed():
            await _refuse(scope, send, allowed())
            return
        received = 0
        started = False

        async def counted_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > default_limit() and received > allowed():
                    # A body without a length (chunked) or longer than it said: the
                    # app is told the client left, so it stops reading and answers
                    # nothing; the refusal is sent below.
                    raise _TooLarge
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await app(scope, counted_receive, watched_send)
        except _TooLarge:
            if not started:
                await _refuse(scope, send, allowed())

    return asgi


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    from beffroi.consult.api import scope_language

    with translation.override(scope_language(scope)):
        text = gettext(
            "Envoi trop volumineux : cette adresse accepte au plus %(mb)s Mo. "
            "Rien n'a été enregistré."
        ) % {"mb": limit // MIB}
    content = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(content)).encode()),
                (b"connection", b"close"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
