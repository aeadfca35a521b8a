"""The known-browser cookie after review: the admin's log-in sets and accepts it, and a
password set through the mailed link marks the browser known, which is the owner's way
back in when guessing from many networks has filled the account's ceiling."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from beffroi.core import forms

RIGHT = "pw-test-123456"
NEW = "Une-autre-phrase-9"
LOCKED = "Trop de tentatives"


def _fill_ceiling(name: str, networks: int = 4, tries: int = 3) -> None:
    for n in range(networks):
        guesser = Client(REMOTE_ADDR=f"192.0.{n}.1")
        for _ in range(tries):
            guesser.post(reverse("login"), {"username": name, "password": "wrong"})


def _admin_login(client: Client, password: str = RIGHT, **extra):
    return client.post(reverse("admin:login"), {"username": "coord", "password": password}, **extra)


def test_the_admins_log_in_sets_the_cookie_and_it_holds_past_a_full_ceiling(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    staff = members["coordinator"]
    staff.is_staff = True
    staff.save()
    usual = Client(REMOTE_ADDR="198.51.100.7")
    response = _admin_login(usual)
    assert response.status_code == 302
    assert forms.KNOWN_BROWSER_COOKIE in response.cookies
    usual.post(reverse("admin:logout"))
    _fill_ceiling("coord")
    # A new browser is held by the ceiling, on the admin's page as on the site's.
    assert LOCKED in _admin_login(Client(REMOTE_ADDR="192.0.99.1")).content.decode()
    # The staff member's own browser gets in through the admin's page, from anywhere.
    assert _admin_login(usual, REMOTE_ADDR="192.0.98.1").status_code == 302


def test_the_sites_log_in_still_sets_the_cookie(members):
    response = Client().post(reverse("login"), {"username": "coord", "password": RIGHT})
    assert response.status_code == 302 and forms.KNOWN_BROWSER_COOKIE in response.cookies


def test_a_failed_log_in_sets_no_cookie(members):
    response = Client().post(reverse("login"), {"username": "coord", "password": "wrong"})
    assert forms.KNOWN_BROWSER_COOKIE not in response.cookies


def _set_password_through_the_link(browser: Client, user) -> object:
    user.refresh_from_db()  # the token covers the last log-in's time
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    start = browser.get(reverse("password_reset_confirm", args=[uid, token]))
    assert start.status_code == 302  # Django moves the token into the session
    return browser.post(start["Location"], {"new_password1": NEW, "new_password2": NEW})


def test_a_password_reset_through_the_mail_is_the_owners_way_back(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    _fill_ceiling("coord")
    owner = Client(REMOTE_ADDR="203.0.113.9")  # a new browser, a new network
    refused = owner.post(reverse("login"), {"username": "coord", "password": RIGHT})
    assert LOCKED in refused.content.decode()
    done = _set_password_through_the_link(owner, members["coordinator"])
    assert done.status_code == 302 and forms.KNOWN_BROWSER_COOKIE in done.cookies
    # The ceiling is still full for everyone else, the new password included.
    other = Client(REMOTE_ADDR="192.0.97.1")
    stranger = other.post(reverse("login"), {"username": "coord", "password": NEW})
    assert LOCKED in stranger.content.decode()
    # The owner's browser gets in.
    back = owner.post(reverse("login"), {"username": "coord", "password": NEW})
    assert back.status_code == 302, back.content.decode()[:500]


def test_the_reset_voids_the_other_browsers(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    thief = Client(REMOTE_ADDR="198.51.100.7")
    assert thief.post(reverse("login"), {"username": "coord", "password": RIGHT}).status_code == 302
    _set_password_through_the_link(Client(), members["coordinator"])
    _fill_ceiling("coord")
    refused = thief.post(reverse("login"), {"username": "coord", "password": NEW})
    assert LOCKED in refused.content.decode()
