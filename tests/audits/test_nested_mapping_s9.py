"""A column mapping (TOML) of nested arrays a thousand deep — a few KB, uploads allow 1 MB —
made tomllib recurse until RecursionError: a 500 on the upload form (any scrutineer) and a
crashed audit from the command line. Now the mapping's own error, nothing stored
(session 9 security review)."""

from __future__ import annotations

import contextlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import check_header, load_mapped

EXPORT = b"id,submitdate,q1\n1,2026-01-01 10:00:00,oui\n"
DEEP = ("answers = " + "[" * 50_000 + "]" * 50_000 + "\n").encode()
REASON = "tableaux imbriqués trop profondément"
CLOSE = {"[": "]", "{a=": "}", "[{b=": "}]", "[1,": "]"}


def test_the_upload_form_says_what_is_wrong(client, members, org):
    client.force_login(members["scrutineer"])
    journaled = JournalEntry.objects.count()
    response = client.post(
        reverse("audits", args=[org.slug]),
        {
            "export": SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv"),
            "fmt": "csv",
            "mapping": SimpleUploadedFile("map.toml", DEEP, content_type="application/toml"),
        },
    )
    assert response.status_code == 200
    assert f"Correspondance TOML invalide (map.toml) : {REASON}." in response.content.decode()
    assert not Audit.objects.filter(organisation=org).exists()
    assert JournalEntry.objects.count() == journaled


def test_the_loader_refuses_it_with_an_input_error(tmp_path):
    export, mapping = tmp_path / "export.csv", tmp_path / "map.toml"
    export.write_bytes(EXPORT)
    mapping.write_bytes(DEEP)
    with pytest.raises(InputError, match=REASON):
        load_mapped(export, mapping)


@settings(max_examples=80, deadline=None)
@given(
    openers=st.lists(st.sampled_from(["[", "{a=", "[{b=", "[1,"]), min_size=1, max_size=4),
    depth=st.integers(min_value=1, max_value=5000),
    closed=st.booleans(),
)
def test_fuzz_nested_mappings_only_ever_raise_input_errors(openers, depth, closed):
    opened = (openers * (depth // len(openers) + 1))[:depth]
    closers = "".join(CLOSE[o] for o in reversed(opened))
    toml = "x = " + "".join(opened) + "1" + (closers if closed else "") + "\n"
    with contextlib.suppress(InputError):
        check_header(EXPORT, "csv", toml.encode(), "map.toml")
