"""Static files under the ASGI app uvicorn runs: cached by their hashed names once
collected, compressed when the browser accepts it, plain names before any collection,
and never Django's "StreamingHttpResponse must consume synchronous iterators" warning
(WhiteNoise, served under ASGI, raised it on every file)."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import brotli
import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib.staticfiles import finders
from django.core.handlers.asgi import ASGIHandler
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings
from django.utils.datastructures import CaseInsensitiveMapping

from asgi_calls import http_scope
from beffroi.consult.api import with_fast_ballots

SYNC_ITERATOR_WARNING = "StreamingHttpResponse must consume synchronous iterators"
YEAR_OR_MORE = 365 * 24 * 3600


def _app():
    # Built after the settings of each test: the middleware reads them when loaded, as
    # `beffroi.asgi` does when uvicorn imports it.
    return with_fast_ballots(ASGIHandler())


def _get(app, path: str, accept_encoding: str | None = None):
    headers = [] if accept_encoding is None else [(b"accept-encoding", accept_encoding.encode())]
    scope = http_scope("GET", path, headers, client=("127.0.0.1", 50000))

    async def go():
        comm = ApplicationCommunicator(app, scope)
        await comm.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await comm.receive_output(10)
        body = b""
        while True:
            message = await comm.receive_output(10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await comm.wait(10)
        return start, body

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start, body = async_to_sync(go)()
    sync_warnings = [str(w.message) for w in caught if SYNC_ITERATOR_WARNING in str(w.message)]
    assert not sync_warnings, sync_warnings
    headers = CaseInsensitiveMapping({k.decode(): v.decode() for k, v in start["headers"]})
    return start["status"], headers, body


def _static_url(name: str) -> str:
    return Template("{% load static %}{% static name %}").render(Context({"name": name}))


def _source(name: str) -> bytes:
    found = finders.find(name)
    assert found, name
    return Path(found).read_bytes()


def _max_age(headers) -> int:
    for part in headers["Cache-Control"].split(","):
        key, _, value = part.strip().partition("=")
        if key == "max-age":
            return int(value)
    raise AssertionError(headers["Cache-Control"])


@pytest.fixture(scope="module")
def _collected_root(tmp_path_factory):
    # Compressing Django admin's files with Brotli takes seconds: collect once.
    root = tmp_path_factory.mktemp("static")
    with override_settings(DEBUG=False, STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def collected(settings, _collected_root):
    settings.DEBUG = False
    settings.STATIC_ROOT = _collected_root
    return _collected_root


def test_collected_files_have_hashed_names_cached_for_a_year(collected):
    url = _static_url("beffroi/beffroi.css")
    assert url != "/static/beffroi/beffroi.css"
    assert url.startswith("/static/beffroi/beffroi.") and url.endswith(".css")

    status, headers, body = _get(_app(), url)
    assert status == 200
    assert body == _source("beffroi/beffroi.css")
    assert _max_age(headers) >= YEAR_OR_MORE
    assert "immutable" in headers["cache-control"]
    assert headers["content-type"].startswith("text/css")


def test_collected_files_are_sent_compressed_when_the_browser_accepts_it(collected):
    # htmx is the largest file every page loads: several chunks of the file iterator.
    url = _static_url("htmx/htmx.min.js")
    original = _source("htmx/htmx.min.js")
    app = _app()

    status, headers, body = _get(app, url, accept_encoding="gzip, deflate, br")
    assert status == 200
    assert headers["content-encoding"] == "br"
    assert "accept-encoding" in headers["vary"].lower()
    assert brotli.decompress(body) == original
    assert len(body) < len(original) / 2

    status, headers, body = _get(app, url, accept_encoding="gzip")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == original

    status, headers, body = _get(app, url)
    assert status == 200
    assert "content-encoding" not in headers
    assert body == original
    assert _max_age(headers) >= YEAR_OR_MORE


def test_plain_names_of_collected_files_are_cached_briefly(collected):
    # A plain name can change content at the next upgrade: only a minute in caches.
    status, headers, body = _get(_app(), "/static/beffroi/beffroi.css")
    assert status == 200
    assert body == _source("beffroi/beffroi.css")
    assert _max_age(headers) == 60
    assert "immutable" not in headers["cache-control"]


def test_not_collected_pages_name_plain_files_which_are_served(settings, tmp_path):
    # A production process started before any collection (or `manage runserver`): no
    # manifest, so `{% static %}` names the plain file and the apps' copy is served.
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "empty"
    settings.STATIC_ROOT.mkdir()
    url = _static_url("watch/stream.js")
    assert url == "/static/watch/stream.js"

    status, headers, body = _get(_app(), url, accept_encoding="gzip, br")
    assert status == 200
    assert body == _source("watch/stream.js")
    assert _max_age(headers) == 60


def test_make_run_serves_static_files_from_a_fresh_clone(settings, tmp_path):
    # `make run` is DEBUG with a new data folder: nothing collected, files edited in
    # place must show at once (no cache).
    settings.DEBUG = True
    settings.STATIC_ROOT = tmp_path / "fresh"
    settings.STATIC_ROOT.mkdir()
    for name in ("beffroi/beffroi.css", "htmx/htmx.min.js", "consult/ballot.js"):
        url = _static_url(name)
        assert url == f"/static/{name}"
        status, headers, body = _get(_app(), url)
        assert status == 200, name
        assert body == _source(name)
        assert _max_age(headers) == 0


def test_unknown_static_file_is_a_404_not_an_error(collected):
    status, _headers, _body = _get(_app(), "/static/beffroi/absent.css")
    assert status == 404


def _sync_get(path: str, **headers: str):
    from django.test import Client

    return Client().get(path, headers=headers)


def test_a_synchronous_handler_serves_the_same_files(collected):
    # The test client, `manage runserver`, a WSGI server: no event loop hop.
    url = _static_url("htmx/htmx.min.js")
    response = _sync_get(url, accept_encoding="gzip, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert brotli.decompress(b"".join(response.streaming_content)) == _source("htmx/htmx.min.js")
    assert _max_age(response) >= YEAR_OR_MORE
    assert _sync_get("/static/beffroi/absent.css").status_code == 404


def test_the_synchronous_handler_works_inside_a_running_event_loop(collected):
    # Playwright's synchronous API runs an event loop in the test's thread, where
    # e2e tests also use Django's test client: an async-only middleware made every such
    # request fail (« You cannot use AsyncToSync in the same thread as an async event
    # loop »).
    import asyncio

    url = _static_url("beffroi/beffroi.css")

    async def inside_a_loop():
        return _sync_get(url)

    response = asyncio.run(inside_a_loop())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _source("beffroi/beffroi.css")
