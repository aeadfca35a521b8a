"""The main courante check and the re-seal while another client writes through Beffroi:
a thread with its own connection adds a line and edits another, committed, between the
check's journal read and its line read (real transactions, on SQLite and PostgreSQL).
Neither is a finding: each is looked at again against the entries since the noted head
(docs/decisions/courante-digest.md, "On a live server")."""

from __future__ import annotations

import pytest
from django.utils import timezone

from threads import start_thread

pytestmark = pytest.mark.usesdb

A, B = "secret A of the first years", "secret B after a rotation"


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: the thread's connection commits what the check then reads."""


def _add(activation, members, text):
    from beffroi.watch import actions

    return actions.add_log_entry(
        activation, actor=members["volunteer"], text=text, channel="telephone",
        category="routes", at=timezone.now(),
    )  # fmt: skip


def _volunteer_during_the_check(monkeypatch, activation, members, line):
    """Once, right after the check's journal read: another client adds a line and closes
    ``line``, and commits, before the check goes on."""
    from beffroi.watch import actions, courante_verify

    real = courante_verify._journal
    errors: list[BaseException] = []

    def work():
        _add(activation, members, "Gymnase ouvert")
        actions.update_log_status(line, "clos", actor=members["volunteer"])

    def journal_then_volunteer(*args, **kwargs):
        found = real(*args, **kwargs)
        if not hasattr(journal_then_volunteer, "done"):
            journal_then_volunteer.done = True
            start_thread(work, name="volunteer", errors=errors).join(timeout=60)
        return found

    monkeypatch.setattr(courante_verify, "_journal", journal_then_volunteer)
    return errors


def test_the_check_names_nothing_a_volunteer_did_meanwhile(org, members, monkeypatch):
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    line = _add(activation, members, "Route coupée")
    errors = _volunteer_during_the_check(monkeypatch, activation, members, line)
    report = courante_verify.check()
    assert not errors, errors
    assert LogEntry.objects.filter(activation=activation).count() == 2
    assert LogEntry.objects.get(pk=line.pk).status == "clos"
    assert report.ok, [f.message() for f in report.findings]
    assert report.intact == 2


def test_the_reseal_goes_through_what_a_volunteer_did_meanwhile(
    org, members, settings, monkeypatch
):
    from beffroi.watch import actions, courante_verify

    settings.BEFFROI_PSEUDONYM_KEY = A
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    line = _add(activation, members, "Route coupée")
    kept = _add(activation, members, "Pont fermé")
    settings.BEFFROI_PSEUDONYM_KEY = B
    errors = _volunteer_during_the_check(monkeypatch, activation, members, line)
    done = actions.reseal_courante(A)
    assert not errors, errors
    assert not done.refused, [f.message() for f in done.report.findings]
    # Only the line nobody touched was still under A.
    assert done.sealed == {activation.pk: 1}
    monkeypatch.undo()
    report = courante_verify.check()
    assert report.ok and report.intact == 3
    assert kept.pk in {int(pk) for pk in _last_reseal_lines()}


def _last_reseal_lines():
    from beffroi.core.models import JournalEntry

    entry = JournalEntry.objects.filter(action="watch.log.reseal").order_by("-seq").first()
    return entry.data["content"]["lines"]
