"""Streams running at once, per account and per partner link (session 9 security review).

Under ASGI a triage or main courante stream runs for as long as its browser keeps it: one
signed-in member (or a stolen session) could hold hundreds open, each a connection, a task
and a database poll a second. Now each account holds at most
``BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT`` at once (every activation and both rooms
together), each partner link ``BEFFROI_PARTNER_LINK_MAX_STREAMS``; past that a 429 says so
in French, and the slot is given back however the stream ends.

The ASGI tests drive Django's own ASGI handler with a hand-made ``receive``/``send``: the
client's disconnect is the ``http.disconnect`` message a server (uvicorn) sends."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.urls import reverse

from beffroi.watch import live, views

TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _fresh_slots(monkeypatch):
    # Each test counts from zero: a stream another test left behind is not this one's.
    monkeypatch.setattr(live, "SLOTS", live.Slots())
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)


def _activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )


def _held(holder: str) -> int:
    # The count is in the database, which the event loop's thread may not use: from an
    # ASGI scenario it is read in a thread of its own (with its own connection).
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return live.SLOTS.running(holder)

    def read() -> int:
        from django.db import connection

        try:
            return live.SLOTS.running(holder)
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(read).result()


def _close(response) -> None:
    """What the server does once a response is over. As the test client does around it:
    request_finished would otherwise close the test's own connection mid-transaction."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


# --- the counter itself ---------------------------------------------------------------


def test_slots_count_up_to_the_limit_and_release_once(db):
    slots = live.Slots()
    first, second = slots.take("a", 2), slots.take("a", 2)
    assert first is not None and second is not None
    assert slots.take("a", 2) is None
    other = slots.take("b", 2)
    assert other is not None  # another holder has its own count
    first.release()
    first.release()  # a stream that ends twice (finally, then GC) frees one place only
    assert slots.running("a") == 1
    third = slots.take("a", 2)
    assert third is not None
    assert slots.take("a", 2) is None
    assert (slots.running("a"), slots.running("b")) == (2, 1)


def test_a_slot_never_released_is_freed_when_dropped(db):
    slots = live.Slots()
    slot = slots.take("a", 1)
    assert slot is not None and slots.take("a", 1) is None
    del slot
    gc.collect()
    assert slots.running("a") == 0


def test_a_response_built_but_never_streamed_gives_its_slot_back(db, rf):
    # The client left while the view ran: the handler drops the response unread.
    slot = live.take("account:1", 1)
    response = live.sse_response(rf.get("/"), lambda: "v", slot=slot)
    del slot
    assert _held("account:1") == 1
    del response
    gc.collect()
    assert _held("account:1") == 0


def test_the_caps_are_read_from_the_settings_or_the_environment(settings, monkeypatch):
    monkeypatch.delenv("BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT", raising=False)
    if hasattr(settings, "BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT"):
        del settings.BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT
    assert live.max_streams_per_account() == live.MAX_STREAMS_PER_ACCOUNT == 8
    monkeypatch.setenv("BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT", " 12 ")
    assert live.max_streams_per_account() == 12
    monkeypatch.setenv("BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT", "huit")
    with pytest.raises(ImproperlyConfigured, match="BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT"):
        live.max_streams_per_account()
    settings.BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT = 3  # the settings module wins
    assert live.max_streams_per_account() == 3
    settings.BEFFROI_PARTNER_LINK_MAX_STREAMS = 0
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        live.max_streams_per_link()


ACCOUNT_REFUSAL = (
    "Trop de pages en direct sont ouvertes avec ce compte (%(n)d au plus) : "
    "fermez-en une, celle-ci reprendra d'elle-même."
)


def _english_catalogue_has(msgid: str) -> None:
    from django.utils import translation

    with translation.override("en"):
        if translation.gettext(msgid) == msgid:
            # scripts/translations_en.py has it; the lead compiles the catalogue at the
            # end of the session (tests/core/test_catalogue.py fails until then).
            pytest.skip("English catalogue not compiled since this string was added")


# --- WSGI (test client): the cap, the refusal, the release on close --------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_past_the_cap_a_stream_is_refused_in_the_readers_language(
    client, org, members, settings, lang
):
    if lang == "en":
        _english_catalogue_has(ACCOUNT_REFUSAL)
    settings.BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT = 2
    activation = _activation(org, members)
    client.force_login(members["volunteer"])
    triage = reverse("watch-triage-stream", args=[org.slug, activation.pk])
    courante = reverse("watch-courante-stream", args=[org.slug, activation.pk])
    headers = {"HTTP_ACCEPT_LANGUAGE": lang}
    first = client.get(triage, **headers)
    second = client.get(courante, **headers)  # both rooms count together
    assert first.status_code == second.status_code == 200
    refused = client.get(triage, **headers)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(live.REFUSED_RETRY_SECONDS)
    assert refused["Content-Type"].startswith("text/plain")
    body = refused.content.decode()
    if lang == "fr":
        assert "Trop de pages en direct" in body and "(2 au plus)" in body
    else:
        assert "account" in body and "(at most 2)" in body
    # Another account has its own count.
    other = members["coordinator"]
    client.force_login(other)
    assert client.get(triage).status_code == 200
    _close(first)  # never read: the client left at once
    client.force_login(members["volunteer"])
    again = client.get(triage)
    assert again.status_code == 200
    for response in (second, again):
        _close(response)
    assert _held(f"account:{members['volunteer'].pk}") == 0


def test_a_stream_that_runs_to_its_wsgi_bound_gives_its_slot_back(client, org, members, settings):
    settings.BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT = 1
    activation = _activation(org, members)
    client.force_login(members["volunteer"])
    url = reverse("watch-triage-stream", args=[org.slug, activation.pk])
    response = client.get(url)
    holder = f"account:{members['volunteer'].pk}"
    assert _held(holder) == 1
    # Read to the end with a zero bound: the stream ends by itself, as after WSGI_MAX.
    list(live._sync_stream(lambda: "v", 0.0, 0.0, live.take(holder, 2)))
    assert _held(holder) == 1
    _close(response)
    assert _held(holder) == 0


# --- ASGI: Django's handler, with a client that connects and leaves ---------------------


class AsgiStream:
    """One request through Django's ASGI handler, as a server drives it: the body chunks
    it sends are collected; ``leave()`` is the client closing the connection."""

    def __init__(self, path: str, cookie: str = "", query: str = "") -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        headers = [(b"host", b"testserver"), (b"accept-language", b"fr")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
        }
        self.incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
        self.task = asyncio.create_task(
            ASGIHandler()(self.scope, self.incoming.get, self.outgoing.put)
        )
        self.status: int | None = None
        self.body = b""

    async def start(self) -> int:
        message = await asyncio.wait_for(self.outgoing.get(), TIMEOUT)
        assert message["type"] == "http.response.start"
        self.status = int(message["status"])
        return self.status

    async def chunk(self) -> bytes:
        message = await asyncio.wait_for(self.outgoing.get(), TIMEOUT)
        assert message["type"] == "http.response.body"
        self.body += message.get("body", b"")
        return bytes(message.get("body", b""))

    async def read_all(self) -> bytes:
        while True:
            message = await asyncio.wait_for(self.outgoing.get(), TIMEOUT)
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                await asyncio.wait_for(self.task, TIMEOUT)
                return self.body

    async def ended(self) -> None:
        """The server ended the stream by itself: the handler returns (or raises what
        ended it) without the client leaving."""
        await asyncio.wait_for(self.task, TIMEOUT)

    async def leave(self) -> None:
        await self.incoming.put({"type": "http.disconnect"})
        await asyncio.wait_for(self.task, TIMEOUT)


def _run(scenario: Callable[[], Any]) -> Any:
    async def wrapped() -> Any:
        from asgiref.sync import sync_to_async
        from django.db import connection

        try:
            return await scenario()
        finally:
            # Views and polls ran in asgiref's thread on a connection of their own: close
            # it as a server does at the end of a request (PostgreSQL refuses to drop a
            # test database a session still uses).
            await sync_to_async(lambda: connection.close())()

    # A fresh context: Django's connections are context-local, so the handler's thread
    # would otherwise be handed this thread's connection, as no server would.
    return contextvars.Context().run(asyncio.run, wrapped())


def _cookie(client, user) -> str:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(int(TIMEOUT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_asgi_cap_and_release_when_the_client_leaves(
    transactional_db, client, org, members, settings
):
    settings.BEFFROI_WATCH_MAX_STREAMS_PER_ACCOUNT = 3
    activation = _activation(org, members)
    cookie = _cookie(client, members["volunteer"])
    holder = f"account:{members['volunteer'].pk}"
    triage = reverse("watch-triage-stream", args=[org.slug, activation.pk])
    courante = reverse("watch-courante-stream", args=[org.slug, activation.pk])

    async def scenario() -> None:
        streams = [AsgiStream(p, cookie) for p in (triage, courante, triage)]
        for stream in streams:
            assert await stream.start() == 200
            assert (await stream.chunk()).startswith(b"retry:")
            assert (await stream.chunk()).startswith(b"event: change")
        assert _held(holder) == 3
        refused = AsgiStream(courante, cookie)
        assert await refused.start() == 429
        body = (await refused.read_all()).decode()
        assert "Trop de pages en direct" in body and "(3 au plus)" in body
        assert _held(holder) == 3  # a refusal takes no place
        await streams[0].leave()
        await _until(lambda: _held(holder) == 2)
        replacement = AsgiStream(courante, cookie)
        assert await replacement.start() == 200
        for stream in (*streams[1:], replacement):
            await stream.leave()
        await _until(lambda: _held(holder) == 0)

    _run(scenario)


def test_asgi_slot_freed_when_the_reader_loses_access(
    transactional_db, client, org, members, monkeypatch
):
    from beffroi.core import actions as core_actions

    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    activation = _activation(org, members)
    cookie = _cookie(client, members["volunteer"])
    holder = f"account:{members['volunteer'].pk}"
    path = reverse("watch-triage-stream", args=[org.slug, activation.pk])
    membership = members["volunteer"].memberships.get(organisation=org)

    async def scenario() -> None:
        from asgiref.sync import sync_to_async

        stream = AsgiStream(path, cookie)
        assert await stream.start() == 200
        await stream.chunk()
        assert _held(holder) == 1
        await sync_to_async(core_actions.remove_member)(membership, actor=members["coordinator"])
        await stream.ended()
        assert _held(holder) == 0

    _run(scenario)


def test_asgi_slot_freed_when_the_poll_fails(transactional_db, client, org, members, monkeypatch):
    activation = _activation(org, members)
    cookie = _cookie(client, members["volunteer"])
    holder = f"account:{members['volunteer'].pk}"
    path = reverse("watch-courante-stream", args=[org.slug, activation.pk])
    calls = {"n": 0}
    real = views._log_version

    def failing(activation_id: int, partner: bool) -> str:
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("database gone")
        return real(activation_id, partner)

    monkeypatch.setattr(views, "_log_version", failing)

    async def scenario() -> None:
        stream = AsgiStream(path, cookie)
        assert await stream.start() == 200
        with pytest.raises(RuntimeError, match="database gone"):
            await stream.ended()
        assert _held(holder) == 0

    _run(scenario)


def test_asgi_partner_link_cap_and_its_ten_minute_end(
    transactional_db, org, members, settings, monkeypatch
):
    from beffroi.watch import actions

    settings.BEFFROI_PARTNER_LINK_MAX_STREAMS = 2
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    activation = _activation(org, members)
    link, token = actions.create_partner_link(
        activation, label="COD", days=1, actor=members["coordinator"]
    )
    holder = f"link:{link.pk}"
    path = reverse("watch-partner-stream", args=[token])

    async def scenario() -> None:
        streams = [AsgiStream(path) for _ in range(2)]
        for stream in streams:
            assert await stream.start() == 200
            await stream.chunk()
        refused = AsgiStream(path)
        assert await refused.start() == 429
        body = (await refused.read_all()).decode()
        assert "avec ce lien (2 au plus)" in body
        for stream in streams:
            await stream.leave()
        await _until(lambda: _held(holder) == 0)
        monkeypatch.setattr(views, "PARTNER_STREAM_MAX_SECONDS", 0.0)
        short = AsgiStream(path)
        assert await short.start() == 200
        await short.ended()  # its span is over at the first recheck
        assert _held(holder) == 0

    _run(scenario)
