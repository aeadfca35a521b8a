"""An upload refused by the background audit: the person who uploaded it reads the whole
refusal, cell included, on the audit's page; the journal, which scrutineers read and which
is never purged, keeps the line, the column and the kind of error, not the cell."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry

PERSON = "192.0.2.77 Jeanne Dupont 0612345678"


def _refused(client, members, org, export: bytes) -> Audit:
    client.force_login(members["coordinator"])
    client.post(
        reverse("audits", args=[org.slug]),
        {"export": SimpleUploadedFile("export.csv", export, "text/csv"), "fmt": "limesurvey"},
    )
    # The real worker, as in production (it commits, hence transactional_db).
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    audit = Audit.objects.get()
    assert audit.status == Audit.Status.FAILED
    return audit


def test_a_quoted_cell_reaches_the_page_not_the_journal(transactional_db, client, members, org):
    export = f"id;submitdate;Q1\n1;2026-03-01 10:00:00;A\n2;{PERSON};B\n".encode()
    audit = _refused(client, members, org, export)
    assert PERSON in audit.error
    page = client.get(reverse("audit-detail", args=[org.slug, audit.pk])).content.decode()
    assert f"« {PERSON} »" in page and "ligne 3" in page

    failed = JournalEntry.objects.get(action="audit.failed")
    assert failed.reason == "Fichier refusé à la ligne 3, colonne « submitdate » : date illisible."
    for entry in JournalEntry.objects.all():
        assert PERSON not in entry.reason + json.dumps(entry.data, ensure_ascii=False)
    client.force_login(members["scrutineer"])
    journal = client.get(reverse("journal", args=[org.slug])).content.decode()
    assert "date illisible" in journal and PERSON not in journal


def test_a_refusal_without_a_cell_is_journaled_whole(transactional_db, client, members, org):
    audit = _refused(client, members, org, b"id;submitdate;Q1\n1;2026-03-01 10:00:00;A;B\n")
    assert JournalEntry.objects.get(action="audit.failed").reason == audit.error
    assert audit.error.startswith("CSV mal formé à la ligne 2")
