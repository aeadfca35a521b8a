"""One long post neither stalls the queue nor loses its text (review R11 finding 3)."""

from __future__ import annotations

import threading
import time
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


def test_a_huge_post_is_queued_quickly_and_stored_whole(transactional_db, members):
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source
    from beffroi.watch.sources.base import RawPost
    from beffroi.watch.worker import Worker

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
    t0 = time.process_time()
    assert worker.step() == 2
    assert time.process_time() - t0 < 10.0
    assert len(Post.objects.get(external_id="1").text) == len(huge)
    card = Card.objects.get(external_id="1")
    assert card.text.endswith(CUT_MARKER)
    assert len(card.text) <= MAX_TEXT
    assert Post.objects.filter(processed=False).count() == 0
