"""The bundle format is anchored in the spec: the opening stamps it there, so the hash
published at the opening (and signed into every ballot) covers it, and verify refuses
a journal whose format differs. Specs without it (opened before) hash as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from beffroi.consult import actions, live
from beffroi.consult.bundle import BUNDLE_FORMAT, SPEC_ANCHORED_FORMAT, frozen_spec
from beffroi.consult.cli_example_bundle import setup_consultation, unsigned_payload
from beffroi.consult.examples import affair_spec
from beffroi.consult.spec import SpecError, spec_from_dict, spec_hash
from beffroi.consult.verify import verify_bundle
from consult_bundles import member, replace_member, scene

ANCHOR_MISSING = "consultation.json : aucun format de paquet dans les questions et règles gelées"


def test_a_spec_without_the_stamp_keeps_its_bytes_and_hash() -> None:
    spec = affair_spec()
    assert spec.bundle_format is None
    assert "bundle_format" not in spec.to_dict(frozen_only=True)
    stamped = frozen_spec(spec)
    assert stamped.to_dict(frozen_only=True)["bundle_format"] == BUNDLE_FORMAT
    assert spec_hash(stamped) != spec_hash(spec)
    # Read back, each keeps its own hash.
    assert spec_hash(spec_from_dict(spec.to_dict())) == spec_hash(spec)
    assert spec_hash(spec_from_dict(stamped.to_dict())) == spec_hash(stamped)


@pytest.mark.parametrize("value", ["3", True, 0, -1, None, 2.0])
def test_a_format_that_is_no_number_is_refused_in_the_spec(value: Any) -> None:
    d = {**affair_spec().to_dict(), "bundle_format": value}
    with pytest.raises(SpecError, match="bundle_format: entier ≥ 1 attendu"):
        spec_from_dict(d)


@pytest.mark.usesdb
def test_the_opening_stamps_the_spec_and_publishes_the_hash_the_draft_announced(
    client: Any, org: Any, members: dict[str, Any]
) -> None:
    c, _ = setup_consultation(org, cid="ancre", access="mixed", per_segment=1, open_it=False)
    assert "bundle_format" not in c.spec
    client.force_login(members["coordinator"])
    page = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    announced = spec_hash(frozen_spec(c.get_spec()))
    assert announced in page
    h = actions.open_consultation(c, actor=None)
    c.refresh_from_db()
    assert h == announced == c.spec_hash
    assert c.spec["bundle_format"] == BUNDLE_FORMAT
    actions.close_consultation(c, actor=None)
    data = live.bundle(c)
    report = verify_bundle(data)
    assert report.ok, report.lines()
    assert report.stats["bundle_format"] == BUNDLE_FORMAT


@pytest.mark.usesdb
def test_a_post_hoc_decision_keeps_the_stamp(org: Any) -> None:
    c, _ = setup_consultation(org, cid="ancre2", access="mixed", per_segment=1)
    h = c.spec_hash
    spec = c.get_spec()
    rows = [{q.code: "oui" for q in spec.questions if q.per_row}, {}]
    p = unsigned_payload(c, {}, rows, 1, spec.segments[0].code)
    entry = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], None)])[0].entry
    actions.exclude_entries(c, [entry["hash"]], "envoi de test", actor=None)
    c.refresh_from_db()
    assert c.spec["bundle_format"] == BUNDLE_FORMAT
    assert any(r["added_after_opening"] for r in c.spec["rules"])
    assert spec_hash(c.get_spec()) == h


def test_a_journal_that_lowers_the_format_is_refused() -> None:
    assert BUNDLE_FORMAT >= SPEC_ANCHORED_FORMAT
    honest = scene()
    assert verify_bundle(honest.bundle()).ok
    h = spec_hash(honest.ex.spec)
    for lowered, opened in ((2, {"spec_hash": h, "bundle_format": 2}), (1, {"spec_hash": h})):
        lines = verify_bundle(scene(opened=opened).bundle()).lines()
        said = (
            f"journal.jsonl : format de paquet {lowered} dans l'événement « opened », mais "
            f"{BUNDLE_FORMAT} dans les questions et règles gelées"
        )
        assert any(x.startswith(said) for x in lines), lines


def test_an_anchored_journal_format_without_the_stamp_is_refused() -> None:
    """A board opened unstamped (an older Beffroi) whose journal claims format 3."""
    sc = scene(bundle_format=2)
    sc.events[0] = type(sc.events[0])(
        sc.events[0].at, "opened", {"spec_hash": spec_hash(sc.ex.spec), "bundle_format": 3}
    )
    lines = verify_bundle(sc.bundle()).lines()
    assert any(x.startswith(ANCHOR_MISSING) for x in lines), lines


def test_older_unstamped_bundles_still_verify() -> None:
    for fmt in (1, 2):
        report = verify_bundle(scene(bundle_format=fmt).bundle())
        assert report.ok, report.lines()
        assert report.stats["bundle_format"] == fmt


def test_a_spec_from_a_newer_format_asks_for_an_update() -> None:
    data = scene().bundle()
    consultation = json.loads(member(data, "consultation.json"))
    assert consultation["bundle_format"] == BUNDLE_FORMAT
    consultation["bundle_format"] = BUNDLE_FORMAT + 1
    newer = json.dumps(consultation).encode()
    report = verify_bundle(replace_member(data, "consultation.json", newer))
    assert report.lines() == [
        f"format de paquet {BUNDLE_FORMAT + 1} : mettez Beffroi à jour (cette version lit "
        f"les formats 1 à {BUNDLE_FORMAT})"
    ]
