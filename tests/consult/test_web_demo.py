"""The demo consultation is the affair's: three measures per parent row, four
schools, mixed mode, a salvo caught by the live audit, a bundle that verifies."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from beffroi.consult import demo, live
from beffroi.consult.examples import MEASURES, SCHOOLS
from beffroi.consult.models import BoardEntry, Consultation
from beffroi.consult.verify import verify_bundle

pytestmark = pytest.mark.usefixtures("consult_writes_now")


def test_demo_is_the_affair_and_catches_the_salvo(org):
    lines = list(demo.load(org))
    assert "flagged by the live audit" in lines[0]
    c = Consultation.objects.get(cid=demo.CID)
    spec = c.get_spec()
    assert spec.access == "mixed"
    assert [q.code for q in spec.questions] == ["blouse", "drapeau", "aide"]
    assert all(q.per_row for q in spec.questions)
    assert spec.rows is not None
    assert list(spec.rows.labels) == ["Responsable légal 1", "Responsable légal 2"]
    assert {s.code: s.electorate for s in spec.segments} == {k: v[1] for k, v in SCHOOLS.items()}
    labels = " ".join(q.label for q in spec.questions)
    for words in ("blouse", "lever des couleurs", "aide aux devoirs"):
        assert words in labels

    data = live.bundle(c)
    report = verify_bundle(data)
    assert report.ok, report.lines()
    entries = BoardEntry.objects.filter(consultation=c)
    salvo = {e.hash for e in entries if e.net == "prefix:salvo"}
    assert len(salvo) == demo.SALVO_FORMS
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        published = json.loads(zf.read("results.json"))
    excluded = {ex["hash"] for ex in published["exclusions"] if ex["rule"] == "integrity_flag"}
    # The salvo is set aside by the frozen rule, honest unsigned answers mostly stay.
    assert len(salvo & excluded) >= 0.9 * len(salvo)
    assert len(excluded - salvo) <= 5
    verified = published["counted"]["verified"]
    unverified = published["counted"]["unverified"]
    assert verified > 50 and unverified > 20
    counts = published["results"]["all"]["questions"]
    assert set(counts) == set(MEASURES)
    # Honest parents favour homework help far more than the smock (HONEST_NO).
    share_no = {m: counts[m]["counts"]["non"] / counts[m]["answered"] for m in MEASURES}
    assert share_no["aide"] < share_no["blouse"]

    # Idempotent: a second load changes nothing.
    again = list(demo.load(org))
    assert "already loaded" in again[0]
    assert BoardEntry.objects.filter(consultation=c).count() == entries.count()
