"""New user names (invitation acceptance, account creation): normalised as Django's log-in
normalises them, unique without case, in a clear set of characters; a refusal is a French
message under the field, never a server error."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from beffroi.core import actions, usernames

PASSWORD = "une-phrase-longue-42"


def _accept(org, coordinator, username, email="new@example.org"):
    _invitation, token = actions.invite(org, email, "volunteer", actor=coordinator)
    client = Client(raise_request_exception=False)
    return client.post(
        reverse("accept-invitation", args=[token]),
        {"username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def _names():
    return sorted(get_user_model().objects.values_list("username", flat=True))


def test_a_full_width_copy_of_a_name_is_refused_as_taken_not_a_500(org, members):
    before = _names()
    response = _accept(org, members["coordinator"], "ｃoord")  # NFKC: "coord"
    assert response.status_code == 200
    assert "Ce nom d&#x27;utilisateur est déjà pris." in response.content.decode()
    assert _names() == before


@pytest.mark.parametrize("name", ["Coord", "Ｃoord", "COORD"])
def test_case_twins_are_refused(org, members, name):
    before = _names()
    response = _accept(org, members["coordinator"], name)
    assert "déjà pris" in response.content.decode()
    assert _names() == before


def test_case_twins_with_accents_are_refused(org, members):
    actions.create_account("Élodie", PASSWORD)
    with pytest.raises(actions.ActionError, match="déjà pris"):
        actions.create_account("élodie", PASSWORD)
    assert "déjà pris" in _accept(org, members["coordinator"], "ÉLODIE").content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "coоrd",  # Cyrillic о
        "coord\u200b",  # zero-width space
        "co\u200dord",  # zero-width joiner
        "\u202ecoord",  # right-to-left override
        "a b",
        "a<b>",
        "a/b",
        "jean@mairie",
        "αβγ",
    ],
)
def test_invisible_confusable_and_markup_characters_are_refused(org, members, name):
    before = _names()
    response = _accept(org, members["coordinator"], name)
    body = response.content.decode()
    assert response.status_code == 200
    assert "ni lettre d&#x27;un autre alphabet" in body
    # Under the field: the username's error list, not the form's.
    assert 'id="id_username_error"' in body
    assert _names() == before


@pytest.mark.parametrize("name", ["Élodie.Martin", "anaïs_b", "jean-françois", "Çağla", "r2d2"])
def test_latin_letters_with_accents_digits_and_dot_dash_underscore_are_accepted(org, members, name):
    response = _accept(org, members["coordinator"], name)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert name in _names()


def test_the_name_is_stored_as_typed_after_nfkc(org, members):
    assert _accept(org, members["coordinator"], " ｍａｒｉｅ ").status_code == 302
    assert "marie" in _names()
    response = Client().post(reverse("login"), {"username": "marie", "password": PASSWORD})
    assert response.status_code == 302


def test_create_account_refuses_what_the_form_refuses(members):
    for name in ("Coord", "ｃoord", "a b", "coоrd"):
        with pytest.raises(actions.InvalidInput):
            actions.create_account(name, PASSWORD)


def test_two_acceptances_racing_for_one_name_give_a_clear_refusal(org, members, monkeypatch):
    # The second passes the check before the first commits: the unique constraint answers.
    monkeypatch.setattr(actions, "username_error", lambda raw: None)
    with pytest.raises(actions.ActionError, match="déjà pris"):
        actions.create_account("coord", PASSWORD)


@given(st.text(max_size=20))
def test_an_accepted_name_is_stable_and_made_of_allowed_characters(raw):
    name = usernames.normalise(raw)
    if usernames.shape_error(name) is None:
        assert usernames.normalise(name) == name
        assert all(c.isalnum() or c in "._-" for c in name)
        assert not any(c.isspace() for c in name)
