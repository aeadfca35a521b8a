"""Session 7, third pass: « champ(s) inattendu(s) », « code(s) écrit(s) »,
« clé(s) déjà importée(s) », « clé(s) publique(s) importée(s) », « vérifiée(s) »,
and "at most 1 choice(s)" become real singular and plural, in French
and in English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from beffroi.cli import main as cli_main
from beffroi.consult import actions, api
from beffroi.consult.ballot import BALLOT_KEYS, MalformedBallot, check_shape
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload, unsigned_payload
from beffroi.consult.credentials import generate
from beffroi.consult.views_i18n import answer_error, refusal
from beffroi.core.actions import ActionError
from english_catalogue import english

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]


def _ballot() -> dict:
    return {k: None for k in BALLOT_KEYS} | {"v": 1, "seq": 1, "answers": {}, "rows": []}


def _refused(ballot: dict) -> str:
    with pytest.raises(MalformedBallot) as caught:
        check_shape(ballot)
    return caught.value.message


@pytest.mark.parametrize(
    "drop,add,french,english_text",
    [
        (["seq"], [], "Bulletin incomplet : champ seq.", "Incomplete ballot: missing field seq."),
        (
            ["rows", "seq"],
            [],
            "Bulletin incomplet : champs rows, seq.",
            "Incomplete ballot: missing fields rows, seq.",
        ),
        ([], ["x"], "Bulletin : champ inattendu x.", "Ballot: unexpected field x."),
        ([], ["x", "y"], "Bulletin : champs inattendus x, y.", "Ballot: unexpected fields x, y."),
    ],
)
def test_a_malformed_ballot_names_one_field_or_several(drop, add, french, english_text) -> None:
    ballot = _ballot()
    for key in drop:
        del ballot[key]
    ballot |= {key: 1 for key in add}
    message = _refused(ballot)
    assert message == french
    with english():
        assert refusal(message) == english_text


def test_a_field_named_like_the_plural_is_still_one_field() -> None:
    # « champ s… » must not be read as the plural « champs … » with a field "…".
    with english():
        assert refusal("Bulletin : champ inattendu s.") == "Ballot: unexpected field s."
        assert refusal("Bulletin incomplet : champ sseq.") == (
            "Incomplete ballot: missing field sseq."
        )


def test_at_most_one_choice_and_at_most_several_choices_in_english() -> None:
    with english():
        assert answer_error("question « q » : au plus 1 choix") == "question “q”: at most 1 choice"
        assert answer_error("question « q » : au plus 3 choix") == (
            "question “q”: at most 3 choices"
        )
        assert answer_error("question « q » : au plus 11 choix") == (
            "question “q”: at most 11 choices"
        )
        assert answer_error("Parent 1, question « q » : au plus 1 choix") == (
            "Parent 1, question “q”: at most 1 choice"
        )


@pytest.mark.parametrize(
    "segments,said", [("A1=1", "1 code écrit dans "), ("A1=2", "2 codes écrits dans ")]
)
def test_the_credential_cli_counts_written_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], segments: str, said: str
) -> None:
    out = tmp_path / "out"
    argv = ["credentials", "generate", "--segments", segments, "--consultation-id", "c-9"]
    argv += ["--base-url", "https://ex.org", "--out", str(out), "--no-pdf"]
    assert cli_main(argv) == 0
    printed = capsys.readouterr().out
    # --no-pdf: no lettres.pdf to call private.
    assert printed.startswith(said + f"{out}/ : codes.csv est PRIVÉ"), printed
    assert "(s)" not in printed


def _public_list(cid: str, n: int) -> str:
    _, public = generate(None, {"A1": n}, cid, "https://ex.org")
    return "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in public)


@pytest.mark.parametrize(
    "n,french,english_text",
    [
        (
            1,
            r"1 clé déjà importée \([0-9a-f]{16}…\) : rien n'a été importé\.",
            r"1 key already imported \([0-9a-f]{16}…\): nothing was imported\.",
        ),
        (
            2,
            r"2 clés déjà importées, par ex\. [0-9a-f]{16}… : rien n'a été importé\.",
            r"2 keys already imported, e\.g\. [0-9a-f]{16}…: nothing was imported\.",
        ),
    ],
)
def test_a_second_import_counts_the_keys_already_there(org, n, french, english_text) -> None:
    c, _ = setup_consultation(org, cid="rythmes-s7", access="mixed", per_segment=1, open_it=False)
    text = _public_list(c.cid, n)
    actions.import_credentials(c, text, actor=None)
    with pytest.raises(ActionError) as caught:
        actions.import_credentials(c, text, actor=None)
    assert re.fullmatch(french, str(caught.value)), str(caught.value)
    with english(), pytest.raises(ActionError) as caught:
        actions.import_credentials(c, text, actor=None)
    assert re.fullmatch(english_text, str(caught.value)), str(caught.value)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_consultation_page_counts_keys_and_revoked_keys(client, members, org) -> None:
    c, _ = setup_consultation(org, cid="rythmes-s7", access="mixed", per_segment=1)
    n = c.credentials.count()
    assert n > 1
    client.force_login(members["coordinator"])
    url = reverse("consult-detail", args=[org.slug, c.cid])

    def page(language: str) -> str:
        return _text(client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode())

    assert f"{n} clés publiques importées." in page("fr")
    with english():
        assert f"{n} public keys imported." in page("en")
    keys = list(c.credentials.values_list("public_key", flat=True))
    actions.revoke_credential(c, keys[0], "lettre perdue", actor=None)
    assert f"{n} clés publiques importées, dont 1 révoquée." in page("fr")
    with english():
        assert f"{n} public keys imported, 1 revoked." in page("en")
    actions.revoke_credential(c, keys[1], "lettre perdue", actor=None)
    assert f"{n} clés publiques importées, dont 2 révoquées." in page("fr")
    for said in (page("fr"), page("en")):
        assert "(s)" not in said


def test_one_key_imported_is_said_in_the_singular(client, members, org) -> None:
    c, _ = setup_consultation(org, cid="rythmes-s7", access="mixed", per_segment=1, open_it=False)
    client.force_login(members["coordinator"])
    url = reverse("consult-detail", args=[org.slug, c.cid])
    c.credentials.exclude(pk=c.credentials.first().pk).delete()
    assert "1 clé publique importée." in _text(client.get(url).content.decode())
    with english():
        said = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "1 public key imported." in said


def test_the_board_counts_verified_and_unverified_responses(org, settings, client) -> None:
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    api._SPEC_CACHE.clear()
    c, private = setup_consultation(
        org, cid="rythmes-s7", access="mixed", per_segment=2, all_kinds=True
    )
    segment = c.get_spec().segment_codes()[0]
    url = reverse("consult-board", args=[c.cid])

    def submit(payload: dict) -> None:
        incoming = actions.Incoming(payload["ballot"], payload["signature"])
        assert actions.submit_ballots(c.cid, [incoming])[0].error is None

    def board(language: str) -> str:
        return _text(client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode())

    submit(signed_payload(c, private[0].code, {"satisfaction": 2}, ROWS, 1))
    # In French 0 takes the singular (the French catalogue's plural rule).
    assert "1 réponse comptée : 1 vérifiée, 0 non vérifiée." in board("fr")
    with english():
        assert "1 response counted: 1 verified, 0 unverified." in board("en")
    submit(signed_payload(c, private[1].code, {"satisfaction": 3}, ROWS, 1))
    submit(unsigned_payload(c, {"satisfaction": 4}, ROWS, 1, segment))
    assert "3 réponses comptées : 2 vérifiées, 1 non vérifiée." in board("fr")
    submit(unsigned_payload(c, {"satisfaction": 5}, ROWS, 2, segment))
    assert "4 réponses comptées : 2 vérifiées, 2 non vérifiées." in board("fr")
    with english():
        said = board("en")
    assert "4 responses counted: 2 verified, 2 unverified." in said
    assert "(s)" not in said and "(s)" not in board("fr")
