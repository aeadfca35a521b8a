"""An export with more responses than ``BEFFROI_AUDIT_MAX_ROWS`` is refused at upload, with
a French sentence under its field, before anything is stored, journaled or queued; the
worker refuses it too (a file that reached it another way, the command line)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from beffroi.audits.models import Audit
from beffroi.core.models import JournalEntry

HEADER = b"id,submitdate,Q1\n"


def _rows(n: int) -> bytes:
    return HEADER + b"".join(
        b'%d,2026-03-02 10:00:00,"Oui\nvraiment"\n' % (i + 1) for i in range(n)
    )


def _upload(client, org, content: bytes, **headers):
    data = {
        "export": SimpleUploadedFile("export.csv", content, content_type="text/csv"),
        "fmt": "limesurvey",
    }
    return client.post(reverse("audits", args=[org.slug]), data, **headers)


@pytest.mark.parametrize("in_memory", [True, False])
def test_too_many_responses_refused_at_upload_nothing_stored(
    client, members, org, settings, monkeypatch, tmp_path, in_memory
):
    monkeypatch.setenv("BEFFROI_AUDIT_MAX_ROWS", "4")
    settings.MEDIA_ROOT = str(tmp_path)
    if not in_memory:  # a large upload is a temporary file on disk: read from there
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16
    client.force_login(members["coordinator"])
    journal = JournalEntry.objects.count()
    page = _upload(client, org, _rows(5))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Trop de réponses : le fichier en compte plus de 4" in body
    assert Audit.objects.count() == 0
    assert JournalEntry.objects.count() == journal
    assert not any(tmp_path.rglob("input"))
    # Line breaks inside answers are not responses: 4 records on 9 lines pass.
    accepted = _upload(client, org, _rows(4))
    assert accepted.status_code == 302
    assert Audit.objects.count() == 1


def test_the_worker_refuses_too(transactional_db, members, org, monkeypatch, settings, tmp_path):
    from django.core.management import call_command

    from beffroi.audits import actions

    settings.MEDIA_ROOT = str(tmp_path)
    upload = SimpleUploadedFile("export.csv", _rows(6), content_type="text/csv")
    audit = actions.start_audit(org, upload, fmt="limesurvey", actor=members["coordinator"])
    monkeypatch.setenv("BEFFROI_AUDIT_MAX_ROWS", "5")  # lowered after the upload
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    audit.refresh_from_db()
    assert audit.status == Audit.Status.FAILED
    assert audit.error.startswith("Trop de réponses : le fichier en compte plus de 5,")


ENGLISH = (
    "Too many responses: the file has more than %(n)s, the most an audit accepts. No real "
    "consultation comes close: check that this is an export of responses, or split it."
)
FRENCH = (
    "Trop de réponses : le fichier en compte plus de %(n)s, le plus qu'un audit accepte. "
    "Aucune consultation réelle n'en approche : vérifiez qu'il s'agit bien d'un export de "
    "réponses, ou découpez-le."
)


def test_an_english_reader_reads_it_in_english_with_an_english_number(
    client, members, org, monkeypatch
):
    # The proposed English entry (the lead adds it to the catalogue) laid over the
    # catalogue for this test: what is tested is the French sentence's match and its
    # number re-said (1,000,000, not 1 000 000).
    monkeypatch.delenv("BEFFROI_AUDIT_MAX_ROWS", raising=False)
    from beffroi.consult.views_i18n import audit_error
    from beffroi.integrity.load import _too_many_rows

    with translation.override("en"):
        first = trans_real.translation("en")._catalog._catalogs[0]  # type: ignore[attr-defined]
        saved = dict(first)
        first[FRENCH] = ENGLISH
        try:
            said = audit_error(str(_too_many_rows(1_000_000)))
        finally:
            first.clear()
            first.update(saved)
    assert said.startswith("Too many responses: the file has more than 1,000,000, the most")
