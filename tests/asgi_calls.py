"""One HTTP request straight through an ASGI app, as uvicorn would send it: for the paths
that answer before Django (the fast ballot box, static files)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

Header = tuple[bytes, bytes]


def http_scope(
    method: str,
    path: str,
    headers: Sequence[Header] = (),
    *,
    host: bytes = b"127.0.0.1:8000",
    client: tuple[str, int] = ("198.51.100.9", 5555),
) -> dict:
    """The scope of a plain HTTP request with no query string; ``host`` comes first
    among the headers."""
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": client,
        "headers": [(b"host", host), *headers],
    }


def sent_by(app, scope: dict, body: bytes = b"", timeout: float = 30) -> list[dict]:
    """Run ``app`` once on its own event loop, ``body`` being the whole request; the
    messages it sent back. Its receive says « disconnected » once the body is read."""
    sent: list[dict] = []

    async def go() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), timeout)

    asyncio.run(go())
    return sent
