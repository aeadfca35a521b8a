"""How long a sign-in lasts: ``BEFFROI_SESSION_HOURS`` (default 12), counted from the
log-in; later writes of the session do not push its end back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from unittest import mock

from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from django.utils import timezone

RIGHT = "pw-test-123456"
_READ = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.SESSION_COOKIE_AGE))"
)


def _age(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "BEFFROI_SESSION_HOURS"}
    environ.update(DJANGO_SETTINGS_MODULE="beffroi.settings", BEFFROI_DATA_DIR=str(tmp_path))
    environ.update(env)
    command = [sys.executable, "-c", _READ]
    return subprocess.run(command, env=environ, capture_output=True, text=True)


def test_the_session_age_has_a_default_and_follows_the_environment(tmp_path):
    assert json.loads(_age(tmp_path).stdout.splitlines()[-1]) == 12 * 3600
    moved = _age(tmp_path, BEFFROI_SESSION_HOURS="2")
    assert json.loads(moved.stdout.splitlines()[-1]) == 2 * 3600
    refused = _age(tmp_path, BEFFROI_SESSION_HOURS="0")
    assert refused.returncode != 0 and "BEFFROI_SESSION_HOURS" in refused.stderr


def test_the_end_is_fixed_at_log_in_and_kept_by_later_writes(client, members, settings):
    settings.SESSION_COOKIE_AGE = 3600
    start = timezone.now()
    response = client.post(reverse("login"), {"username": "coord", "password": RIGHT})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert 3590 <= int(cookie["max-age"]) <= 3600
    key = cookie.value
    end = SessionStore(session_key=key).get_expiry_date()
    assert abs((end - (start + timedelta(hours=1))).total_seconds()) < 10
    # Forty minutes later, something writes the session: its end stays where it was.
    later = start + timedelta(minutes=40)
    with mock.patch("django.utils.timezone.now", return_value=later):
        session = SessionStore(session_key=key)
        session["touched"] = True
        session.save()
        assert SessionStore(session_key=key).get_expiry_age() <= 20 * 60 + 10
    from django.contrib.sessions.models import Session

    assert abs((Session.objects.get(pk=key).expire_date - end).total_seconds()) < 1


def test_an_admin_log_in_is_fixed_too(client, members, settings):
    settings.SESSION_COOKIE_AGE = 1800
    staff = members["coordinator"]
    staff.is_staff = True
    staff.save()
    response = client.post(reverse("admin:login"), {"username": "coord", "password": RIGHT})
    assert response.status_code == 302
    key = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert "_session_expiry" in SessionStore(session_key=key).load()
