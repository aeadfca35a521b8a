"""Règles et décisions → « Voir l'effet avant de décider »: each chosen entry already set
aside is named by its rule's label (its code beside it, for the scrutineer), as on the
board; and a signed entry shows its key's segment, not « — » (a signed ballot carries no
segment of its own)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from beffroi.consult import actions
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.models import BoardEntry

pytestmark = pytest.mark.usefixtures("consult_writes_now")


def _rows(page: str) -> dict[int, str]:
    body = page[page.index("<tbody>", page.index("Aperçu de la décision")) :]
    body = body[: body.index("</tbody>")]
    rows = {}
    for row in body.split("<tr>")[1:]:
        n = int(row.split('<td class="num">', 1)[1].split("<", 1)[0])
        rows[n] = row
    return rows


def test_the_preview_names_rules_by_label_and_signed_entries_by_their_keys_segment(
    client, org, members
):
    c, private = setup_consultation(org, cid="apercu", access="credentialed", per_segment=1)
    cred = private[0]
    rows = [{"blouse": "oui", "drapeau": "oui", "aide": "oui"}, {}]
    for seq in (1, 2):  # the second answer replaces the first: entry 1 is set aside
        p = signed_payload(c, cred.code, {}, rows, seq)
        outcome = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], p["signature"])])
        assert outcome[0].error is None
    assert BoardEntry.objects.filter(consultation=c).count() == 2
    client.force_login(members["coordinator"])
    response = client.post(
        reverse("consult-exclude", args=[org.slug, c.cid]),
        {"entries": "1-2", "reason": "Essai de l'aperçu"},
    )
    assert response.status_code == 200
    shown = _rows(html.unescape(response.content.decode()))
    assert "déjà écartée par la règle « La dernière réponse d'un code compte »" in shown[1]
    assert "<code>one_ballot_per_key</code>" in shown[1]
    assert "comptée" in shown[2] and "déjà écartée" not in shown[2]
    for n in (1, 2):
        assert f"<td>{cred.segment}</td>" in shown[n]
