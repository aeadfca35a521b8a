"""Signed-in pages, private downloads and partner-link pages are kept out of caches
(``Cache-Control: private, no-store``); public pages and static files keep their own
policy (core/middleware.py, docs/decisions/0005-privacy.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client
from django.urls import reverse

from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation


def _cache_control(client, url):
    response = client.get(url)
    assert response.status_code < 400, (url, response.status_code)
    return response.headers.get("Cache-Control", "")


def _stored_nowhere(value: str) -> bool:
    parts = {p.strip() for p in value.split(",")}
    return {"private", "no-store"} <= parts


def test_signed_in_pages_are_private_and_not_stored(client, members, org, export_room):
    activation, _link, _token = export_room
    client.force_login(members["coordinator"])
    for url in (
        reverse("dashboard"),
        reverse("org-dashboard", args=[org.slug]),
        reverse("journal", args=[org.slug]),
        reverse("members", args=[org.slug]),
        reverse("watch-courante", args=[org.slug, activation.pk]),
    ):
        assert _stored_nowhere(_cache_control(client, url)), url


def test_partner_link_pages_are_private_for_anyone(members, export_room):
    _activation, _link, token = export_room
    assert _stored_nowhere(_cache_control(Client(), reverse("watch-partner", args=[token])))


def test_public_pages_keep_their_policy(client, members, org):
    spec = example_spec_dict(
        "cache-test", access="credentialed", closes=datetime(2099, 1, 1, tzinfo=UTC)
    )
    consultation, _codes = setup_consultation(
        org, cid="cache-test", access="credentialed", spec_dict=spec, open_it=True, per_segment=1
    )
    cid = consultation.cid
    anonymous = Client()
    for url in (reverse("consult-board", args=[cid]), reverse("consult-answer", args=[cid])):
        assert "no-store" not in _cache_control(anonymous, url), url
    assert "no-store" not in _cache_control(anonymous, reverse("healthz"))


def test_a_view_that_sets_its_own_policy_keeps_it(client, members):
    client.force_login(members["coordinator"])
    response = client.get("/admin/")  # the admin's never_cache: max-age=0, no-cache, …
    assert "max-age=0" in response.headers["Cache-Control"]


def test_under_asgi_too(members, org):
    # The site is served by an ASGI server: the middleware's asynchronous path.
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient()
    client.force_login(members["coordinator"])
    response = async_to_sync(client.get)(reverse("journal", args=[org.slug]))
    assert response.status_code == 200
    assert _stored_nowhere(response.headers["Cache-Control"])
    anonymous = async_to_sync(AsyncClient().get)(reverse("healthz"))
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
