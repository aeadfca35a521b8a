"""A signed-in user opening /connexion/ got the log-in form again (session-8
walkthrough, #18b).  They are now sent where signing in would take them, and only
to a page of this site."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.core.models import JournalEntry


def test_logged_in_user_goes_to_the_dashboard(client, members) -> None:
    client.force_login(members["coordinator"])
    resp = client.get(reverse("login"))
    assert resp.status_code == 302
    assert resp["Location"] == reverse("dashboard")


def test_logged_in_user_follows_a_next_of_this_site(client, members, org) -> None:
    client.force_login(members["coordinator"])
    target = reverse("journal", args=[org.slug])
    resp = client.get(reverse("login"), {"next": target})
    assert resp.status_code == 302
    assert resp["Location"] == target
    assert client.get(resp["Location"]).status_code == 200


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        r"/\evil.example",
    ],
)
def test_a_next_to_another_site_is_ignored(client, members, next_url) -> None:
    client.force_login(members["coordinator"])
    resp = client.get(reverse("login"), {"next": next_url})
    assert resp.status_code == 302
    assert resp["Location"] == reverse("dashboard")


@pytest.mark.parametrize("suffix", ["", "?next=/connexion/", "?a=1"])
def test_a_next_back_to_the_log_in_page_does_not_loop(client, members, suffix) -> None:
    # Django's own option raised a ValueError (a 500) on next=/connexion/.
    client.force_login(members["coordinator"])
    resp = client.get(reverse("login"), {"next": reverse("login") + suffix})
    assert resp.status_code == 302
    assert resp["Location"] == reverse("dashboard")


def test_anonymous_user_still_gets_the_form_and_can_sign_in(client, members) -> None:
    resp = client.get(reverse("login"), {"next": "https://evil.example/"})
    assert resp.status_code == 200
    assert b'name="password"' in resp.content
    resp = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "coord", "password": "pw-test-123456"},
    )
    assert resp.status_code == 302
    assert resp["Location"] == reverse("dashboard")
    assert JournalEntry.objects.filter(action="auth.login").exists()
