"""The live audit of a consultation opened minutes ago flags a salvo that is all its
ballot box holds (the affair's first minute), records the flags with the evidence an
English reader's table recognises, and leaves an ordinary opening alone."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from beffroi.consult import actions, api, tasks
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.views_i18n import EVIDENCE, VERDICTS
from beffroi.integrity.detectors import _SALVO_COUNT

from .test_tasks_audit import small_spec


def _submit(c, monkeypatch, gaps: list[float], *, bot: bool) -> None:
    rng = random.Random(12)
    spec = c.get_spec()
    clock = [timezone.now() - timedelta(minutes=5)]
    monkeypatch.setattr(actions.timezone, "now", lambda: clock[0])
    for i, gap in enumerate(gaps):
        clock[0] += timedelta(seconds=gap)
        who = f"vpn{i % 7}" if bot else f"home{i}"
        answers = {"creneau": rng.choice(["matin", "midi", "soir"]), "note": rng.randint(1, 5)}
        ballot = make_ballot(spec, answers, [], public_key=None, seq=i + 1, segment="Q1")
        item = actions.Incoming(ballot, None, net=f"net:{who}", addr=f"addr:{who}", ua="ua:x")
        assert actions.submit_ballots(c.cid, [item])[0].error is None
    monkeypatch.undo()


def test_a_salvo_in_a_consultation_with_no_history_is_flagged(org, monkeypatch, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="neuve", access="open", spec_dict=small_spec("neuve"))
    n = _SALVO_COUNT + 30
    _submit(c, monkeypatch, [0.05] * n, bot=True)
    report = tasks.audit_box(c)
    assert report["new_flags"] == n
    assert report["clusters"][0]["flagged"] == n
    group = report["clusters"][0]["evidence"]
    assert "avant que le rythme habituel de la consultation soit connu" in group
    assert EVIDENCE.match(group) is not None
    # The verdict's sentence has its template (English once the catalogue has it).
    assert VERDICTS.match(report["summary"]["verdict"]) is not None
    flags = list(c.events.filter(kind="flag"))
    assert len(flags) == n
    piece = flags[0].data["evidence"].split("; ")[0]
    assert EVIDENCE.match(piece) is not None  # « groupe 1 : … » re-said in English


def test_an_opening_rush_is_left_alone(org, monkeypatch, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="ruee", access="open", spec_dict=small_spec("ruee"))
    rng = random.Random(3)
    # 150 parents in the first 40 minutes after the mailing, each on their own network.
    _submit(c, monkeypatch, [rng.expovariate(1 / 16) for _ in range(150)], bot=False)
    report = tasks.audit_box(c)
    assert report["summary"] is not None and report["summary"]["flagged"] == 0
    assert report["new_flags"] == 0
