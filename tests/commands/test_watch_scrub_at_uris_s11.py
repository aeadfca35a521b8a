"""`beffroi watch scrub-handles` also rewrites the AT-URIs of Bluesky posts stored before
DIDs were pseudonymised, and says how many posts' ids it rewrote."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.usesdb

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
URI = f"at://{DID}/app.bsky.feed.post/3kabc"


def test_the_command_rewrites_and_counts_post_ids(org, members, capsys):
    from beffroi.cli import main
    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source

    activation = actions.create_activation(
        org, name="Submersion", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    post = Post.objects.create(
        activation=activation,
        source=source,
        external_id=URI,
        text="Digue rompue",
        created_at=datetime(2026, 11, 8, tzinfo=UTC),
    )

    assert main(["watch", "scrub-handles", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"activation {activation.pk} (Submersion): would change 1 posts" in out
    assert "1 post ids, 0 duplicate ids" in out
    assert Post.objects.get(pk=post.pk).external_id == URI

    assert main(["watch", "scrub-handles", "--activation", str(activation.pk)]) == 0
    assert "1 rows changed; journaled" in capsys.readouterr().out
    stored = Post.objects.get(pk=post.pk).external_id
    assert DID not in stored and stored == actions._stored_id(URI, actions.handle_key())

    assert main(["watch", "scrub-handles"]) == 0
    assert "0 rows changed" in capsys.readouterr().out
