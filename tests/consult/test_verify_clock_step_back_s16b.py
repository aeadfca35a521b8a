"""A server clock that steps back after the opening must not make an honest bundle fail.

The journal never goes backwards (``actions._event`` clamps a time to the last
event's). A late key import clamped so used to carry exactly the opening's time, and
the verifier refused it as an import passing for the opening's. The verifier now
tells the opening's import by its place (event 2, dated with « opened »); the app
moves a clamped time one microsecond past the last event, so that new journals keep
a strict order."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from beffroi.consult import actions, credentials, live
from beffroi.consult.cli_example_bundle import BASE_URL, setup_consultation, signed_payload
from beffroi.consult.spec import format_time, parse_time
from beffroi.consult.verify import verify_bundle

pytestmark = pytest.mark.usesdb


def _late_import(c: Any, n: int) -> list[Any]:
    segments = {s.code: n for s in c.get_spec().segments} or None
    private, public = credentials.generate(None if segments else n, segments, c.cid, BASE_URL)
    text = "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in public)
    actions.import_credentials(c, text, actor=None)
    return private


def _vote(c: Any, code: str) -> None:
    spec = c.get_spec()
    rows = [{q.code: "oui" for q in spec.questions if q.per_row}, {}]
    p = signed_payload(c, code, {}, rows, 1)
    out = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], p["signature"])])
    assert out[0].error is None, out[0].error


@pytest.mark.parametrize("access", ["mixed", "credentialed"])
def test_a_late_import_after_the_clock_stepped_back_verifies(org: Any, access: str) -> None:
    c, _ = setup_consultation(org, cid="clk16b" + access[:3], access=access, per_segment=1)
    opened_at = c.opened_at
    with mock.patch("django.utils.timezone.now", return_value=opened_at - timedelta(seconds=5)):
        late = _late_import(c, 1)
    _vote(c, late[0].code)
    actions.close_consultation(c, actor=None)

    events = list(c.events.order_by("n").values_list("kind", "at"))
    assert [k for k, _ in events[:3]] == ["opened", "credentials_imported", "credentials_imported"]
    # Clamped, yet strictly after the opening's import: one microsecond later.
    step = parse_time(events[2][1], "at") - parse_time(events[1][1], "at")
    assert step == timedelta(microseconds=1)
    assert events[1][1] == events[0][1] == format_time(opened_at)

    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert [i["late"] for i in report.stats["imports"]] == [False, True]
    assert not report.warnings, report.warnings


def test_each_clamped_event_moves_one_microsecond_on(org: Any) -> None:
    """Several events while the clock is behind: each one a microsecond after the last,
    so none shares a time with the one before."""
    c, _ = setup_consultation(org, cid="clk16bseq", access="mixed", per_segment=2)
    back = c.opened_at - timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=back):
        _late_import(c, 1)
        _late_import(c, 1)
    times = [parse_time(at, "at") for at in c.events.order_by("n").values_list("at", flat=True)]
    assert times[2] - times[1] == timedelta(microseconds=1)
    assert times[3] - times[2] == timedelta(microseconds=1)
    actions.close_consultation(c, actor=None)
    assert verify_bundle(live.bundle(c)).ok
