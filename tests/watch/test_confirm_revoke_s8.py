"""Revoking a partner link asks first, naming the link (session-8 walkthrough: one
click cut a préfecture's access during a crisis). The browser side of data-confirm is
tested in tests/e2e/test_walkthrough_s8.py."""

from __future__ import annotations

import html as html_lib
import re

from django.urls import reverse

from english_catalogue import english


def _questions(page: str) -> list[str]:
    found = re.findall(r'action="[^"]*/revoquer/" data-confirm="([^"]*)"', page)
    return [html_lib.unescape(q) for q in found]


def test_revoking_a_partner_link_asks_with_its_name(client, org, members) -> None:
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    coordinator = members["coordinator"]
    actions.create_partner_link(activation, label="ARS Pays de la Loire", days=3, actor=coordinator)
    client.force_login(members["coordinator"])
    url = reverse("watch-partner-links", args=[org.slug, activation.pk])
    assert _questions(client.get(url).content.decode()) == [
        "Révoquer le lien « ARS Pays de la Loire » ? Il cesse aussitôt de fonctionner ; "
        "un nouveau lien devra être transmis."
    ]
    client.cookies["django_language"] = "en"
    with english():
        questions = _questions(client.get(url).content.decode())
    assert questions == [
        "Revoke the link “ARS Pays de la Loire”? It stops working at once; "
        "a new link will have to be sent."
    ]
