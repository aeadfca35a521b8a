"""An audit whose worker died (killed by the system for its memory, stopped past its
grace period) stays « en cours » for ever: django-tasks never takes such a job up again.
Counted in the organisation's limit of audits waiting, three of them would refuse its
every upload from then on, with nothing on any page to clear them."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit_rows import audit_row
from beffroi.audits.models import STUCK_AFTER, Audit
from english_catalogue import english

EXPORT = b"id,submitdate,ipaddr,q1\n1,2026-01-01 10:00:00,192.0.2.1,oui\n"


def _audit(org, members, status, age):
    audit = audit_row(org, members["coordinator"], sha256="", size=0, status=status)
    # created_at is set on insert (auto_now_add): moved back afterwards.
    Audit.objects.filter(pk=audit.pk).update(created_at=timezone.now() - age)
    return audit


def _upload(client, org):
    data = {
        "export": SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv"),
        "fmt": "limesurvey",
    }
    return client.post(reverse("audits", args=[org.slug]), data)


def test_audits_left_running_by_a_dead_worker_do_not_block_uploads(client, members, org, settings):
    settings.BEFFROI_AUDIT_MAX_PENDING = 2
    client.force_login(members["scrutineer"])
    old = STUCK_AFTER + timedelta(minutes=1)
    _audit(org, members, Audit.Status.RUNNING, old)
    _audit(org, members, Audit.Status.QUEUED, old)
    response = _upload(client, org)
    assert response.status_code == 302
    assert Audit.objects.filter(organisation=org).count() == 3


def test_recent_audits_still_count(client, members, org, settings):
    settings.BEFFROI_AUDIT_MAX_PENDING = 2
    client.force_login(members["scrutineer"])
    recent = STUCK_AFTER - timedelta(minutes=5)
    _audit(org, members, Audit.Status.RUNNING, recent)
    _audit(org, members, Audit.Status.QUEUED, timedelta(0))
    response = _upload(client, org)
    assert response.status_code == 200
    assert Audit.objects.filter(organisation=org).count() == 2


def test_an_audit_left_running_by_a_dead_worker_says_it_was_interrupted(client, members, org):
    client.force_login(members["scrutineer"])
    dead = _audit(org, members, Audit.Status.RUNNING, STUCK_AFTER + timedelta(minutes=1))
    alive = _audit(org, members, Audit.Status.RUNNING, timedelta(minutes=5))
    waiting = _audit(org, members, Audit.Status.QUEUED, STUCK_AFTER + timedelta(hours=1))
    page = client.get(reverse("audit-detail", args=[org.slug, dead.pk])).content.decode()
    assert "Interrompu" in page and "Déposez le fichier à nouveau" in page
    assert 'hx-trigger="every 1s"' not in page  # no polling of a job nobody runs
    page = client.get(reverse("audit-detail", args=[org.slug, alive.pk])).content.decode()
    assert "Interrompu" not in page and 'hx-trigger="every 1s"' in page
    # A waiting audit is taken up when a worker starts again: still waiting.
    page = client.get(reverse("audit-detail", args=[org.slug, waiting.pk])).content.decode()
    assert "Interrompu" not in page
    listing = client.get(reverse("audits", args=[org.slug])).content.decode()
    assert listing.count(">Interrompu<") == 1
    client.cookies["django_language"] = "en"
    with english():
        page = client.get(reverse("audit-detail", args=[org.slug, dead.pk])).content.decode()
    assert "Interrupted" in page and "Upload the file again." in page
