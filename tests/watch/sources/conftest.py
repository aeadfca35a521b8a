"""Fixtures for the source tests: loopback servers only, never the internet."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from beffroi.watch.sources.base import handle_pseudonymiser
from loopback_servers import LoopbackHTTP

TEST_KEY = b"beffroi-test-key-not-secret"


LOOPBACK = "127.0.0.0/8, ::1/128"


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback servers below are internal addresses, refused by the sources'
    guard (netguard) unless the deployment allows them: every test that talks to
    one opts in here, as an operator would for an intranet feed. A test that wants
    the refusal removes it again with ``monkeypatch.delenv``."""
    from beffroi.watch.sources.netguard import ALLOW_ENV

    monkeypatch.setenv(ALLOW_ENV, LOOPBACK)


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
        headers: dict[str, str] | None = None,
    ) -> None:
        self.headers = headers or {}
        self.body = body
        self.content_type = content_type
        self.etag = etag
        self.last_modified = last_modified
        self.status = status


class FeedServer(LoopbackHTTP):
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
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.end_headers()
                self.wfile.write(route.body)

        self.start_http(Handler)

    def serve(self, path: str, body: bytes, **kwargs: Any) -> str:
        self.routes[path] = Route(body, **kwargs)
        return self.base + path

    @property
    def base(self) -> str:
        return self.url


@pytest.fixture
def feed_server(allow_loopback: None) -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def dead_url(allow_loopback: None) -> str:
    """A loopback port nobody listens on (connection refused)."""
    from source_runs import closed_port

    return f"http://127.0.0.1:{closed_port()}"


def make_status(
    status_id: int,
    text: str = "",
    *,
    acct: str = "marie",
    tags: tuple[str, ...] = ("inondation",),
    bot: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A status as Mastodon 4.x serialises it (the fields Beffroi reads and more)."""
    created = datetime(2026, 11, 23, 3, 0, tzinfo=UTC).timestamp() + status_id
    return {
        "id": str(status_id),
        "created_at": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "fr",
        "uri": f"https://mastodon.invalid/users/{acct}/statuses/{status_id}",
        "url": f"https://mastodon.invalid/@{acct}/{status_id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": f"<p>{text or f'Message {status_id}'} "
        + " ".join(
            f'<a href="https://mastodon.invalid/tags/{t}" class="mention hashtag">'
            f"#<span>{t}</span></a>"
            for t in tags
        )
        + "</p>",
        "reblog": None,
        "application": None,
        "account": {
            "id": "109",
            "username": acct.split("@")[0],
            "acct": acct,
            "display_name": "Marie D.",
            "locked": False,
            "bot": bot,
            "group": False,
            "created_at": "2022-11-01T00:00:00.000Z",
            "note": "<p>Habitante d'Alès</p>",
            "url": f"https://mastodon.invalid/@{acct}",
            "avatar": "https://mastodon.invalid/avatar.png",
            "followers_count": 10,
            "following_count": 5,
            "statuses_count": 42,
            "fields": [],
            "emojis": [],
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://mastodon.invalid/tags/{t}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
        **extra,
    }


class FakeMastodon(LoopbackHTTP):
    """A loopback Mastodon instance: instance endpoints, REST timelines, SSE streaming.

    ``timelines[key]`` holds the statuses the REST API knows (key ``tag:NAME``,
    ``public`` or ``local``), also served one by one and by batch of ids;
    ``push(key, chunk)`` writes raw bytes to every open stream of that key;
    ``drop(key)`` closes them mid-stream.  ``batch_lookup = False`` plays a
    server older than Mastodon 4.3 (no ``GET /api/v1/statuses``).
    """

    def __init__(self) -> None:
        import queue
        from urllib.parse import parse_qs, urlsplit

        self.timelines: dict[str, list[dict[str, Any]]] = {}
        self.stream_status = 200
        self.batch_lookup = True
        # Other servers' answers: an HTTP error for the batch look-up (Pleroma
        # wants ``ids[]``), ids a batch reply leaves out though they exist, an
        # HTTP error for every look-up of one status.
        self.batch_error = 0
        self.batch_omits: set[str] = set()
        self.status_error = 0
        self.rate_limited_until = ""  # an ISO time: timelines answer 429 until told otherwise
        # Sent with every JSON answer (X-RateLimit-Limit, -Remaining, -Reset).
        self.headers: dict[str, str] = {}
        self.timeline_delay = 0.0  # seconds before each page of a timeline: a slow server
        # An HTTP error for the timeline pages it returns non-zero for (given the key and
        # the query): an instance broken for some requests only.
        self.timeline_error: Callable[[str, dict[str, str]], int] | None = None
        self.requests: list[str] = []
        self.streams: dict[str, list[queue.Queue[bytes | None]]] = {}
        self.connections: dict[str, int] = {}
        self.closing = threading.Event()
        self.cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def json(self, payload: Any, status: int = 200) -> None:
                import json

                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in fake.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                parts = urlsplit(self.path)
                path = parts.path.rstrip("/")
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if path == "/api/v1/instance":
                    self.json(fake.instance_v1())
                elif path == "/api/v2/instance":
                    self.json(fake.instance_v2())
                elif path == "/api/v1/statuses" and fake.batch_error:
                    self.json({"error": "Invalid parameters"}, fake.batch_error)
                elif path == "/api/v1/statuses" and fake.batch_lookup:
                    wanted = parse_qs(parts.query).get("id[]", [])
                    wanted = [i for i in wanted if i not in fake.batch_omits]
                    self.json([s for i in wanted if (s := fake.lookup(i)) is not None])
                elif path.startswith("/api/v1/statuses/") and fake.status_error:
                    self.json({"error": "Internal server error"}, fake.status_error)
                elif path.startswith("/api/v1/statuses/") and path.count("/") == 4:
                    found = fake.lookup(path.rsplit("/", 1)[1])
                    if found is None:
                        self.json({"error": "Record not found"}, 404)
                    else:
                        self.json(found)
                elif path.startswith("/api/v1/timelines/") and fake.rate_limited_until:
                    body = b'{"error": "Too many requests"}'
                    self.send_response(429)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("X-RateLimit-Limit", "300")
                    self.send_header("X-RateLimit-Remaining", "0")
                    self.send_header("X-RateLimit-Reset", fake.rate_limited_until)
                    self.end_headers()
                    self.wfile.write(body)
                elif path.startswith("/api/v1/timelines/"):
                    if fake.timeline_delay:
                        import time

                        time.sleep(fake.timeline_delay)
                    rest = path.removeprefix("/api/v1/timelines/")
                    if rest.startswith("tag/"):
                        key = "tag:" + rest[4:].lower()
                    elif rest == "public":
                        key = "local" if query.get("local") in ("1", "true") else "public"
                    else:
                        self.json({"error": "Record not found"}, 404)
                        return
                    error = fake.timeline_error(key, query) if fake.timeline_error else 0
                    if error:
                        self.json({"error": "Service unavailable"}, error)
                        return
                    self.json(fake.page(key, query))
                elif path.startswith("/api/v1/streaming/"):
                    rest = path.removeprefix("/api/v1/streaming/")
                    key = {"public": "public", "public/local": "local"}.get(rest)
                    if rest == "hashtag":
                        key = "tag:" + query.get("tag", "").lower()
                    if key is None:
                        self.json({"error": "Unknown stream type"}, 400)
                        return
                    if fake.stream_status != 200:
                        self.json(
                            {"error": "This method requires an authenticated user"},
                            fake.stream_status,
                        )
                        return
                    self.sse(key)
                else:
                    self.json({"error": "Record not found"}, 404)

            def sse(self, key: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                q: queue.Queue[bytes | None] = queue.Queue()
                with fake.cond:
                    fake.streams.setdefault(key, []).append(q)
                    fake.connections[key] = fake.connections.get(key, 0) + 1
                    fake.cond.notify_all()
                try:
                    self.wfile.write(b":)\n")
                    self.wfile.flush()
                    while not fake.closing.is_set():
                        try:
                            chunk = q.get(timeout=0.2)
                        except queue.Empty:
                            self.wfile.write(b":thump\n")
                            self.wfile.flush()
                            continue
                        if chunk is None:
                            return
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:
                    return
                finally:
                    with fake.cond:
                        fake.streams[key].remove(q)

        self.start_http(Handler)

    def instance_v1(self) -> dict[str, Any]:
        return {
            "uri": "mastodon.invalid",
            "title": "Instance de test",
            "version": "4.3.2",
            "urls": {"streaming_api": self.url.replace("http://", "ws://")},
            "languages": ["fr"],
        }

    def instance_v2(self) -> dict[str, Any]:
        access = {"local": "public", "remote": "public"}
        return {
            "domain": "mastodon.invalid",
            "title": "Instance de test",
            "version": "4.3.2",
            "configuration": {
                "urls": {"streaming": self.url.replace("http://", "ws://")},
                "timelines_access": {
                    "live_feeds": access,
                    "hashtag_feeds": access,
                    "trending_link_feeds": access,
                },
            },
        }

    def page(self, key: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """Mastodon's pagination: newest first; min_id pages forward from an id,
        max_id (exclusive) back from one."""
        statuses = sorted(self.timelines.get(key, []), key=lambda s: int(s["id"]))
        limit = int(query.get("limit", 20))
        if "max_id" in query:
            statuses = [s for s in statuses if int(s["id"]) < int(query["max_id"])]
        if "min_id" in query:
            newer = [s for s in statuses if int(s["id"]) > int(query["min_id"])]
            return list(reversed(newer[:limit]))
        if "since_id" in query:
            statuses = [s for s in statuses if int(s["id"]) > int(query["since_id"])]
        return list(reversed(statuses[-limit:]))

    def wait_connections(self, key: str, count: int, timeout: float = 10) -> None:
        with self.cond:
            assert self.cond.wait_for(
                lambda: self.connections.get(key, 0) >= count and self.streams.get(key), timeout
            ), f"no stream {key} #{count}"

    def push(self, key: str, chunk: bytes) -> None:
        with self.cond:
            for q in self.streams.get(key, []):
                q.put(chunk)

    def update(self, key: str, status: dict[str, Any]) -> None:
        import json

        self.push(key, b"event: update\ndata: " + json.dumps(status).encode() + b"\n\n")

    def lookup(self, status_id: str) -> dict[str, Any] | None:
        for statuses in self.timelines.values():
            for s in statuses:
                if s["id"] == status_id:
                    return s
        return None

    def edit(self, key: str, status: dict[str, Any]) -> None:
        """Mastodon ≥ 3.5: the whole new status, as ``status.update``."""
        import json

        self.push(key, b"event: status.update\ndata: " + json.dumps(status).encode() + b"\n\n")

    def delete(self, key: str, status_id: str) -> None:
        """The payload of a deletion is the bare id (not a JSON string)."""
        self.push(key, b"event: delete\ndata: " + status_id.encode() + b"\n\n")

    def drop(self, key: str, partial: bytes = b"") -> None:
        with self.cond:
            for q in self.streams.get(key, []):
                if partial:
                    q.put(partial)
                q.put(None)

    def close(self) -> None:
        self.closing.set()
        super().close()


@pytest.fixture
def fake_mastodon(allow_loopback: None) -> Iterator[FakeMastodon]:
    server = FakeMastodon()
    yield server
    server.close()


@pytest.fixture
def status() -> Callable[..., dict[str, Any]]:
    return make_status


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def until() -> Callable[..., None]:
    return wait_until


JETSTREAM_FRAMES = Path(__file__).parent / "data" / "jetstream_v2.jsonl"


class FakeJetstream:
    """A loopback Jetstream v2 server (``xrpc.v1.json`` subprotocol).

    Serves the frames of ``data/jetstream_v2.jsonl`` honouring the
    ``cursor`` (inclusive), ``kinds`` and ``collections`` parameters.
    ``cut_after[n]`` makes connection n fail (close code 1011) after the
    frame with that seq, like a server restart.

    ``floor``: the oldest seq the server still holds (its replay window starts
    there). As Jetstream v2 does, a seq cursor below it is refused before the
    upgrade (HTTP 400, XRPC error ``CursorTooOld``), and a time cursor (unix
    microseconds, from 10^15 up) is translated against ``witnessedAt`` and, if
    below, clamped to it after an ``#info OutdatedCursor`` frame. A seq cursor
    beyond the next seq to be assigned (one from another archive) starts at the
    live tip, after the frames already held, once an ``#info FutureCursor`` frame
    has said so.

    ``ssl_context``: a server-side ``ssl.SSLContext`` makes it a ``wss://`` server.
    """

    def __init__(self, ssl_context: Any = None) -> None:
        import json
        from urllib.parse import parse_qs, urlsplit

        from websockets.sync.server import serve

        self.lines = JETSTREAM_FRAMES.read_text(encoding="utf-8").splitlines()
        self.paths: list[str] = []
        self.cut_after: dict[int, int] = {}
        self.refuse = False
        self.floor: int | None = None
        self.closing = threading.Event()
        fake = self

        def seq_of(line: str) -> int | None:
            try:
                return int(json.loads(line)["payload"]["seq"])
            except (ValueError, KeyError, TypeError):
                return None

        def wanted(line: str, query: dict[str, list[str]], cursor: int | None) -> bool:
            try:
                payload = json.loads(line)["payload"]
            except ValueError:
                return True  # a broken frame goes out as is: that is the point
            kind = payload["$type"].rsplit("#", 1)[1]
            if query.get("kinds") and kind not in query["kinds"]:
                return False
            collections = query.get("collections")
            if kind == "commit" and collections and payload["collection"] not in collections:
                return False
            return cursor is None or payload["seq"] >= cursor

        def witnessed_us(line: str) -> int | None:
            from datetime import datetime

            try:
                payload = json.loads(line)["payload"]
                moment = datetime.fromisoformat(payload.get("witnessedAt") or payload["time"])
            except (ValueError, KeyError, TypeError):
                return None
            return int(moment.timestamp() * 1_000_000)

        def cursor_of(path: str) -> int | None:
            query = parse_qs(urlsplit(path).query)
            return int(query["cursor"][0]) if "cursor" in query else None

        def refuse_old_cursor(connection: Any, request: Any) -> Any:
            # Only the seq cursors below the window are refused; time cursors are clamped.
            cursor = cursor_of(request.path)
            if fake.floor is None or cursor is None or cursor >= 10**15 or cursor >= fake.floor:
                return None
            fake.paths.append(request.path)
            body = {"error": "CursorTooOld", "message": f"cursor below floor {fake.floor}"}
            return connection.respond(400, json.dumps(body))

        def handler(connection: Any) -> None:
            fake.paths.append(connection.request.path)
            number = len(fake.paths)
            parts = urlsplit(connection.request.path)
            assert parts.path == "/xrpc/network.bsky.jetstream.subscribeEvents"
            query = parse_qs(parts.query)
            cursor = cursor_of(connection.request.path)
            held_seqs = [seq for line in fake.lines if (seq := seq_of(line)) is not None]
            tip = False
            if cursor is not None and cursor < 10**15 and cursor > max(held_seqs) + 1:
                tip = True
                notice = {
                    "$type": "network.bsky.jetstream.subscribeEvents#info",
                    "name": "FutureCursor",
                    "message": f"cursor {cursor} is beyond the next seq {max(held_seqs) + 1}",
                }
                connection.send(json.dumps({"$type": "message", "payload": notice}))
            if cursor is not None and cursor >= 10**15:
                # A time cursor: the first event witnessed at or after it.
                seqs = [
                    seq_of(line)
                    for line in fake.lines
                    if seq_of(line) is not None and (witnessed_us(line) or 0) >= cursor
                ]
                cursor = seqs[0] if seqs else None
                if fake.floor is not None and (cursor is None or cursor < fake.floor):
                    cursor = fake.floor
                    notice = {
                        "$type": "network.bsky.jetstream.subscribeEvents#info",
                        "name": "OutdatedCursor",
                        "message": f"cursor clamped to seq {fake.floor}",
                    }
                    connection.send(json.dumps({"$type": "message", "payload": notice}))
            last_seq = None
            for line in fake.lines:
                last_seq = seq_of(line) or last_seq
                held = fake.floor is None or (last_seq is not None and last_seq >= fake.floor)
                if held and not tip and wanted(line, query, cursor):
                    connection.send(line)
                if number in fake.cut_after and last_seq == fake.cut_after[number]:
                    connection.close(code=1011, reason="restarting")
                    return
            while not fake.closing.is_set():
                try:
                    connection.recv(timeout=0.1)
                except TimeoutError:
                    continue
                except Exception:
                    return

        self.server = serve(
            handler,
            "127.0.0.1",
            0,
            subprotocols=["xrpc.v1.json"],
            process_request=refuse_old_cursor,
            ssl=ssl_context,
        )
        self.scheme = "wss" if ssl_context is not None else "ws"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.socket.getsockname()[1]}/xrpc"

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()


@pytest.fixture
def fake_jetstream(allow_loopback: None) -> Iterator[FakeJetstream]:
    server = FakeJetstream()
    yield server
    server.close()


@pytest.fixture
def make_jetstream(allow_loopback: None) -> Iterator[Callable[..., FakeJetstream]]:
    """``FakeJetstream(**options)``, closed after the test (for a ``wss://`` one)."""
    servers: list[FakeJetstream] = []

    def make(**options: Any) -> FakeJetstream:
        servers.append(FakeJetstream(**options))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def source_room(db: Any, org: Any, members: Any) -> Callable[[str], tuple[Any, Any]]:
    """An activation with one source of the given kind, for the tests that take a
    source's items through the sink (``actions.receive_items``) into the room."""

    def make(kind: str) -> tuple[Any, Any]:
        from beffroi.watch import actions
        from beffroi.watch.models import Source

        activation = actions.create_activation(
            org, name="Crue du Gard", event_type="inondation", actor=members["coordinator"]
        )
        source = Source.objects.create(activation=activation, kind=kind, name=kind[0], config={})
        return activation, source

    return make


def make_profile(
    did: str, handle: str, display_name: str = "", description: str = ""
) -> dict[str, Any]:
    """An ``app.bsky.actor.defs#profileViewDetailed`` as the AppView serialises it."""
    return {
        "did": did,
        "handle": handle,
        "displayName": display_name,
        "description": description,
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei@jpeg",
        "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
        "indexedAt": "2026-01-05T10:00:00.000Z",
        "createdAt": "2024-03-01T08:00:00.000Z",
        "followersCount": 120,
        "followsCount": 80,
        "postsCount": 450,
        "labels": [],
        "pinnedPost": None,
    }


class FakeAppView(LoopbackHTTP):
    """A loopback Bluesky AppView answering ``app.bsky.actor.getProfiles`` as the real
    one does: GET with one ``actors`` parameter per DID (at most 25), ``{"profiles":
    [...]}`` in any order, unknown actors left out, XRPC errors as
    ``{"error": ..., "message": ...}``. ``down`` answers 502 to everything."""

    def __init__(self) -> None:
        import json
        from urllib.parse import parse_qs, urlsplit

        self.profiles: dict[str, dict[str, Any]] = {}
        self.asked: list[list[str]] = []
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if fake.down:
                    self.reply(502, {"error": "UpstreamFailure", "message": "Bad gateway"})
                    return
                if parts.path != "/xrpc/app.bsky.actor.getProfiles":
                    self.reply(404, {"error": "MethodNotImplemented", "message": "Not found"})
                    return
                actors = parse_qs(parts.query).get("actors", [])
                fake.asked.append(actors)
                if not actors or len(actors) > 25:
                    message = (
                        f"Error: actors must not have more than 25 elements, got {len(actors)}"
                    )
                    self.reply(400, {"error": "InvalidRequest", "message": message})
                    return
                found = [fake.profiles[a] for a in reversed(actors) if a in fake.profiles]
                self.reply(200, {"profiles": found})

        self.start_http(Handler)


@pytest.fixture
def fake_appview(allow_loopback: None) -> Iterator[FakeAppView]:
    server = FakeAppView()
    yield server
    server.close()


@pytest.fixture
def profile() -> Callable[..., dict[str, Any]]:
    return make_profile
