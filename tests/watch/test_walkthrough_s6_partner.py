"""Session-6 walkthrough: the partners' read-only page says until when its link is
valid as a sentence that ends cleanly in English ("8:23 p.m.." was its end)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


@pytest.fixture
def token(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return token


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_partner_page_expiry_ends_the_sentence_once(client, token):
    url = reverse("watch-partner", args=[token])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert re.search(
        r"valid until <time datetime=\"[^\"]+\"[^>]*>[^<]+ \(CES?T\)</time>\.", english
    )
    assert ".." not in _text(english)
    assert re.search(
        r"valable jusqu'au <time datetime=\"[^\"]+\"[^>]*>[^<]+ \(CES?T\)</time>\.", french
    )
