"""Session 6: a label's colon and a percentage follow each language's typography on the
consultation pages (« État : », « 5,2 % » in French; "Status:", "5.2%" in English)."""

from __future__ import annotations

import re

from django.urls import reverse

from beffroi.consult.cli_example_bundle import setup_consultation
from english_catalogue import english


def test_label_colons_follow_the_language(client, members, org):
    c, _ = setup_consultation(org, cid="colons", access="open")
    client.force_login(members["coordinator"])
    url = reverse("consult-detail", args=[org.slug, c.cid])
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<strong>État :</strong>" in french and "Période :" in french
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        board = client.get(
            reverse("consult-board", args=[c.cid]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    assert "<strong>Status:</strong>" in page and "Period:" in page
    spec = c.get_spec()
    # The organiser's own French (title, description, questions) is theirs to write.
    theirs = [spec.title, spec.description] + [q.label for q in spec.questions]
    for html in (page, board):
        visible = re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'")
        for text in theirs:
            visible = visible.replace(text, "")
        assert not re.search(r"[A-Za-z] :", visible), re.findall(r".{30}[A-Za-z] :.{10}", visible)


def test_percentages_follow_the_language(client, members, org):
    c, _ = setup_consultation(org, cid="pourcent", access="open")
    assert any(s.electorate for s in c.get_spec().segments)
    url = reverse("consult-board", args=[c.cid])
    french = re.sub(r"<[^>]+>", "", client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    with english():
        english_page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    english_text = re.sub(r"<[^>]+>", "", english_page)
    assert re.search(r"\(participation \d+,\d %\)", french)
    assert re.search(r"\(turnout \d+\.\d%\)", english_text)
    assert not re.search(r"\d %", english_text)
