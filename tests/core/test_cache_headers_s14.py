"""Cache headers after review R10: the private-pages middleware reads the user only when a
session cookie is sent (anonymous answers keep ``Vary: Accept-Language`` alone, as without
it), and the public pages keep their own policy even for a signed-in reader."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation


def _parts(value: str | None) -> set[str]:
    return {p.strip().lower() for p in (value or "").split(",") if p.strip()}


@pytest.fixture
def public_urls(org):
    spec = example_spec_dict(
        "cache-s14", access="credentialed", closes=datetime(2099, 1, 1, tzinfo=UTC)
    )
    consultation, _codes = setup_consultation(
        org, cid="cache-s14", access="credentialed", spec_dict=spec, open_it=True, per_segment=1
    )
    cid = consultation.cid
    return [
        reverse("consult-board", args=[cid]),
        reverse("consult-answer", args=[cid]),
        reverse("consult-receipt", args=[cid]),
        reverse("consult-board-csv", args=[cid]),
        reverse("consult-rules-json", args=[cid]),
        reverse("healthz"),
        reverse("openapi"),
    ]


def test_anonymous_answers_do_not_vary_on_the_cookie(public_urls):
    # The HTML pages vary on the cookie anyway (their forms' CSRF token, the header's
    # sign-in link); the downloads, the health check and the API description did not.
    anonymous = Client()
    for url in public_urls[3:]:
        response = anonymous.get(url)
        assert response.status_code < 400, url
        assert "cookie" not in _parts(response.headers.get("Vary")), url


def test_a_signed_in_reader_of_a_public_page_gets_its_own_policy(members, public_urls):
    signed_in = Client()
    signed_in.force_login(members["coordinator"])
    anonymous = Client()
    for url in public_urls:
        response = signed_in.get(url)
        assert response.status_code < 400, url
        assert "no-store" not in _parts(response.headers.get("Cache-Control")), url
        assert response.headers.get("Cache-Control") == anonymous.get(url).headers.get(
            "Cache-Control"
        ), url


def test_signed_in_pages_stay_private_and_a_stale_cookie_is_anonymous(members, org):
    signed_in = Client()
    signed_in.force_login(members["coordinator"])
    page = reverse("org-dashboard", args=[org.slug])
    assert {"private", "no-store"} <= _parts(signed_in.get(page).headers.get("Cache-Control"))
    stale = Client()
    stale.cookies["sessionid"] = "no-such-session"
    response = stale.get(reverse("healthz"))
    assert "no-store" not in _parts(response.headers.get("Cache-Control"))


def test_a_static_file_is_not_made_private_for_a_signed_in_reader(members):
    signed_in = Client()
    signed_in.force_login(members["coordinator"])
    response = signed_in.get("/static/beffroi/beffroi.css")
    assert response.status_code == 200
    assert "no-store" not in _parts(response.headers.get("Cache-Control"))
    assert "cookie" not in _parts(response.headers.get("Vary"))
