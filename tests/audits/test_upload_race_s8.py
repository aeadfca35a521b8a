"""The organisation's limit of audits waiting was read, then the upload stored (up to
200 MB) and its audit created, with nothing between them: uploads sent at once each read
a queue with room and each queued an audit past BEFFROI_AUDIT_MAX_PENDING. The count and
the new audit are now one step per organisation."""

from __future__ import annotations

import contextlib
import threading

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from beffroi.audits import actions
from beffroi.audits.forms import AuditUploadForm
from beffroi.audits.models import Audit

EXPORT = b"id,submitdate,ipaddr,q1\n1,2026-01-01 10:00:00,192.0.2.1,oui\n"


def _form() -> AuditUploadForm:
    form = AuditUploadForm(
        {"fmt": "limesurvey"},
        {"export": SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv")},
    )
    assert form.is_valid(), form.errors
    return form


def test_parallel_uploads_do_not_queue_past_the_limit(
    transactional_db, org, members, monkeypatch, settings
):
    # Real transactions: each thread's connection sees what the others commit.
    settings.BEFFROI_AUDIT_MAX_PENDING = 2
    limit = actions.max_pending
    read = threading.Barrier(5, timeout=2)

    def slow_limit() -> int:
        # Between the count and the new audit: every upload gets there before any of
        # them is stored (unless they are serialised, when the barrier gives up).
        with contextlib.suppress(threading.BrokenBarrierError):
            read.wait()
        return limit()

    monkeypatch.setattr(actions, "max_pending", slow_limit)
    forms = [_form() for _ in range(5)]
    outcomes: list[bool] = []

    def upload(form: AuditUploadForm) -> None:
        try:
            d = form.cleaned_data
            try:
                actions.start_audit(
                    org,
                    d["export"],
                    fmt=d["fmt"],
                    actor=members["scrutineer"],
                    electorate=d["electorate"],
                )
            except actions.AuditsBusy:
                outcomes.append(False)
            else:
                outcomes.append(True)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(f,)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == [False] * 3 + [True] * 2
    assert Audit.objects.filter(organisation=org).count() == 2
