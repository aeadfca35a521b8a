"""A finished import on the Sources page (review R12, finding 10): the skipped row's
line is named, one message is singular, and nothing offers to suspend it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.urls import reverse

pytestmark = pytest.mark.usesdb


class _File:
    """A file import as the runner sees one: a poll that reads the file and is done."""

    kind = "replay"
    source_id = "1"
    poll_interval = 0.0

    def poll(self, checkpoint):
        from beffroi.watch.sources.base import Batch, RawPost, Skipped

        post = RawPost("replay", "1", "a", "crue à Luçon", datetime(2024, 1, 1, tzinfo=UTC))
        skipped = [Skipped("Date illisible « not-a-date ».", "ligne 12")]
        return Batch([post], {"n": 2}, skipped, exhausted=True)


def test_a_finished_import_names_its_line_and_offers_no_pause(
    transactional_db, client, org, members
) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources.runner import run_source
    from beffroi.watch.worker import _report

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="replay", name="fichier", config={})
    run_source(
        _File(),
        None,
        lambda items, cp: actions.receive_items(source.pk, items, cp),
        stop_event=threading.Event(),
        max_failures=1,
        on_status=lambda s: _report(
            source.pk, s.state, s.message, s.at, s.retry_in, s.skipped,
            s.last_skip_reason, s.unknown_deletions,
        ),
    )  # fmt: skip
    client.force_login(members["coordinator"])
    html = client.get(reverse("watch-sources", args=[org.slug, activation.pk])).content.decode()
    assert "Import terminé : 1 message reçu depuis le démarrage du worker." in html
    assert "Dernier message ignoré : Ligne 12 ignorée : date illisible « not-a-date »." in html
    row = html.split(f'data-source="{source.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Suspendre" not in row
    assert "Import terminé : rien à suspendre." in row
