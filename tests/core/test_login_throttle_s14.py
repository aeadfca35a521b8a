"""Log-in and reset limits after the session-14 review of the web surface.

- Every spelling that reaches an account shares its counters (NFKC, case): ``ｃoord``
  (a full-width c) logs in to ``coord``, and used to get a fresh counter of its own.
- The strict limit counts an account's attempts from one network, with a much higher
  ceiling for the account from everywhere: five wrong passwords from anyone's laptop
  used to lock a coordinator out of the site, and five reset requests their way out of
  the mail that lets them back in.
- The journal names the account under attack, in its own spelling.
- The admin's log-in keeps its staff-only check."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse

from beffroi.core import actions
from beffroi.core.models import JournalEntry
from reset_mails import deliver_reset_mails

RIGHT = "pw-test-123456"
LOCKED = "Trop de tentatives"
ATTACKER, VICTIM = "203.0.113.9", "198.51.100.7"


def _login(client, username, password="wrong", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _refused(response) -> bool:
    return LOCKED in response.content.decode()


def test_other_spellings_share_the_accounts_counter(client, members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    for _ in range(3):
        assert not _refused(_login(client, "coord"))
    assert _refused(_login(client, "coord"))
    # Full-width letters (NFKC gives "coord") and capitals: the same counter, refused.
    for spelling in ("ｃoord", "cｏord", "ＣＯＯＲＤ", "Coord", " coorｄ "):
        assert _refused(_login(client, spelling)), spelling
    # Even the right password through another spelling is refused while locked.
    response = _login(client, "ｃoord", RIGHT)
    assert response.status_code == 200 and _refused(response)


def test_a_full_width_spelling_still_logs_in_when_not_locked(client, members):
    # What the counter key follows: Django authenticates the NFKC form.
    assert _login(client, "ｃｏｏｒｄ", RIGHT).status_code == 302


def test_failures_through_other_spellings_name_the_real_account(client, members):
    marie = actions.create_account("Marie", RIGHT)
    for spelling in ("Marie", "marie", "ｍarie"):
        _login(client, spelling)
    lines = JournalEntry.objects.filter(action="auth.login_failed").order_by("seq")
    assert [line.data["username"] for line in lines] == ["Marie"] * 3
    assert {line.subject for line in lines} == {f"user:{marie.pk}"}


def test_an_attacker_does_not_lock_the_victim_out_from_another_network(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 5
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(8):
        _login(attacker, "coord")
    assert _refused(_login(attacker, "coord", RIGHT))
    victim = Client(REMOTE_ADDR=VICTIM)
    assert _login(victim, "coord", RIGHT).status_code == 302


def test_refused_tries_do_not_fill_the_accounts_ceiling(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 10
    settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK = 1000
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(25):  # 3 let through and tried, 22 refused by the pair's limit
        _login(attacker, "coord")
    assert _login(Client(REMOTE_ADDR=VICTIM), "coord", RIGHT).status_code == 302


def test_guessing_spread_over_networks_meets_the_accounts_ceiling(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 10
    passed = 0
    # 3 tries from each of 8 networks (/24s): 24 tries, each network under its own limits.
    for n in range(8):
        guesser = Client(REMOTE_ADDR=f"192.0.{n}.1")
        passed += sum(not _refused(_login(guesser, "coord")) for _ in range(3))
    assert passed == 10
    # The account-wide ceiling holds for everyone, the right password included.
    assert _refused(_login(Client(REMOTE_ADDR=VICTIM), "coord", RIGHT))
    locks = JournalEntry.objects.filter(action="auth.login_failed", data__throttled=True)
    assert locks.exists() and {line.data["username"] for line in locks} == {"coord"}


def test_a_browser_that_logged_in_before_is_not_held_by_the_ceiling(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 3
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = 6
    usual = Client(REMOTE_ADDR=VICTIM)
    assert _login(usual, "coord", RIGHT).status_code == 302
    assert "coord" not in usual.cookies["beffroi_known"].value  # keyed pseudonyms only
    usual.post(reverse("logout"))
    for n in range(4):  # guessing from four networks fills the account's ceiling
        guesser = Client(REMOTE_ADDR=f"192.0.{n}.1")
        for _ in range(3):
            _login(guesser, "coord")
    assert _refused(_login(Client(REMOTE_ADDR="192.0.99.1"), "coord", RIGHT))
    # The owner's usual browser still gets in, whatever its network.
    assert _login(usual, "ｃoord", RIGHT, REMOTE_ADDR="192.0.98.1").status_code == 302
    # A forged or foreign cookie counts for nothing.
    forged = Client(REMOTE_ADDR="192.0.97.1")
    forged.cookies["beffroi_known"] = "not-signed"
    assert _refused(_login(forged, "coord", RIGHT))


def test_reset_requests_from_an_attacker_leave_the_victims_own_request(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 5
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(7):
        attacker.post(reverse("password_reset"), {"email": "c@example.org"})
    deliver_reset_mails()
    assert len(mail.outbox) == 5
    Client(REMOTE_ADDR=VICTIM).post(reverse("password_reset"), {"email": "c@example.org"})
    deliver_reset_mails()
    assert len(mail.outbox) == 6


def test_reset_mails_to_one_address_meet_a_ceiling_from_anywhere(members, settings):
    settings.BEFFROI_RESET_LIMIT_PER_ADDRESS = 4
    for n in range(6):
        Client(REMOTE_ADDR=f"192.0.{n}.1").post(
            reverse("password_reset"), {"email": "C@example.org" if n % 2 else "c@example.org"}
        )
    deliver_reset_mails()
    assert len(mail.outbox) == 4


def test_reset_spellings_of_an_address_share_its_counter(members, settings):
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 2
    # Full-width letters NFKC to ASCII and "ſ" (long s) case-folds to "s": where the
    # database compares addresses without case (PostgreSQL with a UTF-8 locale) each of
    # these mails c@example.org, so each must count against it.
    refused = [
        "Trop de demandes"
        in Client(REMOTE_ADDR=ATTACKER)
        .post(reverse("password_reset"), {"email": email})
        .content.decode()
        for email in ("c@example.org", "c@exampｌe.org", "C@ＥXAMPLE.ORG")
    ]
    assert refused == [False, False, True]
    assert not refused_now("scrutineer@example.org")
    assert not refused_now("ſcrutineer@example.org")
    assert refused_now("SCRUTINEER@example.org")


def refused_now(email: str) -> bool:
    response = Client(REMOTE_ADDR=ATTACKER).post(reverse("password_reset"), {"email": email})
    return "Trop de demandes" in response.content.decode()


def test_admin_login_refuses_non_staff_and_lets_staff_in(client, members):
    response = client.post("/admin/login/", {"username": "volunteer", "password": RIGHT})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    actions.create_account("root", RIGHT, superuser=True)
    response = client.post("/admin/login/", {"username": "root", "password": RIGHT})
    assert response.status_code == 302
