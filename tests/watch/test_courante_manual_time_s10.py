"""A phone call taken at 02:10 and typed at 02:25: the manual line carries the time it
happened (its place in the main courante follows it), journaled; a time to come is
refused under the field, the line kept as typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )


def _url(name, activation):
    return reverse(name, args=[activation.organisation.slug, activation.pk])


def _line(**extra):
    return {
        "text": "Appel du maire de Chasnais : route coupée",
        "channel": "telephone",
        "category": "routes",
        "commune_code": "",
        "for_partners": "on",
        **extra,
    }


def test_a_line_typed_late_carries_the_time_it_happened(client, members, activation):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    actions.add_log_entry(
        activation, actor=members["volunteer"], text="Digue surveillée", channel="autre",
        category="routes",
    )  # fmt: skip
    client.force_login(members["volunteer"])
    when = (timezone.localtime() - timedelta(minutes=15)).replace(second=0, microsecond=0)
    response = client.post(
        _url("watch-courante-add", activation), _line(at=when.strftime("%Y-%m-%dT%H:%M"))
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get(activation=activation, number=2)
    assert entry.at == when and entry.created_at > when
    # Newest first by the time it happened: the call comes after the line typed before it.
    html = client.get(_url("watch-courante", activation)).content.decode()
    assert html.index("Digue surveillée") < html.index("Appel du maire")
    journaled = JournalEntry.objects.filter(action="watch.log.add").last()
    assert journaled.data["at"] == when.isoformat()
    # Without a time: now, and the journal says nothing more.
    client.post(_url("watch-courante-add", activation), _line(text="Sans heure"))
    assert "at" not in JournalEntry.objects.filter(action="watch.log.add").last().data


def test_a_time_to_come_is_refused_and_the_line_comes_back(client, members, activation):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    later = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(_url("watch-courante-add", activation), _line(at=later), follow=True)
    html = response.content.decode()
    assert "L&#x27;heure ne peut pas être dans le futur." in html
    assert "Appel du maire de Chasnais : route coupée</textarea>" in html
    assert f'value="{later}"' in html
    assert not LogEntry.objects.filter(activation=activation).exists()


def test_the_action_refuses_a_time_to_come_too(members, activation):
    from beffroi.watch import actions

    with pytest.raises(actions.InvalidInput):
        actions.add_log_entry(
            activation,
            actor=members["volunteer"],
            text="x",
            channel="autre",
            category="autre",
            at=timezone.now() + timedelta(hours=1),
        )
