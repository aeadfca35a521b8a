"""Time of `scrub-handles` over Bluesky posts stored before DIDs were pseudonymised.

    .venv/bin/python bench/scrub_at_uris.py [--posts 20000]

Builds, in a database of its own (a temporary directory), an activation with ``--posts``
Bluesky posts whose ids and ``repost_of`` are raw AT-URIs (one card each, a tenth also
received again after the rule under their pseudonymised id), then times a dry run, the
repair, and a second run with nothing left to change. Prints the seconds and the counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def build(n: int):
    from datetime import UTC, datetime

    from beffroi.core import actions as core
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post, Source

    org = core.create_organisation("Bench", "bench")
    user = core.create_account("coord-bench", "pw-bench-123456")
    core.set_role(user, org, "coordinator", actor=None)
    activation = actions.create_activation(
        org, name="Submersion", event_type="inondation", actor=user
    )
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    when = datetime(2026, 11, 8, tzinfo=UTC)
    uris = [f"at://did:plc:{i % 5000:024d}/app.bsky.feed.post/3k{i:08d}" for i in range(n)]
    cards = Card.objects.bulk_create(
        Card(
            activation=activation, group_id=f"g{i}", source=source, source_kind="bluesky",
            external_id=uri, text=f"Digue rompue {i}", posted_at=when,
        )
        for i, uri in enumerate(uris)
    )  # fmt: skip
    Post.objects.bulk_create(
        Post(
            activation=activation, source=source, external_id=uri,
            repost_of=uris[i - 1] if i % 7 == 0 else "", text=f"Digue rompue {i}",
            created_at=when, raw={"uri": uri}, card=card, processed=True,
        )
        for i, (uri, card) in enumerate(zip(uris, cards, strict=True))
    )  # fmt: skip
    key = actions.handle_key()
    Post.objects.bulk_create(
        Post(
            activation=activation, source=source, external_id=actions._stored_id(uri, key),
            text=f"Digue rompue {i}", created_at=when, processed=True,
        )
        for i, uri in enumerate(uris)
        if i % 10 == 0
    )  # fmt: skip
    return activation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20000)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="beffroi-bench-scrub-")
    os.environ["BEFFROI_DATA_DIR"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing_settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from beffroi.watch import actions

    activation = build(args.posts)
    for label, dry_run in (("dry run", True), ("repair", False), ("second run", False)):
        t0 = time.perf_counter()
        counts = actions.scrub_handles(activation, dry_run=dry_run)
        print(f"{label:<10} {time.perf_counter() - t0:6.1f} s  {counts.as_journal()}")
    import shutil

    from django.db import connections

    connections.close_all()
    shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
