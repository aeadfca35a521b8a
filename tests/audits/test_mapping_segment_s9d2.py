"""A generic-CSV mapping that names `segment = "ecole"` and lists its answers without
« ecole »: the loader stopped at the end with « Colonne de segment « ecole » introuvable. »
although the column was in the file, and the app, having accepted the upload, lost the
export. The segment column now counts as listed; a segment or repeated column that is
really missing is refused at upload, before anything is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import check_header, load_mapped

EXPORT = (
    b"ref,horodatage,ecole,q1\n"
    b"1,2026-01-01 10:00:00,A1,oui\n"
    b"2,2026-01-01 10:05:00,A2,non\n"
    b"3,2026-01-01 10:09:00,A1,oui\n"
)
COLUMNS = '[columns]\nid = "ref"\ntime = "horodatage"\nsegment = "{seg}"\n'


def _mapping(segment: str = "ecole", extra: str = "") -> bytes:
    return (COLUMNS.format(seg=segment) + 'answers = ["q1"]\n' + extra).encode()


def test_the_loader_takes_the_segment_column_not_listed_in_answers(tmp_path: Path) -> None:
    export, mapping = tmp_path / "export.csv", tmp_path / "map.toml"
    export.write_bytes(EXPORT)
    mapping.write_bytes(_mapping())
    ds = load_mapped(export, mapping)
    assert ds.segment == "ecole"
    assert [q.code for q in ds.questions] == ["q1"]


def test_a_segment_column_absent_from_the_file_is_named_at_the_header() -> None:
    with pytest.raises(InputError, match=r"Colonne « school » \(correspondance `segment`\)"):
        check_header(EXPORT, "csv", _mapping("school"), "map.toml")


def test_a_repeated_column_absent_from_the_file_is_named_at_the_header() -> None:
    mapping = _mapping(extra='[repeated]\nBLOUSE = ["p1", "p2"]\n')
    with pytest.raises(InputError, match=r"Colonne « p1 » \(répétition BLOUSE\) absente"):
        check_header(EXPORT, "csv", mapping, "map.toml")


def _post(client, org, mapping: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("audits", args=[org.slug]),
        {
            "export": SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv"),
            "fmt": "csv",
            "mapping": SimpleUploadedFile("map.toml", mapping, content_type="application/toml"),
        },
    )


def test_the_upload_refuses_a_missing_segment_column_and_stores_nothing(
    client, members, org
) -> None:
    client.force_login(members["scrutineer"])
    journaled = JournalEntry.objects.count()
    response = _post(client, org, _mapping("school"))
    assert response.status_code == 200
    assert "Colonne « school » (correspondance `segment`) absente" in response.content.decode()
    assert not Audit.objects.filter(organisation=org).exists()
    assert JournalEntry.objects.count() == journaled


def test_the_upload_accepts_the_mapping_without_the_segment_in_answers(
    client, members, org
) -> None:
    client.force_login(members["scrutineer"])
    response = _post(client, org, _mapping())
    assert response.status_code == 302
    assert Audit.objects.filter(organisation=org).count() == 1
