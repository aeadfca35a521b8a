"""Static files: which are collected, how they are named, and who serves them.

Hashed and precompressed once `beffroi manage collectstatic` has run, plain names until
then; served by ServeStatic (docs/decisions/static-files-asgi.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig
from django.http import HttpRequest, HttpResponseBase
from servestatic.middleware import AsyncServeStaticFileResponse, ServeStaticMiddleware
from servestatic.storage import CompressedManifestStaticFilesStorage


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    """ServeStatic's manifest storage, tolerant of a STATIC_ROOT not collected yet.

    Collected, pages name `beffroi.<hash>.css`, which is cached for a year. Before any
    collection (a fresh install, `beffroi manage runserver`, the test suite) the strict
    manifest storage would raise on every `{% static %}`; this one names the plain file
    instead, which the middleware finds in the apps and serves with a short lifetime.
    """

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            # Raised both for a name missing from the manifest and for a file absent
            # from STATIC_ROOT (the hashed name is computed from the file's content).
            return name


class StaticFilesConfig(BaseStaticFilesConfig):
    """django.contrib.staticfiles, collecting only what a browser is sent.

    The npm packages ship unminified sources with their maps, type declarations and module
    variants next to the minified files the pages load (whose own maps are kept: the
    manifest rewrites the reference to them); hashing and compressing them made every
    collection several times slower for files no page names.
    """

    ignore_patterns = [
        *BaseStaticFilesConfig.ignore_patterns,
        "*.d.ts",
        "*.esm.js",
        "*.esm.js.map",
        "*.cjs.js",
        "*.amd.js",
        "*-src.js",
        "*-src.js.map",
        "README.md",
    ]


async def _no_view(request: HttpRequest) -> HttpResponseBase:
    raise AssertionError("a synchronous StaticFilesMiddleware passes requests on itself")


class StaticFilesMiddleware:
    """ServeStatic's middleware, usable by a synchronous handler too.

    Under ASGI (`beffroi serve`) it is ServeStatic's own, which sends files through an
    asynchronous iterator. ServeStatic's middleware is async-only, so Django would put a
    WSGI handler's request through ``async_to_sync`` to reach it: slower, and refused
    outright in a thread that runs an event loop (Django's test client called from a
    Playwright test). Synchronously, the same table of files and the same responders
    answer, with the file read as WSGI servers expect.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self.server = ServeStaticMiddleware(get_response if self.is_async else _no_view)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.server(request)
        path = request.path_info
        found = (
            self.server.find_file(path) if self.server.autorefresh else self.server.files.get(path)
        )
        if found is None:
            return self.get_response(request)
        answer = found.get_response(request.method or "GET", request.META)
        response = AsyncServeStaticFileResponse(answer.file or (), status=int(answer.status))
        del response["content-type"]  # ServeStatic's headers say it, or say nothing
        for key, value in answer.headers:
            if value is not None:
                response[key] = value
        return response
