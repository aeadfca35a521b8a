"""A member's account can be erased although it uploaded an audit or sent an invitation:
both kept their author with PROTECT, so deleting the account failed. Who did it stays in
the journal."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from beffroi.audits.models import Audit
from beffroi.core import actions
from beffroi.core.models import Invitation, JournalEntry, Membership, Role


def test_an_account_that_audited_and_invited_can_be_deleted(client, members, org) -> None:
    User = get_user_model()
    leaving = User.objects.create_user("partante", password="une-phrase-longue-42")
    Membership.objects.create(user=leaving, organisation=org, role=Role.COORDINATOR)
    audit = Audit.objects.create(
        organisation=org,
        created_by=leaving,
        original_name="export.csv",
        sha256="",
        size=0,
        fmt="limesurvey",
    )
    invitation, _token = actions.invite(org, "x@example.org", "volunteer", actor=leaving)
    leaving.delete()
    audit.refresh_from_db()
    invitation.refresh_from_db()
    assert audit.created_by is None and invitation.created_by is None
    assert JournalEntry.objects.filter(action="invitation.create", actor_label="partante").exists()
    client.force_login(members["coordinator"])
    page = client.get(reverse("audits", args=[org.slug])).content.decode()
    assert "export.csv" in page and "compte supprimé" in page
    assert Invitation.objects.filter(pk=invitation.pk).exists()
