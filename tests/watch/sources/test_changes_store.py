"""Authors' edits and deletions stored through ``actions.receive_items``: the
raw post stays, the change is recorded once, the card and the main courante
follow, partners stop receiving a deleted post's text."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

WHEN = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
EDITED = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 05:00 in Paris


def _post(source_id: int, external_id: str, text: str, **kw):
    from beffroi.watch.sources import RawPost

    return RawPost("mastodon", str(source_id), external_id, text, WHEN, **kw)


def _edit(source_id: int, external_id: str, text: str, at=EDITED, **kw):
    from beffroi.watch.sources.base import PostChange

    post = _post(source_id, external_id, text, **kw)
    return PostChange("edit", "mastodon", str(source_id), external_id, at=at, post=post)


def _delete(source_id: int, external_id: str):
    from beffroi.watch.sources.base import PostChange

    return PostChange("delete", "mastodon", str(source_id), external_id)


@pytest.fixture
def room(source_room):
    return source_room("mastodon")


def _process(activation) -> int:
    from beffroi.watch.worker import ActivationProcessor

    return ActivationProcessor(activation, None).process()


def _card(source, external_id: str):
    from beffroi.watch.models import Card

    return Card.objects.get(source=source, external_id=external_id)


def _journal(action: str):
    from beffroi.core.models import JournalEntry

    return list(JournalEntry.objects.filter(action=action).order_by("seq"))


def test_an_edit_is_recorded_once_and_the_card_shows_it(room) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Post, PostChange

    activation, source = room
    first = "La digue cède à Aramon, @paul@piaille.invalid filme"
    actions.receive_items(
        source.pk, [_post(source.pk, "1", first, author_key="marie@piaille.invalid")], {"v": 1}
    )
    assert _process(activation) == 1
    card = _card(source, "1")
    assert card.text == "La digue cède à Aramon, @… filme"

    edit = _edit(
        source.pk,
        "1",
        "Fausse alerte : la digue tient, merci @paul@piaille.invalid",
        author_key="marie@piaille.invalid",
        raw={"content": '<p><a href="https://piaille.invalid/@paul">@paul</a></p>'},
    )
    checkpoint = {"v": 1, "state": {"last_ids": {"tag:crue": "1"}}, "seen": [edit.key]}
    result = actions.receive_items(source.pk, [edit], checkpoint)
    assert result.new == 0 and result.skipped == ()

    # The raw post keeps the version that arrived first; the edit is a new row.
    post = Post.objects.get(source=source, external_id="1")
    assert post.text.startswith("La digue cède à Aramon, @h_")
    change = PostChange.objects.get(post=post)
    assert change.kind == "edit" and change.changed_at == EDITED
    assert change.text.startswith("Fausse alerte : la digue tient, merci @h_")
    assert "paul" not in change.text + str(change.raw)  # same handle rules as a new post
    assert change.shown_before == "La digue cède à Aramon, @… filme"
    card.refresh_from_db()
    assert card.text == "Fausse alerte : la digue tient, merci @…"
    assert card.author_edited_at == EDITED and card.author_deleted_at is None
    assert card.explanation[0] == (
        "modifié par l'auteur le 23/11/2026 05:00 ; version précédente : "
        "« La digue cède à Aramon, @… filme »"
    )
    assert [e.data["post"] for e in _journal("watch.post.edit")] == [post.pk]
    # The journal is never purged: it does not carry the platform's id (on Bluesky an
    # AT-URI names its author).
    assert all("external_id" not in e.data for e in _journal("watch.post.edit"))
    source.refresh_from_db()
    assert source.checkpoint == checkpoint  # committed with the change

    # Seen again (a second stream, a replay after a crash): nothing changes.
    actions.receive_items(source.pk, [edit], checkpoint)
    assert PostChange.objects.filter(post=post).count() == 1
    assert len(_journal("watch.post.edit")) == 1
    card.refresh_from_db()
    assert len(card.explanation) == len(set(card.explanation))

    # A second edit keeps the whole history.
    later = _edit(source.pk, "1", "La digue tient.", at=EDITED + timedelta(minutes=5))
    actions.receive_items(source.pk, [later], checkpoint)
    assert list(PostChange.objects.filter(post=post).values_list("shown_before", flat=True)) == [
        "La digue cède à Aramon, @… filme",
        "Fausse alerte : la digue tient, merci @…",
    ]
    card.refresh_from_db()
    assert card.text == "La digue tient." and card.explanation[0].startswith(
        "modifié par l'auteur le 23/11/2026 05:05"
    )


def test_a_deletion_is_journaled_and_partners_no_longer_get_the_text(room, members, client) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry, PostChange

    activation, source = room
    quoted = "Eau dans les maisons rue Centrale à Alès"
    summarised = "Un témoin dit que le pont de Ners est coupé"
    actions.receive_items(
        source.pk, [_post(source.pk, "1", quoted), _post(source.pk, "2", summarised)], {"v": 1}
    )
    _process(activation)
    coord = members["coordinator"]
    verbatim = actions.escalate(_card(source, "1"), actor=coord, category="degats")
    summary = actions.escalate(
        _card(source, "2"), actor=coord, category="routes", text="Pont de Ners : à confirmer"
    )

    result = actions.receive_items(
        source.pk,
        [_delete(source.pk, "1"), _delete(source.pk, "2"), _delete(source.pk, "99")],
        {"v": 1},
    )
    assert result.unknown_deletions == 1 and not result.skipped

    card = _card(source, "1")
    assert card.author_deleted_at is not None and card.text == quoted  # the team keeps it
    assert card.explanation[0].startswith("supprimé par l'auteur le ")
    verbatim.refresh_from_db()
    assert verbatim.withdrawn_text == quoted and quoted not in verbatim.text
    assert verbatim.text.startswith("[Message supprimé par son auteur le ")
    summary.refresh_from_db()
    assert summary.text == "Pont de Ners : à confirmer" and summary.withdrawn_text == ""
    assert summary.author_deleted_at is not None
    deletions = _journal("watch.post.delete")
    from beffroi.watch.models import Post

    ids = dict(Post.objects.filter(source=source).values_list("external_id", "pk"))
    assert [(d.data["post"], d.data["withdrawn_lines"]) for d in deletions] == [
        (ids["1"], [verbatim.number]),
        (ids["2"], []),
    ]
    assert all(d.data["at"] for d in deletions)

    # Seen twice: nothing more.
    actions.receive_items(source.pk, [_delete(source.pk, "1")], {"v": 1})
    assert PostChange.objects.filter(kind="delete").count() == 2
    assert len(_journal("watch.post.delete")) == 2

    # A card escalated after its post was deleted is not quoted either.
    late = "Un arbre est tombé sur la route de Quissac"
    actions.receive_items(source.pk, [_post(source.pk, "3", late)], {"v": 1})
    _process(activation)
    actions.receive_items(source.pk, [_delete(source.pk, "3")], {"v": 1})
    after = actions.escalate(_card(source, "3"), actor=coord, category="routes")
    assert after.withdrawn_text == late and late not in after.text
    assert after.author_deleted_at is not None

    # The valve: partners read the mark, not the text; the team reads both.
    base = {"org": activation.organisation.slug, "activation_id": activation.pk}
    client.force_login(members["partner"])
    rows = client.get(reverse("watch-courante-rows", kwargs=base)).content.decode()
    assert "Message supprimé par son auteur le" in rows
    assert quoted not in rows and late not in rows
    assert "Pont de Ners : à confirmer" in rows
    export = client.get(reverse("watch-courante-export", kwargs={**base, "fmt": "csv"}))
    exported = export.content.decode("utf-8-sig")
    assert quoted not in exported and late not in exported and "Pont de Ners" in exported
    _link, token = actions.create_partner_link(activation, label="COD 30", days=1, actor=coord)
    page = client.get(reverse("watch-partner", args=[token])).content.decode()
    assert quoted not in page and "Pont de Ners : à confirmer" in page
    client.force_login(members["volunteer"])
    rows = client.get(reverse("watch-courante-rows", kwargs=base)).content.decode()
    assert quoted in rows and "Texte consigné avant la suppression" in rows
    assert late in rows
    assert LogEntry.objects.filter(activation=activation).count() == 3


def test_changes_before_the_pipeline_wait_for_the_card(room) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import PostChange

    activation, source = room
    actions.receive_items(
        source.pk,
        [
            _post(source.pk, "5", "Route coupée à Sommières"),
            _edit(source.pk, "5", "Route coupée à Sommières, déviation par Lunel"),
            _post(source.pk, "6", "Coupure de courant à Quissac"),
            _delete(source.pk, "6"),
        ],
        {"v": 1},
    )
    assert PostChange.objects.filter(applied_at__isnull=True).count() == 2
    assert _process(activation) == 2
    assert not PostChange.objects.filter(applied_at__isnull=True).exists()
    edited, deleted = _card(source, "5"), _card(source, "6")
    assert edited.text == "Route coupée à Sommières, déviation par Lunel"
    assert edited.explanation[0].endswith("« Route coupée à Sommières »")
    assert deleted.author_deleted_at is not None
    assert _journal("watch.queue")[-1].data["author_changes"] == 2


def test_an_edit_of_a_post_never_received_is_received_as_a_post(room) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Post, PostChange

    _activation, source = room
    result = actions.receive_items(
        source.pk, [_edit(source.pk, "7", "Ajout du mot-dièse #crue30")], {"v": 1}
    )
    assert result.new == 1 and result.skipped == ()
    assert Post.objects.get(source=source, external_id="7").text == "Ajout du mot-dièse #crue30"
    assert not PostChange.objects.exists()


def test_no_handle_of_an_edit_reaches_the_database(room, members) -> None:
    from django.apps import apps

    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    activation, source = room
    actions.receive_items(source.pk, [_post(source.pk, "1", "Crue à Alès")], {"v": 1})
    _process(activation)
    actions.escalate(_card(source, "1"), actor=members["coordinator"], category="degats")
    edit = _edit(
        source.pk,
        "1",
        "Crue à Alès, voir @AliceDupont@mastodon.social https://mastodon.social/@AliceDupont/1",
        url="https://mastodon.social/@AliceDupont/1",
        author_key="AliceDupont@mastodon.social",
        raw={"content": "<p>@AliceDupont</p>", "tags": [{"name": "crue"}]},
    )
    actions.receive_items(source.pk, [edit, _delete(source.pk, "1")], {"v": 1})
    models = [*apps.get_app_config("watch").get_models(), JournalEntry]
    stored = "\n".join(str(row) for m in models for row in m.objects.values()).lower()
    assert "alicedupont" not in stored
    assert "@h_" in stored  # the pseudonym is there instead


def test_mastodon_edits_and_deletions_end_to_end(room, fake_mastodon, status, recorder) -> None:
    """Mastodon.py reads the loopback server; the worker's sink stores; a
    restart neither loses nor repeats a change."""
    from beffroi.watch import actions
    from beffroi.watch.models import Post, PostChange, Source
    from beffroi.watch.sources import handle_pseudonymiser
    from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
    from beffroi.watch.sources.runner import run_source

    activation, source = room
    tag = "tag:crue"
    fake_mastodon.timelines[tag] = [status(1, "Digue fissurée", tags=("crue",)), status(2)]
    config = MastodonConfig(instance_url=fake_mastodon.url, hashtags=("crue",), timeout=5)
    delivered: list = []
    got = threading.Condition()

    def sink(items, checkpoint):
        result = actions.receive_items(source.pk, items, checkpoint)
        with got:
            delivered.extend(items)
            got.notify_all()
        return result

    def run(stop: threading.Event, checkpoint) -> None:
        mastodon = MastodonSource(
            str(source.pk),
            config,
            pseudonymise=handle_pseudonymiser(actions.handle_key()),
            idle_tick=0.05,
        )
        run_source(mastodon, checkpoint, sink, stop_event=stop, on_status=recorder.status)

    def drive(stop: threading.Event, count: int, push=None) -> threading.Thread:
        def go() -> None:
            with got:
                got.wait_for(lambda: len(delivered) >= 2, timeout=10)
            if push is not None:
                push()
            with got:
                got.wait_for(lambda: len(delivered) >= count, timeout=10)
            stop.set()

        thread = threading.Thread(target=go, daemon=True)
        thread.start()
        return thread

    def live() -> None:
        fake_mastodon.wait_connections(tag, 1)
        edited = status(1, "Digue rompue", tags=("crue",), edited_at="2026-11-23T04:00:00.000Z")
        fake_mastodon.timelines[tag][0] = edited
        fake_mastodon.edit(tag, edited)
        fake_mastodon.delete(tag, "2")
        fake_mastodon.delete(tag, "2")
        fake_mastodon.delete(tag, "99")

    stop = threading.Event()
    driver = drive(stop, 5, live)
    run(stop, None)
    driver.join(5)
    assert [type(i).__name__ for i in delivered] == ["RawPost"] * 2 + ["PostChange"] * 3
    final = recorder.statuses[-1]
    # A deletion of a post never received is counted apart, not as a skip.
    assert final.unknown_deletions == 1
    assert final.skipped == 0 and final.last_skip_reason is None
    _process(activation)
    assert _card(source, "1").text.startswith("Digue rompue")
    assert _card(source, "2").author_deleted_at is not None

    # While the worker is down the author edits post 1 again.
    fake_mastodon.timelines[tag][0] = status(
        1, "Digue rompue, évacuez", tags=("crue",), edited_at="2026-11-23T04:30:00.000Z"
    )
    checkpoint = Source.objects.get(pk=source.pk).checkpoint
    delivered.clear()
    delivered.extend([None, None])  # the driver's "connected" threshold
    again = threading.Event()
    driver = drive(again, 3)
    run(again, checkpoint)
    driver.join(5)
    assert [(c.kind, c.version) for c in delivered[2:]] == [("edit", "2026-11-23T04:30:00+00:00")]
    post = Post.objects.get(source=source, external_id="1")
    assert list(post.changes.values_list("version", flat=True)) == [
        "2026-11-23T04:00:00+00:00",
        "2026-11-23T04:30:00+00:00",
    ]
    assert PostChange.objects.count() == 3  # two edits of 1, one deletion of 2
    assert _card(source, "1").text.startswith("Digue rompue, évacuez")


@pytest.fixture
def two_cards(room):
    from beffroi.watch import actions

    activation, source = room
    posts = [_post(source.pk, "1", "Crue à Alès"), _post(source.pk, "2", "Crue à Anduze")]
    actions.receive_items(source.pk, posts, {"v": 1})
    _process(activation)
    return activation, source


class _Rollback(Exception):
    pass


def test_fuzz_any_sequence_of_changes_is_applied_once_each(two_cards) -> None:
    """Edits and deletions in any order, any of them repeated: one row and one
    journal entry per distinct change, and the card shows the latest edit (by
    edit time, whatever the order of arrival)."""
    from django.db import transaction
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import PostChange

    _activation, source = two_cards
    change = st.tuples(st.sampled_from(["1", "2"]), st.sampled_from(["v1", "v2", "v3", "delete"]))

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(sequence=st.lists(change, max_size=8), batch=st.integers(1, 4))
    def check(sequence, batch) -> None:
        items = []
        for external_id, what in sequence:
            if what == "delete":
                items.append(_delete(source.pk, external_id))
            else:
                at = EDITED + timedelta(minutes=int(what[1]))
                items.append(_edit(source.pk, external_id, f"Version {what} de {external_id}", at))
        try:
            with transaction.atomic():
                journal_before = JournalEntry.objects.count()
                for start in range(0, len(items), batch):
                    actions.receive_items(source.pk, items[start : start + batch], {"v": 1})
                distinct = list(dict.fromkeys(sequence))
                assert PostChange.objects.count() == len(distinct)
                assert JournalEntry.objects.count() - journal_before == len(distinct)
                for external_id in ("1", "2"):
                    mine = [w for e, w in distinct if e == external_id]
                    edits = [w for w in mine if w != "delete"]
                    card = _card(source, external_id)
                    if edits:
                        latest = max(edits, key=lambda w: int(w[1]))
                        assert card.text == f"Version {latest} de {external_id}"
                    assert (card.author_deleted_at is not None) == ("delete" in mine)
                    assert len(card.explanation) >= len(mine)
                raise _Rollback
        except _Rollback:
            pass

    check()


def test_an_edit_then_a_deletion_pending_together_both_reach_the_card(room) -> None:
    """Both wait for the card, then are applied in one go: the deletion must
    not save a stale copy of the card over the edit."""
    from beffroi.watch import actions

    activation, source = room
    actions.receive_items(
        source.pk,
        [
            _post(source.pk, "7", "Pont fermé à Ners"),
            _edit(source.pk, "7", "Pont fermé à Ners, passage par Boucoiran"),
            _delete(source.pk, "7"),
        ],
        {"v": 1},
    )
    assert _process(activation) == 1
    card = _card(source, "7")
    assert card.text == "Pont fermé à Ners, passage par Boucoiran"
    assert card.author_edited_at == EDITED
    assert card.author_deleted_at is not None
    assert card.explanation[0].startswith("supprimé par l'auteur")
    assert card.explanation[1].endswith("« Pont fermé à Ners »")


def test_an_older_edit_arriving_late_is_recorded_but_not_shown(two_cards) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import PostChange

    _activation, source = two_cards
    newer = _edit(source.pk, "1", "Crue à Alès, la digue a cédé", EDITED + timedelta(hours=1))
    older = _edit(source.pk, "1", "Crue à Alès, digue fragile", EDITED)
    actions.receive_items(source.pk, [newer], {"v": 1})
    actions.receive_items(source.pk, [older], {"v": 2})
    card = _card(source, "1")
    assert card.text == "Crue à Alès, la digue a cédé"
    assert card.author_edited_at == EDITED + timedelta(hours=1)
    assert len(card.explanation) >= 1 and "digue fragile" not in " ".join(card.explanation)
    late = PostChange.objects.get(text="Crue à Alès, digue fragile")
    assert late.applied_at is not None and late.shown_before == ""
    assert len(_journal("watch.post.edit")) == 2
