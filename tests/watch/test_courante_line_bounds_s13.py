"""A manual line's bounds: a link past the 1,000 characters its column holds is refused
under its field, the line kept as typed (PostgreSQL refused the row: a 500, the line
lost); a time far before the activation began (a wrong year, day) is refused by the
form, with a margin for the calls of the night before the room opened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from beffroi.watch.forms import BACKDATE_MARGIN, LogEntryForm


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )


def _line(**extra):
    return {
        "text": "Appel du maire : digue fissurée",
        "channel": "telephone",
        "category": "routes",
        "commune_code": "",
        "for_partners": "on",
        **extra,
    }


def _link(length: int) -> str:
    head = "https://www.vigicrues.gouv.fr/niv3-station.php?CdStationHydro=N3231010&x="
    return head + "a" * (length - len(head))


def _post(client, activation, **extra):
    url = reverse("watch-courante-add", args=[activation.organisation.slug, activation.pk])
    return client.post(url, _line(**extra))


def test_a_link_too_long_is_said_under_its_field_and_the_line_kept(client, members, activation):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    link = _link(1001)
    response = _post(client, activation, source_url=link)
    assert response.status_code == 302 and response["Location"].endswith("#ajouter")
    assert not LogEntry.objects.exists()
    html = client.get(response["Location"]).content.decode()
    start = html.index('<label for="id_source_url"')
    field = html[start : html.index("</div>", start)]
    assert (
        "Lien trop long (1001 caractères, 1000 au plus) : gardez l&#x27;adresse de la page "
        "sans ses paramètres de suivi." in field
    )
    # As typed, whole: the browser is not told to cut a pasted link short.
    assert f'value="{escape(link)}"' in field and "maxlength" not in field
    assert "Appel du maire : digue fissurée</textarea>" in html


def test_a_link_of_1000_characters_is_kept_whole(client, members, activation):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    link = _link(1000)
    assert _post(client, activation, source_url=link)["Location"].endswith("/main-courante/")
    assert LogEntry.objects.get().source_url == link


def test_every_bounded_field_of_the_line_form_fits_its_column() -> None:
    from beffroi.watch.models import LogEntry

    form = LogEntryForm()
    for name in ("source_url", "commune_code"):
        column = LogEntry._meta.get_field(name).max_length
        assert form.fields[name].max_length == column, name


def _at(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def test_a_time_long_before_the_activation_is_refused(activation) -> None:
    starts = activation.starts_at
    for wrong in (starts.replace(year=2001), starts - BACKDATE_MARGIN - timedelta(minutes=2)):
        form = LogEntryForm(_line(at=_at(wrong)), activation=activation)
        assert not form.is_valid()
        (said,) = form.errors["at"]
        assert said.startswith("L'heure est antérieure au début de l'activation (")
        assert said.endswith(") : vérifiez la date.")


def test_the_night_before_the_activation_is_accepted(activation) -> None:
    within = activation.starts_at - BACKDATE_MARGIN + timedelta(minutes=2)
    for at in (_at(within), ""):
        form = LogEntryForm(_line(at=at), activation=activation)
        assert form.is_valid(), form.errors


def test_an_activation_set_to_start_later_still_takes_todays_lines(org, members) -> None:
    from beffroi.watch import actions

    # Opened now for a storm expected tomorrow: a call taken an hour ago goes in.
    later = actions.create_activation(
        org,
        name="Tempête",
        event_type="tempete",
        starts_at=timezone.now() + timedelta(days=1),
        actor=members["coordinator"],
    )
    an_hour_ago = _at(timezone.now() - timedelta(hours=1))
    assert LogEntryForm(_line(at=an_hour_ago), activation=later).is_valid()


def test_the_page_refuses_a_line_dated_years_back_and_keeps_it_typed(
    client, members, activation
) -> None:
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    response = _post(client, activation, at=_at(activation.starts_at.replace(year=2001)))
    assert response.status_code == 302 and response["Location"].endswith("#ajouter")
    assert not LogEntry.objects.exists()
    html = client.get(response["Location"]).content.decode()
    assert "L&#x27;heure est antérieure au début de l&#x27;activation (" in html
    assert "Appel du maire : digue fissurée</textarea>" in html
