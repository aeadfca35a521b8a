from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from beffroi.watch.sources.base import ConfigError, PostChange
from beffroi.watch.sources.bluesky import BlueskyConfig, BlueskySource, KeywordMatcher
from beffroi.watch.sources.runner import Backoff, start_source_thread
from source_runs import error_statuses

A = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
B = "did:plc:z72i7hdynmk6r22z27h6tvur"
C = "did:web:mairie-ales.invalid"


def make(endpoint: str, pseudonymise, **kw) -> BlueskySource:
    config = BlueskyConfig(
        keywords=("#inondation", "crue", "Point de situation"),
        endpoint=endpoint,
        recv_timeout=5,
        **kw,
    )
    return BlueskySource("bsky", config, pseudonymise=pseudonymise, idle_tick=0.05)


def test_keyword_matcher_is_word_and_accent_insensitive() -> None:
    matcher = KeywordMatcher(("crue", "#inondation", "pont coupé"))
    assert matcher.matches("CRUE éclair", []) == ["crue"]
    assert matcher.matches("les crues", []) == []  # whole words only
    assert matcher.matches("Pont  coupe", []) == []
    assert matcher.matches("le pont coupe la route", []) == ["pont coupé"]
    assert matcher.matches("#Inondation à Alès", []) == ["#inondation"]
    assert matcher.matches("rien", ["inondation"]) == ["#inondation"]
    assert matcher.matches("inondation sans dièse", []) == []


def test_config_validation() -> None:
    with pytest.raises(ConfigError) as err:
        BlueskyConfig.from_form({"endpoint": "https://x", "languages": "fr, french"})
    assert err.value.errors == {
        "keywords": "Indiquer au moins un mot-clé ou un mot-dièse.",
        "endpoint": "Adresse Jetstream invalide (wss://…/xrpc attendu).",
        "languages": "Code de langue invalide : « french » (fr, en… attendus).",
    }
    config = BlueskyConfig.from_form({"keywords": "crue\n#inondation", "languages": "FR"})
    assert config.keywords == ("crue", "#inondation") and config.languages == ("fr",)


def test_jetstream_posts_filtered_reconnect_and_resume(
    fake_jetstream, pseudonymise, recorder, until
) -> None:
    fake_jetstream.cut_after = {1: 1004}  # the server restarts after seq 1004
    stop = threading.Event()
    thread = start_source_thread(
        make(fake_jetstream.endpoint, pseudonymise),
        None,
        recorder.sink,
        stop_event=stop,
        on_status=recorder.status,
        on_skip=recorder.skip,
        backoff=Backoff(base=0.05),
        checkpoint_every=0,
    )
    until(lambda: len(recorder.posts) == 5)
    until(lambda: recorder.checkpoints[-1]["state"].get("cursor") == 1010)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()

    # Server-side filters were asked for; the second connection resumed at the cursor.
    first, second = fake_jetstream.paths[:2]
    assert "collections=app.bsky.feed.post" in first and "kinds=commit" in first
    assert "cursor" not in first and "cursor=1004" in second

    assert recorder.ids == [
        f"at://{A}/app.bsky.feed.post/3lbzxa2bcd22a",
        f"at://{A}/app.bsky.feed.post/3lbzxa2bcd22a",
        f"at://{B}/app.bsky.feed.post/3lbzxa2bcd22d",
        f"at://{C}/app.bsky.feed.post/3lbzxa2bcd22f",
        f"at://{C}/app.bsky.feed.post/3lbzxa2bcd22g",
    ]
    flood, deletion, reply, english, update = recorder.posts
    # Seq 1003 deletes the post delivered at seq 1001: its author withdrew it.
    assert isinstance(deletion, PostChange) and deletion.kind == "delete"
    assert deletion.at == datetime(2026, 11, 23, 3, 43, tzinfo=UTC)
    assert flood.text == "La rue d'Avéjan est sous l'eau #inondation"
    assert flood.language == "fr" and flood.author_key == pseudonymise(A)
    assert flood.url == f"https://bsky.app/profile/{A}/post/3lbzxa2bcd22a"
    assert flood.media_urls == (
        f"https://cdn.bsky.app/img/feed_fullsize/plain/{A}/"
        "bafkreihvbqyhfx3hd4qzmwrcbm5gyvbmv4ewy2kwwsj4n5nxdtkxh2vuqm@jpeg",
    )
    assert flood.raw["matched_keywords"] == ["#inondation"]
    assert flood.created_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    # A createdAt years ahead is not trusted: the witnessed time is used.
    assert reply.created_at == datetime(2026, 11, 23, 3, 46, tzinfo=UTC)
    assert reply.reply_to == f"at://{A}/app.bsky.feed.post/3lbzxa2bcd22a"
    assert english.raw["matched_keywords"] == ["crue"]
    assert update.raw["matched_keywords"] == ["Point de situation"]

    reasons = [s.reason for s in recorder.skips]
    assert reasons[0] == "Enregistrement de post invalide (schéma app.bsky.feed.post)."
    assert reasons[1].startswith("Trame Jetstream illisible")
    errors = [s for s in recorder.statuses if s.state == "error"]
    assert errors and "nouvel essai" in errors[0].message.lower()

    # Restart from the persisted checkpoint: nothing is delivered twice.
    again = threading.Event()
    thread = start_source_thread(
        make(fake_jetstream.endpoint, pseudonymise),
        recorder.checkpoints[-1],
        recorder.sink,
        stop_event=again,
    )
    until(lambda: len(fake_jetstream.paths) == 3)
    import time

    time.sleep(0.3)
    again.set()
    thread.join(timeout=5)
    assert "cursor=1010" in fake_jetstream.paths[2]
    assert len(recorder.posts) == 5


def test_language_filter(fake_jetstream, pseudonymise, recorder, until) -> None:
    stop = threading.Event()
    thread = start_source_thread(
        make(fake_jetstream.endpoint, pseudonymise, languages=("fr",)),
        None,
        recorder.sink,
        stop_event=stop,
    )
    until(lambda: len(recorder.posts) == 4)
    stop.set()
    thread.join(timeout=5)
    posts = [p for p in recorder.posts if not isinstance(p, PostChange)]
    assert len(posts) == 3 and all(p.language == "fr" for p in posts)


def test_unreachable_jetstream_reports_and_retries(dead_url, pseudonymise) -> None:
    endpoint = dead_url.replace("http://", "ws://") + "/xrpc"
    errors = error_statuses(make(endpoint, pseudonymise, compress=False), until_errors=2)
    assert len(errors) >= 2
    assert errors[0].message.startswith("Jetstream injoignable (127.0.0.1)")


def test_post_conversion_returns_none_for_other_commits(pseudonymise) -> None:
    source = make("ws://127.0.0.1:1/xrpc", pseudonymise)

    class Commit:
        collection = "app.bsky.feed.like"
        operation = "create"

    assert source.to_post(Commit()) is None
