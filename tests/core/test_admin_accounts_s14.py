"""Account changes made in the Django admin are journaled (``account.change``): flags with
their values, other fields by name, a password only as set; never its hash."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from beffroi.core import actions
from beffroi.core.action_labels import LABELS
from beffroi.core.models import JournalEntry

RIGHT = "pw-test-123456"
PHRASE = "Une-autre-phrase-9"


def _change_form(user, **flags):
    data = {
        "username": user.username,
        "email": user.email,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    data.update({name: "on" for name, on in flags.items() if on})
    return data


def _root_client(client):
    root = actions.create_account("root", RIGHT, superuser=True)
    client.force_login(root)
    return root


def test_granting_the_superuser_flag_is_journaled_with_who_did_it(client, members):
    root = _root_client(client)
    user = members["volunteer"]
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        _change_form(user, is_active=True, is_staff=True, is_superuser=True),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert get_user_model().objects.get(pk=user.pk).is_superuser
    line = JournalEntry.objects.filter(action="account.change").get()
    assert line.actor_id == root.pk and line.subject == f"user:{user.pk}"
    assert line.data["changes"]["is_superuser"] == {"from": False, "to": True}
    assert line.data["changes"]["is_staff"] == {"from": False, "to": True}
    assert "is_active" not in line.data["changes"]  # unchanged


def test_deactivating_and_changing_the_address_keeps_the_address_out(client, members):
    _root_client(client)
    user = members["volunteer"]
    user.email = "new@example.org"
    client.post(f"/admin/auth/user/{user.pk}/change/", _change_form(user))
    line = JournalEntry.objects.filter(action="account.change").get()
    assert line.data["changes"] == {"is_active": {"from": True, "to": False}}
    assert line.data["fields"] == ["email"]
    assert "new@example.org" not in str(line.data)


def test_a_password_set_in_the_admin_is_journaled_without_its_hash(client, members):
    _root_client(client)
    user = members["volunteer"]
    response = client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "Une-autre-phrase-9", "password2": "Une-autre-phrase-9"},
    )
    assert response.status_code == 302
    line = JournalEntry.objects.filter(action="account.change").get()
    assert line.data == {"user": "volunteer", "password_set": True}
    hashed = get_user_model().objects.get(pk=user.pk).password
    assert hashed.split("$")[-1] not in str(line.data)


def test_an_account_added_in_the_admin_is_journaled(client, members):
    root = _root_client(client)
    response = client.post(
        "/admin/auth/user/add/",
        {"username": "ajout", "password1": "Une-autre-phrase-9", "password2": "Une-autre-phrase-9"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    line = JournalEntry.objects.filter(action="account.create").order_by("-seq").first()
    assert line.data == {"user": "ajout", "superuser": False} and line.actor_id == root.pk


def test_the_admin_applies_the_sites_user_name_rules(client, members):
    _root_client(client)
    for name in ("Coord", "coоrd", "a b"):
        response = client.post(
            "/admin/auth/user/add/",
            {
                "username": name,
                "password1": "Une-autre-phrase-9",
                "password2": "Une-autre-phrase-9",
            },
        )
        assert response.status_code == 200, name
    user = members["volunteer"]
    user.username = "Coord"
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/", _change_form(user, is_active=True)
    )
    assert response.status_code == 200
    assert get_user_model().objects.get(pk=user.pk).username == "volunteer"
    # Saving an account without touching its name still works.
    user.username = "volunteer"
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/", _change_form(user, is_active=True)
    )
    assert response.status_code == 302


def test_the_action_has_a_french_label():
    assert str(LABELS["account.change"]) == "Compte modifié par l'administration"
