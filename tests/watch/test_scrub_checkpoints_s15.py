"""``scrub-handles`` rewrites what sources remembered before post ids were
pseudonymised: RSS guids that are Mastodon status addresses (stored as the post's and
the card's id, and in the feed's checkpoint), the runner's window, and a Jetstream
source's followed digests of raw AT-URIs, rebuilt so the deletion of such an old post
is delivered again (review R11, finding 4 and the Jetstream checkpoint gap)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.usesdb

GUID = "https://piaille.fr/@alicesecret/111222333"
URI = "at://did:plc:alicesecretdid0/app.bsky.feed.post/3k0"
WHEN = datetime(2026, 11, 8, 6, tzinfo=UTC)


def _rows(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source

    activation = actions.create_activation(
        org, name="Submersion", event_type="inondation", actor=members["coordinator"]
    )
    rss = Source.objects.create(
        activation=activation,
        kind="rss",
        name="r",
        config={},
        checkpoint={
            "v": 1,
            "state": {"seen": [GUID], "versions": {GUID: ["2026-11-08T06:00:00+00:00", "d"]}},
            "seen": [GUID, f"edit:{GUID}"],
        },
    )
    card = Card.objects.create(
        activation=activation, group_id="g1", source=rss, source_kind="rss",
        external_id=GUID, text="crue", posted_at=WHEN,
    )  # fmt: skip
    Post.objects.create(
        activation=activation, source=rss, external_id=GUID, text="crue",
        created_at=WHEN, card=card, processed=True,
    )  # fmt: skip
    unkeyed = hashlib.blake2b(URI.encode(), digest_size=8).hexdigest()
    bluesky = Source.objects.create(
        activation=activation,
        kind="bluesky",
        name="b",
        config={},
        checkpoint={"v": 1, "state": {"cursor": 5, "followed": [unkeyed]}, "seen": [URI]},
    )
    Post.objects.create(
        activation=activation, source=bluesky, external_id=URI, text="digue",
        created_at=WHEN, processed=True,
    )  # fmt: skip
    return activation, rss, bluesky


def test_checkpoints_and_ids_name_no_account_after_the_repair(org, members) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post
    from beffroi.watch.sources.base import handle_pseudonymiser
    from beffroi.watch.sources.bluesky import Followed

    activation, rss, bluesky = _rows(org, members)
    dry = actions.scrub_handles(activation, dry_run=True)
    assert dry.checkpoints == 2
    counts = actions.scrub_handles(activation)
    assert counts.checkpoints == 2
    rss.refresh_from_db()
    bluesky.refresh_from_db()
    stored = set(Post.objects.values_list("external_id", flat=True))
    assert not any("alicesecret" in i for i in stored)
    assert "alicesecret" not in Card.objects.get().external_id
    assert "alicesecret" not in str(rss.checkpoint) and "alicesecret" not in str(bluesky.checkpoint)
    # The source, restarted, recognises what it remembered: same id, same pseudonym.
    pseudonymise = handle_pseudonymiser(actions.handle_key())
    assert pseudonymise.post_id(GUID) in rss.checkpoint["state"]["seen"]  # type: ignore[attr-defined]
    assert pseudonymise.post_id(GUID) in rss.checkpoint["seen"]  # type: ignore[attr-defined]
    assert Post.objects.get(source=rss).external_id == pseudonymise.post_id(GUID)  # type: ignore[attr-defined]
    # The old post's deletion is still followed, under today's digest only.
    followed = Followed.load(bluesky.checkpoint["state"], pseudonymise=pseudonymise)
    assert URI in followed
    unkeyed = hashlib.blake2b(URI.encode(), digest_size=8).hexdigest()
    assert unkeyed not in bluesky.checkpoint["state"]["followed"]
    assert bluesky.checkpoint["state"]["cursor"] == 5
    # Idempotent: a second run has nothing to change.
    assert actions.scrub_handles(activation).changed == 0


def test_an_old_unkeyed_digest_is_still_recognised_before_the_repair() -> None:
    from beffroi.watch.sources.base import handle_pseudonymiser
    from beffroi.watch.sources.bluesky import Followed

    unkeyed = hashlib.blake2b(URI.encode(), digest_size=8).hexdigest()
    followed = Followed.load({"followed": [unkeyed]}, pseudonymise=handle_pseudonymiser(b"k" * 32))
    assert URI in followed
    assert followed.discard(URI) and len(followed) == 0
