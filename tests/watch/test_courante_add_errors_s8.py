"""« Ajouter une ligne » on the main courante: a refused line says why under the field
that is wrong, on the form (session 8 walkthrough: "Unknown municipality: 85" was a page
message 1,200 px above the form, the field showing nothing), and comes back as typed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from english_catalogue import english


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )


def _post(client, org, activation, headers=None, **fields):
    line = {"text": "Appel de la mairie : route coupée", "channel": "telephone"}
    line.update(category="routes", **fields)
    url = reverse("watch-courante-add", args=[org.slug, activation.pk])
    return client.post(url, line, **(headers or {}))


def _field(html: str, name: str) -> str:
    """The <div> of one field of the form, as Django's as_div renders it."""
    start = html.index(f'<label for="id_{name}"')
    return html[start : html.index("</div>", start)]


def _messages(html: str) -> str:
    found = re.search(r'<ul class="messages".*?</ul>', html, re.S)
    return found.group(0) if found else ""


def test_an_unknown_code_is_said_under_its_field_and_the_line_comes_back(
    client, members, org, activation
):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    response = _post(client, org, activation, commune_code="85", source_url="")
    courante = reverse("watch-courante", args=[org.slug, activation.pk])
    # The page opens at the form, not at its top.
    assert response.status_code == 302 and response["Location"] == f"{courante}#ajouter"
    html = client.get(response["Location"]).content.decode()
    field = _field(html, "commune_code")
    assert "Commune inconnue : 85." in field and "5 caractères" in field
    assert 'aria-invalid="true"' in field and 'value="85"' in field
    assert "Commune inconnue" not in _messages(html)
    assert 'data-testid="line-refused"' in html
    # As typed: the text, the channel, the unticked « Transmettre aux partenaires ».
    assert "Appel de la mairie : route coupée</textarea>" in html
    assert '<option value="telephone" selected>' in html
    assert 'name="for_partners" id="id_for_partners" checked' not in html
    assert "Commune inconnue" not in _field(html, "text")
    assert not LogEntry.objects.exists()
    # Shown once: the next visit has a blank form again.
    again = client.get(courante).content.decode()
    assert "Commune inconnue" not in again and 'data-testid="line-refused"' not in again


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Luçon", "85128 (Luçon, 85)"), ("85400", "85128 (Luçon, 85)"), ("lucon", "85128")],
)
def test_a_name_or_postcode_gets_the_insee_codes_it_may_mean(
    client, members, org, activation, typed, meant
):
    client.force_login(members["volunteer"])
    response = _post(client, org, activation, commune_code=typed, for_partners="on")
    field = _field(client.get(response["Location"]).content.decode(), "commune_code")
    assert f"Commune inconnue : {typed}." in field and meant in field


def test_the_forms_own_errors_are_under_their_fields_too(client, members, org, activation):
    client.force_login(members["volunteer"])
    response = _post(client, org, activation, text="", source_url="pas une adresse")
    html = client.get(response["Location"]).content.decode()
    assert "errorlist" in _field(html, "text")
    assert "errorlist" in _field(html, "source_url")
    assert 'value="pas une adresse"' in html
    assert "errorlist" not in _field(html, "commune_code")
    # Each error once, though the form finds them again when it is shown.
    assert html.count('id="id_text_error"') == 1


def test_a_good_line_after_a_refused_one_is_added(client, members, org, activation):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    _post(client, org, activation, commune_code="Luçon")
    response = _post(client, org, activation, commune_code="85128", for_partners="on")
    assert response.status_code == 302 and "#" not in response["Location"]
    entry = LogEntry.objects.get()
    assert entry.commune_name == "Luçon" and entry.for_partners
    html = client.get(response["Location"]).content.decode()
    assert "Ligne n° 1 ajoutée." in _messages(html)
    assert "Commune inconnue" not in html


def test_the_error_is_in_the_readers_language(client, members, org, activation):
    client.force_login(members["volunteer"])
    with english():
        response = _post(client, org, activation, {"HTTP_ACCEPT_LANGUAGE": "en"}, commune_code="85")
        html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    field = _field(html, "commune_code")
    assert "Unknown municipality: 85." in field and "5 characters" in field
    assert "The line was not added" in html


def test_a_draft_in_an_old_shape_is_ignored(client, members, org, activation):
    # Sessions written before this change held the fields alone.
    client.force_login(members["volunteer"])
    session = client.session
    session["courante_draft"] = {"text": "ancien brouillon"}
    session.save()
    html = client.get(reverse("watch-courante", args=[org.slug, activation.pk]))
    assert html.status_code == 200
