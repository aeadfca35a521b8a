"""Neither a source's checkpoint nor a stored post id names an account (review R11,
finding 4): a Bluesky DID and a Mastodon status address used as a feed's guid become
pseudonyms before anything remembers them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime


class FakeStream:
    kind = "bluesky"
    source_id = "1"
    finite = True

    def stream(self, checkpoint):
        from beffroi.watch.sources.base import RawPost

        for i in range(3):
            uri = f"at://did:plc:alicesecretdid{i}/app.bsky.feed.post/3k{i}"
            yield (
                RawPost(
                    "bluesky",
                    "1",
                    uri,
                    f"Inondation à Luçon {i}",
                    datetime(2024, 1, 1, 10, i, tzinfo=UTC),
                ),
                {"cursor": i},
            )
        yield None, {"cursor": 3}


def test_checkpoint_has_no_raw_did(transactional_db, members):
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source
    from beffroi.watch.sources.runner import run_source

    org = core_actions.create_organisation("VOST R11", "vostr11")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    assert not activation.keep_handles
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    src = FakeStream()
    src.finite = True
    run_source(
        src,
        None,
        lambda items, cp: actions.receive_items(source.pk, items, cp),
        stop_event=threading.Event(),
        max_failures=1,
    )
    source.refresh_from_db()
    stored = list(Post.objects.values_list("external_id", flat=True))
    print("posts:", stored)
    print("checkpoint:", source.checkpoint)
    assert all("alicesecret" not in e for e in stored)
    assert "alicesecret" not in str(source.checkpoint)


def test_rss_guid_naming_account_is_stored_as_a_pseudonym(transactional_db, members):
    """Mastodon's own RSS (https://instance/@user.rss, /tags/x.rss) uses the status
    address https://instance/@user/id as <guid>: stored with the account's pseudonym,
    in the post and in the checkpoint."""
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source
    from beffroi.watch.sources.base import RawPost

    org = core_actions.create_organisation("VOST R11", "vostr11")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="rss", name="r", config={})
    guid = "https://piaille.fr/@alicesecret/111222333"
    p = RawPost("rss", "1", guid, "Inondation à Luçon", datetime(2024, 1, 1, tzinfo=UTC), url=guid)
    actions.receive_items(source.pk, [p], {"v": 1, "state": {}, "seen": [guid]})
    row = Post.objects.get()
    source.refresh_from_db()
    print("external_id:", row.external_id, "url:", repr(row.url))
    print("checkpoint:", source.checkpoint)
    assert "alicesecret" not in row.external_id
    assert "alicesecret" not in str(source.checkpoint)
