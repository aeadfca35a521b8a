from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import ConfigError, SourceError
from beffroi.watch.sources.rss import RssConfig, RssSource, html_to_text, retry_after
from beffroi.watch.sources.runner import Backoff, run_source

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:georss="http://www.georss.org/georss"
     xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Pr\xc3\xa9fecture</title><language>fr-FR</language>
<item><title>Vigilance rouge crues</title><link>https://ex.invalid/2</link><guid>n2</guid>
<description>
&lt;p&gt;Le Gardon &lt;b&gt;d\xc3\xa9borde&lt;/b&gt; &#224; Al\xc3\xa8s&lt;/p&gt;</description>
<pubDate>Mon, 23 Nov 2026 02:30:00 +0100</pubDate>
<author>cabinet@pref.invalid (Cabinet du pr\xc3\xa9fet)</author>
<georss:point>44.12 4.08</georss:point>
<media:content url="https://ex.invalid/photo.jpg" medium="image"/>
</item>
<item><title>Routes coup\xc3\xa9es</title><link>https://ex.invalid/1</link><guid>n1</guid>
<description>RD 907 ferm\xc3\xa9e</description>
<pubDate>Mon, 23 Nov 2026 01:00:00 +0000</pubDate></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
<title>Vigicrues</title><id>urn:v</id><updated>2026-11-23T03:00:00Z</updated>
<entry><title>Tron\xc3\xa7on Gardon : rouge</title><id>urn:v:1</id>
<link href="https://ex.invalid/a1"/><updated>2026-11-23T03:00:00Z</updated>
<content type="html">&lt;p&gt;Crue majeure&lt;/p&gt;</content>
<author><name>SCHAPI</name></author></entry>
<entry><id>urn:v:empty</id><updated>2026-11-23T03:00:00Z</updated></entry>
</feed>"""


def make(url: str, pseudonymise, **kw) -> RssSource:
    return RssSource("pref30", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise, **kw)


def test_config_validation_messages_are_french() -> None:
    with pytest.raises(ConfigError) as err:
        RssConfig.from_form({"url": "ftp://x", "poll_interval": "2"})
    assert err.value.errors["url"].startswith("URL de flux invalide")
    assert "au moins 10" in err.value.errors["poll_interval"]
    with pytest.raises(ConfigError) as err:
        RssConfig.from_form({})
    assert err.value.errors["url"] == "Ce champ est obligatoire."
    ok = RssConfig.from_form({"url": " https://ex.invalid/rss ", "poll_interval": "60"})
    assert ok.url == "https://ex.invalid/rss" and ok.poll_interval == 60


def test_rss_entries_become_posts_oldest_first(feed_server, pseudonymise) -> None:
    url = feed_server.serve("/rss", RSS, etag='"v1"')
    batch = make(url, pseudonymise).poll({})
    assert [p.external_id for p in batch.posts] == ["n1", "n2"]
    alert = batch.posts[1]
    assert alert.text == "Vigilance rouge crues\n\nLe Gardon déborde à Alès"
    assert alert.created_at == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    assert alert.language == "fr"
    assert alert.coordinates == (44.12, 4.08)
    assert alert.media_urls == ("https://ex.invalid/photo.jpg",)
    assert alert.url == "https://ex.invalid/2"
    # The author is pseudonymised, and no handle survives in the raw payload.
    assert alert.author_key is not None and alert.author_key.startswith("handle:")
    assert "cabinet@pref" not in repr(alert.raw) and "Cabinet" not in repr(alert.raw)
    assert batch.checkpoint["etag"] == '"v1"'
    assert batch.posts[0].author_key is None


def test_conditional_get_and_no_duplicates(feed_server, pseudonymise) -> None:
    url = feed_server.serve("/rss", RSS, etag='"v1"', last_modified="Mon, 23 Nov 2026 03:00:00 GMT")
    source = make(url, pseudonymise)
    first = source.poll({})
    second = source.poll(first.checkpoint)
    assert second.posts == [] and second.checkpoint == first.checkpoint
    assert feed_server.requests[-1][1]["If-None-Match"] == '"v1"'
    assert feed_server.requests[-1][1]["If-Modified-Since"] == "Mon, 23 Nov 2026 03:00:00 GMT"
    # The feed changes but keeps old entries: only the new one comes out.
    feed_server.serve("/rss", RSS.replace(b"<guid>n2</guid>", b"<guid>n3</guid>"), etag='"v2"')
    third = source.poll(first.checkpoint)
    assert [p.external_id for p in third.posts] == ["n3"]


def test_atom_and_empty_entry_is_skipped_with_reason(feed_server, pseudonymise) -> None:
    url = feed_server.serve("/atom", ATOM, content_type="application/atom+xml")
    batch = make(url, pseudonymise).poll({})
    assert [p.external_id for p in batch.posts] == ["urn:v:1"]
    assert batch.posts[0].text == "Tronçon Gardon : rouge\n\nCrue majeure"
    assert batch.posts[0].language == "fr"
    assert [s.reason for s in batch.skipped] == ["Entrée sans titre ni contenu."]


def test_bad_feeds_raise_french_errors(feed_server, dead_url, pseudonymise) -> None:
    with pytest.raises(SourceError, match="connexion refusée"):
        make(dead_url + "/rss", pseudonymise).poll({})
    url = feed_server.serve("/bad", b"<rss><channel><item><title>x</ti")
    with pytest.raises(SourceError, match="XML mal formé"):
        make(url, pseudonymise).poll({})
    with pytest.raises(SourceError, match="répond 404"):
        make(feed_server.base + "/missing", pseudonymise).poll({})


def test_runner_retries_a_dead_feed_until_it_comes_back(feed_server, pseudonymise, recorder):
    source = make(feed_server.base + "/later", pseudonymise)
    stop = threading.Event()
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 3:  # the publisher fixes the feed after two failures
            feed_server.serve("/later", RSS)
        if len(recorder.posts) >= 2:
            stop.set()

    run_source(
        source,
        None,
        recorder.sink,
        stop_event=stop,
        sleep=sleep,
        on_status=recorder.status,
        backoff=Backoff(rng=lambda: 1.0),
    )
    assert recorder.ids == ["n1", "n2"]
    errors = [s for s in recorder.statuses if s.state == "error"]
    assert errors[0].message.startswith("Le serveur du flux répond 404")
    assert "Nouvel essai dans 1 s" in errors[0].message
    # Exponential: each failure doubles the wait (jitter pinned to its maximum).
    assert [s.retry_in for s in errors[:3]] == [1.0, 2.0, 4.0]
    assert "ok" in recorder.states()


def test_html_to_text() -> None:
    assert html_to_text("<p>a&amp;b</p><p>c  d</p>") == "a&b\nc d"


ITEM = st.fixed_dictionaries(
    {
        "title": st.text(max_size=30),
        "guid": st.text(max_size=10),
        "description": st.text(max_size=40),
        "pubDate": st.sampled_from(["", "Mon, 23 Nov 2026 01:00:00 +0000", "demain", "2026-13-45"]),
        "point": st.sampled_from(["", "44.1 4.08", "abc", "91 200", "1"]),
    }
)


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    # Characters XML 1.0 forbids are not what this test is about.
    return escape("".join(c for c in text if c in "\t\n\r" or " " <= c <= "\ud7ff"))


@settings(max_examples=30, deadline=None)
@given(items=st.lists(ITEM, max_size=5), noise=st.binary(max_size=40))
def test_fuzz_feed_parsing_never_raises_anything_but_source_error(items, noise) -> None:
    body = "".join(
        f"<item><title>{_xml(i['title'])}</title><guid>{_xml(i['guid'])}</guid>"
        f"<description>{_xml(i['description'])}</description><pubDate>{i['pubDate']}</pubDate>"
        f"<georss:point>{i['point']}</georss:point></item>"
        for i in items
    )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:georss="http://www.georss.org/georss"><channel><title>t</title>'
        f"{body}</channel></rss>"
    ).encode() + noise
    source = RssSource(
        "f",
        RssConfig(url="https://ex.invalid/"),
        pseudonymise=lambda h: h,
        clock=lambda: datetime(2026, 11, 23, tzinfo=UTC),
    )
    try:
        batch = source.parse(feed, {"content-type": "application/rss+xml"}, {})
    except SourceError as exc:
        assert exc.message.startswith("Flux illisible")
        return
    for post in batch.posts:
        assert post.text and post.created_at.tzinfo is not None
        if post.coordinates is not None:
            assert -90 <= post.coordinates[0] <= 90
    again = source.parse(feed, {}, batch.checkpoint)
    assert again.posts == []  # the same feed twice gives nothing new


def test_retry_after_is_honoured(feed_server, pseudonymise, recorder) -> None:
    url = feed_server.serve("/busy", b"busy", status=503, headers={"Retry-After": "120"})
    stop = threading.Event()
    run_source(
        make(url, pseudonymise),
        None,
        recorder.sink,
        stop_event=stop,
        sleep=lambda s: stop.set(),
        on_status=recorder.status,
        backoff=Backoff(rng=lambda: 0.0),
    )
    error = next(s for s in recorder.statuses if s.state == "error")
    assert error.retry_in == 120
    assert error.message.endswith("Nouvel essai dans 120 s.")
    assert (
        retry_after("Mon, 23 Nov 2026 03:02:00 GMT", datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
        == 120
    )
    assert retry_after("bientôt", datetime(2026, 11, 23, tzinfo=UTC)) is None
