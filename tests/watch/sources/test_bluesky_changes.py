"""Authors' deletions and edits on Bluesky: Jetstream ``delete`` and ``update``
commits on posts, in real Jetstream v2 frames, served on loopback to atproto's
client (``fake_jetstream``) or decoded by atproto's own frame parser."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from atproto_jetstream.models import parse_frame, parse_subscribe_events_message
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import PostChange, RawPost, Skipped, handle_pseudonymiser
from beffroi.watch.sources.bluesky import (
    BlueskyConfig,
    BlueskySource,
    Followed,
    follow_key,
)
from beffroi.watch.sources.runner import start_source_thread

A = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
B = "did:plc:z72i7hdynmk6r22z27h6tvur"
START = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
# The fuzz tests build their own (fixtures are not reset between examples).
PSEUDONYMISE = handle_pseudonymiser(b"beffroi-test-key-not-secret")
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def cid(n: int) -> str:
    """A CIDv1 (dag-cbor, sha2-256) shaped string; n tells versions apart."""
    tail = ""
    for _ in range(6):
        tail = _B32[n % 32] + tail
        n //= 32
    return "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3s" + tail


def _when(seq: int) -> str:
    return (START + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def commit_frame(
    seq: int,
    did: str,
    rkey: str,
    operation: str,
    text: str | None = None,
    *,
    record: dict[str, Any] | None = None,
    version: int = 0,
) -> str:
    """One Jetstream v2 message frame (``xrpc.v1.json``) carrying a post commit."""
    payload: dict[str, Any] = {
        "$type": "network.bsky.jetstream.subscribeEvents#commit",
        "seq": seq,
        "did": did,
        "time": _when(seq),
        "collection": "app.bsky.feed.post",
        "operation": operation,
        "rev": rkey,
        "rkey": rkey,
        "witnessedAt": _when(seq),
    }
    if operation != "delete":
        payload["cid"] = cid(version or seq)
        payload["record"] = record or {
            "$type": "app.bsky.feed.post",
            "text": text,
            "langs": ["fr"],
            "createdAt": START.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
    return json.dumps({"$type": "message", "payload": payload})


def make(endpoint: str, pseudonymise) -> BlueskySource:
    config = BlueskyConfig(keywords=("crue",), endpoint=endpoint, recv_timeout=5)
    return BlueskySource("bsky", config, pseudonymise=pseudonymise, idle_tick=0.05)


def decoded(frame: str) -> Any:
    """What atproto's Jetstream client hands to the source for this frame."""
    return parse_subscribe_events_message(parse_frame(frame))  # type: ignore[arg-type]


def run_until(fake, source, checkpoint, recorder, until, count: int, cursor: int) -> None:
    stop = threading.Event()
    thread = start_source_thread(
        source,
        checkpoint,
        recorder.sink,
        stop_event=stop,
        on_skip=recorder.skip,
        checkpoint_every=0,
    )
    until(lambda: len(recorder.posts) >= count)
    until(lambda: recorder.checkpoints[-1]["state"].get("cursor") == cursor)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_deletions_and_edits_of_delivered_posts_only(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    fake_jetstream.lines = [
        commit_frame(1, A, "3lbzxa2bcd001", "create", "Crue : la digue cède"),
        commit_frame(2, B, "3lbzxa2bcd002", "create", "Rien à voir"),
        commit_frame(3, B, "3lbzxa2bcd002", "delete"),  # someone else's post
        commit_frame(4, B, "3lbzxa2bcd099", "delete"),  # never seen at all
        commit_frame(5, A, "3lbzxa2bcd003", "create", "Crue du Gardon à Anduze"),
        commit_frame(6, A, "3lbzxa2bcd003", "update", "Fausse alerte, le Gardon baisse"),
        commit_frame(
            7,
            A,
            "3lbzxa2bcd003",
            "update",
            record={"$type": "app.bsky.feed.post", "text": 12, "createdAt": "x"},
        ),
        commit_frame(8, A, "3lbzxa2bcd001", "delete"),
        commit_frame(9, A, "3lbzxa2bcd001", "delete"),  # repeated
        commit_frame(10, B, "3lbzxa2bcd002", "update", "Crue : le pont est fermé"),
    ]
    run_until(
        fake_jetstream, make(fake_jetstream.endpoint, pseudonymise), None, recorder, until, 5, 10
    )

    kinds = [
        (type(i).__name__, getattr(i, "kind", ""), i.external_id.rsplit("/", 1)[1])
        for i in recorder.posts
    ]
    assert kinds == [
        ("RawPost", "", "3lbzxa2bcd001"),
        ("RawPost", "", "3lbzxa2bcd003"),
        ("PostChange", "edit", "3lbzxa2bcd003"),
        ("PostChange", "delete", "3lbzxa2bcd001"),
        # An update of a post we do not follow that now matches: an edit, which the
        # sink receives as a new post when it never had it.
        ("PostChange", "edit", "3lbzxa2bcd002"),
    ]
    edit, deletion = recorder.posts[2], recorder.posts[3]
    assert edit.version == cid(6) and edit.at == START + timedelta(seconds=6)
    # The edit is converted like a new post: pseudonymised author, no handle.
    assert edit.post.text == "Fausse alerte, le Gardon baisse"
    assert edit.post.author_key == pseudonymise(A) and "did" not in edit.post.raw
    assert deletion.at == START + timedelta(seconds=8) and deletion.post is None
    # An update whose record is not a post is a counted skip, not an edit.
    assert [s.reason for s in recorder.skips] == [
        "Modification d'un post suivi ignorée : le nouvel enregistrement "
        "n'est pas un post lisible (schéma app.bsky.feed.post)."
    ]
    # The checkpoint follows the posts still there, as digests, not the deleted one.
    followed = recorder.checkpoints[-1]["state"]["followed"]
    assert followed == [
        follow_key(uri(A, "3lbzxa2bcd003"), pseudonymise),
        follow_key(uri(B, "3lbzxa2bcd002"), pseudonymise),
    ]
    # Keyed: without the deployment's key, a public URI cannot be tested against it.
    assert follow_key(uri(A, "3lbzxa2bcd003")) not in followed


def test_a_restart_still_follows_the_posts_delivered_before(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    first = [
        commit_frame(1, A, "3lbzxa2bcd001", "create", "Crue à Alès"),
        commit_frame(2, A, "3lbzxa2bcd002", "create", "Crue à Anduze"),
    ]
    fake_jetstream.lines = first
    source = make(fake_jetstream.endpoint, pseudonymise)
    run_until(fake_jetstream, source, None, recorder, until, 2, 2)
    checkpoint = recorder.checkpoints[-1]

    # While the worker was down: post 2 deleted, post 1 edited.
    fake_jetstream.lines = [
        *first,
        commit_frame(3, A, "3lbzxa2bcd002", "delete"),
        commit_frame(4, A, "3lbzxa2bcd001", "update", "Crue à Alès : rue Avéjan évacuée"),
    ]
    recorder.posts.clear()
    run_until(fake_jetstream, source, checkpoint, recorder, until, 2, 4)
    assert "cursor=2" in fake_jetstream.paths[-1]
    assert [(c.kind, c.external_id) for c in recorder.posts] == [
        ("delete", uri(A, "3lbzxa2bcd002")),
        ("edit", uri(A, "3lbzxa2bcd001")),
    ]


def test_followed_set_is_bounded_and_oldest_goes_first() -> None:
    followed = Followed(limit=2)
    for rkey in ("1", "2", "3"):
        followed.add(uri(A, rkey))
    assert uri(A, "1") not in followed and uri(A, "3") in followed
    followed.add(uri(A, "2"))  # seen again: now the newest
    followed.add(uri(A, "4"))
    assert uri(A, "2") in followed and uri(A, "3") not in followed
    # A checkpoint without the list (older version) or with garbage starts empty.
    assert len(Followed.load({"cursor": 5})) == 0
    assert len(Followed.load({"followed": "abc"})) == 0
    assert len(Followed.load({"followed": [1, None, "ab12"]})) == 1


# One step of an author's life on the network: (operation, post number, matches).
step = st.tuples(
    st.sampled_from(["create", "delete", "update", "restart"]),
    st.integers(0, 5),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(step, max_size=40), limit=st.integers(1, 4))
def test_fuzz_sequences_emit_one_deletion_per_followed_post(steps, limit) -> None:
    """Against a plain model: a deletion is emitted exactly when the post was
    delivered, not yet deleted, and still among the last ``limit`` followed;
    an update of such a post is an edit; a restart keeps the set (JSON)."""
    source = make("ws://127.0.0.1:1/xrpc", PSEUDONYMISE)
    followed = Followed(limit=limit)
    model: list[int] = []  # followed posts, oldest first
    for seq, (operation, n, matches) in enumerate(steps, start=1):
        if operation == "restart":
            state = json.loads(json.dumps({"cursor": seq, "followed": followed.dump()}))
            followed = Followed.load(state, limit)
            continue
        text = f"Crue numéro {n}" if matches else f"Message {n}"
        rkey = f"3lbzxa2bcd{n:03d}"
        item = source.to_item(decoded(commit_frame(seq, A, rkey, operation, text)), followed)
        if operation == "delete":
            if n in model:
                model.remove(n)
                assert isinstance(item, PostChange) and item.kind == "delete"
                assert item.external_id == uri(A, rkey)
            else:
                assert item is None
        elif operation == "update" and n in model:
            assert isinstance(item, PostChange) and item.kind == "edit"
            assert item.post is not None and item.post.text == text
        elif matches:
            if operation == "update":  # not followed (any more): an edit the sink sorts out
                assert isinstance(item, PostChange) and item.kind == "edit"
                assert item.post is not None and item.external_id == uri(A, rkey)
            else:
                assert isinstance(item, RawPost) and item.external_id == uri(A, rkey)
            if n in model:
                model.remove(n)
            model.append(n)
            del model[:-limit]
        else:
            assert item is None
        assert [uri(A, f"3lbzxa2bcd{m:03d}") in followed for m in model] == [True] * len(model)
        assert len(followed) == len(model)


_EXTREME_DATES = st.sampled_from(
    [
        "?",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00",
        "2026-11-23T03:00:00Z",
        "2026-13-45T99:99:99Z",
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(max_size=60),
    langs=st.lists(st.text(max_size=8), max_size=2),
    created=st.one_of(_EXTREME_DATES, st.text(max_size=30)),
)
def test_fuzz_updates_of_followed_posts_never_raise(text, langs, created) -> None:
    source = make("ws://127.0.0.1:1/xrpc", PSEUDONYMISE)
    followed = Followed()
    followed.add(uri(A, "3lbzxa2bcd001"))
    record = {"$type": "app.bsky.feed.post", "text": text, "langs": langs, "createdAt": created}
    frame = commit_frame(7, A, "3lbzxa2bcd001", "update", record=record)
    item = source.to_item(decoded(frame), followed)
    assert isinstance(item, PostChange | Skipped)
    if isinstance(item, PostChange):
        assert item.post is not None and item.post.text == text


# -- through the worker's sink into the watch room ------------------------------------


@pytest.fixture
def room(source_room):
    return source_room("bluesky")


def _run(source_pk: int, endpoint: str, checkpoint, count: int) -> list:
    """Run the source in this thread (the test's database connection) until
    ``count`` items reached the sink."""
    from beffroi.watch import actions
    from beffroi.watch.sources import handle_pseudonymiser
    from beffroi.watch.sources.bluesky import BlueskyConfig, BlueskySource
    from beffroi.watch.sources.runner import run_source

    delivered: list = []
    stop = threading.Event()

    def sink(items, state):
        result = actions.receive_items(source_pk, items, state)
        delivered.extend(items)
        if len(delivered) >= count:
            stop.set()
        return result

    config = BlueskyConfig(keywords=("crue",), endpoint=endpoint, recv_timeout=5)
    source = BlueskySource(
        str(source_pk),
        config,
        pseudonymise=handle_pseudonymiser(actions.handle_key()),
        idle_tick=0.05,
    )
    timer = threading.Timer(15, stop.set)  # a broken source must not hang the suite
    timer.start()
    try:
        run_source(source, checkpoint, sink, stop_event=stop)
    finally:
        timer.cancel()
    assert len(delivered) >= count, delivered
    return delivered


def test_bluesky_deletion_and_edit_end_to_end(room, members, fake_jetstream) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, PostChange, Source
    from beffroi.watch.sources.base import pseudonymise_dids
    from beffroi.watch.worker import ActivationProcessor

    def stored(at_uri: str) -> str:  # the author's DID is stored as a pseudonym
        return pseudonymise_dids(at_uri, actions.handle_key())

    activation, source = room
    created = [
        commit_frame(1, A, "3lbzxa2bcd001", "create", "Crue : la digue d'Aramon cède"),
        commit_frame(2, A, "3lbzxa2bcd002", "create", "Crue du Gardon à Anduze"),
    ]
    fake_jetstream.lines = created
    _run(source.pk, fake_jetstream.endpoint, None, 2)
    ActivationProcessor(activation, None).process()
    card = Card.objects.get(source=source, external_id=stored(uri(A, "3lbzxa2bcd001")))
    line = actions.escalate(card, actor=members["coordinator"], category="degats")

    # The worker restarts; meanwhile the author deleted post 1 and edited post 2.
    fake_jetstream.lines = [
        *created,
        commit_frame(3, A, "3lbzxa2bcd001", "delete"),
        commit_frame(4, A, "3lbzxa2bcd002", "update", "Crue du Gardon : fausse alerte"),
    ]
    checkpoint = Source.objects.get(pk=source.pk).checkpoint
    _run(source.pk, fake_jetstream.endpoint, checkpoint, 2)

    card.refresh_from_db()
    assert card.author_deleted_at is not None
    assert card.text.startswith("Crue : la digue")  # evidence for the team
    entry = LogEntry.objects.get(pk=line.pk)
    assert entry.author_deleted_at is not None
    assert "la digue" not in entry.text and "la digue" in entry.withdrawn_text
    edited = Card.objects.get(source=source, external_id=stored(uri(A, "3lbzxa2bcd002")))
    assert edited.text == "Crue du Gardon : fausse alerte" and edited.author_edited_at
    assert sorted(PostChange.objects.values_list("kind", flat=True)) == ["delete", "edit"]


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_a_creation_date_out_of_range_does_not_jam_the_source(created) -> None:
    """Any client may publish such a createdAt with a watched keyword: the post is dated
    when the network saw it, instead of an error the runner would meet again at every
    reconnection."""
    source = make("ws://127.0.0.1:1/xrpc", PSEUDONYMISE)
    followed = Followed(pseudonymise=PSEUDONYMISE)
    record = {"$type": "app.bsky.feed.post", "text": "Crue à Alès", "createdAt": created}
    item = source.to_item(
        decoded(commit_frame(3, A, "3lbzxa2bcd001", "create", record=record)), followed
    )
    assert isinstance(item, RawPost) and item.created_at == START + timedelta(seconds=3)


def test_an_update_of_a_post_the_followed_set_forgot_reaches_the_sink_as_an_edit() -> None:
    source = make("ws://127.0.0.1:1/xrpc", PSEUDONYMISE)
    followed = Followed(limit=1, pseudonymise=PSEUDONYMISE)
    for seq, rkey in ((1, "3lbzxa2bcd001"), (2, "3lbzxa2bcd002")):
        frame = commit_frame(seq, A, rkey, "create", f"Crue numéro {seq}")
        assert isinstance(source.to_item(decoded(frame), followed), RawPost)
    assert uri(A, "3lbzxa2bcd001") not in followed
    frame = commit_frame(3, A, "3lbzxa2bcd001", "update", "Crue numéro 1 : fausse alerte")
    item = source.to_item(decoded(frame), followed)
    assert isinstance(item, PostChange) and item.kind == "edit"
    assert item.post is not None and item.post.text == "Crue numéro 1 : fausse alerte"
