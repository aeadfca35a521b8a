"""Fixtures for the source tests: loopback servers only, never the internet."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from beffroi.watch.sources.base import handle_pseudonymiser

TEST_KEY = b"beffroi-test-key-not-secret"


@pytest.fixture
def pseudonymise() -> Callable[[str], str]:
    return handle_pseudonymiser(TEST_KEY)


class Recorder:
    """A sink and status callback that keep everything for assertions."""

    def __init__(self) -> None:
        self.posts: list[Any] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.statuses: list[Any] = []
        self.skips: list[Any] = []
        self.lock = threading.Lock()

    def sink(self, posts: list[Any], checkpoint: dict[str, Any]) -> None:
        with self.lock:
            self.posts.extend(posts)
            self.checkpoints.append(checkpoint)

    def status(self, status: Any) -> None:
        with self.lock:
            self.statuses.append(status)

    def skip(self, skipped: Any) -> None:
        with self.lock:
            self.skips.append(skipped)

    @property
    def ids(self) -> list[str]:
        return [p.external_id for p in self.posts]

    def states(self) -> list[str]:
        return [s.state for s in self.statuses]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def fixed_clock() -> Callable[[], datetime]:
    return lambda: datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


class Route:
    def __init__(
        self,
        body: bytes,
        content_type: str = "application/xml",
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
    ) -> None:
        self.body = body
        self.content_type = content_type
        self.etag = etag
        self.last_modified = last_modified
        self.status = status


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 serving feeds with ETag/304 support."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.end_headers()
                self.wfile.write(route.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes, **kwargs: Any) -> str:
        self.routes[path] = Route(body, **kwargs)
        return self.base + path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback port nobody listens on (connection refused)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
