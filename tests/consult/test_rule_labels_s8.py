"""« Écartées : 1 par la règle one_ballot_per_key » (session-8 walkthrough, #15): the
public board and « Règles et décisions » named the rule by its code only.  They now
read its label, with the code beside it for a scrutineer comparing with the bundle."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from beffroi.consult import actions
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.spec import spec_from_dict
from beffroi.consult.views_i18n import excluded_by_rule
from consult_specs import cantine_spec
from english_catalogue import english

pytestmark = pytest.mark.usefixtures("consult_writes_now")


def _spec(cid: str) -> dict:
    # The builder's own label: translated for an English reader.
    return cantine_spec(
        cid, rules=[{"code": "one_ballot_per_key", "label": "La dernière réponse d'un code compte"}]
    )


@pytest.fixture
def replaced(org):
    """One code that answered twice: its first entry is set aside by one_ballot_per_key."""
    c, private = setup_consultation(
        org, cid="cantine-s8", access="credentialed", per_segment=1, spec_dict=_spec("cantine-s8")
    )
    for seq, menu in [(1, "bio"), (2, "local")]:
        p = signed_payload(c, private[0].code, {"menu": menu}, [], seq)
        item = actions.Incoming(p["ballot"], p["signature"])
        assert actions.submit_ballots(c.cid, [item])[0].error is None
    c.refresh_from_db()
    return c


def _excluded_line(html: str) -> str:
    found = re.search(r'<p data-testid="excluded-by-rule">(.*?)</p>', html, re.S)
    assert found, "no line of responses set aside"
    return found.group(1)


def test_board_names_the_rule_by_its_label_with_its_code_beside(client, replaced) -> None:
    html = client.get(reverse("consult-board", args=[replaced.cid])).content.decode()
    line = _excluded_line(html)
    assert "1 par la règle « La dernière réponse d&#x27;un code compte »" in line
    assert "(<code>one_ballot_per_key</code>)" in line


def test_board_in_english_translates_the_builders_label(client, replaced) -> None:
    client.cookies["django_language"] = "en"
    with english():
        html = client.get(reverse("consult-board", args=[replaced.cid])).content.decode()
    line = _excluded_line(html)
    assert "1 by the rule “A code&#x27;s latest response counts”" in line
    assert "(<code>one_ballot_per_key</code>)" in line
    assert "par la règle" not in line


def test_rules_page_names_the_rule_by_its_label(client, members, org, replaced) -> None:
    client.force_login(members["coordinator"])
    html = client.get(reverse("consult-exclude", args=[org.slug, replaced.cid])).content.decode()
    line = _excluded_line(html)
    assert "1 par la règle « La dernière réponse d&#x27;un code compte »" in line
    assert "(<code>one_ballot_per_key</code>)" in line


def test_labels_of_an_organisers_rule_the_revoked_keys_and_an_unlabelled_rule() -> None:
    spec_dict = _spec("x")
    spec_dict["rules"] = [
        {"code": "one_ballot_per_key", "label": "Notre règle"},
        {"code": "integrity_flag", "label": "", "params": {"flags": ["audit"]}},
    ]
    spec = spec_from_dict(spec_dict)
    got = excluded_by_rule(
        spec, {"one_ballot_per_key": 2, "revoked_key": 1, "integrity_flag": 3, "other": 4}
    )
    assert got == [
        ("one_ballot_per_key", "Notre règle", 2),
        ("revoked_key", "Les réponses d'un code révoqué sont écartées", 1),
        # No label to show: the code alone, as before.
        ("integrity_flag", "integrity_flag", 3),
        ("other", "other", 4),
    ]
