"""Session 6: the integrity audit's verdict and evidence, and the default rule labels,
in English for an English reader; French readers see the pure core's text as written.

The real audit runs on simulated exports and on a live ballot box, so a sentence the
detectors write without a template here fails the test.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from beffroi.consult import actions, api, tasks
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.views import _audit_report_shown
from beffroi.consult.views_i18n import EVIDENCE, VERDICTS, evidence, rule_label, verdict
from beffroi.integrity.audit import run_audit
from beffroi.integrity.simulate import simulate
from english_catalogue import english

_FRENCH = re.compile(r"[éèêàçù]|\b(?:réponses?|groupe|rafales?|alors|dans le|contre)\b")


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _without_quotes(text: str) -> str:
    """What is left once the survey's own words (answers, questions) are cut out."""
    return re.sub(r"“[^”]*” to [^:]*:|result for: [^—]*—", "", text)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[str]]]:
    """(verdict, every piece of evidence) of the real audit on simulated exports."""
    out = []
    for attack in ("seedlike", "none"):
        folder: Path = tmp_path_factory.mktemp(attack)
        sim = simulate(folder, attack=attack, forms=400, fakes=80, seed=1)
        result = run_audit(sim.export, structure=folder / "survey.lss")
        pieces = [str(c["evidence"]) for c in result.clusters]
        pieces += ["; ".join(r) for r in result.reasons.values()]
        out.append((str(result.summary["verdict"]), pieces))
    return out


def test_every_verdict_and_evidence_of_a_real_audit_is_said_in_english(audited) -> None:
    verdicts = [v for v, _ in audited]
    pieces = [p for _, ps in audited for p in ps]
    assert any(v.startswith("Aucun groupe") and "Résultat fragile" in v for v in verdicts)
    assert any("groupes arrivés en rafale" in v for v in verdicts)
    assert len(pieces) > 10
    with english():
        for text in verdicts:
            said = verdict(text)
            assert said != text and not _FRENCH.search(_without_quotes(said)), (text, said)
        for text in pieces:
            said = evidence(text)
            assert not _FRENCH.search(_without_quotes(said)), (text, said)
            assert " ; " not in said
    with override("fr"):
        # The verdict as written, only its spacing set the French way (session 9).
        shown_verdicts = [verdict(v) for v in verdicts]
        assert [_plain(v) for v in shown_verdicts] == verdicts
        # French readers read what was journaled, only its spacing set the French way
        # (session 8: one « ; » with a narrow no-break space, test_evidence_spacing_s8.py).
        shown = [evidence(p) for p in pieces]
        plain = [_plain(x) for x in shown]
        assert plain == [re.sub(r"(?<! ); ", " ; ", p) for p in pieces]


def test_numbers_durations_and_rates_are_written_the_english_way() -> None:
    with english():
        assert EVIDENCE.say(
            "groupe 2 : 112 réponses en 41 min, alors que le rythme habituel autour est "
            "d'environ 1,5 par jour"
        ) == ("group 2: 112 responses in 41 min, when the usual rate around it is about 1.5 a day")
        assert EVIDENCE.say("rempli en moins de 1,5 h (médiane 2 min)") == (
            "filled in under 1.5 h (median 2 min)"
        )
        assert EVIDENCE.say("score d'automatisation 0.87") == "automation score 0.87"
        assert verdict(
            "3 réponses sur 96 sont signalées individuellement (détail ci-dessous). Résultat "
            "fragile pour : blouse — quelques formulaires de plus ou de moins suffiraient à "
            "inverser la majorité."
        ) == (
            "3 responses out of 96 are flagged one by one (details below). Fragile result for: "
            "blouse — a few forms more or fewer would be enough to reverse the majority."
        )
        # A piece no template knows stays as written...
        assert evidence("jeton utilisé par plusieurs réponses; réponse identique à plus") == (
            "token used by several responses; réponse identique à plus"
        )
        # ...but the one the journal cut at 500 characters is left out, marked "…".
        cut = ("jeton utilisé par plusieurs réponses; " * 20)[:500]
        assert evidence(cut) == "; ".join(["token used by several responses"] * 13 + ["…"])
        assert VERDICTS.say("Verdict inconnu.") == "Verdict inconnu."


def test_default_rule_labels_follow_the_language_and_an_organisers_own_does_not() -> None:
    with english():
        assert (
            rule_label("La dernière réponse d'un code compte") == "A code's latest response counts"
        )
        assert rule_label("Réponses signalées par l'audit d'intégrité écartées") == (
            "Responses flagged by the integrity audit set aside"
        )
        assert rule_label("Nos propres règles", "integrity_flag") == "Nos propres règles"
        assert rule_label("", "integrity_flag") == "integrity_flag"
    with override("fr"):
        assert rule_label("La dernière réponse compte") == "La dernière réponse compte"


def _spec(cid: str) -> dict:
    now = timezone.now().replace(microsecond=0)
    return {
        "id": cid,
        "title": "Piscine",
        "opens": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "closes": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "access": "open",
        "questions": [
            {
                "code": "creneau",
                "label": "Créneau",
                "kind": "single",
                "options": [
                    {"code": "matin", "label": "Matin"},
                    {"code": "soir", "label": "Soir"},
                ],
            }
        ],
        "rules": [
            {
                "code": "integrity_flag",
                "label": "Réponses signalées par l'audit d'intégrité écartées",
                "params": {"flags": ["audit"]},
            }
        ],
    }


@pytest.fixture
def flagged(org, members, monkeypatch, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="piscine-en", access="open", spec_dict=_spec("piscine-en"))
    spec = c.get_spec()
    rng = random.Random(2)
    clock = [timezone.now() - timedelta(days=2)]
    monkeypatch.setattr(actions.timezone, "now", lambda: clock[0])

    def submit(choice: str, seq: int, who: str) -> None:
        ballot = make_ballot(spec, {"creneau": choice}, [], public_key=None, seq=seq)
        item = actions.Incoming(ballot, None, net=f"prefix:{who}", addr=f"addr:{who}", ua="ua:x")
        assert actions.submit_ballots(c.cid, [item])[0].error is None

    for i in range(120):
        clock[0] += timedelta(seconds=rng.randint(600, 1800))
        submit(rng.choice(["matin", "soir"]), i + 1, str(i))
    for i in range(50):
        clock[0] += timedelta(seconds=2)
        submit("soir", 1000 + i, "bot")
    monkeypatch.undo()
    report = tasks.audit_box(c)
    assert report["new_flags"] > 0
    return c, report


def test_audit_page_and_report_in_english(client, members, org, flagged) -> None:
    c, report = flagged
    client.force_login(members["coordinator"])
    url = reverse("consult-audit", args=[org.slug, c.cid])
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        shown = _audit_report_shown(report)
    assert "group 1: 50 responses in" in page and "groupe 1 :" not in page
    assert shown is not None and shown["summary"]["verdict"].startswith("50 responses out of")
    assert shown["clusters"][0]["evidence"].startswith("50 responses in")
    assert report["summary"]["verdict"].startswith("50 réponses sur")  # the stored report
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "groupe 1\u00a0: 50 réponses en" in french

    detail = reverse("consult-detail", args=[org.slug, c.cid])
    with english():
        page = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        board = client.get(
            reverse("consult-board", args=[c.cid]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    assert "Responses flagged by the integrity audit set aside" in page
    assert "Responses flagged by the integrity audit set aside" in board
    # The public board lists the flags with their evidence, re-said too.
    assert "audit: group 1: 50 responses in" in board and "groupe 1 :" not in board
