"""The page after a reset request does not say the mail has gone: it is queued, and a
worker sends it (core.tasks.send_password_reset_task)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.usesdb


@pytest.mark.parametrize(
    ("lang", "said", "not_said"),
    [
        ("fr", "dans les minutes qui viennent", "vient d'être envoyé"),
        ("en", "within the next few minutes", "has been sent"),
    ],
)
def test_the_page_says_the_link_is_on_its_way(client, lang, said, not_said):
    response = client.get(reverse("password_reset_done"), HTTP_ACCEPT_LANGUAGE=lang)
    page = response.content.decode()
    assert response.status_code == 200
    assert said in page.replace("&#x27;", "'")
    assert not_said not in page.replace("&#x27;", "'")
