"""The known-browser cookie and the log-in counters after review R10.

- A ``beffroi_known`` entry is bound to the account and its password: after a password
  change, or for a re-created account with the same name, the cookie counts for nothing
  (it used to give 5 guesses per network from any number of networks, past the ceiling).
- A known browser has a failure budget of its own, however many networks replay it.
- An attempt refused by a later counter is given back to the earlier ones: the owner,
  refused by a full ceiling, is not left locked out by their own pair's counter."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from beffroi.core import actions, forms, throttle

RIGHT = "pw-test-123456"
LOCKED = "Trop de tentatives"


def _login(client, username, password="wrong", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _refused(response) -> bool:
    return LOCKED in response.content.decode()


def _replay(cookie: str, networks: range, tries: int = 3) -> int:
    """How many wrong guesses reach the password check, the cookie sent from each network."""
    passed = 0
    for n in networks:
        guesser = Client(REMOTE_ADDR=f"192.0.{n}.1")
        guesser.cookies[forms.KNOWN_BROWSER_COOKIE] = cookie
        passed += sum(not _refused(_login(guesser, "coord")) for _ in range(tries))
    return passed


def _fill_ceiling(networks: range) -> None:
    for n in networks:
        guesser = Client(REMOTE_ADDR=f"192.0.{n}.1")
        for _ in range(3):
            _login(guesser, "coord")


def test_a_password_change_voids_the_known_browser(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    thief = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(thief, "coord", RIGHT).status_code == 302
    stolen = thief.cookies[forms.KNOWN_BROWSER_COOKIE].value
    owner = members["coordinator"]
    owner.set_password("new-pw-98765432")
    owner.save()
    # Twenty networks, three wrong guesses each: the ceiling holds (60 passed before).
    assert _replay(stolen, range(20)) == 6


def test_a_recreated_account_does_not_inherit_the_cookie(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    old = actions.create_account("Marie", RIGHT)
    browser = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(browser, "Marie", RIGHT).status_code == 302
    cookie = browser.cookies[forms.KNOWN_BROWSER_COOKIE].value
    get_user_model().objects.filter(pk=old.pk).delete()
    actions.create_account("Marie", RIGHT)
    request = Client().request().wsgi_request
    request.COOKIES[forms.KNOWN_BROWSER_COOKIE] = cookie
    assert forms._known_to(request, "Marie") == ""


def test_a_stolen_cookie_shares_one_budget_across_networks(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    thief = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(thief, "coord", RIGHT).status_code == 302
    stolen = thief.cookies[forms.KNOWN_BROWSER_COOKIE].value
    # Still valid (no password change): the cookie's own 3 tries, then the ceiling's 6 as
    # for any browser; not 3 per network (30 from ten networks before).
    assert _replay(stolen, range(10)) == 3 + 6


def test_a_known_browser_that_spent_its_budget_is_held_by_the_ceiling_only(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 50
    usual = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(usual, "coord", RIGHT).status_code == 302
    usual.post(reverse("logout"))
    for _ in range(3):  # three typos spend the browser's budget and this network's pair
        assert not _refused(_login(usual, "coord"))
    # From another network the owner's browser is not held by less than any other one.
    assert _login(usual, "coord", RIGHT, REMOTE_ADDR="192.0.50.1").status_code == 302


def test_the_known_browser_still_gets_past_a_full_ceiling(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    usual = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(usual, "coord", RIGHT).status_code == 302
    value = usual.cookies[forms.KNOWN_BROWSER_COOKIE].value
    assert "coord" not in value  # keyed hashes only
    usual.post(reverse("logout"))
    _fill_ceiling(range(4))
    assert _refused(_login(Client(REMOTE_ADDR="192.0.99.1"), "coord", RIGHT))
    assert _login(usual, "ｃoord", RIGHT, REMOTE_ADDR="192.0.98.1").status_code == 302
    # Renewed at the log-in: the same browser id, the account listed once.
    renewed = usual.cookies[forms.KNOWN_BROWSER_COOKIE].value
    assert _read(renewed) == _read(value) and len(_read(value)[1]) == 1
    # A forged cookie counts for nothing.
    forged = Client(REMOTE_ADDR="192.0.97.1")
    forged.cookies[forms.KNOWN_BROWSER_COOKIE] = "not-signed"
    assert _refused(_login(forged, "coord", RIGHT))


def _read(cookie: str) -> tuple[str, list[str]]:
    return forms._known_browser(
        type("Request", (), {"COOKIES": {forms.KNOWN_BROWSER_COOKIE: cookie}})()
    )


def test_ceiling_refusals_do_not_use_up_the_owners_pair(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    _fill_ceiling(range(2))
    owner = Client(REMOTE_ADDR="198.51.100.7")  # a browser new to the account
    for _ in range(3):
        assert _refused(_login(owner, "coord", RIGHT))
    # The attackers' tries leave the window: the owner's next log-in passes at once.
    throttle.reset("login-account", forms._account_key("coord"), window=900)
    assert _login(owner, "coord", RIGHT).status_code == 302


def test_a_refused_try_gives_back_the_networks_budget(db):
    counters = [("t-net", "room", 4), ("t-pair", "x", 10), ("t-ceiling", "x", 1)]
    assert not throttle.hit_in_turn(counters, window=900)[-1].exceeded
    for _ in range(5):
        assert throttle.hit_in_turn(counters, window=900)[-1].exceeded
    # Refused by the ceiling five times: the room's budget of 4 keeps 3 for other names.
    assert throttle.peek("t-net", "room", limit=4, window=900).count == 1
    assert throttle.peek("t-pair", "x", limit=10, window=900).count == 1
