"""Key lists and scrutineer bundles nested deeper than Python's JSON parser recurses
(session 9 security review). A line of a few KB of ``[`` raised RecursionError: a 500 on
the coordinators' key import page, and a traceback from ``beffroi verify`` (which promises
to report on any input, never raise). Now each names the file (and line) it cannot read."""

from __future__ import annotations

import io
import json
import zipfile
from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.consult.bundle import MEMBERS
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.credentials import read_public_jsonl
from beffroi.consult.examples import all_kinds_spec, example_board
from beffroi.consult.verify import verify_bundle
from beffroi.core.models import JournalEntry

DEEP = "[" * 50_000 + "]" * 50_000
BUNDLE = example_board(6, seed=5, spec=all_kinds_spec()).bundle()


def test_the_key_import_page_names_the_line(client, org, members):
    c, _ = setup_consultation(org, cid="cles", access="credentialed", open_it=False)
    client.force_login(members["coordinator"])
    before = (c.credentials.count(), JournalEntry.objects.count())
    good = json.dumps({"public_key": "ab" * 32, "segment": None})
    upload = BytesIO(f"{good}\n{DEEP}\n".encode())
    upload.name = "cles-publiques.jsonl"
    response = client.post(
        reverse("consult-import", args=[org.slug, c.cid]), {"public_list": upload}
    )
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(said) == 1 and said[0].startswith(
        "Liste de clés : ligne 2, colonne 1 : JSON invalide"
    )
    assert (c.credentials.count(), JournalEntry.objects.count()) == before


def test_the_key_list_reader_refuses_with_the_line():
    with pytest.raises(ValueError, match="ligne 1, colonne 1 : JSON invalide"):
        read_public_jsonl(DEEP)


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(BUNDLE)) as zf:
        return {m: zf.read(m) for m in zf.namelist()}


def _rezip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _deepened(member: str, depth: int) -> bytes:
    """``member`` of the example bundle with arrays ``depth`` deep in its first value."""
    parts = _members()
    text = parts[member].decode()
    deep = "[" * depth + "]" * depth
    # Into the first object of the member (a JSON Lines file's first line).
    parts[member] = text.replace("{", '{"zz": ' + deep + ", ", 1).encode()
    return _rezip(parts)


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("depth", [50_000, 990, 900])
def test_verify_reports_instead_of_raising(member, depth):
    report = verify_bundle(_deepened(member, depth))
    assert not report.ok
    if depth == 50_000:
        line = report.lines()[0]
        assert member in line and "JSON imbriqué trop profondément" in line, line


@settings(max_examples=40, deadline=None)
@given(
    member=st.sampled_from(MEMBERS),
    depth=st.integers(min_value=1, max_value=4000),
    pattern=st.sampled_from(["[", '{"a":', "[0,"]),
)
def test_fuzz_nesting_anywhere_in_a_bundle_never_raises(member, depth, pattern):
    parts = _members()
    closer = {"[": "]", '{"a":': "}", "[0,": "]"}[pattern]
    deep = pattern * depth + "1" + closer * depth
    parts[member] = parts[member].decode().replace("{", '{"zz": ' + deep + ", ", 1).encode()
    assert not verify_bundle(_rezip(parts)).ok
