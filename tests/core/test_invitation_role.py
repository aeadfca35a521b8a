"""An invitation names its role on purpose; English short dates read the same everywhere."""

import datetime as dt
import re

from django.urls import reverse
from django.utils import formats, translation

from beffroi.core.models import Invitation


def test_invitation_form_preselects_no_role(client, members, org):
    client.force_login(members["coordinator"])
    page = client.get(reverse("members", args=[org.slug])).content.decode()
    select = re.search(r'<select name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    selected = re.findall(r'<option value="([^"]*)"[^>]*selected', select)
    assert selected == [""]


def test_invitation_without_a_role_is_refused_and_nothing_is_created(client, members, org):
    client.force_login(members["coordinator"])
    response = client.post(reverse("members", args=[org.slug]), {"email": "x@example.org"})
    assert response.status_code == 200
    assert "obligatoire" in response.content.decode()
    assert not Invitation.objects.filter(email="x@example.org").exists()


def test_english_short_dates_put_the_year_first():
    moment = dt.datetime(2026, 11, 4, 0, 42)
    with translation.override("en"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026-11-04 00:42"
        assert formats.date_format(moment.date(), "SHORT_DATE_FORMAT") == "2026-11-04"
    with translation.override("fr"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "04/11/2026 00:42"
