"""Times read on the 24-hour clock in both languages (dashboard, journal, audits...)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.template import Context, Template
from django.utils import translation


@pytest.mark.parametrize(
    "language, expected",
    [("fr", "23 novembre 2026 20:18"), ("en", "Nov. 23, 2026, 20:18")],
)
def test_a_datetime_renders_on_the_24_hour_clock(language, expected):
    when = datetime(2026, 11, 23, 20, 18)
    with translation.override(language):
        said = Template("{{ when }}|{{ when|date:'SHORT_DATETIME_FORMAT' }}").render(
            Context({"when": when})
        )
    full, short = said.split("|")
    assert full == expected
    assert "p.m." not in said and "PM" not in said and "20:18" in short
