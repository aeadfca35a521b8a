"""Deletions of posts a source never received: persisted by the status action,
shown to the team on the Sources page (HTML and its JSON), never to others."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

LABEL = "Suppressions de messages jamais reçus : 7"


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    public = actions.add_source(
        activation,
        kind="mastodon",
        name="fil public",
        data={"instance_url": "https://piaille.invalid", "timelines": "public"},
        actor=coord,
    )
    quiet = actions.add_source(
        activation,
        kind="rss",
        name="préfecture",
        data={"url": "https://example.org/rss.xml"},
        actor=coord,
    )
    actions.record_source_status(
        public.pk,
        state="ok",
        message="En écoute : 12 messages reçus.",
        at=timezone.now(),
        skipped=1,
        last_skip_reason="Suppression illisible : identifiant de statut attendu.",
        unknown_deletions=7,
    )
    return activation, public, quiet


def test_the_action_persists_the_count_apart_from_skips(room) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    _activation, public, quiet = room
    source = Source.objects.get(pk=public.pk)
    assert (source.unknown_deletions_count, source.skipped_count) == (7, 1)
    assert Source.objects.get(pk=quiet.pk).unknown_deletions_count == 0

    # A report that does not carry the count (a crash report, a bad config)
    # leaves it as it was; the runner's next report replaces it.
    actions.record_source_status(public.pk, state="error", message="Panne.", at=timezone.now())
    source.refresh_from_db()
    assert (source.unknown_deletions_count, source.skipped_count) == (7, 1)
    actions.record_source_status(
        public.pk, state="ok", message="Connecté.", at=timezone.now(), unknown_deletions=9
    )
    source.refresh_from_db()
    assert source.unknown_deletions_count == 9
    assert source.last_skip_reason.startswith("Suppression illisible")


def test_the_team_sees_the_count_on_the_page_and_in_its_json(client, members, org, room) -> None:
    activation, public, quiet = room
    client.force_login(members["coordinator"])
    html = client.get(reverse("watch-sources", args=[org.slug, activation.pk])).content.decode()
    assert html.count(LABEL) == 1  # the source with none shows nothing
    # The live refresh gets its label from the page, in the page's language.
    assert 'data-msg-unknown="Suppressions de messages jamais reçus : {count}"' in html

    url = reverse("watch-sources-status", args=[org.slug, activation.pk])
    by_id = {s["id"]: s for s in client.get(url).json()["sources"]}
    assert by_id[public.pk]["unknown_deletions"] == 7
    assert by_id[public.pk]["skipped"] == 1
    assert by_id[quiet.pk]["unknown_deletions"] == 0


@pytest.mark.parametrize("role", ["volunteer", "partner", "scrutineer", "outsider"])
def test_no_other_role_gets_the_count(client, members, org, room, role) -> None:
    activation, _public, _quiet = room
    client.force_login(members[role])
    for name in ("watch-sources", "watch-sources-status"):
        response = client.get(reverse(name, args=[org.slug, activation.pk]))
        assert response.status_code in (302, 403, 404), (name, response.status_code)
        assert "jamais reçus" not in response.content.decode()
        assert b"unknown_deletions" not in response.content


def test_the_worker_passes_the_runners_count_to_the_source(room, monkeypatch):
    """The runner counts them in its status; the worker's status callback must carry the
    count to the action, or the page would read 0 for ever."""
    import threading

    from beffroi.watch import sources, worker
    from beffroi.watch.models import Source
    from beffroi.watch.sources.runner import SourceStatus

    _activation, public, _quiet = room

    def fake_run(runnable, checkpoint, sink, *, on_status, **options):
        on_status(
            SourceStatus(str(public.pk), "ok", "En écoute.", timezone.now(), unknown_deletions=12)
        )

    monkeypatch.setattr(sources, "run_source", fake_run)
    # The worker closes its thread's connection when a source ends; here that thread is
    # the test's, whose transaction must stay open.
    monkeypatch.setattr(worker.connection, "close", lambda: None)
    worker._run_one(public.pk, threading.Event(), threading.Event(), {}, {})
    # A new run (its skip count went back to 0): its 12 add to the 7 the fixture's run
    # left, the count being a total across runs (docs/decisions/sources-bounds.md).
    assert Source.objects.get(pk=public.pk).unknown_deletions_count == 7 + 12
