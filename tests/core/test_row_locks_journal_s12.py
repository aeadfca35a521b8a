"""The organisation's row locked by an audit's upload, and the journal's head, under true
concurrency (threads, one connection each, real transactions).

``start_audit`` counts the organisation's audits waiting and queues its own as one step,
locking the organisation's row, and journals the upload inside that step. An activation
(or any row naming the organisation) created at that moment took the journal's head and
then, as it committed, checked its foreign key on the organisation's row: with the row
locked FOR UPDATE, that check waited for the upload, which waited for the journal's head
(PostgreSQL failed one of them). On SQLite (WAL, BEGIN IMMEDIATE) the single write lock
runs them one after the other."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from threads import start_thread

EXPORT = b"id,submitdate,ipaddr,q1\n1,2026-01-01 10:00:00,192.0.2.1,oui\n"


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """Real transactions: each thread's connection must see what the others commit."""


def test_an_activation_opened_during_an_audit_upload_does_not_deadlock(
    org, members, paused_journal
):
    from beffroi.audits import actions as audits
    from beffroi.audits.models import Audit
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions as watch
    from beffroi.watch.models import Activation

    reached, go = paused_journal
    errors: list[BaseException] = []
    upload = start_thread(
        lambda: audits.start_audit(
            org,
            SimpleUploadedFile("export.csv", EXPORT, content_type="text/csv"),
            fmt="limesurvey",
            actor=members["scrutineer"],
        ),
        name="slow",
        errors=errors,
    )
    assert reached.wait(timeout=30)
    opened = start_thread(
        lambda: watch.create_activation(
            org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
        ),
        name="open",
        errors=errors,
    )
    opened.join(timeout=2.0)
    go.set()
    upload.join(timeout=60)
    opened.join(timeout=60)
    assert not errors, errors
    assert Audit.objects.filter(organisation=org).count() == 1
    assert Activation.objects.filter(organisation=org).count() == 1
    done = set(JournalEntry.objects.values_list("action", flat=True))
    assert {"audit.upload", "watch.activation.create"} <= done


def test_a_member_removed_while_their_role_changes_does_not_deadlock(org, members, paused_journal):
    """One coordinator changes a member's role (the membership row updated, the journal's
    head not yet taken) while another removes that member. The removal journaled first
    and deleted the row after, holding the journal's head while waiting for the role
    change, which waited for the head: PostgreSQL failed one. The removal now locks and
    reads the row before the head, so it waits, then names the role the member had."""
    from beffroi.core import actions
    from beffroi.core.models import JournalEntry, Membership, Role

    volunteer = members["volunteer"]
    membership = Membership.objects.get(user=volunteer, organisation=org)
    reached, go = paused_journal
    errors: list[BaseException] = []
    promote = start_thread(
        lambda: actions.set_role(volunteer, org, Role.COORDINATOR, actor=members["coordinator"]),
        name="slow",
        errors=errors,
    )
    assert reached.wait(timeout=30)
    remove = start_thread(
        lambda: actions.remove_member(membership, actor=members["coordinator"]),
        name="remove",
        errors=errors,
    )
    remove.join(timeout=2.0)
    go.set()
    promote.join(timeout=60)
    remove.join(timeout=60)
    assert not errors, errors
    assert not Membership.objects.filter(user=volunteer, organisation=org).exists()
    removed = JournalEntry.objects.get(action="member.remove")
    assert removed.data["role"] == Role.COORDINATOR
    promoted = JournalEntry.objects.get(
        action="member.role", data__to=Role.COORDINATOR, subject=f"user:{volunteer.pk}"
    )
    assert promoted.seq < removed.seq


def test_removing_a_member_already_removed_says_so(org, members):
    from beffroi.core import actions
    from beffroi.core.models import JournalEntry, Membership

    membership = Membership.objects.get(user=members["volunteer"], organisation=org)
    actions.remove_member(membership, actor=members["coordinator"])
    with pytest.raises(actions.ActionError, match="ne fait déjà plus partie"):
        actions.remove_member(membership, actor=members["coordinator"])
    assert JournalEntry.objects.filter(action="member.remove").count() == 1


@pytest.mark.parametrize("second", ["demote", "remove"])
def test_two_coordinators_cannot_both_step_down_at_once(org, members, paused_journal, second):
    """Each checked that someone else still coordinates, read before the other committed:
    both passed and the organisation was left without a coordinator. Now the second waits
    for the first and is refused."""
    from beffroi.core import actions
    from beffroi.core.models import Membership, Role

    first, other = members["coordinator"], members["volunteer"]
    actions.set_role(other, org, Role.COORDINATOR, actor=first)
    reached, go = paused_journal
    errors: list[BaseException] = []
    step_down = start_thread(
        lambda: actions.set_role(first, org, Role.VOLUNTEER, actor=first),
        name="slow",
        errors=errors,
    )
    assert reached.wait(timeout=30)
    if second == "demote":
        act = lambda: actions.set_role(other, org, Role.VOLUNTEER, actor=other)  # noqa: E731
    else:
        theirs = Membership.objects.get(user=other, organisation=org)
        act = lambda: actions.remove_member(theirs, actor=other)  # noqa: E731
    then = start_thread(act, name="then", errors=errors)
    then.join(timeout=2.0)
    go.set()
    step_down.join(timeout=60)
    then.join(timeout=60)
    assert [str(e) for e in errors] == [
        "Impossible : c'est la dernière personne à la coordination."
    ]
    assert Membership.objects.filter(organisation=org, role=Role.COORDINATOR).count() == 1
