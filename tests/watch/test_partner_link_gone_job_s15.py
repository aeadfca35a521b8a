"""An export's status page of a partner link answers a dead link the way the link's other
pages do: the site's 404 marked ``Beffroi-Link: gone`` (docs/operations.md: proxies must
pass that header)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from live_answers import shared_courante

pytestmark = pytest.mark.usesdb


def test_the_export_status_page_of_a_dead_link_is_marked(client, org, members):
    from beffroi.watch import actions

    _activation, link, token = shared_courante(org, members["coordinator"])
    url = reverse("watch-partner-export-job", args=[token, uuid.uuid4()])
    # A live link and an unknown job: a 404 that says nothing of the link.
    alive = client.get(url)
    assert alive.status_code == 404 and not alive.has_header("Beffroi-Link")
    actions.revoke_partner_link(link, actor=members["coordinator"])
    gone = client.get(url)
    assert gone.status_code == 404
    assert gone["Beffroi-Link"] == "gone"
    unknown = client.get(reverse("watch-partner-export-job", args=["pas-un-jeton", uuid.uuid4()]))
    assert unknown.status_code == 404 and unknown["Beffroi-Link"] == "gone"
