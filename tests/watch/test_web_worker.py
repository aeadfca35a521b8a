"""The worker end to end: sources in threads, raw posts, pipeline, queue.

A dead feed and an unreachable Mastodon instance show their error and retry
while a file import next to them fills the queue (issue 5, item 12)."""

from __future__ import annotations

import threading

import pytest

from source_runs import closed_port, eventually


@pytest.fixture
def imports(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    folder = tmp_path / "imports"
    folder.mkdir()
    return folder


@pytest.mark.slow
def test_bad_sources_retry_while_good_ones_fill_the_queue(
    transactional_db, members, imports, monkeypatch
):
    from beffroi.core import actions as core_actions
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.sources import Backoff
    from beffroi.watch.sources.netguard import ALLOW_ENV
    from beffroi.watch.worker import Worker

    # The dead feed and instance are on loopback, an internal address the sources'
    # guard refuses unless the deployment allows it: here, to get "connection refused".
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")

    org = core_actions.create_organisation("VOST Test", "vost")
    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=coord
    )
    feed = imports / "posts.csv"
    feed.write_text(
        "id,text,created_at\n"
        "1,L'eau monte rue de la Gare à Luçon,2024-01-01T10:00:00Z\n"
        "2,Route coupée entre Luçon et Chasnais,2024-01-01T10:01:00Z\n"
        "3,,2024-01-01T10:02:00Z\n"  # malformed: no text
        "4,L'eau monte rue de la Gare à Luçon,2024-01-01T10:03:00Z\n",  # a copy of 1
        encoding="utf-8",
    )
    good = actions.add_source(
        activation, kind="file", name="Fichier", data={"path": str(feed)}, actor=coord
    )
    dead_feed = actions.add_source(
        activation,
        kind="rss",
        name="Flux mort",
        data={"url": f"http://127.0.0.1:{closed_port()}/rss.xml", "timeout": 2},
        actor=coord,
    )
    instance = actions.add_source(
        activation,
        kind="mastodon",
        name="Instance injoignable",
        data={"instance_url": f"http://127.0.0.1:{closed_port()}", "hashtags": ["crue"]},
        actor=coord,
    )
    stop = threading.Event()
    worker = Worker(stop, runner_options={"backoff": lambda: Backoff(base=0.05, maximum=0.3)})
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert eventually(lambda: Post.objects.filter(processed=True).count() == 3), list(
            Source.objects.values("name", "status", "status_message")
        )

        def retrying(source):
            source.refresh_from_db()
            return source.status == "error" and "Nouvel essai" in source.status_message

        assert eventually(lambda: retrying(dead_feed)), dead_feed.status_message
        assert eventually(lambda: retrying(instance)), instance.status_message
        assert eventually(lambda: Source.objects.get(pk=good.pk).status == "done")
    finally:
        stop.set()
        thread.join(15)
        # Source threads must not outlive the test (their DB access would be refused).
        assert worker.join_sources(15), "source threads still running"
    assert not thread.is_alive()
    good.refresh_from_db()
    assert good.posts_count == 3
    # At least once: a batch retried after a failed commit counts its skips again.
    assert good.skipped_count >= 1 and good.last_skip_reason
    assert good.checkpoint["v"] == 1  # the runner's envelope, persisted with the posts
    # The copy joined its original's card: two cards, one counting two posts.
    counts = sorted(
        Card.objects.filter(activation=activation).values_list("posts_count", flat=True)
    )
    assert counts == [1, 2]
    assert JournalEntry.objects.filter(action="watch.queue").exists()
    statuses = JournalEntry.objects.filter(
        action="watch.source.status", subject=f"source:{dead_feed.pk}"
    )
    assert statuses.filter(data__to="error").exists()


def test_file_sources_may_only_read_the_import_folders(db, org, members, imports, tmp_path):
    from beffroi.watch import actions
    from beffroi.watch.sources import ConfigError

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    outside = tmp_path.parent / "secret.csv"
    outside.write_text("id,text,created_at\n1,x,2024-01-01T00:00:00Z\n")
    with pytest.raises(ConfigError) as err:
        actions.add_source(
            activation,
            kind="file",
            name="x",
            data={"path": str(outside)},
            actor=members["coordinator"],
        )
    assert "hors des dossiers" in err.value.errors["path"]
    sneaky = imports / ".." / ".." / outside.name
    with pytest.raises(ConfigError):
        actions.add_source(
            activation,
            kind="replay",
            name="x",
            data={"path": str(sneaky)},
            actor=members["coordinator"],
        )


def test_received_posts_keep_their_fields_and_are_never_overwritten(db, org, members):
    from datetime import UTC, datetime

    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source
    from beffroi.watch.sources import RawPost

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    when = datetime(2024, 3, 1, 12, 30, 5, 123000, tzinfo=UTC)
    post = RawPost(
        "file",
        str(source.pk),
        "a1",
        "Digue rompue",
        when,
        url="https://ex.org/1",
        language="fr",
        author_key="handle:abc",
        coordinates=(46.45, -1.16),
        raw={"id": "a1", "nested": {"k": [1, 2]}},
    )
    assert actions.receive_posts(source.pk, [post, post], {"v": 1, "state": {"i": 1}}) == 1
    changed = RawPost("file", str(source.pk), "a1", "texte modifié", when)
    assert actions.receive_posts(source.pk, [changed], {"v": 1, "state": {"i": 2}}) == 0
    stored = Post.objects.get()
    assert (stored.text, stored.created_at, stored.url, stored.language) == (
        "Digue rompue",
        when,
        "https://ex.org/1",
        "fr",
    )
    assert (stored.latitude, stored.longitude, stored.author_key) == (46.45, -1.16, "handle:abc")
    assert stored.raw == {"id": "a1", "nested": {"k": [1, 2]}} and not stored.processed
    source.refresh_from_db()
    assert source.checkpoint == {"v": 1, "state": {"i": 2}} and source.posts_count == 1


def test_decisions_teach_the_activations_learner_and_persist(db, org, members):
    """Each decision reaches the activation's OnlineLearner once; its state is
    saved with the activation and restored by a new worker."""
    from django.utils import timezone

    from beffroi.watch import actions
    from beffroi.watch.classify import OnlineLearner, load_default
    from beffroi.watch.models import ActivationModel, Card
    from beffroi.watch.worker import ActivationProcessor

    base = load_default()
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    texts = ["#lucon la digue du Lay a cédé", "#lucon vidéo de chatons", "#lucon faux appel"]
    cards = [
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source_kind="file",
            external_id=str(i),
            text=t,
            posted_at=timezone.now(),
        )
        for i, t in enumerate(texts)
    ]
    volunteer = members["volunteer"]
    for card, decision in zip(cards, ["verified", "irrelevant", "false"], strict=True):
        actions.decide(card, decision, actor=volunteer)
    proc = ActivationProcessor(activation, base)
    # "Faux" teaches nothing: a false claim can be on-topic.
    assert proc.learn() == 2
    assert proc.learn() == 0  # nothing twice
    saved = ActivationModel.objects.get(activation=activation)
    assert saved.labels_learned == 2 and saved.learned_until > 0
    restored = OnlineLearner.from_bytes(bytes(saved.learner_state), base)
    assert restored.n_examples == 2
    again = ActivationProcessor(activation, base)
    assert again.learner is not None and again.learner.n_examples == 2
    assert again.learn() == 0


@pytest.mark.slow
def test_batches_lost_with_the_pipeline_processes_are_done_again_once(db, org, members):
    """Child processes hold batches in flight; if they die (or the worker
    stops) before a batch is stored, its posts are still pending and the next
    worker enriches them: none lost, none counted twice."""
    from datetime import UTC, datetime, timedelta

    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.pipeline import Preparer
    from beffroi.watch.sources import RawPost
    from beffroi.watch.worker import ActivationProcessor

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    when = datetime(2024, 3, 1, 12, tzinfo=UTC)
    texts = [
        "L'eau monte rue de la Gare à Luçon",
        "RT @a: L'eau monte rue de la Gare à Luçon",
        "Route coupée entre Luçon et Chasnais",
        "Pensées pour les sinistrés de Vendée",
    ]
    posts = [
        RawPost("file", str(source.pk), f"p{i}", f"{texts[i % 4]}", when + timedelta(seconds=i))
        for i in range(40)
    ]
    # Ids from 1001 on, so that a post committed late can take a lower one below.
    Post.objects.create(
        pk=1000, activation=activation, source=source, external_id="old", text="x",
        created_at=when, processed=True,
    )  # fmt: skip
    actions.receive_posts(source.pk, posts, {"v": 1})
    first = Preparer(None, workers=2)
    try:
        proc = ActivationProcessor(activation, None, first)
        assert proc.process(limit=8) == 8  # stores one batch, two more are in flight
        assert len(proc.in_flight) == 2
    finally:
        first.close()  # the children die with a batch in flight, no state saved
    assert Post.objects.filter(activation=activation, processed=True).count() == 1 + 8
    with Preparer(None, workers=2) as second:
        again = ActivationProcessor(activation, None, second)
        assert again.process(limit=8) == 8
        # On PostgreSQL a transaction that took lower ids can commit after later
        # ones: a post below the batches in flight must still be enriched.
        Post.objects.create(
            pk=500, activation=activation, source=source, external_id="late",
            text="Route coupée à Chasnais", created_at=when,
        )  # fmt: skip
        while again.process(limit=8):
            pass
    stored = Post.objects.filter(activation=activation).exclude(external_id="old")
    assert not stored.filter(processed=False).exists()
    assert not stored.filter(card__isnull=True).exists()
    cards = Card.objects.filter(activation=activation)
    assert sum(cards.values_list("posts_count", flat=True)) == 41
    for card in cards:
        assert card.posts.count() == card.posts_count
    batches = JournalEntry.objects.filter(action="watch.queue")
    assert sum(e.data["posts"] for e in batches) == 41


def test_stuck_pipeline_processes_are_restarted_then_bypassed(db, org, members, monkeypatch):
    """Children that never answer (say, a model they cannot load) are restarted;
    after MAX_STUCK times the worker enriches in its own thread: the queue fills."""
    import multiprocessing
    import threading
    from datetime import UTC, datetime

    from beffroi.watch import actions, pipeline, worker
    from beffroi.watch.models import Post, Source
    from beffroi.watch.sources import RawPost

    closed = []

    class Stuck:
        def get(self, timeout=None):
            raise multiprocessing.TimeoutError

    class StuckPreparer:
        workers = 2

        def __init__(self, classifier=None, *, workers=2):
            pass

        def submit(self, batch, config):
            return Stuck()

        def close(self):
            closed.append(self)

    monkeypatch.setattr(pipeline, "Preparer", StuckPreparer)
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    when = datetime(2024, 3, 1, 12, tzinfo=UTC)
    posts = [RawPost("file", str(source.pk), f"p{i}", f"Digue {i} rompue", when) for i in range(5)]
    actions.receive_posts(source.pk, posts, {"v": 1})
    w = worker.Worker(threading.Event(), processes=2)
    assert w.step() == 0 and len(closed) == 1 and w.processes == 2
    assert w.step() == 0 and len(closed) == 2 and w.processes == 0
    assert w.step() == 5
    assert not Post.objects.filter(activation=activation, processed=False).exists()
