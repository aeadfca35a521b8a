"""Session 7, second pass: « 1 réponses sur 96 sont signalées », « 1 formulaires »,
« autre(s) anomalie(s) », « code(s) importé(s) »,
« champ(s) inconnu(s) », « entrée(s) écartée(s) » become real
French singular and plural, and the English the pages show follows. A verdict stored
before (a live audit's last result) still reads in English."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from beffroi.consult import actions, api
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.examples import example_board
from beffroi.consult.spec import SpecError, format_time, spec_from_dict
from beffroi.consult.verify import MAX_LISTED, Report, _check_entry_alone, verify_bundle
from beffroi.consult.views_i18n import statement, verdict
from beffroi.integrity import robustness as rb
from beffroi.integrity.audit import _verdict
from beffroi.integrity.detectors import Encoded
from beffroi.integrity.load import Question
from english_catalogue import english

GROUP = {"flagged": 3}


@pytest.mark.parametrize(
    "n_flag,groups,french,english_text",
    [
        (
            1,
            [],
            "1 réponse sur 96 est signalée individuellement (détail ci-dessous).",
            "1 response out of 96 is flagged on its own (details below).",
        ),
        (
            3,
            [],
            "3 réponses sur 96 sont signalées individuellement (détail ci-dessous).",
            "3 responses out of 96 are flagged one by one (details below).",
        ),
        (
            1,
            [GROUP],
            "1 réponse sur 96 est signalée, dans 1 groupe arrivé en rafale avec plusieurs "
            "anomalies simultanées (détail ci-dessous).",
            "1 response out of 96 is flagged, in 1 group that arrived in a burst with several "
            "simultaneous anomalies (details below).",
        ),
        (
            1,
            [GROUP, GROUP],
            "1 réponse sur 96 est signalée, dans 2 groupes arrivés en rafale avec plusieurs "
            "anomalies simultanées (détail ci-dessous).",
            "1 response out of 96 is flagged, in 2 groups that arrived in bursts with several "
            "simultaneous anomalies (details below).",
        ),
        (
            5,
            [GROUP],
            "5 réponses sur 96 sont signalées, dans 1 groupe arrivé en rafale avec plusieurs "
            "anomalies simultanées (détail ci-dessous).",
            "5 responses out of 96 are flagged, in 1 group that arrived in a burst with several "
            "simultaneous anomalies (details below).",
        ),
    ],
)
def test_the_verdict_agrees_with_its_number(n_flag, groups, french, english_text) -> None:
    text = _verdict(n_flag, 96, groups, [])
    assert text == french
    with english():
        assert verdict(text) == english_text
        fragile = _verdict(n_flag, 96, groups, ["Q. 1"])
        assert verdict(fragile) == english_text + (
            " Fragile result for: Q. 1 — a few forms more or fewer would be enough to "
            "reverse the majority."
        )
    with override("fr"):
        assert verdict(text) == text
        # The fragile clause's colon is set the French way (no break before it).
        assert verdict(fragile) == fragile.replace(
            " Résultat fragile pour :", " Résultat fragile pour\u00a0:"
        )


def test_a_verdict_stored_before_still_reads_in_english() -> None:
    old = "1 réponses sur 96 sont signalées individuellement (détail ci-dessous)."
    with english():
        assert verdict(old) == "1 responses out of 96 are flagged one by one (details below)."


def _question(codes: list[list[int]]) -> dict:
    q = Question("Q1.", "Q. 1", [("Q[1]", "1"), ("Q[2]", "2")])
    c = np.array(codes, dtype=np.int16)
    res = rb.question_robustness(Encoded(q, ["Y", "N"], c), np.ones(len(c), bool), [1])
    assert res is not None
    return res


def test_robustness_counts_one_form_in_the_singular() -> None:
    one = _question([[0, 0], [1, -1], [0, 1]])["statement"]
    two = _question([[0, 0], [0, 1], [1, 1], [1, 1], [0, 1]])["statement"]
    assert one.endswith(
        "d'ajouter 1 formulaire ou d'en retirer 1 pour que « Non » passe "
        "devant (1 formulaire sur 3)."
    )
    assert two.endswith("(2 formulaires sur 5).")
    with english():
        assert statement(one).endswith(
            "adding 1 form or removing 1 would be enough to put “No” ahead (1 form out of 3)."
        )
        assert statement(two).endswith("(2 forms out of 5).")


def test_participation_counts_one_form_and_one_participant_in_the_singular() -> None:
    said = rb.participation({"A": 1, "Z": 1}, {"A": 2}, 50.0)["statements"]
    assert said[0] == "1 formulaire indique le segment « Z », absent de l'électorat déclaré."
    assert said[1].startswith(
        "Taux annoncé : 50 %, soit environ 1 participant sur 2. L'export contient "
        "1 formulaire complet (1 après le filtre Beffroi)."
    )
    none = rb.participation({}, {"A": 2}, 10.0)["statements"][0]
    assert none.startswith(
        "Taux annoncé : 10 %, soit environ 0 participant sur 2. L'export contient "
        "0 formulaire complet (0 après le filtre Beffroi)."
    )
    many = rb.participation({"A": 3, "Z": 2}, {"A": 2}, None)["statements"]
    assert many[0].startswith("Segment A : 3 formulaires pour un électorat déclaré de 2 — ")
    assert many[1] == "2 formulaires indiquent le segment « Z », absent de l'électorat déclaré."
    # No electorate declared in a segment: no « inf % » rate.
    empty = rb.participation({"A": 1}, {"A": 0}, None)["statements"]
    assert empty == [
        "Segment A : 1 formulaire pour un électorat déclaré de 0 — aucun électeur n'y est "
        "déclaré ; des réponses ne viennent pas d'électeurs de ce segment."
    ]
    with english():
        assert statement(said[0]) == (
            "1 form gives the segment “Z”, which is not in the declared electorate."
        )
        assert statement(said[1]).startswith(
            "Announced rate: 50%, about 1 participant out of 2. The export holds 1 complete "
            "form (1 after the Beffroi filter). In an open survey"
        )
        assert statement(none).startswith(
            "Announced rate: 10%, about 0 participants out of 2. The export holds 0 complete "
            "forms (0 after the Beffroi filter)."
        )
        assert statement(empty[0]) == (
            "Segment A: 1 form for a declared electorate of 0 — no voter is declared there; "
            "some responses do not come from this segment's voters."
        )
        assert statement(rb.participation({"A": 4}, {"A": 0}, None)["statements"][0]) == (
            "Segment A: 4 forms for a declared electorate of 0 — no voter is declared there; "
            "some responses do not come from this segment's voters."
        )


def test_the_verifier_says_one_other_failure_and_one_field() -> None:
    r = Report()
    for k in range(MAX_LISTED + 1):
        r.fail(f"anomalie {k}")
    assert r.lines()[-1] == "… et 1 autre anomalie"
    entry = {"n": 1, "received_at": "", "ballot": {}, "signature": None, "receipt": "", "prev": ""}
    assert _check_entry_alone(None, "", 1, entry) == [  # type: ignore[arg-type]
        "ballots.jsonl, entrée 1 : champ manquant hash"
    ]
    del entry["prev"]
    assert _check_entry_alone(None, "", 1, entry)[0].endswith(  # type: ignore[arg-type]
        " : champs manquants hash, prev"
    )
    entry |= {"prev": "", "hash": "", "extra": 1}
    assert _check_entry_alone(None, "", 1, entry)[0].endswith(  # type: ignore[arg-type]
        " : champ inattendu extra"
    )


def test_a_strict_spec_names_one_unknown_field_in_the_singular() -> None:
    with pytest.raises(SpecError, match=r"^consultation: champ inconnu 'x'$"):
        spec_from_dict({"x": 1}, strict=True)
    with pytest.raises(SpecError, match=r"^consultation: champs inconnus 'x', 'y'$"):
        spec_from_dict({"x": 1, "y": 2}, strict=True)


def _open_box(org):
    spec = {
        "id": "cantine-s7",
        "title": "Cantine",
        "opens": format_time(timezone.now().replace(microsecond=0) - timedelta(minutes=5)),
        "closes": format_time(timezone.now().replace(microsecond=0) + timedelta(days=2)),
        "access": "open",
        "questions": [
            {
                "code": "menu",
                "label": "Menu",
                "kind": "single",
                "options": [{"code": "bio", "label": "Bio"}, {"code": "local", "label": "Local"}],
            }
        ],
    }
    c, _ = setup_consultation(org, cid="cantine-s7", access="open", spec_dict=spec)
    items = [
        actions.Incoming(
            make_ballot(c.get_spec(), {"menu": "bio"}, [], public_key=None, seq=i + 1),
            None,
            net="prefix:x",
            addr="addr:x",
            ua="ua:x",
        )
        for i in range(4)
    ]
    assert all(o.error is None for o in actions.submit_ballots(c.cid, items))
    return c


def test_setting_entries_aside_says_one_entry_and_several_entries(
    client, members, org, settings
) -> None:
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c = _open_box(org)
    client.force_login(members["coordinator"])
    url = reverse("consult-exclude", args=[org.slug, c.cid])

    def confirm(entries: str, language: str) -> str:
        data = {"entries": entries, "reason": "Envois de test", "confirm": "1"}
        resp = client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE=language)
        return resp.content.decode()

    one = "1 entrée écartée par décision post hoc, inscrite au journal : le résultat sans elle "
    assert one in confirm("1", "fr")
    several = (
        "2 entrées écartées par décision post hoc, inscrite au journal : le résultat sans "
        "elles reste affiché."
    )
    assert several in confirm("2-3", "fr")
    with english():
        page = confirm("4", "en")
    assert (
        "1 entry set aside by a post-hoc decision, recorded in the journal: the result "
        "without it stays on display."
    ) in page


@pytest.mark.parametrize(
    "count,said", [(1, "1 code importé et 1 réémis"), (2, "2 codes importés et 1 réémis")]
)
def test_the_verifier_counts_imported_codes_in_the_singular_and_the_plural(count, said) -> None:
    parts = _members(example_board(40, seed=3).bundle())
    journal = [json.loads(line) for line in parts["journal.jsonl"].splitlines()]
    for line in journal:
        if line["kind"] == "credentials_imported":
            line["data"]["count"] = count
    parts["journal.jsonl"] = "".join(json.dumps(line) + "\n" for line in journal).encode()
    lines = verify_bundle(_zipped(parts)).lines()
    # The example board reissues one lost letter: 30 imported keys and the new one.
    assert f"journal.jsonl : {said}, mais 31 dans credentials.jsonl" in lines, lines


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return out.getvalue()
