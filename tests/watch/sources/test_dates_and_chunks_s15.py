"""Mastodon dates follow the one rule (review R11, finding 9), and a delivery larger
than SQLite's variable limit is looked up in chunks (finding 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beffroi.watch.sources.base import RawPost
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource

TAG = "tag:inondation"


def test_mastodon_clamps_future_and_ancient_dates(pseudonymise, status) -> None:
    config = MastodonConfig(instance_url="https://piaille.invalid", hashtags=("inondation",))
    src = MastodonSource("masto", config, pseudonymise=pseudonymise)
    before = datetime.now(UTC)
    for claimed in ("9999-12-31T23:00:00Z", "0001-01-01T00:01:00Z"):
        data = status(12, "Le pont de Ners est coupé", acct="marie")
        data["created_at"] = claimed
        post = src.to_post(data, TAG)
        assert isinstance(post, RawPost)
        assert before <= post.created_at <= datetime.now(UTC) + timedelta(seconds=1)
    data = status(13, "Le pont est rouvert", acct="marie")
    data["created_at"] = "2026-11-23T03:00:12Z"
    post = src.to_post(data, TAG)
    assert isinstance(post, RawPost)
    assert post.created_at == datetime(2026, 11, 23, 3, 0, 12, tzinfo=UTC)


@pytest.mark.usesdb
def test_known_ids_are_asked_in_chunks(transactional_db, org, members) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="rss", name="r", config={})
    when = datetime(2024, 1, 1, tzinfo=UTC)
    posts = [RawPost("rss", "1", f"n{i}", f"crue {i}", when) for i in range(1_200)]
    actions.receive_items(source.pk, posts[:10], {"v": 1})
    with CaptureQueriesContext(connection) as queries:
        assert actions.receive_items(source.pk, posts, {"v": 1}).new == 1_190
    lookups = [q["sql"] for q in queries.captured_queries if " IN (" in q["sql"]]
    assert lookups, "the known ids are looked up"
    assert max(q.count("%s") + q.count("'n") for q in lookups) <= actions.ID_CHUNK
    assert Post.objects.filter(source=source).count() == 1_200
