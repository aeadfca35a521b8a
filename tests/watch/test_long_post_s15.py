"""One long post neither stalls the queue nor loses its text (review R11 finding 3)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from beffroi.watch.pipeline.model import CUT_MARKER, MAX_TEXT, PostIn, cap_text
from long_texts import long_text


def test_the_pipeline_reads_at_most_max_text():
    text = long_text(MAX_TEXT * 3)
    post = PostIn(id="1", text=text, created_at=datetime.now(UTC))
    assert len(post.text) <= MAX_TEXT
    assert post.text.endswith(CUT_MARKER)
    assert text.startswith(post.text[: -len(CUT_MARKER)])
    short = "Route coupée à Luçon"
    assert PostIn(id="2", text=short, created_at=datetime.now(UTC)).text == short
    assert cap_text("x" * (MAX_TEXT + 1)).endswith(CUT_MARKER)  # no space: a hard cut
    assert len(cap_text("x" * (MAX_TEXT + 1))) == MAX_TEXT


def test_a_huge_post_is_queued_quickly_and_stored_whole(transactional_db, members, monkeypatch):
    """The steps whose cost grows with the text (normalisation, geocoding) read at most
    MAX_TEXT characters of it. How fast that is depends on the machine: the measured
    figures are in docs/decisions/pipeline.md, not in a test."""
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.pipeline import steps
    from beffroi.watch.pipeline.normalise import Normaliser
    from beffroi.watch.sources.base import RawPost
    from beffroi.watch.worker import Worker

    read: dict[str, list[int]] = {"normalise": [], "geocode": []}
    normalise, find_communes = Normaliser.__call__, steps.find_communes

    def normalise_spy(self, items):
        read["normalise"].extend(len(item.post.text) for item in items)
        return normalise(self, items)

    def geocode_spy(text, **options):
        read["geocode"].append(len(text))
        return find_communes(text, **options)

    monkeypatch.setattr(Normaliser, "__call__", normalise_spy)
    monkeypatch.setattr(steps, "find_communes", geocode_spy)

    org = core_actions.create_organisation("VOST K1", "vostk1")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    huge = "Crue à Luçon. " + long_text(400_000)
    when = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    actions.receive_posts(
        source.pk,
        [RawPost("file", "x", "1", huge, when), RawPost("file", "x", "2", "Niort sec", when)],
        {"v": 1},
    )
    worker = Worker(threading.Event(), processes=0)
    assert worker.step() == 2
    # Both posts went through both steps, the huge one cut to MAX_TEXT first.
    assert len(read["normalise"]) == 2 and len(read["geocode"]) == 2
    assert MAX_TEXT // 2 < max(read["normalise"]) <= MAX_TEXT
    assert max(read["geocode"]) <= MAX_TEXT
    assert len(Post.objects.get(external_id="1").text) == len(huge)
    card = Card.objects.get(external_id="1")
    assert card.text.endswith(CUT_MARKER)
    assert len(card.text) <= MAX_TEXT
    assert Post.objects.filter(processed=False).count() == 0
