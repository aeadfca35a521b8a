"""`beffroi serve` says when the collected static files are missing or older than the
code, since pages then load unhashed files, or stale ones after an upgrade."""

from __future__ import annotations

import os
import time

import pytest
from django.core.management import call_command
from django.test import override_settings

from beffroi.commands.serve import static_files_problem


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    (folder / "carte.css").write_text("body { color: #123; }\n")
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory, sources):
    from django.conf import settings

    root = tmp_path_factory.mktemp("static")
    dirs = [*settings.STATICFILES_DIRS, ("essai", str(sources))]
    with override_settings(DEBUG=False, STATIC_ROOT=root, STATICFILES_DIRS=dirs):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def live(settings, sources, root):
    settings.DEBUG = False
    settings.STATIC_ROOT = root
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, ("essai", str(sources))]
    return sources


def test_nothing_collected_is_said(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    problem = static_files_problem()
    assert problem is not None
    assert "not collected" in problem
    assert "beffroi manage collectstatic --noinput" in problem


def test_debug_says_nothing(settings, tmp_path):
    # `make run`: files are found in the apps at each request, nothing to collect.
    settings.DEBUG = True
    settings.STATIC_ROOT = tmp_path
    assert static_files_problem() is None


def test_fresh_collection_says_nothing_then_an_edited_or_new_file_is_named(live):
    assert static_files_problem() is None

    later = time.time() + 60
    os.utime(live / "carte.css", (later, later))
    problem = static_files_problem()
    assert problem is not None and "older than the code (essai/carte.css)" in problem

    os.utime(live / "carte.css", (later - 3600, later - 3600))
    assert static_files_problem() is None
    (live / "nouveau.js").write_text("console.log(1);\n")
    os.utime(live / "nouveau.js", (later - 3600, later - 3600))
    problem = static_files_problem()
    assert problem is not None and "essai/nouveau.js" in problem
