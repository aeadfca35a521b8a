"""The organisation dashboard must not show the journal to roles that may not read it
(journal.view: coordinators and scrutineers only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.core import journal
from beffroi.core.roles import CAPABILITIES

# Not a watch line: those are for the watch team only (test_security_s6_journal_scope.py).
ACTION = "consult.consultation.open"


@pytest.mark.parametrize("role", ["coordinator", "volunteer", "partner", "scrutineer"])
def test_dashboard_shows_recent_journal_only_to_journal_readers(client, members, org, role):
    journal.append(ACTION, actor=members["volunteer"], organisation=org, subject="card:1")
    client.force_login(members[role])
    html = client.get(reverse("org-dashboard", args=[org.slug])).content.decode()
    may_read = role in CAPABILITIES["journal.view"]
    assert (ACTION in html) is may_read, role
