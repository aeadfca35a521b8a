"""A partner link's export status page (polled every second while the export waits or runs)
was neither counted nor throttled: anyone holding a forwarded link could ask it as fast as
they liked. It now has its own counter per link, which pages polling normally never reach
(session 9 security review)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from beffroi.watch import views


@pytest.fixture
def job_page(export_room, members):
    from beffroi.watch import actions

    activation, link, token = export_room  # the export waits for a worker
    _other, other_token = actions.create_partner_link(
        activation, label="SDIS", days=1, actor=members["coordinator"]
    )
    return link, token, other_token


def _status_url(client, token) -> str:
    response = client.post(reverse("watch-partner-export", args=[token, "csv"]), {})
    assert response.status_code == 302
    return response["Location"]


def test_pages_polling_every_second_are_never_refused(client, job_page):
    _link, token, _other = job_page
    url = _status_url(client, token)
    # Two pages of the same link polling for a whole minute, and then some.
    for _ in range(2 * views.PARTNER_JOB_WINDOW + 10):
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert b"export-status" in response.content


def test_past_its_limit_the_status_page_refuses_in_french(client, job_page, monkeypatch):
    from beffroi.core.models import JournalEntry

    monkeypatch.setattr(views, "PARTNER_JOB_LIMIT", 3)
    _link, token, other_token = job_page
    url = _status_url(client, token)
    journaled = JournalEntry.objects.count()
    for _ in range(3):
        assert client.get(url).status_code == 200
    refused = client.get(url)
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/plain")
    assert refused.content.decode() == (
        "L'état de cet export a été demandé trop souvent avec ce lien : réessayez dans une minute."
    )
    assert 0 < int(refused["Retry-After"]) <= views.PARTNER_JOB_WINDOW
    # The token in the URL: no Referer may carry it, not even from a refusal.
    assert refused["Referrer-Policy"] == views.PARTNER_REFERRER_POLICY
    # Neither the polls nor the refusals write to the journal.
    assert JournalEntry.objects.count() == journaled
    # Another link has its own count.
    other_url = _status_url(client, other_token)
    assert client.get(other_url).status_code == 200


def test_the_refusal_costs_no_job_lookup(client, job_page, monkeypatch):
    from beffroi.watch import tasks

    monkeypatch.setattr(views, "PARTNER_JOB_LIMIT", 0)
    _link, token, _other = job_page
    url = _status_url(client, token)

    def unexpected(job_id: str):
        raise AssertionError("a refused poll looked the job up")

    monkeypatch.setattr(tasks, "find_export", unexpected)
    assert client.get(url).status_code == 429
    # A job id that does not exist is refused the same way: the counter comes first.
    unknown = reverse("watch-partner-export-job", args=[token, uuid.uuid4()])
    assert client.get(unknown).status_code == 429
