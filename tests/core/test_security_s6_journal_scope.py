"""Scrutineers read the journal for the consultations, not the watch room's lines:
they have no access to the watch room (docs/guide/veille.md, "Qui voit quoi"), and
its journal lines carry volunteers' decision notes, main courante status notes,
source names and partner-link labels."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.core import journal

WATCH = "watch.card.decide"
CONSULT = "consult.consultation.open"
NOTE = "témoin joint par téléphone, adresse 3 rue des Saules"


@pytest.fixture
def lines(org, members):
    journal.append(
        WATCH, actor=members["volunteer"], organisation=org, subject="card:7", reason=NOTE
    )
    journal.append(CONSULT, actor=members["coordinator"], organisation=org, subject="c:1")


@pytest.mark.parametrize(("role", "sees_watch"), [("coordinator", True), ("scrutineer", False)])
def test_the_journal_page_shows_watch_lines_only_to_the_watch_team(
    client, members, org, lines, role, sees_watch
):
    client.force_login(members[role])
    url = reverse("journal", args=[org.slug])
    html = client.get(url).content.decode()
    assert CONSULT in html
    assert (WATCH in html) is sees_watch
    assert (NOTE in html) is sees_watch
    # Neither a filter on the action nor a search brings them back.
    assert (WATCH in client.get(url, {"action": "watch."}).content.decode()) is sees_watch
    assert (NOTE in client.get(url, {"q": "Saules"}).content.decode()) is sees_watch


@pytest.mark.parametrize(("role", "sees_watch"), [("coordinator", True), ("scrutineer", False)])
def test_the_dashboard_shows_watch_lines_only_to_the_watch_team(
    client, members, org, lines, role, sees_watch
):
    client.force_login(members[role])
    html = client.get(reverse("org-dashboard", args=[org.slug])).content.decode()
    assert CONSULT in html
    assert (WATCH in html) is sees_watch
