"""Pausing a source says so, and the button sends the state it wants: two coordinators
pressing « Suspendre » at once (or one pressing twice) no longer resume the source."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from beffroi.core.models import JournalEntry


@pytest.fixture
def source(org, members):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    return actions.add_source(
        activation,
        kind="rss",
        name="Préfecture",
        data={"url": "https://example.org/rss.xml"},
        actor=members["coordinator"],
    )


def _toggle(client, source, **data):
    url = reverse(
        "watch-source-toggle",
        args=[source.activation.organisation.slug, source.activation.pk, source.pk],
    )
    response = client.post(url, data)
    source.refresh_from_db()
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def test_pausing_twice_leaves_the_source_paused(client, members, source):
    client.force_login(members["coordinator"])
    assert _toggle(client, source, enabled="0") == ["Source « Préfecture » suspendue."]
    assert source.enabled is False
    assert _toggle(client, source, enabled="0") == ["Source « Préfecture » suspendue."]
    assert source.enabled is False
    assert JournalEntry.objects.filter(action="watch.source.disable").count() == 1
    assert _toggle(client, source, enabled="1") == [
        "Source « Préfecture » reprise : le worker la relance."
    ]
    assert source.enabled is True and source.status == "new"
    assert JournalEntry.objects.filter(action="watch.source.enable").count() == 1


def test_a_form_without_the_wanted_state_flips(client, members, source):
    client.force_login(members["coordinator"])
    _toggle(client, source)
    assert source.enabled is False
    _toggle(client, source, enabled="peut-être")
    assert source.enabled is True


def test_the_page_s_button_says_what_it_wants(client, members, source):
    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[source.activation.organisation.slug, source.activation.pk])
    html = client.get(url).content.decode()
    assert '<input type="hidden" name="enabled" value="0"><button type="submit">Suspendre' in html
    _toggle(client, source, enabled="0")
    html = client.get(url).content.decode()
    assert '<input type="hidden" name="enabled" value="1"><button type="submit">Reprendre' in html
