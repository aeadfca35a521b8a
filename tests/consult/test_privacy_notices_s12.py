"""What is published is said before it is: the revocation reason is marked public, the
answer page says answers (free text included) go on the public board, and a segment
small enough for its answers to point at people is flagged before opening."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation
from beffroi.consult.forms import RevokeForm
from beffroi.consult.spec import small_segments, spec_from_dict

pytestmark = pytest.mark.usesdb


def test_the_revocation_reason_is_marked_public() -> None:
    field = RevokeForm().fields["reason"]
    assert "publié" in str(field.label)
    assert "tableau public" in str(field.help_text) and "aucun nom" in str(field.help_text)


@pytest.mark.parametrize("access", ["open", "credentialed"])
def test_the_answer_page_says_answers_are_published(client, org, access) -> None:
    c, _ = setup_consultation(org, cid=f"pub-{access}", access=access, per_segment=1)
    page = client.get(reverse("consult-answer", args=[c.cid])).content.decode()
    note = page.split('data-testid="published-note"', 1)[1].split("</p>", 1)[0]
    assert "y compris le texte libre, seront publiées telles quelles sur le tableau public" in note


def test_small_segments_are_flagged_before_opening(client, org, members) -> None:
    d = example_spec_dict("petit", access="open")
    d["segments"][0]["electorate"] = 3
    d["segments"][1]["electorate"] = 0  # not declared: not flagged
    assert [s.code for s in small_segments(spec_from_dict(d))] == [d["segments"][0]["code"]]
    c, _ = setup_consultation(org, cid="petit", access="open", spec_dict=d, open_it=False)
    client.force_login(members["coordinator"])
    page = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    box = page.split('data-testid="small-segments"', 1)[1].split("</div>", 1)[0]
    assert "Segments de moins de 5 personnes" in box
    assert f"{d['segments'][0]['label']} : 3 personnes" in box
    d2 = example_spec_dict("grand", access="open")
    c2, _ = setup_consultation(org, cid="grand", access="open", spec_dict=d2, open_it=False)
    page = client.get(reverse("consult-detail", args=[org.slug, c2.cid])).content.decode()
    assert 'data-testid="small-segments"' not in page
