"""The audit upload form had no field for the survey's structure (.lss): a report made
in the app named the questions by code (« BLOUSE ») where `beffroi audit --structure`
gives their wording. The optional field passes the file to the audit as the CLI does;
a wrong file is said under the field and nothing is stored."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.audits import forms as audit_forms
from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry
from beffroi.integrity.simulate import simulate
from english_catalogue import english


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    out = tmp_path_factory.mktemp("sim")
    sim = simulate(out, attack="seedlike", forms=120, fakes=30, seed=5)
    return sim.export.read_bytes(), (out / "survey.lss").read_bytes()


def _post(client: Any, org: Any, export: bytes, structure: bytes | None, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "export": SimpleUploadedFile("export.csv", export, content_type="text/csv"),
        "fmt": "limesurvey",
        **extra,
    }
    if structure is not None:
        data["structure"] = SimpleUploadedFile("enquete.lss", structure, content_type="text/xml")
    return client.post(reverse("audits", args=[org.slug]), data)


def _field_errors(page: str, field: str) -> str:
    """The error list Django renders just before the field's input."""
    match = re.search(
        r'<ul class="errorlist"[^>]*id="id_' + field + r'_error"[^>]*>(.*?)</ul>', page, re.S
    )
    assert match, f"no error under {field}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def test_the_form_offers_the_field(client: Any, members: Any, org: Any) -> None:
    client.force_login(members["scrutineer"])
    page = client.get(reverse("audits", args=[org.slug])).content.decode()
    assert 'name="structure"' in page
    assert "Structure de l&#x27;enquête (.lss, facultatif)" in page


def test_the_report_names_questions_by_their_wording(
    transactional_db: Any, client: Any, members: Any, org: Any, survey: tuple[bytes, bytes]
) -> None:
    export, lss = survey
    client.force_login(members["scrutineer"])
    response = _post(client, org, export, lss)
    assert response.status_code == 302
    audit = Audit.objects.get()
    assert audit.structure_path.exists()
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    audit.refresh_from_db()
    assert audit.status == "done", audit.error
    report = audit.output("report.html").read_text(encoding="utf-8")
    assert "Port d'une blouse à l'école" in html.unescape(report)
    assert "École Jules-Ferry" in html.unescape(report)  # the segment's options too
    upload = JournalEntry.objects.get(action="audit.upload")
    assert upload.data["structure"] == "enquete.lss"
    assert re.fullmatch(r"[0-9a-f]{64}", upload.data["structure_sha256"])
    # Discarded with the export once audited.
    assert not audit.structure_path.exists() and not audit.input_path.exists()


NO_QUESTION = (
    b'<?xml version="1.0"?><document><LimeSurveyDocType>Survey</LimeSurveyDocType></document>'
)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"<document><questions>", "Structure .lss illisible (enquete.lss), ligne 1 :"),
        (
            b'<!DOCTYPE x [<!ENTITY a "b">]><document/>',
            "Structure enquete.lss refusée : déclarations DOCTYPE/ENTITY interdites.",
        ),
        (
            b"<document><LimeSurveyDocType>Theme</LimeSurveyDocType></document>",
            "enquete.lss n'est pas une structure d'enquête LimeSurvey (.lss).",
        ),
        ("<document>é</document>".encode("latin-1"), "texte UTF-8"),
        (NO_QUESTION, "Aucune question dans cette structure"),
        (b"", "est vide."),  # Django's own FileField check
    ],
)
def test_a_wrong_structure_is_said_under_its_field_and_nothing_is_stored(
    client: Any, members: Any, org: Any, survey: tuple[bytes, bytes], content: bytes, said: str
) -> None:
    client.force_login(members["scrutineer"])
    journaled = JournalEntry.objects.count()
    response = _post(client, org, survey[0], content)
    assert response.status_code == 200
    assert said in _field_errors(response.content.decode(), "structure")
    assert not Audit.objects.exists()
    assert JournalEntry.objects.count() == journaled


def test_the_structure_is_size_bounded(
    client: Any, members: Any, org: Any, survey: tuple[bytes, bytes], monkeypatch: Any
) -> None:
    monkeypatch.setattr(audit_forms, "MAX_STRUCTURE_BYTES", 1024 * 1024)
    client.force_login(members["scrutineer"])
    big = survey[1] + b" " * (1024 * 1024)
    response = _post(client, org, survey[0], big)
    said = _field_errors(response.content.decode(), "structure")
    assert said == "Fichier de structure trop gros (1 Mo au plus)."
    assert not Audit.objects.exists()


def test_a_structure_with_a_generic_csv_is_refused(
    client: Any, members: Any, org: Any, survey: tuple[bytes, bytes]
) -> None:
    client.force_login(members["scrutineer"])
    mapping = b'[columns]\nid = "id"\ntime = "submitdate"\n'
    response = _post(
        client,
        org,
        survey[0],
        survey[1],
        fmt="csv",
        mapping=SimpleUploadedFile("map.toml", mapping, content_type="application/toml"),
    )
    said = _field_errors(response.content.decode(), "structure")
    assert said.startswith("La structure (.lss) ne sert qu'aux exports LimeSurvey")
    assert not Audit.objects.exists()


def test_the_errors_read_in_english(
    client: Any, members: Any, org: Any, survey: tuple[bytes, bytes]
) -> None:
    client.force_login(members["scrutineer"])
    with english():
        response = client.post(
            reverse("audits", args=[org.slug]),
            {
                "export": SimpleUploadedFile("export.csv", survey[0], content_type="text/csv"),
                "fmt": "limesurvey",
                "structure": SimpleUploadedFile("s.lss", b"<a>", content_type="text/xml"),
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        page = response.content.decode()
    assert "Survey structure (.lss, optional)" in page
    assert _field_errors(page, "structure").startswith("Unreadable .lss structure (s.lss), line 1:")


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_fuzz_any_structure_is_accepted_or_refused_under_its_field(body: bytes) -> None:
    export = b"id,submitdate,q1\n1,2026-01-01 10:00:00,oui\n"
    form = audit_forms.AuditUploadForm(
        {"fmt": "limesurvey"},
        {
            "export": SimpleUploadedFile("e.csv", export),
            "structure": SimpleUploadedFile("s.lss", b"<document>" + body),
        },
    )
    if not form.is_valid():
        assert set(form.errors) <= {"structure"}, form.errors


def test_the_lss_of_the_guide_s_simulation_passes(tmp_path: Path) -> None:
    # The file `beffroi simulate` writes, and the guide points to, is a valid structure.
    sim_dir = tmp_path / "sim"
    simulate(sim_dir, forms=5, fakes=0, attack="none")
    form = audit_forms.AuditUploadForm(
        {"fmt": "limesurvey"},
        {
            "export": SimpleUploadedFile("e.csv", (sim_dir / "export.csv").read_bytes()),
            "structure": SimpleUploadedFile("s.lss", (sim_dir / "survey.lss").read_bytes()),
        },
    )
    assert form.is_valid(), form.errors
