"""An uploaded export's report names the file as uploaded, never the server's path."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from beffroi.audits.models import Audit
from beffroi.integrity.simulate import simulate


def test_report_names_the_uploaded_file_not_the_server_path(
    transactional_db, client, members, org, tmp_path
):
    export = simulate(tmp_path, attack="seedlike", forms=200, fakes=40, seed=5).export
    client.force_login(members["scrutineer"])
    upload = SimpleUploadedFile("reponses-mars.csv", export.read_bytes(), content_type="text/csv")
    client.post(reverse("audits", args=[org.slug]), {"export": upload, "fmt": "limesurvey"})
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)

    audit = Audit.objects.get()
    assert audit.status == "done", audit.error
    report = client.get(reverse("audit-report", args=[org.slug, audit.pk])).content.decode()
    assert "Fichier\u00a0: reponses-mars.csv" in report
    assert str(audit.input_path) not in report and "uploads" not in report
    response = client.get(reverse("audit-download", args=[org.slug, audit.pk, "json"]))
    assert json.loads(b"".join(response.streaming_content))["source"] == "reponses-mars.csv"
