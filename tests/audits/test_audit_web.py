"""Uploading an export in the app: background audit, live status, report, journal."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from audit_rows import audit_row
from beffroi.audits.forms import parse_electorate
from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry
from beffroi.integrity.simulate import simulate


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    sim = simulate(tmp_path_factory.mktemp("sim"), attack="seedlike", forms=300, fakes=80, seed=3)
    return sim.export.read_bytes()


def _upload(client, org, content, name="export.csv", **extra):
    data = {
        "export": SimpleUploadedFile(name, content, content_type="text/csv"),
        "fmt": "limesurvey",
        **extra,
    }
    return client.post(reverse("audits", args=[org.slug]), data)


def _work():
    # The real worker; it closes its connection when done, so the tests that
    # call it use committed transactions (transactional_db), as in production.
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def test_upload_runs_in_background_and_produces_the_report(
    transactional_db, client, members, org, export
):
    client.force_login(members["scrutineer"])
    response = _upload(client, org, export, electorate="A1=212, A2=168")
    audit = Audit.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("audit-detail", args=[org.slug, audit.pk])
    assert audit.status == "queued"
    page = client.get(response.url).content.decode()
    assert 'hx-trigger="every 1s"' in page  # the page follows the work live

    _work()

    audit.refresh_from_db()
    assert audit.status == "done", audit.error
    assert audit.summary["responses"] > 300 and audit.summary["flagged"] > 0
    fragment = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "réponses signalées" in fragment

    report = client.get(reverse("audit-report", args=[org.slug, audit.pk]))
    assert report.status_code == 200 and "<svg" in report.content.decode()
    assert "sandbox" in report["Content-Security-Policy"]
    assert "script-src 'none'" in report["Content-Security-Policy"]
    data = json.loads(
        b"".join(
            client.get(
                reverse("audit-download", args=[org.slug, audit.pk, "json"])
            ).streaming_content
        )
    )
    assert {"responses", "scenarios", "robustness", "checks_skipped"} <= data.keys()
    pdf = b"".join(
        client.get(reverse("audit-download", args=[org.slug, audit.pk, "pdf"])).streaming_content
    )
    assert pdf.startswith(b"%PDF")

    upload = JournalEntry.objects.get(action="audit.upload")
    assert upload.data["sha256"] == audit.sha256 and upload.actor_label == "scrutineer"
    assert upload.data["electorate"] == {"A1": 212, "A2": 168}
    assert JournalEntry.objects.get(action="audit.complete").data == audit.summary
    # The export (raw addresses in its ipaddr column) is not kept once audited; its
    # SHA-256 stays in the journal so anyone can check a copy against the report.
    assert not audit.input_path.exists() and audit.output("report.html").exists()


def test_bad_file_fails_clearly_and_writes_no_report(transactional_db, client, members, org):
    client.force_login(members["coordinator"])
    _upload(client, org, b"id;submitdate;Q1\n1;not a date;A\n1;2024-01-01 10:00:00;B\n")
    _work()
    audit = Audit.objects.get()
    assert audit.status == "failed"
    assert audit.error and "Traceback" not in audit.error
    assert not audit.output("report.html").exists()
    assert client.get(reverse("audit-report", args=[org.slug, audit.pk])).status_code == 404
    assert JournalEntry.objects.filter(action="audit.failed").exists()
    assert not audit.input_path.exists()


def test_form_errors_are_specific_and_in_french(client, members, org):
    client.force_login(members["coordinator"])
    page = _upload(client, org, b"", name="vide.csv").content.decode()
    assert "fichier soumis est vide" in page  # Django's own check, in French
    page = _upload(client, org, b"id\n1\n", electorate="A1=deux cents").content.decode()
    assert "« A1=deux cents »" in page
    page = _upload(client, org, b"id\n1\n", fmt="csv").content.decode()
    assert "fichier de correspondance" in page
    assert not Audit.objects.exists()


def test_parse_electorate():
    assert parse_electorate("A1=212; A2 = 168,") == {"A1": 212, "A2": 168}
    assert parse_electorate("") == {}


@pytest.mark.parametrize(
    "role,status", [("volunteer", 403), ("partner", 403), ("outsider", 404), ("scrutineer", 200)]
)
def test_audit_pages_follow_roles(client, members, org, role, status):
    audit = audit_row(org, members["coordinator"])
    client.force_login(members[role])
    assert client.get(reverse("audit-detail", args=[org.slug, audit.pk])).status_code == status
    json_status = client.get(
        reverse("audit-download", args=[org.slug, audit.pk, "json"])
    ).status_code
    assert json_status == (404 if status == 200 else status)  # not finished yet: nothing to get


@pytest.mark.parametrize(
    "content,french,english",
    [
        # Session 7 queued this, then reported empty sections.
        (
            b"id,foo\n1,a\n2,b\n",
            "Colonne « submitdate » absente de l&#x27;en-tête (ligne 1)",
            "No “submitdate” column in the header (line 1)",
        ),
        (
            b"id;submitdate;lastpage\n1;;2\n",
            "Aucune colonne de réponse dans l&#x27;en-tête (ligne 1) : seulement « id », "
            "« submitdate », « lastpage »",
            "No answer column in the header (line 1): only “id”, “submitdate”, “lastpage”",
        ),
    ],
)
def test_unauditable_upload_is_refused_at_once_and_nothing_is_stored(
    client, members, org, settings, tmp_path, content, french, english
):
    from english_catalogue import english as english_catalogue

    settings.MEDIA_ROOT = str(tmp_path)
    client.force_login(members["coordinator"])
    page = _upload(client, org, content)
    assert page.status_code == 200 and french in page.content.decode()
    with english_catalogue():
        page = client.post(
            reverse("audits", args=[org.slug]),
            {"export": SimpleUploadedFile("e.csv", content), "fmt": "limesurvey"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert english in page.content.decode()
    assert not Audit.objects.exists()
    assert not JournalEntry.objects.filter(action__startswith="audit.").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_mapping_without_the_submission_time_is_refused_under_its_field(client, members, org):
    client.force_login(members["coordinator"])
    mapping = SimpleUploadedFile("m.toml", b'[columns]\nid = "ref"\n')
    response = client.post(
        reverse("audits", args=[org.slug]),
        {
            "export": SimpleUploadedFile("d.csv", b"ref;q\na;1\n"),
            "fmt": "csv",
            "mapping": mapping,
        },
    )
    page = response.content.decode()
    assert "La correspondance doit nommer la colonne de date de soumission" in page
    assert not Audit.objects.exists()


def test_an_auditable_upload_is_stored_from_its_first_byte(client, members, org, export):
    """Reading the header to judge it must not shift what is stored and hashed."""
    import hashlib

    client.force_login(members["coordinator"])
    assert _upload(client, org, export).status_code == 302
    audit = Audit.objects.get()
    assert audit.sha256 == hashlib.sha256(export).hexdigest()
    assert audit.input_path.read_bytes() == export
