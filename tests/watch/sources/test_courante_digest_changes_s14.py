"""An author's edit or deletion changes the main courante lines that quote the post (the
« modifié » mark, the text withdrawn from partners): the journal entry of the change
carries those lines' new digests, so the content check still passes, and a line
rewritten afterwards in SQL is still caught (docs/decisions/courante-digest.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

pytestmark = pytest.mark.usesdb

WHEN = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
EDITED = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def _post(source_id, external_id, text):
    from beffroi.watch.sources import RawPost

    return RawPost("mastodon", str(source_id), external_id, text, WHEN)


def _change(kind, source_id, external_id, text=""):
    from beffroi.watch.sources.base import PostChange

    post = _post(source_id, external_id, text) if kind == "edit" else None
    at = EDITED if kind == "edit" else None
    return PostChange(kind, "mastodon", str(source_id), external_id, at=at, post=post)


def test_edits_and_deletions_keep_the_lines_verified(source_room, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import Card, LogEntry
    from beffroi.watch.worker import ActivationProcessor

    activation, source = source_room("mastodon")
    actions.receive_items(
        source.pk,
        [_post(source.pk, "1", "Eau dans les maisons à Alès"), _post(source.pk, "2", "Pont coupé")],
        {"v": 1},
    )
    ActivationProcessor(activation, None).process()
    coord = members["coordinator"]
    quoted = actions.escalate(
        Card.objects.get(source=source, external_id="1"), actor=coord, category="degats"
    )
    edited = actions.escalate(
        Card.objects.get(source=source, external_id="2"), actor=coord, category="routes"
    )
    assert courante_verify.check().ok

    actions.receive_items(source.pk, [_change("edit", source.pk, "2", "Pont rouvert")], {"v": 1})
    actions.receive_items(source.pk, [_change("delete", source.pk, "1")], {"v": 1})
    quoted.refresh_from_db()
    assert quoted.withdrawn_text == "Eau dans les maisons à Alès"
    assert LogEntry.objects.get(pk=edited.pk).author_edited_at == EDITED
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]
    assert report.intact == 2
    for action, line in (("watch.post.edit", edited), ("watch.post.delete", quoted)):
        entry = JournalEntry.objects.get(action=action)
        assert list(entry.data["content"]["lines"]) == [str(line.pk)]

    # The withdrawn text put back for the partners by hand: caught.
    table = connection.ops.quote_name(LogEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET text = withdrawn_text WHERE id = %s",
            [quoted.pk],
        )
    [finding] = courante_verify.check().findings
    assert finding.number == quoted.number and not finding.missing
