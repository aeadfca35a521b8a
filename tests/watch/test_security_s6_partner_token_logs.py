"""A partner link's token is a password in the URL: Django logs the path of every
4xx/5xx answer (logger ``django.request``), so a valid token used on a wrong address
(an unknown export format, an expired export, the hourly limit) would be written to the
server's logs in clear. The logging configuration redacts it."""

from __future__ import annotations

import logging
import logging.config
import uuid

import pytest
from django.conf import settings
from django.urls import reverse


@pytest.fixture
def token(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
    )
    _link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return token


@pytest.fixture
def server_log():
    """What the deployment's own logging configuration writes, as text."""
    logging.config.dictConfig(settings.LOGGING)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    keep = Keep()
    logging.getLogger().addHandler(keep)
    yield lines
    logging.getLogger().removeHandler(keep)


def test_a_valid_token_on_a_wrong_address_is_not_logged(client, token, server_log, settings):
    settings.BEFFROI_PARTNER_LINK_LIMIT = 2
    wrong = [
        reverse("watch-partner", args=[token]) + "export.exe",
        reverse("watch-partner-export-job", args=[token, uuid.uuid4()]),
    ]
    for url in wrong:
        assert client.get(url).status_code == 404
    for _ in range(3):  # beyond the hourly limit: 429
        last = client.get(reverse("watch-partner", args=[token]))
    assert last.status_code == 429
    assert len(server_log) >= 3  # the 404s and the 429 were logged…
    assert all(token not in line for line in server_log)  # …without the token
    assert any("/partenaire/…/export.exe" in line for line in server_log)


def test_the_filter_leaves_other_paths_alone():
    from beffroi.watch.logfilter import redact_partner_tokens

    assert redact_partner_tokens("Not Found: /o/vost/veille/3/tri/") == (
        "Not Found: /o/vost/veille/3/tri/"
    )
    assert redact_partner_tokens("Not Found: /veille/partenaire/AbC-_12/export.csv") == (
        "Not Found: /veille/partenaire/…/export.csv"
    )
