"""The source form in the web app refuses an internal address under its field,
and saves nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.watch.sources.netguard import ALLOW_ENV


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"kind": "rss", "url": "http://169.254.169.254/latest/meta-data/"},
            "url",
            "Adresse interne refusée : 169.254.169.254 (lien local).",
        ),
        (
            {"kind": "mastodon", "instance_url": "http://localhost:5432", "hashtags": "crue"},
            "instance_url",
            "Adresse interne refusée : localhost → 127.0.0.1 (boucle locale).",
        ),
    ],
)
def test_the_sources_page_refuses_an_internal_address(
    client, members, org, monkeypatch, data, field, message
) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    monkeypatch.delenv(ALLOW_ENV, raising=False)
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    client.force_login(coord)
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    page = client.post(url, {"name": "Métadonnées", **data})
    assert page.status_code == 200
    assert list(page.context["form"].errors[field]) == [message]
    assert message in page.content.decode()
    assert not Source.objects.filter(activation=activation).exists()
