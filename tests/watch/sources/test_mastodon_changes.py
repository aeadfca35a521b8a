"""Authors' edits (``status.update``) and deletions (``delete``) on a Mastodon
stream, read by Mastodon.py from a loopback server speaking the SSE protocol."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import PostChange, RawPost, Received, Skipped
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.runner import run_source, start_source_thread
from json_strategies import json_values

TAG = "tag:inondation"
EDITED = "2026-11-23T04:00:00.000Z"


def source(url: str, pseudonymise, **kw) -> MastodonSource:
    config = MastodonConfig(instance_url=url, hashtags=("inondation",), timeout=5, **kw)
    return MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05)


def changes(items) -> list[tuple[str, str]]:
    return [(c.kind, c.external_id) for c in items if isinstance(c, PostChange)]


def test_edits_and_deletions_become_changes_once(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(1), status(2)]
    fake_mastodon.timelines["public"] = []
    config = MastodonConfig(
        instance_url=fake_mastodon.url, hashtags=("inondation",), timelines=("public",), timeout=5
    )
    stop = threading.Event()
    thread = start_source_thread(
        MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05),
        None,
        recorder.sink,
        stop_event=stop,
        on_skip=recorder.skip,
    )
    until(lambda: len(recorder.posts) == 2)
    fake_mastodon.wait_connections(TAG, 1)
    fake_mastodon.wait_connections("public", 1)

    edited = status(1, "Correction : la digue tient, @paul@piaille.invalid a vu", edited_at=EDITED)
    fake_mastodon.edit(TAG, edited)
    fake_mastodon.edit("public", edited)  # the same edit on a second stream
    fake_mastodon.delete(TAG, "2")
    fake_mastodon.delete("public", "2")
    fake_mastodon.delete("public", "AbC9xYz")  # a Pleroma flake id: not JSON
    fake_mastodon.push("public", b'event: delete\ndata: {"id": 3}\n\n')
    fake_mastodon.push("public", b"event: status.update\ndata: {broken\n\n")
    until(lambda: len(recorder.posts) == 5 and len(recorder.skips) == 2)
    stop.set()
    thread.join(timeout=5)

    assert changes(recorder.posts) == [("edit", "1"), ("delete", "2"), ("delete", "AbC9xYz")]
    # A first connection has nothing to recheck: what it backfilled is current.
    assert not any(r.startswith("/api/v1/statuses") for r in fake_mastodon.requests)
    edit = recorder.posts[2]
    assert edit.at == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert edit.version == "2026-11-23T04:00:00+00:00"
    assert isinstance(edit.post, RawPost)
    assert edit.post.text.startswith("Correction : la digue tient")
    # The new version goes through the same handle rules as a new post.
    assert edit.post.author_key == pseudonymise("marie@127.0.0.1")
    assert "marie" not in repr(edit.post.raw) and "Marie D." not in repr(edit.post.raw)
    reasons = sorted(s.reason for s in recorder.skips)
    assert reasons[0] == "Suppression illisible : identifiant de statut attendu."
    assert reasons[1].startswith("Événement illisible")
    # The runner remembers what it delivered: a change seen again is dropped.
    seen = recorder.checkpoints[-1]["seen"]
    assert "edit:1:2026-11-23T04:00:00+00:00" in seen and "delete:2" in seen


@pytest.mark.parametrize("batch_lookup", [True, False], ids=["mastodon-4.3", "older"])
def test_a_restart_rechecks_recent_statuses_without_losing_or_repeating(
    fake_mastodon, pseudonymise, recorder, status, until, batch_lookup
) -> None:
    fake_mastodon.batch_lookup = batch_lookup
    fake_mastodon.timelines[TAG] = [status(i) for i in (1, 2, 3, 4)]
    stop = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise, recheck=3), None, recorder.sink, stop_event=stop
    )
    until(lambda: len(recorder.posts) == 4)
    stop.set()
    thread.join(timeout=5)
    checkpoint = recorder.checkpoints[-1]
    # Only the newest three are kept for the recheck.
    assert checkpoint["state"]["recent"] == [["2", ""], ["3", ""], ["4", ""]]

    # While the worker is down: 4 is edited, 3 deleted, 1 (too old) edited too.
    timeline = fake_mastodon.timelines[TAG]
    timeline[3] = status(4, "Pont rouvert", edited_at=EDITED)
    timeline[0] = status(1, "Trop ancien pour être revérifié", edited_at=EDITED)
    del timeline[2]
    again = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise, recheck=3),
        checkpoint,
        recorder.sink,
        stop_event=again,
    )
    until(lambda: len(recorder.posts) == 6)
    fake_mastodon.wait_connections(TAG, 2)
    again.set()
    thread.join(timeout=5)
    assert changes(recorder.posts) == [("delete", "3"), ("edit", "4")]
    assert recorder.posts[5].post.text.startswith("Pont rouvert")
    lookups = [r for r in fake_mastodon.requests if r.startswith("/api/v1/statuses")]
    assert lookups, fake_mastodon.requests

    # A third start rechecks again and finds nothing new: no change twice.
    checkpoint = recorder.checkpoints[-1]
    assert checkpoint["state"]["recent"] == [["2", ""], ["4", "2026-11-23T04:00:00+00:00"]]

    def rechecks() -> int:
        return sum(r.startswith("/api/v1/statuses") for r in fake_mastodon.requests)

    before = rechecks()
    third = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise, recheck=3),
        checkpoint,
        recorder.sink,
        stop_event=third,
    )
    fake_mastodon.wait_connections(TAG, 3)
    until(lambda: rechecks() >= before + (1 if batch_lookup else 2))
    third.set()
    thread.join(timeout=5)
    assert len(recorder.posts) == 6


class _Script:
    """A streaming source that plays a fixed list of items, then ends."""

    kind = "script"
    finite = True

    def __init__(self, items) -> None:
        self.source_id = "s"
        self.items = items

    def stream(self, checkpoint):
        for n, item in enumerate(self.items):
            yield item, {"n": n}


def _post(i: str) -> RawPost:
    return RawPost("script", "s", i, f"Message {i}", datetime(2026, 11, 23, tzinfo=UTC))


def test_the_runner_counts_the_changes_a_sink_could_not_use(recorder) -> None:
    delete = PostChange("delete", "script", "s", "9")
    edit = PostChange("edit", "script", "s", "1", post=_post("1"))

    def sink(items, checkpoint):
        recorder.sink(items, checkpoint)
        return Received(
            new=1,
            skipped=tuple(Skipped("Modification illisible.", i.key) for i in items[1:2]),
            unknown_deletions=len(items[2:]),
        )

    run_source(
        _Script([_post("1"), edit, delete, delete, edit]),
        None,
        sink,
        stop_event=threading.Event(),
        on_status=recorder.status,
        batch_max=10,
        batch_wait=60,
    )
    assert recorder.posts == [_post("1"), edit, delete]
    done = recorder.statuses[-1]
    assert done.state == "done" and done.skipped == 1 and done.posts == 1
    # Unknown deletions have their own count and leave the last real skip shown.
    assert done.unknown_deletions == 1
    assert done.last_skip_reason == "Modification illisible."


def test_post_change_identity() -> None:
    at = datetime(2026, 11, 23, 5, tzinfo=UTC)
    dated = PostChange("edit", "m", "s", "1", at=at, post=_post("1"))
    assert dated.key == "edit:1:2026-11-23T05:00:00+00:00"
    undated = PostChange("edit", "m", "s", "1", post=_post("1"))
    assert undated.version.startswith("sha256:")
    assert undated.key == PostChange("edit", "m", "s", "1", post=_post("1")).key
    assert PostChange("delete", "m", "s", "1").key == "delete:1"
    with pytest.raises(ValueError):
        PostChange("edit", "m", "s", "1")  # an edit needs its new version
    with pytest.raises(ValueError):
        PostChange("edit", "m", "s", "2", post=_post("1"))  # of the same post
    with pytest.raises(ValueError):
        PostChange("retract", "m", "s", "1")
    with pytest.raises(ValueError):
        PostChange("delete", "m", "s", "1", at=datetime(2026, 11, 23))  # naive


edit_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "created_at": json_values,
        "edited_at": json_values | st.datetimes().map(str),
        "content": json_values,
        "account": json_values,
        "reblog": json_values,
    },
)


@settings(max_examples=120, deadline=None)
@given(kind=st.sampled_from(["edit", "delete"]), payload=st.one_of(edit_like, json_values))
def test_fuzz_change_payloads_never_raise(kind, payload) -> None:
    src = MastodonSource(
        "m",
        MastodonConfig(instance_url="https://x.invalid", hashtags=("a",)),
        pseudonymise=lambda h: "handle:" + h,
    )
    item = src.safe_change(kind, payload, TAG)
    assert isinstance(item, PostChange | Skipped)
    if isinstance(item, PostChange):
        assert item.kind == kind and item.external_id
        if kind == "edit":
            assert item.post is not None and item.version
            assert item.at is None or item.at.tzinfo is not None


@settings(max_examples=60, deadline=None)
@given(status_id=st.from_regex(r"[A-Za-z0-9_.-]{1,40}", fullmatch=True) | st.integers(0, 2**64))
def test_fuzz_deletion_ids_are_read_as_sent(status_id) -> None:
    src = MastodonSource(
        "m",
        MastodonConfig(instance_url="https://x.invalid", hashtags=("a",)),
        pseudonymise=lambda h: h,
    )
    item = src.safe_change("delete", status_id, TAG)
    assert isinstance(item, PostChange) and item.external_id == str(status_id)


def test_recheck_setting() -> None:
    from beffroi.watch.sources.base import ConfigError

    form = {"instance_url": "https://piaille.invalid", "hashtags": "crue"}
    assert MastodonConfig.from_form(form).recheck == 40
    assert MastodonConfig.from_form({**form, "recheck": "0"}).recheck == 0
    with pytest.raises(ConfigError) as err:
        MastodonConfig.from_form({**form, "recheck": "500"})
    assert err.value.errors == {"recheck": "Doit être au plus 200."}


def _restart(fake, pseudonymise, ids: list[str]):
    """A source restarted with ``ids`` to recheck: its stream, and what it
    yields up to its first tick (catch-up and recheck done)."""
    src = source(fake.url, pseudonymise, recheck=10)
    checkpoint = {"last_ids": {TAG: ids[-1]}, "recent": [[i, ""] for i in ids]}
    stream = src.stream(checkpoint)
    items = []
    for item, _state in stream:
        if item is None:
            break
        items.append(item)
    return stream, items


def _goes_on_live(fake, stream, status) -> None:
    """The stream still delivers a status pushed live (no error, no reconnection)."""
    fake.wait_connections(TAG, 1)
    fake.update(TAG, status(9, "Toujours en direct"))
    for item, _state in stream:
        assert not isinstance(item, Skipped), item
        if isinstance(item, RawPost):
            assert item.external_id == "9"
            break
    stream.close()
    assert fake.connections[TAG] == 1


@pytest.mark.parametrize("error", [400, 422, 500])
def test_a_refused_batch_lookup_falls_back_to_one_by_one(
    fake_mastodon, pseudonymise, status, error
) -> None:
    """Pleroma and Akkoma read ``ids[]`` differently and may answer 400 or 500."""
    fake_mastodon.batch_error = error
    fake_mastodon.timelines[TAG] = [status(1, "Digue rompue", edited_at=EDITED), status(2)]
    stream, items = _restart(fake_mastodon, pseudonymise, ["1", "2", "3"])
    assert changes(items) == [("edit", "1"), ("delete", "3")]
    assert not [i for i in items if isinstance(i, Skipped)]
    singles = [r for r in fake_mastodon.requests if r.startswith("/api/v1/statuses/")]
    assert singles == ["/api/v1/statuses/1", "/api/v1/statuses/2", "/api/v1/statuses/3"]
    _goes_on_live(fake_mastodon, stream, status)


def test_a_status_missing_from_a_batch_reply_is_deleted_only_on_a_404(
    fake_mastodon, pseudonymise, status
) -> None:
    fake_mastodon.batch_omits = {"2", "3"}  # 2 still exists, 3 is gone
    fake_mastodon.timelines[TAG] = [status(1), status(2)]
    stream, items = _restart(fake_mastodon, pseudonymise, ["1", "2", "3"])
    assert changes(items) == [("delete", "3")]
    singles = [r for r in fake_mastodon.requests if r.startswith("/api/v1/statuses/")]
    assert singles == ["/api/v1/statuses/2", "/api/v1/statuses/3"]
    _goes_on_live(fake_mastodon, stream, status)


@pytest.mark.parametrize("where", ["one-by-one", "unauthorised-batch"])
def test_a_failed_recheck_is_a_skip_and_the_source_goes_on_live(
    fake_mastodon, pseudonymise, status, where
) -> None:
    """Never a SourceError: a reconnection would recheck again, in a loop; and
    never a deletion invented from an error."""
    if where == "one-by-one":
        fake_mastodon.batch_lookup = False
        fake_mastodon.status_error = 500
    else:
        fake_mastodon.batch_error = 401
    fake_mastodon.timelines[TAG] = [status(1), status(2)]
    stream, items = _restart(fake_mastodon, pseudonymise, ["1", "2", "3"])
    assert not changes(items)
    # Besides the recheck's skip, the lookback reads 1 and 2 again (below the last id
    # 3): the runner's window drops them as delivered.
    assert [i.external_id for i in items if isinstance(i, RawPost)] == ["1", "2"]
    [skip] = [i for i in items if not isinstance(i, RawPost)]
    assert skip.reason.startswith(
        "Revérification des modifications et suppressions faites pendant la coupure "
        "abandonnée (3 messages non revérifiés)"
    )
    assert f"instance {fake_mastodon.url.split('//')[1].split(':')[0]}" in skip.reason
    if where == "unauthorised-batch":
        assert "Accès refusé" in skip.reason
        assert not [r for r in fake_mastodon.requests if r.startswith("/api/v1/statuses/")]
    _goes_on_live(fake_mastodon, stream, status)


def test_an_edit_made_while_away_is_found_though_the_post_comes_again(
    fake_mastodon, pseudonymise, status
) -> None:
    """Status 1, edited while the source was down, comes again in its new
    version from a timeline added since (its backfill): the runner drops it as
    already delivered, so only the recheck can bring the edit. A post seen
    again must not move the recorded version forward."""
    edited = status(1, "Digue rompue, évacuez", edited_at=EDITED)
    fake_mastodon.timelines[TAG] = [edited]
    fake_mastodon.timelines["public"] = [edited]
    config = MastodonConfig(
        instance_url=fake_mastodon.url,
        hashtags=("inondation",),
        timelines=("public",),
        timeout=5,
        recheck=10,
    )
    src = MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05)
    items = []
    states = []
    stream = src.stream({"last_ids": {TAG: "1"}, "recent": [["1", ""]]})
    for item, state in stream:
        states.append(state)
        if item is None:
            break
        items.append(item)
    stream.close()
    assert [type(i).__name__ for i in items] == ["RawPost", "PostChange"]
    assert changes(items) == [("edit", "1")]
    assert states[0]["recent"] == [["1", ""]]  # the post seen again left the version
    assert states[-1]["recent"] == [["1", "2026-11-23T04:00:00+00:00"]]
