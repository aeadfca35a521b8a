"""The Django admin refuses to delete an organisation's last coordinator (one account or
"delete selected"), as every other door refuses to remove them: nobody could invite or
assign roles there again, and memberships are read-only in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from beffroi.core import actions
from beffroi.core.actions import ActionError
from beffroi.core.models import JournalEntry, Membership, Role

RIGHT = "pw-test-123456"
LAST = "coord est la dernière personne à la coordination de "


def _root(client):
    root = actions.create_account("root", RIGHT, superuser=True)
    client.force_login(root)
    return root


def _coordinators(org):
    return Membership.objects.filter(organisation=org, role=Role.COORDINATOR).count()


def test_the_last_coordinator_cannot_be_deleted_in_the_admin(client, members, org):
    _root(client)
    coord = members["coordinator"]
    page = client.get(f"/admin/auth/user/{coord.pk}/delete/").content.decode()
    assert LAST + org.name in page
    response = client.post(f"/admin/auth/user/{coord.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert LAST + org.name in response.content.decode()
    assert get_user_model().objects.filter(pk=coord.pk).exists()
    assert _coordinators(org) == 1
    assert not JournalEntry.objects.filter(action__in=["account.delete", "member.remove"]).exists()


def test_delete_selected_refuses_all_of_an_organisations_coordinators(client, members, org):
    _root(client)
    second = members["volunteer"]
    actions.set_role(second, org, Role.COORDINATOR, actor=None)
    chosen = [members["coordinator"], second, members["outsider"]]
    response = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [u.pk for u in chosen], "post": "yes"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert LAST + org.name in page
    assert "volunteer est la dernière personne à la coordination de " + org.name in page
    # All or none: the outsider, who coordinates nothing, is kept too.
    assert get_user_model().objects.filter(pk__in=[u.pk for u in chosen]).count() == 3
    assert _coordinators(org) == 2


def test_a_coordinator_with_another_coordinator_can_be_deleted(client, members, org):
    _root(client)
    actions.set_role(members["volunteer"], org, Role.COORDINATOR, actor=None)
    coord = members["coordinator"]
    response = client.post(f"/admin/auth/user/{coord.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not get_user_model().objects.filter(pk=coord.pk).exists()
    assert _coordinators(org) == 1


def test_the_action_refuses_the_last_coordinator_and_keeps_everything(members, org):
    # The race the admin's page cannot see: the check is made again under the locks.
    coord = members["coordinator"]
    with pytest.raises(ActionError, match="dernière personne à la coordination"):
        actions.delete_account(coord, actor=None)
    assert get_user_model().objects.filter(pk=coord.pk).exists()
    assert _coordinators(org) == 1
    assert not JournalEntry.objects.filter(action="account.delete").exists()
