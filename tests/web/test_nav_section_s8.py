"""The top bar marks the section a page belongs to (session-8 walkthrough, #24): on
an activation's pages « Veille » was not marked, only on the list of activations."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from beffroi.consult.cli_example_bundle import setup_consultation


def _current(html: str, how: str = "true") -> list[str]:
    """The top bar's entries marked current; ``how``: "page" (this very page) or
    "true" (the section the page lies in)."""
    nav = re.search(r'<nav aria-label="Navigation principale">(.*?)</nav>', html, re.S)
    assert nav, "no top bar"
    marked = re.findall(r'<a href="[^"]*" aria-current="([^"]*)">([^<]*)</a>', nav.group(1))
    assert all(value == how for value, _ in marked), marked
    return [label for _, label in marked]


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )


@pytest.mark.parametrize("name", ["watch-activation", "watch-triage", "watch-courante"])
def test_an_activations_pages_mark_veille(client, members, org, activation, name) -> None:
    client.force_login(members["coordinator"])
    resp = client.get(reverse(name, args=[org.slug, activation.pk]))
    assert resp.status_code == 200
    assert _current(resp.content.decode()) == ["Veille"]


def test_a_consultations_page_marks_consultations(client, members, org) -> None:
    c, _ = setup_consultation(org, cid="nav-s8", access="open", per_segment=1)
    client.force_login(members["coordinator"])
    resp = client.get(reverse("consult-exclude", args=[org.slug, c.cid]))
    assert resp.status_code == 200
    assert _current(resp.content.decode()) == ["Consultations"]


def test_the_dashboard_is_marked_on_its_own_page_only(client, members, org) -> None:
    client.force_login(members["coordinator"])
    page = client.get(reverse("org-dashboard", args=[org.slug])).content.decode()
    assert _current(page, "page") == ["Tableau de bord"]
    # Every page is below the dashboard's address: it never takes the mark from them.
    listed = client.get(reverse("members", args=[org.slug])).content.decode()
    assert _current(listed, "page") == ["Membres"]
