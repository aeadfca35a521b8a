"""Opening an activation with a commune's name or postcode in its zone (« Luçon »,
« 85400 ») said « Commune inconnue : LUÇON » at the top of the form. It now says, under
the zone, which INSEE code that is — as the main courante's commune field does — and
opens nothing; other wrong entries keep the action's own wording."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from beffroi.watch.models import Activation


def _open(client, org, area: str) -> str:
    response = client.post(
        reverse("watch-activation-new", args=[org.slug]),
        {"name": "Crue", "event_type": "inondation", "area": area, "keywords": ""},
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("Luçon", "Commune inconnue : Luçon. Code INSEE de cette commune : 85128 (Luçon, 85)."),
        ("luçon", "Commune inconnue : luçon. Code INSEE de cette commune : 85128 (Luçon, 85)."),
        ("85400", "Commune inconnue : 85400. Codes INSEE possibles : 85128 (Luçon, 85), "),
    ],
)
def test_a_name_or_postcode_in_the_zone_gets_its_insee_code_under_the_field(
    client, org, members, typed, said
):
    client.force_login(members["coordinator"])
    page = _open(client, org, f"85, {typed}")
    assert said in page
    # Under the zone field (Django's field error list), not in the form's general errors.
    field_errors = page[page.index('id="id_area_error"') : page.index('name="area"')]
    assert said in field_errors
    assert 'class="errorlist nonfield"' not in page
    assert not Activation.objects.filter(organisation=org).exists()


def test_codes_and_departments_still_open_and_other_mistakes_keep_their_wording(
    client, org, members
):
    client.force_login(members["coordinator"])
    page = _open(client, org, "Vendée")
    assert "« VENDÉE » n'est ni un code INSEE de commune ni un département." in page
    assert not Activation.objects.filter(organisation=org).exists()
    response = client.post(
        reverse("watch-activation-new", args=[org.slug]),
        {"name": "Crue", "event_type": "inondation", "area": "85128 85 2A", "keywords": ""},
    )
    assert response.status_code == 302
    assert Activation.objects.get(organisation=org).area == ["85128", "85", "2A"]
