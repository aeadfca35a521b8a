"""Publishers' corrections in RSS/Atom feeds: an entry that comes back with a
later ``updated`` date and a different text is an edit; an entry that leaves
the feed is not a deletion. Two versions of a feed served on loopback."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import PostChange, RawPost, handle_pseudonymiser
from beffroi.watch.sources.rss import RssConfig, RssSource
from beffroi.watch.sources.runner import run_source

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _iso(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(*entries: tuple[str, str, str, int | None]) -> bytes:
    """An Atom feed; each entry is (id, title, summary, minutes after T0 of
    its ``updated``, or None for no ``updated``). Published at T0."""
    body = "".join(
        f"<entry><id>{eid}</id><title>{title}</title><summary>{summary}</summary>"
        f"<published>{_iso(0)}</published>"
        + (f"<updated>{_iso(updated)}</updated>" if updated is not None else "")
        + "</entry>"
        for eid, title, summary, updated in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">'
        f"<title>Préfecture du Gard</title><id>urn:pref30</id><updated>{_iso(0)}</updated>"
        f"{body}</feed>"
    ).encode()


def make(url: str, pseudonymise) -> RssSource:
    return RssSource("pref30", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)


def test_a_later_corrected_entry_is_an_edit_and_a_missing_one_no_deletion(
    feed_server, pseudonymise
) -> None:
    url = feed_server.serve(
        "/flux",
        atom(
            ("urn:1", "Digue rompue à Aramon", "Évacuez", 5),
            ("urn:2", "Route D979 coupée", "Déviation", 5),
        ),
        etag='"v1"',
    )
    source = make(url, pseudonymise)
    first = source.poll({})
    assert [type(p) for p in first.posts] == [RawPost, RawPost]

    feed_server.serve(
        "/flux",
        atom(
            ("urn:3", "Point de situation", "6 h", 40),
            ("urn:1", "Digue fissurée à Aramon", "Pas de rupture", 30),
            # urn:2 rotated out of the feed: nothing happens to it.
        ),
        etag='"v2"',
    )
    second = source.poll(first.checkpoint)
    assert [(type(p).__name__, p.external_id) for p in second.posts] == [
        ("PostChange", "urn:1"),
        ("RawPost", "urn:3"),
    ]
    edit = second.posts[0]
    assert isinstance(edit, PostChange) and edit.kind == "edit"
    assert edit.at == T0 + timedelta(minutes=30) and edit.version == edit.at.isoformat()
    assert edit.post is not None and edit.post.text == "Digue fissurée à Aramon\n\nPas de rupture"
    assert not [p for p in second.posts if isinstance(p, PostChange) and p.kind == "delete"]

    # The same version fetched again (no ETag match this time) is no new edit.
    feed_server.serve("/flux", feed_server.routes["/flux"].body, etag='"v3"')
    assert source.poll(second.checkpoint).posts == []


def test_what_is_not_an_edit(feed_server, pseudonymise) -> None:
    url = feed_server.serve(
        "/flux",
        atom(
            ("urn:date", "Crue", "Texte", 10),
            ("urn:text", "Crue", "Texte", 10),
            ("urn:older", "Crue", "Texte", 10),
            ("urn:nodate", "Crue", "Texte", None),
        ),
    )
    source = make(url, pseudonymise)
    first = source.poll({})
    feed_server.serve(
        "/flux",
        atom(
            ("urn:date", "Crue", "Texte", 20),  # a new date, the same text
            ("urn:text", "Crue", "Texte mis à jour il y a 5 min", 10),  # no later date
            ("urn:older", "Crue", "Autre texte", 5),  # an earlier date
            ("urn:nodate", "Crue", "Texte corrigé", None),
        ),
    )
    second = source.poll(first.checkpoint)
    assert second.posts == []
    # The text shown stays the reference: a dated correction afterwards is an
    # edit even if its text is the undated rewrite.
    feed_server.serve(
        "/flux",
        atom(
            ("urn:text", "Crue", "Texte mis à jour il y a 5 min", 50),
            ("urn:nodate", "Crue", "Texte corrigé", 50),  # first date: after publication
        ),
    )
    third = source.poll(second.checkpoint)
    assert [(p.kind, p.external_id) for p in third.posts] == [
        ("edit", "urn:nodate"),
        ("edit", "urn:text"),
    ]


def test_a_checkpoint_without_versions_learns_them_without_edits(feed_server, pseudonymise):
    url = feed_server.serve("/flux", atom(("urn:1", "Crue", "Texte", 10)))
    source = make(url, pseudonymise)
    old = source.poll({}).checkpoint
    del old["versions"]  # as written before edits were followed
    feed_server.serve("/flux", atom(("urn:1", "Crue", "Texte corrigé", 20)))
    learned = source.poll(old)
    assert learned.posts == [] and "urn:1" in learned.checkpoint["versions"]
    feed_server.serve("/flux", atom(("urn:1", "Crue", "Texte corrigé deux fois", 30)))
    assert [p.kind for p in source.poll(learned.checkpoint).posts] == ["edit"]


def test_the_runner_delivers_an_edit_once_across_restarts(feed_server, pseudonymise, recorder):
    url = feed_server.serve("/flux", atom(("urn:1", "Crue", "Texte", 10)))

    def run(checkpoint):
        stop = threading.Event()
        polls = [0]

        def sleep(_seconds: float) -> None:
            polls[0] += 1
            if polls[0] >= 2:
                stop.set()

        return run_source(
            make(url, pseudonymise), checkpoint, recorder.sink, stop_event=stop, sleep=sleep
        )

    checkpoint = run(None)
    feed_server.serve("/flux", atom(("urn:1", "Crue", "Texte corrigé", 20)))
    checkpoint = run(checkpoint)
    run(checkpoint)
    assert [(type(p).__name__, p.external_id) for p in recorder.posts] == [
        ("RawPost", "urn:1"),
        ("PostChange", "urn:1"),
    ]
    assert "edit:urn:1:" + (T0 + timedelta(minutes=20)).isoformat() in checkpoint["seen"]


PSEUDONYMISE = handle_pseudonymiser(b"beffroi-test-key-not-secret")


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(0, 2), st.sampled_from(["A", "B", "C"]), st.none() | st.integers(0, 9)
        ),
        max_size=12,
    )
)
def test_fuzz_versions_against_a_model(steps) -> None:
    """One entry at a time, parsed (no network): an edit is emitted exactly when
    the date is later than the last one kept and the text differs from the
    text last shown; the checkpoint survives JSON."""
    source = RssSource("f", RssConfig(url="https://ex.invalid/f"), pseudonymise=PSEUDONYMISE)
    checkpoint: dict = {}
    shown: dict[int, str] = {}
    last: dict[int, datetime] = {}
    for n, text, minute in steps:
        updated = None if minute is None else T0 + timedelta(minutes=minute)
        batch = source.parse(atom((f"urn:{n}", "Crue", text, minute)), {}, checkpoint)
        checkpoint = json.loads(json.dumps(batch.checkpoint))
        if n not in shown:
            assert [type(p) for p in batch.posts] == [RawPost]
            shown[n] = text
            if updated is not None:
                last[n] = updated
            continue
        since = last.get(n, T0)
        expect_edit = updated is not None and updated > since and text != shown[n]
        assert [type(p) for p in batch.posts] == ([PostChange] if expect_edit else [])
        if expect_edit:
            shown[n] = text
        if updated is not None and updated > since:
            last[n] = updated


def test_an_rss_correction_reaches_the_card(db, org, members, feed_server, pseudonymise) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Source
    from beffroi.watch.worker import ActivationProcessor

    activation = actions.create_activation(
        org, name="Crue du Gard", event_type="inondation", actor=members["coordinator"]
    )
    row = Source.objects.create(activation=activation, kind="rss", name="préfecture", config={})
    url = feed_server.serve("/flux", atom(("urn:1", "Digue rompue", "Évacuez", 10)))
    source = RssSource(str(row.pk), RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    first = source.poll({})
    actions.receive_items(row.pk, first.posts, {"v": 1, "state": first.checkpoint})
    ActivationProcessor(activation, None).process()
    feed_server.serve("/flux", atom(("urn:1", "Digue fissurée", "Pas de rupture", 30)))
    second = source.poll(first.checkpoint)
    actions.receive_items(row.pk, second.posts, {"v": 1, "state": second.checkpoint})
    card = Card.objects.get(source=row, external_id="urn:1")
    assert card.text == "Digue fissurée Pas de rupture"  # card text is normalised
    assert card.author_edited_at == T0 + timedelta(minutes=30)


def test_impossible_updated_dates_neither_stop_the_feed_nor_make_edits() -> None:
    """Year 0 or beyond 9999 in an entry's ``updated``: the entry is read without a date
    of its own, the others are read as usual (the poll used to fail as a whole)."""
    source = RssSource("f", RssConfig(url="https://example.invalid/f"), pseudonymise=None)
    for bad in ("0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"):
        feed = atom(("urn:1", "Crue", "Texte", None), ("urn:2", "Crue 2", "Texte", None))
        feed = feed.replace(b"</summary>", f"</summary><updated>{bad}</updated>".encode(), 1)
        batch = source.parse(feed, {}, {})
        assert sorted(p.external_id for p in batch.posts) == ["urn:1", "urn:2"], bad
        again = source.parse(feed.replace(b"Crue 2", b"Crue 2 bis"), {}, batch.checkpoint)
        assert again.posts == [], bad


def test_a_dated_correction_of_an_entry_seen_without_any_date_is_an_edit() -> None:
    first_seen = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    source = RssSource(
        "f", RssConfig(url="https://example.invalid/f"), pseudonymise=None,
        clock=lambda: first_seen,
    )  # fmt: skip

    def rss(text: str, extra: str = "") -> bytes:
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>t</title><item><guid>urn:1</guid><title>Crue</title>"
            f"<description>{text}</description>{extra}</item></channel></rss>"
        ).encode()

    seen = source.parse(rss("Digue rompue"), {}, {})
    assert [p.created_at for p in seen.posts] == [first_seen]
    later = "<atom:updated>2026-11-23T13:00:00Z</atom:updated>"
    (edit,) = source.parse(rss("Digue fissurée, pas de rupture", later), {}, seen.checkpoint).posts
    assert isinstance(edit, PostChange) and edit.kind == "edit"
    assert edit.at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def test_the_feeds_publisher_kind_is_read_in_its_title() -> None:
    """ "Préfecture du Gard" is an authority: its entries carry that kind for the
    classifier. A title without a trade word gives nothing (not "a person")."""
    source = RssSource("f", RssConfig(url="https://example.invalid/f"), pseudonymise=None)
    official = source.parse(atom(("urn:1", "Crue", "Texte", None)), {}, {})
    assert [p.author_kinds for p in official.posts] == [("government",)]
    newspaper = atom(("urn:1", "Crue", "Texte", None)).replace(
        b"Pr\xc3\xa9fecture du Gard", b"Le Cri"
    )
    assert [p.author_kinds for p in source.parse(newspaper, {}, {}).posts] == [()]
    # A feed fetched from a zone only public bodies hold speaks for an authority,
    # whatever its title.
    state = RssSource("f", RssConfig(url="https://www.gard.gouv.fr/rss"), pseudonymise=None)
    assert [p.author_kinds for p in state.parse(newspaper, {}, {}).posts] == [("government",)]
