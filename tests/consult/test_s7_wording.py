"""Session 7: real French singular and plural where pure code wrote « 1 réseaux »,
« jamais vus » for addresses, « ligne(s) », « code(s) révoqué(s) »; the English templates
follow. Evidence is journaled and published inside the bundle's hash chain: a bundle
whose flags hold the wording of before still verifies (the verifier reads flags by name
and never rebuilds their evidence)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.cli import main as cli_main
from beffroi.consult import actions, api
from beffroi.consult.ballot import InvalidAnswers, make_ballot
from beffroi.consult.bundle import JournalEvent, journal_lines
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.examples import example_board
from beffroi.consult.spec import AnswersError, parse_time, spec_from_dict, validate_answers
from beffroi.consult.verify import verify_bundle
from beffroi.consult.views_i18n import EVIDENCE, PROGRESS, evidence, refusal
from beffroi.integrity.detectors import _CalmDurations, _check_duration, _check_network
from english_catalogue import english

MEMBERS = np.arange(10)


def _network(col: str, values: list[int], outside: list[int]) -> str:
    """The network check's evidence for ten burst members with these values of
    ``col``, the values having been seen ``outside[v]`` times outside the bursts."""
    codes = {col: np.asarray(values)}
    totals = {col: np.asarray([*outside, 1000])}
    return _check_network(MEMBERS, codes, totals).evidence


@pytest.mark.parametrize(
    "col,values,outside,french,english_text",
    [
        (
            "net",
            [0] * 10,
            [0],
            "10 réponses viennent de 1 réseau (/24 ou /48) jamais vu hors des rafales",
            "10 responses come from a single network (/24 or /48) never seen outside the bursts",
        ),
        (
            "ip",
            [0] * 10,
            [0],
            "10 réponses viennent de 1 adresse IP jamais vue hors des rafales",
            "10 responses come from a single IP address never seen outside the bursts",
        ),
        (
            "ref",
            [0] * 10,
            [1],
            "10 réponses viennent de 1 URL de provenance vue seulement 1 fois hors des rafales",
            "10 responses come from a single referrer URL seen only once outside the bursts",
        ),
        (
            "ua",
            [0] * 10,
            [1],
            "10 réponses viennent de 1 navigateur vu seulement 1 fois hors des rafales",
            "10 responses come from a single browser seen only once outside the bursts",
        ),
        (
            "lang",
            [0] * 5 + [1] * 5,
            [0, 0],
            "10 réponses viennent de 2 langues jamais vues hors des rafales",
            "10 responses come from 2 languages never seen outside the bursts",
        ),
        (
            "ip",
            [0] * 5 + [1] * 5,
            [1, 1],
            "10 réponses viennent de 2 adresses IP vues seulement 2 fois hors des rafales",
            "10 responses come from 2 IP addresses seen only 2 times outside the bursts",
        ),
        (
            "net",
            [0] * 5 + [1] * 5,
            [0, 0],
            "10 réponses viennent de 2 réseaux (/24 ou /48) jamais vus hors des rafales",
            "10 responses come from 2 networks (/24 or /48) never seen outside the bursts",
        ),
    ],
)
def test_network_evidence_agrees_in_number_and_gender(
    col, values, outside, french, english_text
) -> None:
    text = _network(col, values, outside)
    assert text == french
    with english():
        assert evidence(text) == english_text


def test_fast_completions_are_counted_in_the_singular_below_two() -> None:
    calm = _CalmDurations(np.full(50, 120.0), 120.0, 5.0)
    texts = []
    for fast in (0, 1, 3):
        dur = np.asarray([2.0] * fast + [20.0] * (10 - fast))
        texts.append(_check_duration(MEMBERS, dur, calm).evidence.split(" ; ")[1])
    assert texts == [
        "0 réponse en moins de 5 s",
        "1 réponse en moins de 5 s",
        "3 réponses en moins de 5 s",
    ]
    with english():
        assert [EVIDENCE.say(t) for t in texts] == [
            "no response in under 5 s",
            "1 response in under 5 s",
            "3 responses in under 5 s",
        ]
        assert [PROGRESS.say(m) for m in ("aucune rafale repérée", "1 rafale repérée")] == [
            "no burst found",
            "1 burst found",
        ]


def _household(labels: list[str], min_filled: int) -> object:
    return spec_from_dict(
        {
            "id": "foyer",
            "title": "Foyer",
            "opens": "2026-01-01T00:00:00Z",
            "closes": "2026-02-01T00:00:00Z",
            "access": "open",
            "rows": {"labels": labels, "min_filled": min_filled},
            "questions": [
                {
                    "code": "q",
                    "label": "Q",
                    "kind": "multiple",
                    "per_row": True,
                    "options": [{"code": "a", "label": "A"}, {"code": "b", "label": "B"}],
                }
            ],
        }
    )


def _errors(spec: object, rows: object) -> list[str]:
    with pytest.raises(AnswersError) as caught:
        validate_answers(spec, {}, rows)  # type: ignore[arg-type]
    return caught.value.errors


def test_answer_errors_say_one_row_and_several_rows() -> None:
    one, two = _household(["Foyer"], 1), _household(["Parent 1", "Parent 2"], 2)
    assert _errors(one, []) == ["lignes : 1 ligne attendue"]
    assert _errors(two, []) == ["lignes : 2 lignes attendues"]
    assert _errors(one, [{}]) == ["lignes : au moins 1 ligne à remplir"]
    assert _errors(two, [{"q": ["a"]}, {}]) == ["lignes : au moins 2 lignes à remplir"]
    assert _errors(one, [{"q": ["x"]}]) == ["Foyer, question « q » : choix inconnu 'x'"]
    assert _errors(one, [{"q": ["x", "y"]}]) == ["Foyer, question « q » : choix inconnus 'x', 'y'"]
    with english():
        said = refusal(
            InvalidAnswers(
                _errors(two, [])
                + _errors(one, [{}])
                + _errors(one, [{"q": ["x", "y"]}])
                + _errors(two, [{"q": ["a"]}, {}])
            ).message
        )
    assert said == (
        "Invalid answers: rows: 2 rows expected; rows: at least 1 row to fill in; Foyer, "
        "question “q”: unknown choices 'x', 'y'; rows: at least 2 rows to fill in"
    )


def test_verify_says_its_counts_in_the_singular_and_the_plural(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(example_board(60, seed=4).bundle())
    assert cli_main(["verify", "--quiet", str(path)]) == 0
    said = capsys.readouterr().out
    assert "(s)" not in said
    assert "1 code révoqué." in said and " entrées sur le tableau, " in said
    assert " bulletins comptés (" in said and " vérifiés, " in said


# What the live audit journaled before session 7 (detectors' and tasks' wording then).
OLD_EVIDENCE = (
    "groupe 1 : 40 réponses en 10 min, alors que le rythme habituel autour est d'environ "
    "6,7 par jour; 40 réponses viennent de 1 réseaux (/24 ou /48) jamais vus hors des "
    "rafales ; 12 réponses viennent de 1 adresses IP vus seulement 1 fois hors des rafales"
)


def test_a_bundle_whose_flags_hold_the_old_wording_still_verifies() -> None:
    ex = example_board(60, seed=5)
    flag_lines = [line for line in ex.journal if line["kind"] == "flag"]
    assert flag_lines, "the example board raises one flag"
    events = []
    for line in ex.journal:
        data = dict(line["data"])
        if line["kind"] == "flag":
            data["evidence"] = OLD_EVIDENCE
        events.append(JournalEvent(parse_time(line["at"], "at"), line["kind"], data))
    ex.journal = journal_lines(ex.spec, events)
    report = verify_bundle(ex.bundle())
    assert report.ok, report.lines()
    assert report.stats["counted"]["all"] > 0
    # Such a journal still reads in English on the pages.
    with english():
        assert evidence(OLD_EVIDENCE).endswith(
            "12 responses come from a single IP address seen only once outside the bursts"
        )


def test_the_live_audit_page_counts_one_unverified_response_in_the_singular(
    client, members, org, settings
) -> None:
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    now = timezone.now().replace(microsecond=0)
    spec = {
        "id": "piscine-s7",
        "title": "Piscine",
        "opens": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "closes": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "access": "open",
        "questions": [
            {
                "code": "creneau",
                "label": "Créneau",
                "kind": "single",
                "options": [{"code": "matin", "label": "Matin"}, {"code": "soir", "label": "Soir"}],
            }
        ],
    }
    c, _ = setup_consultation(org, cid="piscine-s7", access="open", spec_dict=spec)
    ballot = make_ballot(c.get_spec(), {"creneau": "matin"}, [], public_key=None, seq=1)
    item = actions.Incoming(ballot, None, net="prefix:1", addr="addr:1", ua="ua:x")
    assert actions.submit_ballots(c.cid, [item])[0].error is None
    client.force_login(members["coordinator"])
    url = reverse("consult-audit", args=[org.slug, c.cid])
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "L'audit porte sur 1 réponse non vérifiée (sans code)" in french
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The audit covers 1 unverified response (without a voting code)" in page
