"""A coordinator withdraws a pending invitation from the members page (POST, CSRF,
capability-checked, journaled); expired invitations are listed as « expirée », not as
pending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from beffroi.core import actions
from beffroi.core.models import Invitation, JournalEntry

PASSWORD = "une-phrase-longue-42"


@pytest.fixture
def pending(org, members):
    return actions.invite(org, "wrong@example.org", "coordinator", actor=members["coordinator"])


def _revoke_url(org, invitation):
    return reverse("invitation-revoke", args=[org.slug, invitation.pk])


def test_the_members_page_offers_a_revoke_button_per_pending_invitation(
    client, members, org, pending
):
    invitation, _token = pending
    client.force_login(members["coordinator"])
    html = client.get(reverse("members", args=[org.slug])).content.decode()
    pending_part = html.split("Invitations en attente")[1]
    assert f'action="{_revoke_url(org, invitation)}"' in pending_part
    assert "Révoquer" in pending_part


def test_revoking_kills_the_link_and_is_journaled(client, members, org, pending):
    invitation, token = pending
    client.force_login(members["coordinator"])
    response = client.post(_revoke_url(org, invitation), follow=True)
    assert "Invitation révoquée" in response.content.decode()
    assert "wrong@example.org" not in response.content.decode()
    line = JournalEntry.objects.filter(action="invitation.revoke").get()
    assert (
        line.subject == f"invitation:{invitation.pk}" and line.actor_id == members["coordinator"].pk
    )
    assert "wrong@example.org" not in str(line.data)
    accept = Client().get(reverse("accept-invitation", args=[token]))
    assert accept.status_code == 410


def test_revoking_twice_or_after_acceptance_is_a_clear_refusal(client, members, org, pending):
    invitation, _token = pending
    client.force_login(members["coordinator"])
    client.post(_revoke_url(org, invitation))
    again = client.post(_revoke_url(org, invitation), follow=True).content.decode()
    assert "déjà révoquée" in again
    accepted, accepted_token = actions.invite(
        org, "ok@example.org", "volunteer", actor=members["coordinator"]
    )
    actions.accept_invitation(accepted_token, username="nouvelle", password=PASSWORD)
    refused = client.post(_revoke_url(org, accepted), follow=True).content.decode()
    assert "déjà été acceptée" in refused
    assert Invitation.objects.get(pk=accepted.pk).revoked_at is None
    assert JournalEntry.objects.filter(action="invitation.revoke").count() == 1


def test_get_is_refused_and_csrf_is_checked(members, org, pending):
    invitation, _token = pending
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(members["coordinator"])
    assert strict.get(_revoke_url(org, invitation)).status_code == 405
    assert strict.post(_revoke_url(org, invitation)).status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


@pytest.mark.parametrize("role", ["volunteer", "partner", "scrutineer"])
def test_other_roles_cannot_revoke(client, members, org, pending, role):
    invitation, _token = pending
    client.force_login(members[role])
    assert client.post(_revoke_url(org, invitation)).status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_expired_invitations_are_listed_as_expired_not_pending(client, members, org):
    late, _token = actions.invite(
        org, "late@example.org", "volunteer", actor=members["coordinator"]
    )
    Invitation.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(days=1))
    long_gone, _token = actions.invite(
        org, "gone@example.org", "volunteer", actor=members["coordinator"]
    )
    Invitation.objects.filter(pk=long_gone.pk).update(
        expires_at=timezone.now() - timedelta(days=60)
    )
    client.force_login(members["coordinator"])
    html = client.get(reverse("members", args=[org.slug])).content.decode()
    assert "Invitations en attente" not in html
    expired = html.split("Invitations expirées")[1]
    assert "late@example.org" in expired and "expirée le" in expired
    assert "gone@example.org" not in html
