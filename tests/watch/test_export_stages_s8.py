"""A background export's stage is said in the reader's language (session 8 walkthrough:
the English status page read "Export running… / mise en page du PDF")."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from beffroi.watch import exports
from english_catalogue import english, english_table

ENGLISH = {
    exports.STAGE_PDF_LAYOUT: "laying out the PDF",
    exports.STAGE_WRITING: "writing the workbook",
    exports.STAGE_COMPRESSING: "compressing the file",
}


def _said(fmt: str, monkeypatch) -> list[str]:
    """Every stage ``build`` reports for a small file of that format."""
    monkeypatch.setattr(exports, "to_pdf", lambda html, base_url: b"%PDF-")
    heard: list[str] = []
    data = [
        [n, "2026-11-24 00:00:00", "Téléphone", "Routes", "", "", "x", "", "", "", "oui"]
        for n in range(120)
    ]
    exports.build(fmt, data, "Crue", progress=lambda _f, message: heard.append(message))
    return heard


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "pdf"])
def test_every_stage_reported_is_a_known_msgid_with_its_english(fmt, monkeypatch):
    heard = _said(fmt, monkeypatch)
    assert heard and set(heard) <= set(exports.STAGES)
    table = english_table()
    assert all(table.get(stage) == ENGLISH[stage] for stage in heard)


@pytest.fixture
def running_job(org, members):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from beffroi.watch import actions, tasks

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=members["coordinator"]
    )
    actions.add_log_entry(
        activation,
        actor=members["coordinator"],
        text="Route coupée",
        channel="autre",
        category="routes",
    )
    job_id = tasks.request_export(activation.pk, "pdf", {}, partner=True, filename="x.pdf")
    DBTaskResult.objects.filter(id=job_id).update(status=TaskResultStatus.RUNNING)
    _link, token = actions.create_partner_link(
        activation, label="COD 85", days=1, actor=members["coordinator"]
    )
    return activation, job_id, token


@pytest.mark.parametrize("stage", exports.STAGES)
def test_the_status_page_says_the_stage_in_the_readers_language(
    client, members, org, running_job, stage
):
    from beffroi.watch import tasks

    activation, job_id, token = running_job
    cache.set(tasks._progress_key(job_id), {"fraction": 0.5, "message": stage}, 60)
    client.force_login(members["volunteer"])
    member_url = reverse("watch-export-job", args=[org.slug, activation.pk, job_id])
    partner_url = reverse("watch-partner-export-job", args=[token, job_id])
    for url in (member_url, partner_url):
        french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert stage in french
        with english():
            # The page as htmx polls it, and as first opened.
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                page = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **headers).content.decode()
                assert "Export running" in page
                assert ENGLISH[stage] in page and stage not in page


def test_a_stage_the_page_does_not_know_is_shown_as_stored(client, members, org, running_job):
    from beffroi.watch import tasks

    activation, job_id, _token = running_job
    cache.set(tasks._progress_key(job_id), {"fraction": 0.5, "message": "étape 3/7"}, 60)
    client.force_login(members["volunteer"])
    url = reverse("watch-export-job", args=[org.slug, activation.pk, job_id])
    with english():
        assert "étape 3/7" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
