"""A feed past the entry cap keeps its newest entries whatever its order.

The cap (``rss.MAX_ENTRIES``) used to keep the first 1,000 entries in document order, so
a feed listing its oldest entries first (some municipal CMSs, podcasts, archives) kept
its oldest 1,000 and never showed a new entry again. Now the entries kept are the newest
by their own date; an undated one takes the date of the last dated entry before it in
the document (now when none came before), so it stands where the feed put it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import feedparser
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources import rss
from beffroi.watch.sources.base import handle_pseudonymiser
from beffroi.watch.sources.rss import MAX_ENTRIES, RssConfig, RssSource, newest_entries
from rss_feeds import rss_document

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EXTRA = 250
CUT = f"Flux tronqué aux {MAX_ENTRIES} entrées les plus récentes."
PSEUDONYMISE = handle_pseudonymiser(b"beffroi-test-key-not-secret")


def _when(age: int) -> datetime:
    return NOW - timedelta(minutes=age)


def _item(name: str, age: int | None) -> str:
    date = "" if age is None else f"<pubDate>{_when(age):%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
    return f"<item><guid>{name}</guid><title>crue {name}</title>{date}</item>"


def _rss(items: list[str]) -> bytes:
    return rss_document(items, "Mairie")


def _atom(entries: list[tuple[str, int | None]]) -> bytes:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Mairie</title>'
        + "".join(
            f"<entry><id>{name}</id><title>crue {name}</title>"
            + ("" if age is None else f"<updated>{_when(age).isoformat()}</updated>")
            + "</entry>"
            for name, age in entries
        )
        + "</feed>"
    ).encode()


def _source(url: str = "https://mairie.invalid/flux.xml") -> RssSource:
    return RssSource(
        "mairie", RssConfig(url=url, timeout=5), pseudonymise=PSEUDONYMISE, clock=lambda: NOW
    )


# Entry "n{i}" is i minutes old: n0 is the newest.
NEWEST_FIRST = [(f"n{i}", i) for i in range(MAX_ENTRIES + EXTRA)]
OLDEST_FIRST = NEWEST_FIRST[::-1]
NEWEST_IDS = {f"n{i}" for i in range(MAX_ENTRIES)}


def _check_newest_kept(batch) -> None:
    assert {p.external_id for p in batch.posts} == NEWEST_IDS
    # Emitted oldest first, whatever the feed's order: the queue reads in order.
    dates = [p.created_at for p in batch.posts]
    assert dates == sorted(dates) and dates[-1] == NOW
    assert [s.reason for s in batch.skipped] == [CUT]


def test_a_feed_listing_newest_first_keeps_its_newest(feed_server) -> None:
    url = feed_server.serve("/flux", _rss([_item(n, a) for n, a in NEWEST_FIRST]))
    _check_newest_kept(_source(url).poll({}))


def test_a_feed_listing_oldest_first_keeps_its_newest_too(feed_server) -> None:
    url = feed_server.serve("/flux", _rss([_item(n, a) for n, a in OLDEST_FIRST]))
    _check_newest_kept(_source(url).poll({}))


def test_an_atom_feed_oldest_first_with_iso_dates(feed_server) -> None:
    url = feed_server.serve("/atom", _atom(OLDEST_FIRST), content_type="application/atom+xml")
    _check_newest_kept(_source(url).poll({}))


def test_new_entries_at_the_end_of_an_oldest_first_feed_come_out(feed_server) -> None:
    url = feed_server.serve("/flux", _rss([_item(n, a) for n, a in OLDEST_FIRST]))
    source = _source(url)
    first = source.poll({})
    # The publisher adds two entries at the end, as an oldest-first feed does.
    later = [*OLDEST_FIRST, ("new1", -1), ("new2", -2)]
    later_now = NOW + timedelta(minutes=3)
    source.clock = lambda: later_now
    feed_server.serve("/flux", _rss([_item(n, a) for n, a in later]))
    second = source.poll(first.checkpoint)
    assert [p.external_id for p in second.posts] == ["new1", "new2"]
    # Every entry still kept is still remembered: none comes back as new.
    kept = {f"n{i}" for i in range(MAX_ENTRIES - 2)} | {"new1", "new2"}
    assert kept <= set(second.checkpoint["seen"])
    assert source.poll(second.checkpoint).posts == []


def test_undated_entries_take_the_date_of_the_dated_entry_before_them() -> None:
    # Dated entries rising in time say the feed lists oldest first: the undated at the
    # end take d7's date, and among them the later in the document are the newer.
    dated = [_item(f"d{i}", 500 - i) for i in range(8)]
    undated = [_item(f"u{i}", None) for i in range(4)]
    cut, total = newest_entries(_rss(dated + undated), 6, now=NOW)
    assert total == 12
    kept = re.findall(rb"<guid>(\w+)</guid>", cut)
    assert kept == [b"d6", b"d7", b"u0", b"u1", b"u2", b"u3"]
    # Falling dates (newest first, the usual order): the undated at the bottom take
    # d0's date, the oldest, so they do not push out the newest dated entries.
    cut, _ = newest_entries(_rss(dated[::-1] + undated), 3, now=NOW)
    assert re.findall(rb"<guid>(\w+)</guid>", cut) == [b"d7", b"d6", b"d5"]
    # Undated entries above every dated one (none before them) count as just received.
    cut, _ = newest_entries(_rss(undated + dated[::-1]), 3, now=NOW)
    assert re.findall(rb"<guid>(\w+)</guid>", cut) == [b"u0", b"u1", b"u2"]


def test_new_dated_entries_on_top_of_a_big_undated_archive_come_out() -> None:
    # Review R18: five dated entries on top of 1,000 undated ones. Counting the undated
    # as "now" kept the archive and dropped every dated entry, new ones included.
    archive = [_item(f"u{i}", None) for i in range(MAX_ENTRIES)]
    source = _source()
    first = source.parse(_rss([_item(f"d{i}", 60 * (i + 1)) for i in range(5)] + archive), {}, {})
    assert sorted(p.external_id for p in first.posts if p.external_id[0] == "d") == [
        f"d{i}" for i in range(5)
    ]
    assert len(first.posts) == MAX_ENTRIES
    later = [_item("fresh", -20), *(_item(f"d{i}", 60 * (i + 1)) for i in range(5)), *archive]
    later_now = NOW + timedelta(minutes=30)
    source.clock = lambda: later_now
    second = source.parse(_rss(later), {}, first.checkpoint)
    assert [p.external_id for p in second.posts] == ["fresh"]


def test_impossible_dates_count_as_no_date_not_as_the_newest() -> None:
    # A date in year 9999 does not pin an entry above the others for ever: it counts as
    # no date, so the entry takes the date of the dated entry before it ("recent").
    def raw(name: str, date: str) -> str:
        return f"<item><guid>{name}</guid><title>x</title><pubDate>{date}</pubDate></item>"

    items = [_item("past", 10), _item("recent", 1)]
    items.append(raw("future", "Fri, 31 Dec 9999 23:00:00 +0000"))
    items.append(raw("ancient", "Mon, 01 Jan 1900 00:00:00 +0000"))
    cut, _ = newest_entries(_rss(items), 3, now=NOW)
    assert set(re.findall(rb"<guid>(\w+)</guid>", cut)) == {b"recent", b"future", b"ancient"}


def test_an_ascending_feed_under_the_cap_is_emitted_oldest_first() -> None:
    batch = _source().parse(_rss([_item(f"n{i}", 10 - i) for i in range(5)]), {}, {})
    assert [p.external_id for p in batch.posts] == ["n0", "n1", "n2", "n3", "n4"]
    assert batch.checkpoint["seen"] == ["n0", "n1", "n2", "n3", "n4"]


def test_an_entry_still_in_the_feed_is_never_forgotten() -> None:
    # The window of ids seen holds as many as the cap: an id still in the feed moves to
    # its end at each poll, so the ids that leave the window are those that left the feed.
    old = [f"gone{i}" for i in range(MAX_ENTRIES)]
    batch = _source().parse(
        _rss([_item("stays", None), _item("fresh", 0)]), {}, {"seen": [*old[:-1], "stays"]}
    )
    assert [p.external_id for p in batch.posts] == ["fresh"]
    assert batch.checkpoint["seen"][-2:] == ["fresh", "stays"]
    assert len(batch.checkpoint["seen"]) == MAX_ENTRIES


def _expected(entries: list[tuple[str, int | None]], limit: int) -> tuple[set[str], set[str]]:
    """What must be kept, and what may be: an undated entry takes the age of the nearest
    dated entry before it in the document (0, "now", when there is none), and the
    youngest are kept. Entries of the age at the cut tie; ties go by the feed's order,
    which the property does not restate, so they may or may not be kept."""
    aged: list[tuple[int, str]] = []
    last = 0
    for name, age in entries:
        last = last if age is None else age
        aged.append((last, name))
    if len(aged) <= limit:
        return {n for _, n in aged}, {n for _, n in aged}
    cut_age = sorted(aged)[limit - 1][0]
    return {n for a, n in aged if a < cut_age}, {n for a, n in aged if a <= cut_age}


@settings(max_examples=300, deadline=None)
@given(
    # Ages from one minute: a dated entry of exactly "now" would tie with the undated.
    st.lists(st.integers(1, 10_000), unique=True, max_size=40).flatmap(
        lambda ages: st.permutations([(f"e{i}", a) for i, a in enumerate(ages)])
    ),
    st.lists(st.integers(0, 39), max_size=6),
    st.integers(1, 12),
    st.sampled_from(["rss", "atom"]),
)
def test_the_newest_are_kept_in_any_order(entries, undated_at, limit, kind) -> None:
    entries = [(n, None if i in undated_at else a) for i, (n, a) in enumerate(entries)]
    body = _rss([_item(n, a) for n, a in entries]) if kind == "rss" else _atom(entries)
    cut, total = newest_entries(body, limit, now=NOW)
    assert total == len(entries)
    kept = [k.decode() for k in re.findall(rb"<(?:guid|id)>(e\d+)</", cut)]
    must, may = _expected(entries, limit)
    assert len(kept) == min(limit, len(entries))
    assert must <= set(kept) <= may | must
    # The document order is kept, and the document is whole: feedparser reads it all.
    order = [n for n, _ in entries]
    assert kept == sorted(kept, key=order.index)
    parsed = feedparser.parse(cut)
    assert not parsed.bozo and [e.id for e in parsed.entries] == kept


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), unique=True, min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 4)), max_size=5),
    st.randoms(use_true_random=False),
)
def test_across_polls_nothing_accepted_is_lost_or_announced_twice(ages, additions, random) -> None:
    """Polls of a feed in a random order that grows past a small cap: each entry among
    the newest is announced exactly once, and the ids kept in the checkpoint always
    cover every entry the cut keeps."""
    limit = 8
    entries = [(f"e{i}", a) for i, a in enumerate(ages)]
    random.shuffle(entries)
    checkpoint: dict = {}
    announced: list[str] = []
    clock = NOW
    source = _source()
    source.clock = lambda: clock
    with mock.patch.object(rss, "MAX_ENTRIES", limit), mock.patch.object(rss, "SEEN_LIMIT", limit):
        for step, (position, count) in enumerate([(0, 0), *additions]):
            clock = NOW + timedelta(hours=step)
            for k in range(count):
                # New entries are newer than every other, wherever the feed puts them.
                entry = (f"s{step}k{k}", k - step * 60)
                entries.insert(position % (len(entries) + 1), entry)
            body = _rss([_item(n, a) for n, a in entries])
            batch = source.parse(body, {}, checkpoint)
            announced += [p.external_id for p in batch.posts]
            checkpoint = batch.checkpoint
            newest = {n for _, n in sorted((a, n) for n, a in entries)[:limit]}
            assert newest <= set(announced)
            assert newest <= set(checkpoint["seen"])
            assert len(checkpoint["seen"]) <= limit
    assert len(announced) == len(set(announced))
