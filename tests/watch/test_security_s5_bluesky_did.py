"""DESIGN rule 7 for Bluesky: the author's DID is the account's permanent identifier
(``author_key`` is its keyed pseudonym, and ``/profile/<DID>`` links are emptied), yet
the post's AT-URI, which starts with that DID, was stored as the post's and card's
``external_id`` and in ``raw["uri"]``, and the replied-to author's DID in ``raw``.

Found by the session 5 security audit; the ingest door (``watch/actions.py``) now stores
DIDs as keyed pseudonyms (``did:h_…``) in ids, text and raw payloads."""

from __future__ import annotations

from datetime import UTC, datetime

AUTHOR = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
REPLIED = "did:plc:z72i7hdynmk6r22z27h6tvur"


def _everything_stored() -> str:
    from django.apps import apps

    from beffroi.core.models import JournalEntry

    models = [*apps.get_app_config("watch").get_models(), JournalEntry]
    return "\n".join(str(row) for model in models for row in model.objects.values()).lower()


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


def _bluesky_post(source, rkey: str, text: str):
    from beffroi.watch.sources import RawPost

    uri = f"at://{AUTHOR}/app.bsky.feed.post/{rkey}"
    post = RawPost(
        "bluesky", str(source.pk), uri, text, datetime(2026, 11, 23, 3, 46, tzinfo=UTC),
        author_key=AUTHOR, raw={"uri": uri},
    )  # fmt: skip
    return uri, post


def test_edits_and_deletions_find_the_post_whose_id_is_a_pseudonym(db, org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source
    from beffroi.watch.sources.base import DELETE, EDIT, PostChange

    activation = actions.create_activation(
        org, name="Crue du Gardon", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    uri, post = _bluesky_post(source, "3lbzxa2bcd22d", "Camping évacué")
    actions.receive_items(source.pk, [post], {"cursor": 1})
    actions.receive_items(source.pk, [post], {"cursor": 2})  # a repeat is still one post
    (stored,) = Post.objects.filter(source=source)
    assert stored.external_id.startswith("at://did:h_") and AUTHOR not in stored.external_id
    _uri, edited = _bluesky_post(source, "3lbzxa2bcd22d", "Camping évacué, route coupée")
    change = PostChange(EDIT, "bluesky", str(source.pk), uri, post=edited)
    gone = PostChange(DELETE, "bluesky", str(source.pk), uri)
    received = actions.receive_items(source.pk, [change, gone], {"cursor": 3})
    assert received.new == 0 and received.unknown_deletions == 0
    assert sorted(stored.changes.values_list("kind", flat=True)) == sorted([EDIT, DELETE])
    assert AUTHOR.lower() not in _everything_stored()


def test_an_activation_that_keeps_handles_keeps_the_at_uri(db, org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    activation.keep_handles = True
    activation.save(update_fields=["keep_handles"])
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    uri, post = _bluesky_post(source, "3lbzxa2bcd22e", "Digue rompue")
    actions.receive_items(source.pk, [post], {"cursor": 1})
    assert Post.objects.get(source=source).external_id == uri
