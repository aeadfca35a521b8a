from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import ConfigError, RawPost, Skipped
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.rss import RssConfig, RssSource
from beffroi.watch.sources.runner import Backoff, start_source_thread
from json_strategies import json_values

TAG = "tag:inondation"


def source(url: str, pseudonymise, **kw) -> MastodonSource:
    config = MastodonConfig(instance_url=url, hashtags=("inondation",), timeout=5, **kw)
    return MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05)


def test_config_validation() -> None:
    with pytest.raises(ConfigError) as err:
        MastodonConfig.from_form({"instance_url": "mastodon.social", "timelines": "home"})
    assert err.value.errors["instance_url"].startswith("Adresse d'instance invalide")
    assert err.value.errors["timelines"] == "Fil inconnu « home » : choisir public ou local."
    with pytest.raises(ConfigError) as err:
        MastodonConfig.from_form({"instance_url": "https://mastodon.social"})
    assert "au moins un mot-dièse" in err.value.errors["hashtags"]
    config = MastodonConfig.from_form(
        {
            "instance_url": "https://piaille.fr/",
            "hashtags": "#Inondation, crue\ncrue",
            "timelines": ["local"],
        }
    )
    assert config.instance_url == "https://piaille.fr"
    assert config.streams() == ["tag:inondation", "tag:crue", "local"]


def test_status_conversion_hides_handles(pseudonymise, status) -> None:
    src = source("https://piaille.invalid", pseudonymise)
    data = status(
        12,
        "Le pont de <b>Ners</b> est coupé",
        acct="marie",
        bot=True,
        spoiler_text="Crue",
        media_attachments=[{"url": "https://m.invalid/1.jpg"}],
        in_reply_to_id="11",
    )
    data["created_at"] = datetime(2026, 11, 23, 3, 0, 12, tzinfo=UTC)  # as Mastodon.py casts it
    post = src.to_post(data, TAG)
    assert isinstance(post, RawPost)
    assert post.text == "[Crue]\nLe pont de Ners est coupé #inondation"
    assert post.author_key == pseudonymise("marie@piaille.invalid")
    assert post.author_kind == "bot" and post.reply_to == "11"
    assert post.media_urls == ("https://m.invalid/1.jpg",)
    assert "marie" not in repr(post.raw)
    assert post.url == "https://mastodon.invalid/@marie/12"  # the one link volunteers open
    assert "Marie D." not in repr(post.raw) and "Habitante" not in repr(post.raw)
    assert isinstance(src.to_post({"id": "3", "created_at": "x", "content": ""}, TAG), Skipped)
    assert src.to_post({"content": "x"}, TAG) == Skipped("Statut sans identifiant.", TAG)


def test_stream_reconnects_and_catches_up_without_gaps_or_duplicates(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = [status(i) for i in (1, 2, 3)]
    stop = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise),
        None,
        recorder.sink,
        stop_event=stop,
        on_status=recorder.status,
        on_skip=recorder.skip,
        backoff=Backoff(base=0.05),
    )
    until(lambda: len(recorder.posts) == 3)  # backfill on first connection
    fake_mastodon.wait_connections(TAG, 1)

    live = status(4, "Eau dans les maisons rue Centrale")
    fake_mastodon.timelines[TAG].append(live)
    fake_mastodon.update(TAG, live)
    until(lambda: len(recorder.posts) == 4)

    fake_mastodon.push(TAG, b"event: update\ndata: {not json\n\n")
    until(lambda: len(recorder.skips) == 1)
    assert recorder.skips[0].reason.startswith("Événement illisible")

    # Two statuses arrive while the link is down: they only exist in REST.
    fake_mastodon.timelines[TAG] += [status(5), status(6)]
    fake_mastodon.drop(TAG, partial=b'event: update\ndata: {"id": "5", "cont')
    fake_mastodon.wait_connections(TAG, 2)
    until(lambda: len(recorder.posts) == 6)
    assert any("min_id=4" in r for r in fake_mastodon.requests)

    later = status(7)
    fake_mastodon.timelines[TAG].append(later)
    fake_mastodon.update(TAG, later)
    until(lambda: len(recorder.posts) == 7)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()

    assert recorder.ids == [str(i) for i in range(1, 8)]
    assert recorder.posts[3].text == "Eau dans les maisons rue Centrale #inondation"
    assert any("a fermé le flux" in s.message for s in recorder.statuses if s.state == "error")
    assert recorder.checkpoints[-1]["state"]["last_ids"] == {TAG: "7"}

    # Restart later from the persisted checkpoint: only what is new comes in.
    fake_mastodon.timelines[TAG] += [status(8), status(9)]
    again = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise),
        recorder.checkpoints[-1],
        recorder.sink,
        stop_event=again,
    )
    until(lambda: len(recorder.posts) == 9)
    again.set()
    thread.join(timeout=5)
    assert recorder.ids == [str(i) for i in range(1, 10)]


def test_local_timeline_and_hashtag_together(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines["local"] = [status(20, "Alerte locale", tags=())]
    config = MastodonConfig(
        instance_url=fake_mastodon.url, hashtags=("inondation",), timelines=("local",), timeout=5
    )
    stop = threading.Event()
    thread = start_source_thread(
        MastodonSource("m", config, pseudonymise=pseudonymise, idle_tick=0.05),
        None,
        recorder.sink,
        stop_event=stop,
    )
    until(lambda: len(recorder.posts) == 1)
    fake_mastodon.wait_connections("local", 1)
    fake_mastodon.wait_connections(TAG, 1)
    both = status(21, "Vu sur les deux fils")
    fake_mastodon.update("local", both)
    fake_mastodon.update(TAG, both)
    fake_mastodon.update(TAG, status(22))
    until(lambda: len(recorder.posts) == 3)
    stop.set()
    thread.join(timeout=5)
    assert recorder.ids == ["20", "21", "22"]
    assert any(
        r.startswith("/api/v1/timelines/public?") and "local=1" in r for r in fake_mastodon.requests
    ), fake_mastodon.requests


def test_unreachable_instance_retries_while_a_feed_keeps_flowing(
    dead_url, feed_server, pseudonymise, recorder
) -> None:
    masto_statuses: list = []
    stop = threading.Event()
    masto = start_source_thread(
        source(dead_url, pseudonymise),
        None,
        lambda p, c: None,
        stop_event=stop,
        on_status=masto_statuses.append,
        backoff=Backoff(base=0.01, maximum=0.02),
    )
    url = feed_server.serve(
        "/rss",
        b"<rss version='2.0'><channel><title>t</title><item>"
        b"<guid>a</guid><title>Crue</title></item></channel></rss>",
    )
    rss = start_source_thread(
        RssSource("rss", RssConfig(url=url), pseudonymise=pseudonymise),
        None,
        recorder.sink,
        stop_event=stop,
    )
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        not recorder.posts or sum(s.state == "error" for s in masto_statuses) < 3
    ):
        time.sleep(0.02)
    stop.set()
    masto.join(timeout=5)
    rss.join(timeout=5)
    assert recorder.ids == ["a"]
    errors = [s for s in masto_statuses if s.state == "error"]
    assert len(errors) >= 3
    assert errors[0].message.startswith("Instance injoignable (127.0.0.1)")
    assert errors[0].retry_in is not None


status_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "created_at": json_values,
        "content": json_values,
        "spoiler_text": json_values,
        "account": json_values,
        "media_attachments": json_values,
        "reblog": json_values,
        "language": json_values,
        "in_reply_to_id": json_values,
    },
)


@settings(max_examples=80, deadline=None)
@given(status=st.one_of(status_like, json_values))
def test_fuzz_status_shapes_never_raise(status) -> None:
    src = MastodonSource(
        "m",
        MastodonConfig(instance_url="https://x.invalid", hashtags=("a",)),
        pseudonymise=lambda h: "handle:" + h,
    )
    item = src.safe_post(status, TAG)
    assert isinstance(item, RawPost | Skipped)
    if isinstance(item, RawPost):
        assert item.text and item.created_at.tzinfo is not None


def test_stream_refused_by_the_instance_is_explained(fake_mastodon, pseudonymise) -> None:
    fake_mastodon.stream_status = 401
    statuses: list = []
    stop = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise),
        None,
        lambda p, c: None,
        stop_event=stop,
        on_status=statuses.append,
        backoff=Backoff(base=0.01, maximum=0.02),
    )
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(s.state == "error" for s in statuses):
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=5)
    error = next(s for s in statuses if s.state == "error")
    assert error.message.startswith("L'instance 127.0.0.1 refuse le flux en direct (Unauthorized).")


def test_rate_limit_pause_requested_by_the_instance(fake_mastodon, pseudonymise, status) -> None:
    from datetime import timedelta

    reset = datetime.now(UTC) + timedelta(seconds=90)
    fake_mastodon.rate_limited_until = reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake_mastodon.timelines[TAG] = [status(1)]
    statuses: list = []
    stop = threading.Event()
    from beffroi.watch.sources.runner import run_source

    run_source(
        source(fake_mastodon.url, pseudonymise),
        None,
        lambda p, c: None,
        stop_event=stop,
        sleep=lambda s: stop.set(),
        on_status=statuses.append,
        backoff=Backoff(rng=lambda: 0.0),
    )
    error = next(s for s in statuses if s.state == "error")
    assert error.message.startswith("L'instance 127.0.0.1 limite le nombre de requêtes")
    assert 80 <= error.retry_in <= 90


def test_reblog_points_to_the_original(pseudonymise, status) -> None:
    src = source("https://piaille.invalid", pseudonymise)
    original = status(5, "Digue rompue à Aramon", acct="prefet30@social.invalid")
    boost = status(9, "", acct="relais", reblog=original, content="")
    post = src.to_post(boost, "public")
    assert isinstance(post, RawPost)
    assert post.external_id == "9" and post.repost_of == "5"
    assert post.text == "Digue rompue à Aramon #inondation"
    assert post.author_key == pseudonymise("prefet30@social.invalid")
    assert post.to_dict()["created_at"] == "2026-11-23T03:00:05+00:00"


def test_the_authors_account_kind_is_read_before_its_names_become_a_pseudonym(
    pseudonymise, status
) -> None:
    src = source("https://piaille.invalid", pseudonymise)
    data = status(14, "Vigilance rouge crues : évitez la D907", acct="prefet30")
    data["account"]["display_name"] = "Préfet du Gard"
    post = src.to_post(data, TAG)
    assert isinstance(post, RawPost) and post.author_kinds == ("government",)
    assert post.author_key == pseudonymise("prefet30@piaille.invalid")
    assert "prefet30" not in repr(post.raw) and "Préfet du Gard" not in repr(post.raw)
    person = src.to_post(status(15, "L'eau monte rue Avéjan", acct="marie"), TAG)
    assert isinstance(person, RawPost) and person.author_kinds == ("none",)


def test_a_public_bodys_server_or_verified_site_makes_the_author_an_authority(
    pseudonymise, status
) -> None:
    """Anyone may call themselves "Préfet"; only a public body holds an account on a
    state's own server or a server-verified link to a gouv.fr site."""
    src = source("https://piaille.invalid", pseudonymise)

    def kinds(data: dict) -> tuple[str, ...]:
        post = src.to_post(data, TAG)
        assert isinstance(post, RawPost)
        return post.author_kinds

    on_state_server = status(16, "Point de situation 18 h", acct="sdis30@social.numerique.gouv.fr")
    assert kinds(on_state_server) == ("government",)

    data = status(17, "Point de situation 19 h", acct="cellule_crise")
    link = '<a href="https://www.gard.gouv.fr/crue" rel="me nofollow">gard.gouv.fr</a>'
    data["account"]["fields"] = [{"name": "Site", "value": link, "verified_at": None}]
    # Not verified by the server: a claim, not a proof.
    assert kinds(data) == ("none",)
    data["account"]["fields"] = [
        {"name": "Lien", "value": '<a href="http://[::1">cassé</a>', "verified_at": "2026-01-02"},
        {"name": "Site", "value": link, "verified_at": "2026-01-02T10:00:00.000+00:00"},
    ]
    assert kinds(data) == ("government",)
    elsewhere = status(18, "Ça monte vite", acct="marie@mastodon.gouvernement.invalid")
    assert kinds(elsewhere) == ("none",)
