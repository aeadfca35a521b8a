"""The builder says at the top that nothing was saved, with a link to each field to
correct (session-8 walkthrough: on a phone the page came back at its top with the
first error 900 px below, and nothing on screen said the draft was not saved)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from english_catalogue import english

BASE = {
    "cid": "s8-builder",
    "title": "Cantine",
    "opens": "2026-12-01T10:00",
    "closes": "2026-12-03T10:00",
    "access": "open",
    "min_filled": "1",
    "segments": "A1 ; École Jules-Ferry ; 12",
    "q-TOTAL_FORMS": "2",
    "q-INITIAL_FORMS": "0",
    "q-MIN_NUM_FORMS": "0",
    "q-MAX_NUM_FORMS": "1000",
    "q-0-label": "Menu végétarien ?",
    "q-0-kind": "single",
    "q-0-options": "oui\nnon",
    "q-1-label": "",
    "q-1-kind": "single",
}


def _summary(html: str) -> str | None:
    found = re.search(r'<div class="card errors" role="alert"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else None


def _post(client, org, **changes: str) -> str:
    resp = client.post(reverse("consult-create", args=[org.slug]), BASE | changes)
    return resp.content.decode() if resp.status_code == 200 else ""


def test_the_summary_links_to_each_field_to_correct(client, org, members) -> None:
    client.force_login(members["coordinator"])
    wrong = {"closes": "2026-11-30T10:00", "segments": "A1 ; École ; douze", "q-0-options": "oui"}
    html = _post(client, org, **wrong)
    summary = _summary(html)
    assert summary is not None
    assert "Le brouillon n'a pas été enregistré" in summary
    links = re.findall(r'<a href="#([^"]+)">', summary)
    assert links == ["id_closes", "id_segments", "id_q-0-options"]
    for target in links:  # each link lands on its field
        assert f'id="{target}"' in html
    assert "Question 1 · Options" in summary
    # The summary comes before the form.
    assert html.index("card errors") < html.index('<form method="post" class="builder">')


def test_no_summary_on_a_blank_form_or_a_saved_draft(client, org, members) -> None:
    client.force_login(members["coordinator"])
    blank = client.get(reverse("consult-create", args=[org.slug])).content.decode()
    assert _summary(blank) is None
    resp = client.post(reverse("consult-create", args=[org.slug]), BASE)
    assert resp.status_code == 302


@pytest.mark.parametrize("lang,words", [("en", "The draft was not saved")])
def test_the_summary_in_english(client, org, members, lang: str, words: str) -> None:
    client.force_login(members["coordinator"])
    client.cookies["django_language"] = lang
    with english():
        summary = _summary(_post(client, org, closes="2026-11-30T10:00"))
    assert summary is not None and words in summary
    assert '<a href="#id_closes">Closes</a>: ' in summary
