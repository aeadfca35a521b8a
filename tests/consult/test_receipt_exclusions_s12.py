"""A receipt is the respondent's only check: it must say when the ballot it names is on
the board but set aside by the results (a revoked code, a motivated decision, an
integrity flag), and why; not only when a later ballot with the same code replaced it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.consult import actions
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.credentials import public_key_hex
from beffroi.core import actions as core_actions

pytestmark = pytest.mark.usesdb


def _submit(c, code, seq):
    spec = c.get_spec()
    rows = [{q.code: "oui" for q in spec.questions if q.per_row}, {}]
    p = signed_payload(c, code, {}, rows, seq)
    return actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], p["signature"])])[0].entry


NEW = "ab" * 32  # the key of a reissued letter


def _receipt(client, c, entry, fmt=None):
    params = {"recu": entry["receipt"]}
    if fmt:
        params["format"] = fmt
    return client.get(reverse("consult-receipt", args=[c.cid]), params)


def test_receipts_say_which_rule_set_the_ballot_aside(db, client) -> None:
    org = core_actions.create_organisation("Org", "org")
    c, private = setup_consultation(org, cid="rcpt", access="credentialed", per_segment=3)
    revoked, decided, counted = (_submit(c, p.code, 5) for p in private[:3])
    # A code that has voted is revoked with the authority's replacement.
    actions.revoke_credential(
        c, public_key_hex(private[0].code, c.cid), "lettre perdue", actor=None, replacement=NEW
    )
    actions.exclude_entries(c, [decided["hash"]], "doublon suspect", actor=None)

    html = _receipt(client, c, revoked).content.decode()
    assert "C'est la réponse qui compte" not in html
    assert "n'est pas comptée : ce code a été révoqué le" in html
    assert "(motif : lettre perdue)" in html

    html = _receipt(client, c, decided).content.decode()
    assert "C'est la réponse qui compte" not in html
    assert "écartée par une décision motivée (motif : doublon suspect)" in html
    assert "ajoutée après l'ouverture (post hoc)" in html

    html = _receipt(client, c, counted).content.decode()
    assert "C'est la réponse qui compte pour ce code (la dernière)." in html
    assert "n'est pas comptée" not in html

    data = _receipt(client, c, revoked, "json").json()
    assert data["counted"] is False
    assert data["excluded"]["rule"] == "revoked_key"
    assert data["excluded"]["reason"] == "lettre perdue"
    assert data["excluded"]["revoked_at"]
    assert _receipt(client, c, counted, "json").json()["counted"] is True


def test_a_replaced_ballot_still_names_the_one_that_counts(db, client) -> None:
    org = core_actions.create_organisation("Org", "org")
    c, private = setup_consultation(org, cid="rcpt2", access="credentialed", per_segment=2)
    first = _submit(c, private[0].code, 5)
    last = _submit(c, private[0].code, 6)
    html = _receipt(client, c, first).content.decode()
    assert f"(entrée n° {last['n']}) la remplace : c'est elle qui compte." in html
    data = _receipt(client, c, first, "json").json()
    assert data["excluded"]["rule"] == "one_ballot_per_key"
    assert data["superseded_by"] == last["n"]


def test_the_board_lists_each_revocation_and_whether_the_code_had_voted(db, client) -> None:
    org = core_actions.create_organisation("Org", "org")
    c, private = setup_consultation(org, cid="rvk", access="credentialed", per_segment=3)
    _submit(c, private[0].code, 5)
    actions.revoke_credential(
        c, public_key_hex(private[0].code, c.cid), "lettre volée", actor=None, replacement=NEW
    )
    actions.revoke_credential(
        c, public_key_hex(private[1].code, c.cid), "lettre perdue", actor=None
    )
    html = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert 'data-testid="revocations"' in html
    section = html.split('data-testid="revocations"', 1)[1].split("</section>", 1)[0]
    assert "lettre volée" in section and "lettre perdue" in section
    assert section.count("oui : 1 réponse écartée") == 1
    assert public_key_hex(private[0].code, c.cid)[:12] in section


def test_the_receipt_of_a_flagged_unsigned_answer_names_the_flag(db, client) -> None:
    from beffroi.consult.cli_example_bundle import unsigned_payload

    org = core_actions.create_organisation("Org", "org")
    c, _ = setup_consultation(org, cid="rflag", access="open")
    spec = c.get_spec()
    rows = [{q.code: "oui" for q in spec.questions if q.per_row}, {}]
    p = unsigned_payload(c, {}, rows, 1, spec.segments[0].code)
    entry = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], None)])[0].entry
    name = next(r for r in spec.rules if r.code == "integrity_flag").params["flags"][0]
    assert "n'est pas comptée" not in _receipt(client, c, entry).content.decode()
    actions.record_flags(c, [(entry["hash"], name, "rafale")])
    html = _receipt(client, c, entry).content.decode()
    assert "signalements de l'audit d'intégrité (signalement : " + name + ")" in html
    assert "figure parmi les réponses non vérifiées" not in html
    assert _receipt(client, c, entry, "json").json()["excluded"]["flags"] == [name]


def test_a_replaced_ballot_whose_successor_is_set_aside_does_not_say_it_counts(db, client):
    org = core_actions.create_organisation("Org", "org")
    c, private = setup_consultation(org, cid="rcpt3", access="credentialed", per_segment=2)
    first = _submit(c, private[0].code, 5)
    last = _submit(c, private[0].code, 6)
    actions.exclude_entries(c, [last["hash"]], "réponse contestée", actor=None)
    html = _receipt(client, c, first).content.decode()
    assert "c'est elle qui compte" not in html
    assert "mais elle est elle-même écartée : aucune réponse de ce code n'est comptée." in html
