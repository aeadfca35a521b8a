"""A closed consultation names its state (session-8 walkthrough): the French page said
« État : Fermer » (Django's own catalogue reads the msgid « Close » as a verb) under a
heading « Ouverte »."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from beffroi.consult import actions
from beffroi.consult.cli_example_bundle import setup_consultation
from english_catalogue import english

pytestmark = pytest.mark.usefixtures("consult_writes_now")


def _pages(client, org, cid: str) -> tuple[str, str]:
    detail = client.get(reverse("consult-detail", args=[org.slug, cid])).content.decode()
    listing = client.get(reverse("consult-list", args=[org.slug])).content.decode()
    return detail, listing


def _status(detail: str) -> str:
    found = re.search(r'data-testid="status">\s*([^<]*?)\s*<', detail)
    assert found, "no status on the page"
    return found.group(1)


def _headings(html: str) -> list[str]:
    return [h.strip() for h in re.findall(r"<h2>([^<]*)</h2>", html)]


def test_closed_consultation_says_so_in_french(client, org, members) -> None:
    c, _ = setup_consultation(org, cid="s8-close-fr", access="mixed", per_segment=1)
    client.force_login(members["coordinator"])
    detail, _ = _pages(client, org, c.cid)
    assert _status(detail) == "Ouverte"
    assert "Ouverte" in _headings(detail)
    actions.close_consultation(c, actor=members["coordinator"])
    detail, listing = _pages(client, org, c.cid)
    assert _status(detail) == "Clôturée"
    assert "Clôturée" in _headings(detail)
    assert "Ouverte" not in _headings(detail)
    assert "Fermer" not in detail and "Fermer" not in listing
    assert re.search(r"<td>\s*Clôturée\s*</td>", listing)


def test_closed_consultation_says_so_in_english(client, org, members) -> None:
    c, _ = setup_consultation(org, cid="s8-close-en", access="open", per_segment=1)
    actions.close_consultation(c, actor=members["coordinator"])
    client.force_login(members["scrutineer"])
    client.cookies["django_language"] = "en"
    with english():
        detail, listing = _pages(client, org, c.cid)
    assert _status(detail) == "Closed"
    assert "Closed" in _headings(detail)
    assert "Open" not in _headings(detail)
    assert re.search(r"<td>\s*Closed\s*</td>", listing)
