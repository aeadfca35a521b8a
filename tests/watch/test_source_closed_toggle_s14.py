"""A closed activation's sources page offers no « Reprendre » for a paused source, and a
resume sent anyway (an older page, a direct POST) is refused in words, not with an error
page."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

pytestmark = pytest.mark.usesdb


@pytest.fixture
def closed_source(org, members):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = actions.add_source(
        activation,
        kind="rss",
        name="Préfecture",
        data={"url": "https://example.org/rss.xml"},
        actor=members["coordinator"],
    )
    actions.close_activation(activation, actor=members["coordinator"])
    source.refresh_from_db()
    return source


def test_a_resume_on_a_closed_activation_is_refused_in_words(client, members, closed_source):
    client.force_login(members["coordinator"])
    org, activation = closed_source.activation.organisation.slug, closed_source.activation.pk
    toggle = reverse("watch-source-toggle", args=[org, activation, closed_source.pk])
    # Pausing stays possible (the worker no longer runs it anyway).
    client.post(toggle, {"enabled": "0"})
    closed_source.refresh_from_db()
    assert closed_source.enabled is False
    response = client.post(
        reverse("watch-source-toggle", args=[org, activation, closed_source.pk]),
        {"enabled": "1"},
    )
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said[-1:] == ["Activation close : aucune source ne démarre plus."]
    closed_source.refresh_from_db()
    assert closed_source.enabled is False

    html = client.get(reverse("watch-sources", args=[org, activation])).content.decode()
    rows = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    assert "Reprendre" not in rows and toggle not in rows
    assert '<span class="muted">Activation close</span>' in html
