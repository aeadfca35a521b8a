"""Retention periods: the settings (checked at start-up) and the core's prunes (old
invitations, finished job rows, expired sessions and cache entries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beffroi.config import ConfigError
from beffroi.core import retention
from fresh_databases import python_process, sqlite_env

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CLI = "import sys\nfrom beffroi.cli import main\nsys.exit(main(sys.argv[1:]))\n"


# -- settings ---------------------------------------------------------------------------


def test_defaults_and_values():
    assert retention.from_environ({}) == retention.DEFAULTS
    periods = retention.from_environ(
        {
            "BEFFROI_RETENTION_PSEUDONYMS_DAYS": " 0 ",
            "BEFFROI_RETENTION_WATCH_POSTS_DAYS": "Never",
            "BEFFROI_RETENTION_INVITATIONS_DAYS": "jamais",
            "BEFFROI_RETENTION_JOBS_DAYS": "",
        }
    )
    assert periods == {
        "BEFFROI_RETENTION_PSEUDONYMS_DAYS": 0,
        "BEFFROI_RETENTION_WATCH_POSTS_DAYS": None,
        "BEFFROI_RETENTION_INVITATIONS_DAYS": None,
        "BEFFROI_RETENTION_JOBS_DAYS": 7,
    }


@pytest.mark.parametrize("value", ["-1", "6 mois", "1.5", "36501", "３０", "forever"])
def test_a_bad_value_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError) as refused:
        retention.from_environ({"BEFFROI_RETENTION_INVITATIONS_DAYS": value})
    message = str(refused.value)
    assert message.startswith(f"BEFFROI_RETENTION_INVITATIONS_DAYS={value.strip()!r} ")
    assert "whole number of days" in message and "'never'" in message


def test_cutoff():
    assert retention.cutoff(None, NOW) is None
    assert retention.cutoff(30, NOW) == NOW - timedelta(days=30)


@pytest.mark.slow
def test_a_bad_value_stops_the_start_up_in_one_line(tmp_path):
    env = sqlite_env(
        tmp_path / "data", BEFFROI_SECRET_KEY="r" * 50, BEFFROI_RETENTION_JOBS_DAYS="7j"
    )
    proc = python_process(CLI, env, "manage", "check")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, (out, err)
    assert err.startswith("beffroi: BEFFROI_RETENTION_JOBS_DAYS='7j' is not a retention"), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# -- invitations --------------------------------------------------------------------------


def _invitation(org, email, **times):
    from beffroi.core.models import Invitation

    return Invitation.objects.create(
        organisation=org,
        email=email,
        role="volunteer",
        token_hash=email.ljust(64, "0")[:64],
        expires_at=times.pop("expires_at", NOW + timedelta(days=14)),
        **times,
    )


@pytest.mark.usesdb
def test_used_or_expired_invitations_go_after_the_period_pending_ones_stay(org, settings):
    from beffroi.core import actions
    from beffroi.core.models import Invitation, JournalEntry

    settings.BEFFROI_RETENTION_INVITATIONS_DAYS = 30
    old = NOW - timedelta(days=31)
    recent = NOW - timedelta(days=29)
    _invitation(org, "accepted-old@example.org", accepted_at=old)
    _invitation(org, "revoked-old@example.org", revoked_at=old)
    _invitation(org, "expired-old@example.org", expires_at=old)
    _invitation(org, "accepted-recent@example.org", accepted_at=recent)
    _invitation(org, "expired-recent@example.org", expires_at=recent)
    _invitation(org, "pending@example.org")

    dry = actions.prune_invitations(now=NOW, dry_run=True)
    assert dry.counts == {"invitations": 3} and Invitation.objects.count() == 6

    outcome = actions.prune_invitations(now=NOW)
    assert outcome.counts == {"invitations": 3}
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "accepted-recent@example.org",
        "expired-recent@example.org",
        "pending@example.org",
    ]
    entry = JournalEntry.objects.order_by("-seq").first()
    assert entry.action == "retention.invitations"
    assert entry.data == {"days": 30, "invitations": 3}
    assert "@" not in str(entry.data)


# -- job rows -----------------------------------------------------------------------------


@pytest.mark.usesdb
def test_finished_job_rows_go_after_the_period_waiting_ones_stay(db, settings):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from beffroi.core import actions
    from beffroi.core.tasks import send_password_reset_task

    settings.BEFFROI_RETENTION_JOBS_DAYS = 7
    rows = [
        send_password_reset_task.enqueue(f"h{i}", "example.org", True, "fr", "s", "e")
        for i in range(4)
    ]
    ids = [r.id for r in rows]
    finish = {
        ids[0]: (TaskResultStatus.SUCCESSFUL, NOW - timedelta(days=8)),
        ids[1]: (TaskResultStatus.FAILED, NOW - timedelta(days=8)),
        ids[2]: (TaskResultStatus.SUCCESSFUL, NOW - timedelta(days=6)),
    }
    for pk, (status, at) in finish.items():
        DBTaskResult.objects.filter(pk=pk).update(status=status, finished_at=at)

    outcome = actions.prune_job_rows(now=NOW)
    assert outcome.counts == {"jobs": 2}
    # The one finished within the period, and the one still waiting, stay.
    assert {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)} == {
        str(ids[2]),
        str(ids[3]),
    }


# -- expired sessions and cache entries ---------------------------------------------------


@pytest.mark.usesdb
def test_expired_sessions_and_cache_entries_go(db, settings):
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    from beffroi.core import actions

    Session.objects.create(session_key="a" * 32, session_data="", expire_date=NOW - timedelta(1))
    Session.objects.create(session_key="b" * 32, session_data="", expire_date=NOW + timedelta(1))
    cache.set("throttle-test-live", 1, timeout=3600)
    cache.set("throttle-test-gone", 1, timeout=3600)

    # An hour and a second later, the counters' timeout is past; the live one is set again.
    later = datetime.now(UTC) + timedelta(hours=1, seconds=1)
    outcome = actions.prune_expired(now=later, dry_run=True)
    assert outcome.counts["sessions"] >= 1 and outcome.counts["cache_entries"] >= 2
    cache.set("throttle-test-live", 1, timeout=4 * 3600)
    outcome = actions.prune_expired(now=later)
    assert outcome.counts["cache_entries"] >= 1
    assert cache.get("throttle-test-live") == 1
    # Read past expiry, an entry is None anyway: what matters is that its row is gone.
    assert not _cache_row("throttle-test-gone")
    assert _cache_row("throttle-test-live")
    assert not Session.objects.filter(session_key="a" * 32).exists()


def _cache_row(key: str) -> bool:
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} WHERE cache_key = %s",
            [cache.make_key(key)],
        )
        return bool(cursor.fetchone()[0])
