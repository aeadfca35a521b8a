"""Retention of the ballots' client pseudonyms (``consult.actions.prune_client_pseudonyms``):
blanked once a consultation has been closed for the period; the ballots, the public board
and the scrutineer bundle stay exactly as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.usesdb

CLOSED = datetime(2026, 3, 1, 18, tzinfo=UTC)


def _closed(org, cid, *, closed_at=CLOSED):
    """An open-access consultation with three ballots carrying client pseudonyms, closed
    at ``closed_at`` (None: still open)."""
    from beffroi.consult import actions
    from beffroi.consult.cli_example_bundle import setup_consultation, unsigned_payload
    from beffroi.consult.examples import random_answers

    c, _ = setup_consultation(org, cid=cid, access="open")
    spec = c.get_spec()
    import random

    rng = random.Random(3)
    for i in range(3):
        answers, rows = random_answers(spec, rng)
        p = unsigned_payload(c, answers, rows, 100 + i, spec.segment_codes()[0])
        incoming = actions.Incoming(
            p["ballot"], None, net=f"prefix:{i:06x}", addr=f"addr:{i:06x}", ua="ua:abcdef"
        )
        assert actions.submit_ballots(c.cid, [incoming])[0].error is None
    if closed_at is not None:
        actions.close_consultation(c, actor=None)
        type(c).objects.filter(pk=c.pk).update(closed_at=closed_at)
    c.refresh_from_db()
    return c


def _prune(settings, *, now, days=90, **kwargs):
    from beffroi.consult import actions

    settings.BEFFROI_RETENTION_PSEUDONYMS_DAYS = days
    return actions.prune_client_pseudonyms(now=now, **kwargs)


def _private(c):
    return sorted(c.entries.values_list("net", "addr", "ua"))


def test_kept_until_the_period_after_closing_ends(org, settings):
    c = _closed(org, "avant")
    still_open = _closed(org, "ouverte", closed_at=None)
    assert _prune(settings, now=CLOSED + timedelta(days=89, hours=23)).total == 0
    assert _prune(settings, now=CLOSED + timedelta(days=3650)).scope == [c.pk]
    # An open consultation keeps them, however old its ballots.
    assert all(all(p) for p in _private(still_open))


def test_blanked_after_the_period_ballots_and_bundle_unchanged(org, settings):
    from beffroi.consult import live
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry

    c = _closed(org, "apres")
    board = [e.public() for e in c.entries.order_by("n")]
    bundle = live.bundle(c)
    head = (c.board_count, c.board_head)

    outcome = _prune(settings, now=CLOSED + timedelta(days=90))
    assert outcome.counts == {"ballots": 3} and outcome.scope == [c.pk]
    assert _private(c) == [("", "", "")] * 3
    c.refresh_from_db()
    # The evidence: every ballot, the board, its head and the bundle are as published.
    assert [e.public() for e in c.entries.order_by("n")] == board
    assert (c.board_count, c.board_head) == head
    assert live.bundle(c) == bundle

    entry = JournalEntry.objects.order_by("-seq").first()
    assert entry.action == "retention.client_pseudonyms"
    assert entry.data == {"days": 90, "ballots": 3, "scope": [c.pk]}
    assert entry.rule == "90 jours"
    assert journal.verify() is None
    # Idempotent: nothing left, nothing journaled.
    seq = entry.seq
    assert _prune(settings, now=CLOSED + timedelta(days=91)).total == 0
    assert JournalEntry.objects.order_by("-seq").first().seq == seq


def test_dry_run_and_never_change_nothing(org, settings):
    from beffroi.core.models import JournalEntry

    c = _closed(org, "essai")
    before = JournalEntry.objects.count()
    assert _prune(settings, now=CLOSED + timedelta(days=365), dry_run=True).counts == {"ballots": 3}
    assert _prune(settings, now=CLOSED + timedelta(days=36500), days=None).total == 0
    assert all(all(p) for p in _private(c))
    assert JournalEntry.objects.count() == before
