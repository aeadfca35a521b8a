"""Session 7: the log-in and reset throttles and the answer form's "at most" hint
say one minute / one choice in the singular, in French and in English
(they said « minute(s) », "choice(s)")."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import override

from beffroi.core import throttle
from english_catalogue import english


def _locked_out(client, settings, window: int, language: str) -> str:
    # A new account each time: its counter starts in this window.
    username = f"someone-{window}-{language}"
    settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = 1
    settings.BEFFROI_LOGIN_WINDOW_SECONDS = window
    url = reverse("login")
    client.post(url, {"username": username, "password": "wrong"}, HTTP_ACCEPT_LANGUAGE=language)
    response = client.post(
        url, {"username": username, "password": "wrong"}, HTTP_ACCEPT_LANGUAGE=language
    )
    return response.content.decode()


@pytest.mark.django_db
def test_login_throttle_counts_minutes_in_both_languages(client, settings, monkeypatch):
    # At the start of a fixed window (divisible by 60 and 900): a whole window to wait.
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    assert "Réessayez dans 1 minute." in _locked_out(client, settings, 60, "fr")
    assert "Réessayez dans 15 minutes." in _locked_out(client, settings, 900, "fr")
    with english():
        assert "Try again in 1 minute." in _locked_out(client, settings, 60, "en")
        assert "Try again in 15 minutes." in _locked_out(client, settings, 900, "en")


class _Question:
    code = "q1"
    kind = "multiple"
    label = "Quels jours ?"
    required = False
    options: list[object] = []

    def __init__(self, most: int) -> None:
        self.max_choices = most


@pytest.mark.parametrize(
    ("most", "french", "english_text"),
    [(1, "1 choix au plus", "at most 1 choice"), (3, "3 choix au plus", "at most 3 choices")],
)
def test_answer_form_hint_counts_choices(most: int, french: str, english_text: str) -> None:
    context = {"q": _Question(most), "prefix": "q", "row": ""}
    with override("fr"):
        assert french in render_to_string("consult/question.html", context)
    with english(), override("en"):
        assert english_text in render_to_string("consult/question.html", context)
