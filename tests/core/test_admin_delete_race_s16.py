"""Two deletions in the Django admin racing for an organisation's last coordinator: the
one that loses passed the confirmation page's check (the other coordinator still
existed) and meets the action's own check under its locks. It answers an admin error
message, not a server error, and deletes nothing, not even Django's history line."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model

from beffroi.core import actions
from beffroi.core.admin import JournaledUserAdmin
from beffroi.core.models import JournalEntry, Membership, Role

pytestmark = pytest.mark.usesdb

REFUSAL = "Impossible de supprimer {user} : c'est la dernière personne à la coordination de {org}."


@pytest.fixture
def race(monkeypatch, members, org):
    """Two coordinators; the other one is deleted (by another administrator) just after
    the confirmation page's check has passed. (Inside the request's transaction, so the
    refusal rolls it back too: the test's database has one connection. On PostgreSQL
    the other deletion commits on its own and the refused one waits on its locks.)"""
    other = members["volunteer"]
    actions.set_role(other, org, Role.COORDINATOR, actor=None)
    checked = JournaledUserAdmin.get_deleted_objects

    def check_then_lose_the_race(self, objs, request):
        answer = checked(self, objs, request)
        if request.method == "POST":
            assert not answer[3]  # nothing protected yet: the race is what refuses
            assert actions.delete_account(other, actor=None)
        return answer

    monkeypatch.setattr(JournaledUserAdmin, "get_deleted_objects", check_then_lose_the_race)
    return other


def _root(client):
    client.force_login(actions.create_account("root", "pw-test-123456", superuser=True))


def _nothing_deleted(coord, org):
    assert get_user_model().objects.filter(pk=coord.pk).exists()
    assert Membership.objects.filter(user=coord, organisation=org, role=Role.COORDINATOR).exists()
    assert not JournalEntry.objects.filter(action="account.delete", subject=f"user:{coord.pk}")
    assert not LogEntry.objects.filter(object_id=str(coord.pk), action_flag=DELETION).exists()


def test_deleting_one_account_that_lost_the_race_is_an_admin_message(client, members, org, race):
    _root(client)
    coord = members["coordinator"]
    url = f"/admin/auth/user/{coord.pk}/delete/"
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == url
    _nothing_deleted(coord, org)
    page = client.get(url).content.decode()
    assert REFUSAL.format(user="coord", org=org.name).replace("'", "&#x27;") in page
    assert "Rien n&#x27;a été supprimé." in page


def test_delete_selected_that_lost_the_race_is_an_admin_message(client, members, org, race):
    _root(client)
    coord, outsider = members["coordinator"], members["outsider"]
    response = client.post(
        "/admin/auth/user/",
        {
            "action": "delete_selected",
            "_selected_action": [coord.pk, outsider.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    _nothing_deleted(coord, org)
    # All or none: the account before it in the batch is kept too.
    assert get_user_model().objects.filter(pk=outsider.pk).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()
    page = client.get(response["Location"]).content.decode()
    assert REFUSAL.format(user="coord", org=org.name).replace("'", "&#x27;") in page
