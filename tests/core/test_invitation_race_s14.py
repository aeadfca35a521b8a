"""Accepting an invitation checks it again on the locked row (review R10): a revocation,
another acceptance or the expiry that lands between the first read and the lock no longer
makes the person a member of a row both revoked and accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from beffroi.core import actions
from beffroi.core.models import Invitation, JournalEntry, Membership

PASSWORD = "une-phrase-longue-42"


@pytest.fixture
def pending(org, members):
    return actions.invite(org, "late@example.org", "volunteer", actor=members["coordinator"])


def _meanwhile(monkeypatch, change):
    """Run ``change`` on the invitation right after accept_invitation's first read, as a
    concurrent request committing before the row lock would."""
    first_read = actions.find_invitation

    def read_then_change(token):
        invitation = first_read(token)
        change(Invitation.objects.get(pk=invitation.pk))
        return invitation

    monkeypatch.setattr(actions, "find_invitation", read_then_change)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("revoked", "pas valable"),
        ("accepted", "déjà été utilisé"),
        ("expired", "expiré"),
    ],
)
def test_a_change_before_the_lock_refuses_the_acceptance(
    monkeypatch, org, members, pending, how, message
):
    invitation, token = pending

    def change(row):
        if how == "revoked":
            actions.revoke_invitation(row, actor=members["coordinator"])
        elif how == "accepted":
            row.accepted_at = timezone.now()
            row.accepted_by = members["outsider"]
            row.save(update_fields=["accepted_at", "accepted_by"])
        else:
            row.expires_at = timezone.now() - timedelta(seconds=1)
            row.save(update_fields=["expires_at"])

    _meanwhile(monkeypatch, change)
    with pytest.raises(actions.ActionError, match=message):
        actions.accept_invitation(token, username="late", password=PASSWORD)
    assert not Membership.objects.filter(organisation=org, user__username="late").exists()
    assert not JournalEntry.objects.filter(action="invitation.accept").exists()
    row = Invitation.objects.get(pk=invitation.pk)
    assert row.accepted_by_id in (None, members["outsider"].pk)
