"""Accounts deleted in the Django admin, one or "delete selected", are journaled through
``actions.delete_account``: ``member.remove`` in each organisation they belonged to, then
``account.delete`` naming the account as ``account.create`` did, nothing more."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from beffroi.core import actions
from beffroi.core.action_labels import LABELS
from beffroi.core.models import JournalEntry, Membership, Organisation

RIGHT = "pw-test-123456"


def _root(client):
    root = actions.create_account("root", RIGHT, superuser=True)
    client.force_login(root)
    return root


def test_deleting_one_account_in_the_admin_is_journaled(client, members, org):
    root = _root(client)
    user = members["volunteer"]
    response = client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    line = JournalEntry.objects.get(action="account.delete")
    assert line.actor_id == root.pk and line.subject == f"user:{user.pk}"
    assert line.organisation_id is None
    # As much as account.create says of it, no address.
    assert line.data == {"user": "volunteer"}
    assert "volunteer@example.org" not in str(line.data)
    removed = JournalEntry.objects.get(action="member.remove")
    assert removed.organisation_id == org.pk and removed.actor_id == root.pk
    assert removed.data == {"user": "volunteer", "role": "volunteer", "account_deleted": True}
    assert removed.seq < line.seq


def test_delete_selected_journals_every_account(client, members, org):
    _root(client)
    other = actions.create_organisation("Autre", "autre")
    actions.set_role(members["partner"], other, "scrutineer", actor=None)
    chosen = [members["partner"], members["scrutineer"], members["outsider"]]
    response = client.post(
        "/admin/auth/user/",
        {
            "action": "delete_selected",
            "_selected_action": [u.pk for u in chosen],
            "post": "yes",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not get_user_model().objects.filter(pk__in=[u.pk for u in chosen]).exists()
    deleted = JournalEntry.objects.filter(action="account.delete").order_by("seq")
    assert [e.subject for e in deleted] == [f"user:{u.pk}" for u in chosen]
    removed = {
        (e.organisation_id, e.data["user"])
        for e in JournalEntry.objects.filter(action="member.remove")
    }
    assert removed == {(org.pk, "partner"), (other.pk, "partner"), (org.pk, "scrutineer")}
    assert not Membership.objects.filter(user_id__in=[u.pk for u in chosen]).exists()


def test_the_action_deletes_once_and_journals_once(members):
    user = members["outsider"]
    assert actions.delete_account(user, actor=None)
    assert not actions.delete_account(user, actor=None)
    assert JournalEntry.objects.filter(action="account.delete").count() == 1


def test_organisations_cannot_be_deleted_in_the_admin(client, members, org):
    _root(client)
    response = client.post(f"/admin/core/organisation/{org.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    response = client.post(
        "/admin/core/organisation/",
        {"action": "delete_selected", "_selected_action": [org.pk], "post": "yes"},
    )
    assert Organisation.objects.filter(pk=org.pk).exists()
    assert Membership.objects.filter(organisation=org).count() == 4


def test_the_action_has_a_french_label():
    assert str(LABELS["account.delete"]) == "Compte supprimé par l'administration"


def test_permissions_given_in_the_admin_are_journaled_with_their_values(client, members):
    from django.contrib.auth.models import Permission

    _root(client)
    user = members["volunteer"]
    delete_user = Permission.objects.get(codename="delete_user")
    data = {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "user_permissions": [delete_user.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert user.user_permissions.filter(pk=delete_user.pk).exists()
    line = JournalEntry.objects.get(action="account.change")
    assert line.data["changes"]["user_permissions"] == {"from": [], "to": ["auth.delete_user"]}
    assert "user_permissions" not in line.data.get("fields", [])


def test_a_groups_permissions_changed_in_the_admin_are_journaled(client, members):
    from django.contrib.auth.models import Group, Permission

    root = _root(client)
    delete_user = Permission.objects.get(codename="delete_user")
    response = client.post(
        "/admin/auth/group/add/", {"name": "Support", "permissions": [delete_user.pk]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    group = Group.objects.get(name="Support")
    created = JournalEntry.objects.get(action="group.change")
    assert created.actor_id == root.pk and created.subject == f"group:{group.pk}"
    assert created.data == {
        "group": "Support",
        "to": {"name": "Support", "permissions": ["auth.delete_user"]},
    }
    response = client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "Support"})
    assert response.status_code == 302
    changed = JournalEntry.objects.filter(action="group.change").order_by("-seq").first()
    assert changed.data["from"]["permissions"] == ["auth.delete_user"]
    assert changed.data["to"]["permissions"] == []
    # Saved unchanged: no line.
    client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "Support"})
    assert JournalEntry.objects.filter(action="group.change").count() == 2
    response = client.post(
        "/admin/auth/group/",
        {"action": "delete_selected", "_selected_action": [group.pk], "post": "yes"},
    )
    assert response.status_code == 302
    deleted = JournalEntry.objects.get(action="group.delete")
    assert deleted.data == {"name": "Support", "permissions": []}
    assert not Group.objects.filter(pk=group.pk).exists()


def test_the_group_actions_have_french_labels():
    assert str(LABELS["group.change"]) == "Groupe de l'administration modifié"
    assert str(LABELS["group.delete"]) == "Groupe de l'administration supprimé"
