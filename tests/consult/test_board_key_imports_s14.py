"""The public board lists each import of public keys (time, count, segments), a late
one (after the opening) said so with the words `beffroi verify` uses; nothing private
(no key, code or person) appears in that list."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from beffroi.consult import actions, api, credentials, live
from beffroi.consult.cli_example_bundle import BASE_URL, setup_consultation
from beffroi.consult.cli_verify import summary_lines
from beffroi.consult.verify import verify_bundle


def _section(page: str) -> str:
    found = re.search(r'<section class="card" data-testid="key-imports">.*?</section>', page, re.S)
    assert found, "no key-import section on the board"
    return found.group(0)


def _late_list(cid: str, segments: dict[str, int]) -> tuple[list[Any], str]:
    private, public = credentials.generate(None, segments, cid, BASE_URL)
    return private, "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in public)


@pytest.mark.usesdb
def test_the_board_lists_a_late_import_with_its_segments(
    client: Any, org: Any, members: dict[str, Any]
) -> None:
    c, first = setup_consultation(org, cid="imports", access="credentialed", per_segment=2)
    late, text = _late_list(c.cid, {"A2": 1, "A4": 2})
    actions.import_credentials(c, text, actor=members["coordinator"])
    # A reissue adds a key too, but it is no import: the batches stay as imported.
    lost = credentials.public_key_hex(first[0].code, c.cid)
    actions.revoke_credential(c, lost, "lettre perdue", actor=None, replacement="cd" * 32)
    page = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    section = _section(page)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", section.split("<tbody>")[1], re.S)
    assert len(rows) == 2
    opening, later = rows
    assert "8 clés" in opening and "à l'ouverture" in opening
    for name in ("École Jules-Ferry", "École Pierre-Loti", "École Sainte-Marie"):
        assert name in opening
    assert 'data-testid="late-import"' in later
    assert "3 clés" in later and "après l'ouverture" in later
    assert "École Pierre-Loti, École des Salines" in later
    assert "Jules-Ferry" not in later
    # Nothing private: no key, no code, nobody's name.
    for cred in [*first, *late]:
        assert cred.public_key[:12] not in section and cred.code[:8] not in section
    assert members["coordinator"].username not in section
    # The same imports as verify's summary, at the same times.
    imports = api.key_imports(c)
    actions.close_consultation(c, actor=None)
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert [(i["at"], i["count"], i["late"]) for i in report.stats["imports"]] == [
        (i["at"], i["count"], i["late"]) for i in imports
    ]
    said = " ".join(summary_lines(report.stats))
    assert "(à l'ouverture) ; 3 clés le " in said and "(après l'ouverture)." in said


@pytest.mark.usesdb
def test_an_open_consultation_lists_no_import(client: Any, org: Any) -> None:
    c, _ = setup_consultation(org, cid="ouverte", access="open")
    page = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert 'data-testid="key-imports"' not in page
