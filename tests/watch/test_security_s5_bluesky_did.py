"""DESIGN rule 7 for Bluesky: the author's DID is the account's permanent identifier
(``author_key`` is its keyed pseudonym, and ``/profile/<DID>`` links are emptied), yet
the post's AT-URI, which starts with that DID, is stored as the post's and card's
``external_id`` and in ``raw["uri"]``, and the replied-to author's DID in ``raw``.

Found by the session 5 security audit. The fix belongs to code the audit does not own
(``watch/sources/bluesky.py`` and the ingest door in ``watch/actions.py``), so this
test is expected to fail until then; ``strict`` makes it fail loudly once fixed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

AUTHOR = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
REPLIED = "did:plc:z72i7hdynmk6r22z27h6tvur"


def _everything_stored() -> str:
    from django.apps import apps

    from beffroi.core.models import JournalEntry

    models = [*apps.get_app_config("watch").get_models(), JournalEntry]
    return "\n".join(str(row) for model in models for row in model.objects.values()).lower()


@pytest.mark.xfail(
    strict=True,
    reason="Bluesky AT-URIs (author's DID) stored by default; fix in watch/sources "
    "and watch/actions.py, owned by the lead (session 5 audit)",
)
def test_no_bluesky_did_reaches_the_database_by_default(db, org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources import RawPost
    from beffroi.watch.worker import ActivationProcessor

    activation = actions.create_activation(
        org, name="Crue du Gardon", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    uri = f"at://{AUTHOR}/app.bsky.feed.post/3lbzxa2bcd22d"
    parent = f"at://{REPLIED}/app.bsky.feed.post/3lbzxa2bcd22a"
    # The shape BlueskySource._convert gives (tests/watch/sources/test_bluesky.py).
    post = RawPost(
        "bluesky",
        str(source.pk),
        uri,
        "CRUE du Gardon : évacuation du camping",
        datetime(2026, 11, 23, 3, 46, tzinfo=UTC),
        url=f"https://bsky.app/profile/{AUTHOR}/post/3lbzxa2bcd22d",
        language="fr",
        author_key=AUTHOR,
        reply_to=parent,
        raw={
            "text": "CRUE du Gardon : évacuation du camping",
            "reply": {"parent": {"uri": parent}, "root": {"uri": parent}},
            "uri": uri,
            "matched_keywords": ["crue"],
        },
    )
    assert actions.receive_posts(source.pk, [post], {"cursor": 1}) == 1
    ActivationProcessor(activation, None).process()
    stored = _everything_stored()
    assert AUTHOR not in stored
    assert REPLIED not in stored
