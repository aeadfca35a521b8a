"""« ² » and « ٣ » are digits to str.isdigit(); int() refuses the first. A starting line
or a read mark written so made the main courante a 500, on a partner link's page too:
anyone holding a link could do it. Only ASCII digits name a line."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.usesdb

ODD_DIGITS = ["²", "١٢", "𝟙", "1²"]


@pytest.fixture
def courante(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    now = timezone.now()
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=activation,
            number=n,
            at=now - timezone.timedelta(minutes=200 - n),
            channel="telephone",
            category="routes",
            text=f"Ligne {n}",
        )
        for n in range(1, 201)
    )
    _link, token = actions.create_partner_link(
        activation, label="COD", days=1, actor=members["coordinator"]
    )
    return activation, token


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_odd_digits_give_the_newest_page_not_an_error(client, members, courante, value):
    activation, token = courante
    args = [activation.organisation.slug, activation.pk]
    # As a starting line: the newest page. As a read mark: the page asked, no count.
    for params, shown in (
        ({"depuis": value}, "Ligne 200"),
        ({"depuis": 50, "lu": value}, "Ligne 50"),
    ):
        for name in ("watch-partner", "watch-partner-rows"):
            page = client.get(reverse(name, args=[token]), params)
            assert page.status_code == 200 and shown in page.content.decode()
    client.force_login(members["volunteer"])
    for name in ("watch-courante", "watch-courante-rows"):
        page = client.get(reverse(name, args=args), {"depuis": value})
        assert page.status_code == 200
        assert "Ligne 200" in page.content.decode()  # the newest page
