"""Integrity flags are for unsigned answers and for an open consultation only: the tally
ignores a flag on a signed ballot (only the organiser's word could put it there), the
action refuses one, and no flag is recorded once the consultation is closed (it would
change a result proclaimed under the frozen rule)."""

from __future__ import annotations

import pytest

from beffroi.consult import actions, live, tasks
from beffroi.consult.cli_example_bundle import (
    example_spec_dict,
    setup_consultation,
    signed_payload,
    unsigned_payload,
)
from beffroi.consult.spec import spec_from_dict
from beffroi.consult.tally import Credential, tally
from beffroi.core import actions as core_actions

pytestmark = pytest.mark.usesdb


def _mixed(cid):
    org = core_actions.create_organisation("Org", cid)
    c, private = setup_consultation(org, cid=cid, access="mixed", per_segment=2)
    spec = c.get_spec()
    rows = [{q.code: "oui" for q in spec.questions if q.per_row}, {}]
    p = signed_payload(c, private[0].code, {}, rows, 1)
    signed = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], p["signature"])])[0]
    seg = spec.segments[0].code
    p = unsigned_payload(c, {}, rows, 2, seg)
    unsigned = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], None)])[0]
    return c, signed.entry, unsigned.entry


def _flag_name(c):
    return next(r for r in c.get_spec().rules if r.code == "integrity_flag").params["flags"][0]


def test_record_flags_refuses_a_signed_ballot_and_keeps_the_rest(db) -> None:
    c, signed, unsigned = _mixed("flagkey")
    name = _flag_name(c)
    with pytest.raises(actions.ActionError, match="réponse signée refusé"):
        actions.record_flags(c, [(unsigned["hash"], name, "x"), (signed["hash"], name, "x")])
    # One transaction: the flag on the unsigned entry was not half-recorded.
    assert live.flags(c) == []
    assert actions.record_flags(c, [(unsigned["hash"], name, "rafale")]) == 1


def test_the_tally_ignores_a_flag_on_a_signed_ballot() -> None:
    d = example_spec_dict("t", access="mixed")
    spec = spec_from_dict(d)
    name = next(r for r in spec.rules if r.code == "integrity_flag").params["flags"][0]
    key = "ab" * 32
    seg = spec.segments[0].code
    ballot = {"public_key": key, "answers": {}, "rows": [], "segment": None}
    entries = [{"n": 1, "hash": "h1", "ballot": ballot}]
    res = tally(spec, {key: Credential(seg)}, entries, {"h1": [name]})
    assert res["counted"]["verified"] == 1
    assert res["exclusions"] == []
    unsigned = {**ballot, "public_key": None, "segment": seg}
    res = tally(spec, {}, [{"n": 1, "hash": "h1", "ballot": unsigned}], {"h1": [name]})
    assert res["exclusions_by_rule"] == {"integrity_flag": 1}


def test_no_flag_after_the_close(db) -> None:
    c, _signed, unsigned = _mixed("flagclose")
    actions.close_consultation(c, actor=None)
    with pytest.raises(actions.ActionError, match="close : plus de signalement"):
        actions.record_flags(c, [(unsigned["hash"], _flag_name(c), "x")])
    assert live.flags(c) == []


def test_a_coordinator_audit_of_a_closed_box_records_nothing(db, monkeypatch) -> None:
    c, _signed, unsigned = _mixed("auditclose")
    actions.close_consultation(c, actor=None)

    class Result:
        ids = [unsigned["hash"]]
        flagged = [True]
        reasons = {0: ["rafale"]}
        score = [0.9]
        summary = {"verdict": "x", "flagged": 1, "responses": 1}
        clusters = []

    monkeypatch.setattr(tasks, "run_audit", lambda c, progress=None: Result())
    report = tasks.audit_box(c)
    assert report["new_flags"] == 0 and report["not_recorded"] == 1
    assert live.flags(c) == []
