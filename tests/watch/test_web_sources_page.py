"""The Sources page speaks French: state labels instead of the runner's codes,
the precise error, the next attempt, the reason of the last skipped post; a bad
form names its field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def sources(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    made = {
        name: actions.add_source(
            activation, kind="rss", name=name, data={"url": f"https://example.org/{name}.xml"},
            actor=coord,
        )
        for name in ("mort", "vivant")
    }  # fmt: skip
    at = timezone.now()
    actions.record_source_status(
        made["mort"].pk,
        state="error",
        message="Flux injoignable (https://example.org/mort.xml) : connexion refusée. "
        "Nouvel essai dans 8 s.",
        at=at,
        retry_in=8,
    )
    actions.record_source_status(
        made["vivant"].pk,
        state="ok",
        message="12 messages reçus.",
        at=at,
        skipped=1,
        last_skip_reason="Ligne 4 : texte vide.",
    )
    return activation, made, at


def test_states_are_labelled_with_the_error_and_next_attempt(client, members, org, sources):
    activation, _made, at = sources
    client.force_login(members["coordinator"])
    html = client.get(reverse("watch-sources", args=[org.slug, activation.pk])).content.decode()
    assert "En erreur, nouvel essai prévu" in html and "En service" in html
    assert ">error<" not in html and ">ok<" not in html  # no raw code shown
    assert "Flux injoignable (https://example.org/mort.xml) : connexion refusée." in html
    retry = timezone.localtime(at + timedelta(seconds=8)).strftime("%H:%M:%S")
    assert f"Prochain essai à {retry}" in html
    assert "Dernier message ignoré : Ligne 4 : texte vide." in html

    data = client.get(reverse("watch-sources-status", args=[org.slug, activation.pk])).json()
    by_name = {s["name"]: s for s in data["sources"]}
    assert by_name["mort"]["status"] == "error"
    assert by_name["mort"]["status_label"] == "En erreur, nouvel essai prévu"
    assert by_name["mort"]["retry_display"] == retry
    assert by_name["vivant"]["status_label"] == "En service"
    assert by_name["vivant"]["retry_display"] == ""


def test_every_runner_state_has_a_label():
    from beffroi.watch.views import SOURCE_STATUS_LABELS

    # The runner's documented states, plus "new" (before the worker took the source).
    states = {"new", "connecting", "ok", "error", "done", "stopped", "failed"}
    assert set(SOURCE_STATUS_LABELS) == states
    assert all(str(label) and str(label) != code for code, label in SOURCE_STATUS_LABELS.items())


def test_a_bad_source_form_names_its_field_in_french(client, members, org, sources):
    from beffroi.watch.models import Source

    activation, _made, _at = sources
    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    page = client.post(url, {"kind": "rss", "name": "Vigicrues", "url": "pas une adresse"})
    assert page.status_code == 200
    form = page.context["form"]
    assert "url" in form.errors
    message = " ".join(form.errors["url"])
    assert message == "URL de flux invalide (http:// ou https:// attendu)."
    assert Source.objects.filter(activation=activation).count() == 2
