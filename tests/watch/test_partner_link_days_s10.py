"""A partner link's duration typed the French way (« 0,5 » day) is understood."""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.mark.parametrize(
    ("typed", "days"), [("0,5", 0.5), ("0.25", 0.25), (" 1,5 ", 1.5), ("3", 3.0)]
)
def test_a_decimal_comma_or_point(typed, days):
    from beffroi.watch.forms import PartnerLinkForm

    with translation.override("fr"):
        form = PartnerLinkForm({"label": "COD", "days": typed})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["days"] == days


@pytest.mark.parametrize("typed", ["0,01", "31", "trois", "1,2,3"])
def test_out_of_bounds_or_not_a_number_is_said(typed):
    from beffroi.watch.forms import PartnerLinkForm

    with translation.override("fr"):
        form = PartnerLinkForm({"label": "COD", "days": typed})
        assert not form.is_valid()
        assert form.errors["days"]


def test_the_page_creates_a_half_day_link(client, org, members):
    from django.urls import reverse
    from django.utils import timezone

    from beffroi.watch import actions
    from beffroi.watch.models import PartnerLink

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    client.force_login(members["coordinator"])
    url = reverse("watch-partner-links", args=[org.slug, activation.pk])
    page = client.post(url, {"label": "COD préfecture", "days": "0,5"}).content.decode()
    assert "Nouveau lien (affiché une seule fois)" in page
    link = PartnerLink.objects.get()
    hours = (link.expires_at - timezone.now()).total_seconds() / 3600
    assert 11.9 < hours <= 12
