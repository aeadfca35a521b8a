"""``middleware.PUBLIC_PAGES`` is read from the consultations' public URLs: a public page
added there keeps its cache policy for signed-in readers without anyone listing it."""

from __future__ import annotations

from django.urls import path

from beffroi.consult import urls as consult_urls
from beffroi.core import middleware


def test_every_public_consultation_page_is_public_but_the_challenge_and_the_ballot():
    names = {p.name for p in consult_urls.public_urlpatterns}
    # A renamed challenge or ballot URL must not turn into a cacheable page unnoticed.
    assert {"consult-challenge", "consult-submit"} <= names
    expected = (names - {"consult-challenge", "consult-submit"}) | {"healthz", "openapi"}
    assert expected == middleware.PUBLIC_PAGES


def test_a_new_public_page_is_public_without_being_listed(monkeypatch):
    added = path("c/<slug:cid>/affiche.pdf", lambda request, cid: None, name="consult-poster")
    grown = [*consult_urls.public_urlpatterns, added]
    monkeypatch.setattr(consult_urls, "public_urlpatterns", grown)
    pages = middleware._public_pages()
    assert "consult-poster" in pages
    assert "consult-submit" not in pages and "consult-challenge" not in pages
