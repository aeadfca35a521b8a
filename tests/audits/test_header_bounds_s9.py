"""Export headers are bounded before they are parsed (session 9 security review). Each
column costs the CSV parser about 10 KB whatever it holds: 100,000 columns named in a
header under 1 MB took 1 GB in the worker, and a first line longer than the upload form's
look-ahead (then 1 MB) was not judged at all, so a 20 MB line of short names could take the
worker down. Now a header over ``MAX_HEADER_BYTES`` or ``MAX_COLUMNS`` is refused, by the
upload form before anything is stored and by the loader."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.audits import forms
from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry
from beffroi.integrity import load
from beffroi.integrity.errors import InputError

ROW = "1,2026-01-01 10:00:00"


def export(columns: int) -> bytes:
    names = ["id", "submitdate", *(f"q{i}" for i in range(columns - 2))]
    return (",".join(names) + "\n" + ROW + ",oui" * (columns - 2) + "\n").encode()


def test_the_form_reads_one_byte_past_the_loaders_limit():
    assert forms.HEAD_BYTES == load.MAX_HEADER_BYTES + 1


def test_a_header_of_too_many_columns_is_refused_by_the_form(client, members, org):
    client.force_login(members["scrutineer"])
    journaled = JournalEntry.objects.count()
    response = client.post(
        reverse("audits", args=[org.slug]),
        {
            "export": SimpleUploadedFile("large.csv", export(load.MAX_COLUMNS + 1)),
            "fmt": "limesurvey",
        },
    )
    assert response.status_code == 200
    assert "En-tête trop large (ligne 1) : 10001 colonnes, 10000 au plus." in (
        response.content.decode()
    )
    assert not Audit.objects.filter(organisation=org).exists()
    assert JournalEntry.objects.count() == journaled


def test_a_first_line_past_the_limit_is_refused_by_the_form(client, members, org):
    client.force_login(members["scrutineer"])
    line = b"id,submitdate," + b"q" * load.MAX_HEADER_BYTES + b"\n" + ROW.encode() + b",x\n"
    response = client.post(
        reverse("audits", args=[org.slug]),
        {"export": SimpleUploadedFile("long.csv", line), "fmt": "limesurvey"},
    )
    assert response.status_code == 200
    assert "En-tête trop longue (ligne 1) : plus de 4 Mo." in response.content.decode()
    assert not Audit.objects.filter(organisation=org).exists()


def test_the_limits_themselves_are_allowed():
    load.check_header(export(load.MAX_COLUMNS), "limesurvey")
    load.check_header(b"id,submitdate,q1", "limesurvey")  # no newline, short: left to the audit
    with pytest.raises(InputError, match="plus de 4 Mo"):
        load.check_header(b"x" * (load.MAX_HEADER_BYTES + 1), "limesurvey")


def test_the_loader_refuses_them_too(monkeypatch):
    monkeypatch.setattr(load, "MAX_HEADER_BYTES", 1000)
    monkeypatch.setattr(load, "MAX_COLUMNS", 50)
    with pytest.raises(InputError, match=r"En-tête trop large \(ligne 1\) : 51 colonnes, 50"):
        load.load_limesurvey(text=export(51).decode())
    long_names = "id,submitdate," + ",".join(f"question_{i:04d}" for i in range(100))
    with pytest.raises(InputError, match=r"En-tête trop longue \(ligne 1\)"):
        load.load_limesurvey(text=long_names + "\n" + ROW + ",x" * 100 + "\n")


@settings(max_examples=60, deadline=None)
@given(
    columns=st.integers(min_value=1, max_value=120),
    name_length=st.integers(min_value=1, max_value=40),
)
def test_fuzz_headers_parse_or_are_refused_by_their_size(columns, name_length):
    names = [f"c{i}".ljust(name_length, "x") for i in range(columns)]
    first = ",".join(names)
    limits = {"MAX_HEADER_BYTES": 1500, "MAX_COLUMNS": 60}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in limits.items():
            patch.setattr(load, name, value)
        try:
            header = load._header_of(first)
        except InputError as exc:
            assert "trop longue" in str(exc) or "trop large" in str(exc)
            assert len(first) > 1500 or columns > 60
        else:
            assert header == names and len(first) <= 1500 and columns <= 60
