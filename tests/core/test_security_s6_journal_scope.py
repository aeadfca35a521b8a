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


def test_the_action_filter_offers_the_members_log_ins(client, members, org, lines):
    # The page lists members' log-ins (journaled without an organisation) but its
    # action filter offered only the organisation's own actions.
    journal.append("auth.login", actor=members["volunteer"], subject="user:volunteer")
    client.force_login(members["coordinator"])
    url = reverse("journal", args=[org.slug])
    html = client.get(url).content.decode()
    assert '<option value="auth.login"' in html
    filtered = client.get(url, {"action": "auth.login"}).content.decode()
    assert "<td>user:volunteer</td>" in filtered and "<td>c:1</td>" not in filtered
