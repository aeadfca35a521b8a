"""A source status report whose transaction rolls back does not make the next report
count the whole run again (review R14 finding 7): the in-memory run counts moved on
before the save, the source's totals did not, and the next report took the run as new."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


def test_a_rolled_back_report_does_not_count_the_run_twice(transactional_db, members, monkeypatch):
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    org = core_actions.create_organisation("VOST K9", "vostk9")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    at = datetime(2024, 3, 1, 12, tzinfo=UTC)
    report = actions.record_source_status
    report(source.pk, state="connecting", message="c", at=at)
    report(source.pk, state="ok", message="a", at=at, skipped=10, unknown_deletions=1)
    save = Source.save

    def away(self, *args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(Source, "save", away)
    with pytest.raises(RuntimeError):
        report(source.pk, state="ok", message="b", at=at, skipped=15, unknown_deletions=2)
    monkeypatch.setattr(Source, "save", save)
    report(source.pk, state="ok", message="c", at=at, skipped=20, unknown_deletions=3)
    source.refresh_from_db()
    assert (source.skipped_count, source.unknown_deletions_count) == (20, 3)
    report(source.pk, state="ok", message="d", at=at, skipped=22)
    source.refresh_from_db()
    assert (source.skipped_count, source.unknown_deletions_count) == (22, 3)
