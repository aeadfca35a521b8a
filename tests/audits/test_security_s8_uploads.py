"""Audit uploads, session 8 security review: an organisation cannot fill the shared
task queue with audits (the watch room's exports wait behind them), and the column
mapping has a size limit like the export itself."""

from __future__ import annotations

import contextlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit_rows import audit_row
from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry
from english_catalogue import english

EXPORT = b"id,submitdate,ipaddr,q1\n1,2026-01-01 10:00:00,192.0.2.1,oui\n"


def _upload(client, org, **extra):
    data = {
        "export": SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv"),
        "fmt": "limesurvey",
        **extra,
    }
    return client.post(reverse("audits", args=[org.slug]), data)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_uploads_wait_while_the_organisation_has_audits_in_the_queue(
    client, members, org, settings, language
):
    settings.BEFFROI_AUDIT_MAX_PENDING = 2
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(members["scrutineer"])
    for status in (Audit.Status.QUEUED, Audit.Status.RUNNING):
        audit_row(org, members["coordinator"], sha256="", size=0, status=status)
    before = JournalEntry.objects.filter(action="audit.upload").count()
    with english() if language == "en" else contextlib.nullcontext():
        response = _upload(client, org)
    assert response.status_code == 200
    page = response.content.decode()
    expected = {
        "fr": "2 audits de cette organisation sont déjà en attente ou en cours",
        "en": "2 audits of this organisation are already waiting or running",
    }[language]
    assert expected in page
    assert Audit.objects.filter(organisation=org).count() == 2
    assert JournalEntry.objects.filter(action="audit.upload").count() == before


def test_finished_audits_do_not_count_and_another_organisation_is_not_held_up(
    client, members, org, settings
):
    from beffroi.core import actions as core_actions

    settings.BEFFROI_AUDIT_MAX_PENDING = 1
    other = core_actions.create_organisation("Autre", "autre")
    for organisation, status in ((org, Audit.Status.DONE), (other, Audit.Status.QUEUED)):
        audit_row(organisation, members["coordinator"], sha256="", size=0, status=status)
    client.force_login(members["coordinator"])
    response = _upload(client, org)
    assert response.status_code == 302
    assert Audit.objects.filter(organisation=org, status=Audit.Status.QUEUED).count() == 1


def test_the_column_mapping_has_a_size_limit(client, members, org, settings):
    client.force_login(members["coordinator"])
    big = b"# " + b"x" * (1024 * 1024) + b"\n"
    response = _upload(
        client,
        org,
        fmt="csv",
        mapping=SimpleUploadedFile("mapping.toml", big, content_type="application/toml"),
    )
    assert response.status_code == 200
    assert "Fichier de correspondance trop gros (1 Mo au plus)." in response.content.decode()
    assert not Audit.objects.exists()
