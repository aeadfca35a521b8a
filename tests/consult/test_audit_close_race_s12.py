"""A live audit that was running when the coordinator closed the consultation gives its
report (its flags not recorded), instead of dying on the closed box: it read the status at
its start, and record_flags, which reads it again under the row lock, refused."""

from __future__ import annotations

import pytest

from beffroi.consult import actions, tasks
from beffroi.consult.models import Consultation, Status

from .test_flags_rules_s12 import _mixed

pytestmark = pytest.mark.usesdb


def test_an_audit_the_close_overtook_reports_its_flags_as_not_recorded(db, monkeypatch):
    c, _private, unsigned = _mixed("audit-close")

    class Result:
        ids = [unsigned["hash"]]
        flagged = [True]
        reasons = {0: ["rafale"]}
        score = [1.0]
        summary = {"verdict": "une rafale", "flagged": 1, "responses": 1}
        clusters: list = []

    def run_audit(box, progress):
        actions.close_consultation(Consultation.objects.get(pk=box.pk), actor=None)
        return Result()

    monkeypatch.setattr(tasks, "run_audit", run_audit)
    report = tasks.audit_box(c)  # this object still says OPEN
    assert report["not_recorded"] == 1 and report["new_flags"] == 0
    c.refresh_from_db()
    assert c.status == Status.CLOSED
    assert not c.events.filter(kind="flag").exists()
