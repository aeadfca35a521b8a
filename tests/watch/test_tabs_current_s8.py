"""An activation's tabs say which page one is on (session-8 walkthrough: they were
plain links, unlike the top bar's)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

PAGES = [
    "watch-activation",
    "watch-triage",
    "watch-courante",
    "watch-sources",
    "watch-partner-links",
]


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )


def _tabs(html: str) -> str:
    found = re.search(r'<nav class="watch-tabs".*?</nav>', html, re.S)
    assert found, "no tabs"
    return found.group(0)


@pytest.mark.parametrize("name", PAGES)
def test_the_current_tab_is_marked(client, org, members, activation, name: str) -> None:
    client.force_login(members["coordinator"])
    url = reverse(name, args=[org.slug, activation.pk])
    resp = client.get(url)
    assert resp.status_code == 200
    tabs = _tabs(resp.content.decode())
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', tabs)
    assert current == [url]
    assert tabs.count("<a ") == len(PAGES)


def test_a_volunteer_sees_the_mark_on_the_tabs_it_has(client, org, members, activation) -> None:
    client.force_login(members["volunteer"])
    url = reverse("watch-courante", args=[org.slug, activation.pk])
    tabs = _tabs(client.get(url).content.decode())
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', tabs) == [url]
    assert "sources" not in tabs
