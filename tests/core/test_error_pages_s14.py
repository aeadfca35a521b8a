"""The pages Django renders when something failed (500, 400, CSRF failure) are French, in
the site's layout, and render without the request's context (a page that cannot fail
itself). English waits for the catalogue (the lead adds the strings)."""

from __future__ import annotations

from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.csrf import csrf_failure
from django.views.defaults import bad_request, server_error


def _page(response) -> str:
    body = response.content.decode()
    assert 'href="/static/beffroi/beffroi.css"' in body  # the site's stylesheet
    assert '<html lang="fr">' in body
    return body


def test_server_error_page_is_french(db):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = _page(response)
    assert "Erreur du serveur" in body and "Server Error" not in body


def test_bad_request_page_is_french(db):
    response = bad_request(RequestFactory().get("/"), exception=ValueError("x"))
    assert response.status_code == 400
    assert "Requête invalide" in _page(response)


def test_an_unknown_host_gets_the_french_400(db):
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Requête invalide" in _page(response)


def test_a_csrf_failure_says_to_reload_the_form(members):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "coord", "password": "x"})
    assert response.status_code == 403
    body = _page(response)
    assert "Le formulaire a expiré : rechargez la page et renvoyez-le." in body
    assert "accepte les cookies" in body
    assert "CSRF verification failed" not in body


def test_the_csrf_page_renders_for_a_request_with_a_wrong_token(db):
    request = RequestFactory().post("/", HTTP_COOKIE="csrftoken=abc")
    response = csrf_failure(request, reason="CSRF token incorrect.")
    assert "rechargez la page" in _page(response)
