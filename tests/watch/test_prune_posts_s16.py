"""Retention of the watch room's posts (``watch.actions.prune_posts``): an activation's
posts and unused cards go once it has been over for the period; the main courante, the
cards its lines name and their posts stay, and the line digests still verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.usesdb

ENDED = datetime(2026, 1, 10, 12, tzinfo=UTC)


def _room(org, members, *, ended=ENDED):
    """An activation ended at ``ended``: two cards each with a post (one post edited by
    its author), one card decided, the other escalated to the main courante; and a post
    the pipeline never grouped."""
    from beffroi.watch import actions
    from beffroi.watch.models import Post, PostChange, Source
    from watch_rooms import add_cards

    coordinator = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=coordinator
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    dropped, reported = add_cards(activation, ["Rien à signaler", "Route coupée à Talmont"])

    def post(n, card):
        return Post.objects.create(
            activation=activation,
            source=source,
            external_id=str(n),
            text=f"message {n}",
            created_at=ENDED - timedelta(days=1),
            author_key="handle:abc123",
            raw={"id": n},
            card=card,
        )

    edited = post(1, dropped)
    PostChange.objects.create(post=edited, kind="edit", version="v2", text="message 1 bis")
    post(2, reported)
    post(3, None)
    actions.decide(dropped, "irrelevant", actor=coordinator)
    line = actions.escalate(reported, actor=coordinator, category="routes")
    activation.ends_at = ended
    activation.save(update_fields=["ends_at"])
    return activation, reported, line


def _prune(settings, *, days=30, now, **kwargs):
    from beffroi.watch import actions

    settings.BEFFROI_RETENTION_WATCH_POSTS_DAYS = days
    return actions.prune_posts(now=now, **kwargs)


def test_nothing_goes_before_the_period_ends(org, members, settings):
    from beffroi.watch.models import Card, Post

    activation, _, _ = _room(org, members)
    outcome = _prune(settings, now=ENDED + timedelta(days=29, hours=23))
    assert outcome.total == 0
    assert Post.objects.filter(activation=activation).count() == 3
    assert Card.objects.filter(activation=activation).count() == 2


def test_an_open_activation_is_never_pruned(org, members, settings):
    from beffroi.watch.models import Post

    activation, _, _ = _room(org, members, ended=None)
    assert _prune(settings, now=ENDED + timedelta(days=3650)).total == 0
    assert Post.objects.filter(activation=activation).count() == 3


def test_after_the_period_the_posts_go_and_the_main_courante_stays(org, members, settings):
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry
    from beffroi.watch import courante_verify
    from beffroi.watch.models import Card, CardDecision, LogEntry, Post, PostChange

    activation, reported, line = _room(org, members)
    journal_before = JournalEntry.objects.count()
    outcome = _prune(settings, now=ENDED + timedelta(days=30))

    assert outcome.counts == {"posts": 2, "post_changes": 1, "cards": 1, "card_decisions": 1}
    assert outcome.scope == [activation.pk]
    # The reported card and its post stay whole: the line's provenance.
    assert list(Card.objects.filter(activation=activation)) == [reported]
    kept = Post.objects.get(activation=activation)
    assert (kept.card_id, kept.text, kept.raw) == (reported.pk, "message 2", {"id": 2})
    assert not PostChange.objects.exists() and not CardDecision.objects.exists()
    # The main courante is the record: untouched, and its digests still verify.
    line.refresh_from_db()
    assert LogEntry.objects.get().card_id == reported.pk
    report = courante_verify.check()
    assert report.ok and report.intact == 1, [f.message() for f in report.findings]

    # One journal entry, counts only, and the chain still holds (nothing of it pruned).
    assert JournalEntry.objects.count() == journal_before + 1
    entry = JournalEntry.objects.order_by("-seq").first()
    assert entry.action == "retention.watch_posts"
    assert entry.data == {
        "days": 30, "posts": 2, "post_changes": 1, "cards": 1, "card_decisions": 1,
        "scope": [activation.pk],
    }  # fmt: skip
    assert "handle:" not in str(entry.data) and "message" not in str(entry.data)
    assert journal.verify() is None

    # A second run finds nothing and journals nothing.
    assert _prune(settings, now=ENDED + timedelta(days=31)).total == 0
    assert JournalEntry.objects.count() == journal_before + 1


def test_dry_run_counts_and_changes_nothing(org, members, settings):
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Card, Post, PostChange

    activation, _, _ = _room(org, members)
    journal_before = JournalEntry.objects.count()
    seen = []
    outcome = _prune(settings, now=ENDED + timedelta(days=60), dry_run=True, progress=seen.append)
    assert outcome.counts["posts"] == 2 and sum(seen) == 2
    assert Post.objects.filter(activation=activation).count() == 3
    assert Card.objects.filter(activation=activation).count() == 2
    assert PostChange.objects.count() == 1
    assert JournalEntry.objects.count() == journal_before


def test_never_keeps_everything(org, members, settings):
    from beffroi.watch.models import Post

    activation, _, _ = _room(org, members)
    assert _prune(settings, days=None, now=ENDED + timedelta(days=36500)).total == 0
    assert Post.objects.filter(activation=activation).count() == 3


def test_the_grouping_index_of_a_pruned_activation_goes(org, members, settings):
    from beffroi.watch.models import ActivationModel

    activation, _, _ = _room(org, members)
    # The decision made one already (the learner's); the pipeline's index joins it.
    ActivationModel.objects.update_or_create(
        activation=activation, defaults={"pipeline_state": b"index", "learner_state": b"model"}
    )
    _prune(settings, now=ENDED + timedelta(days=30))
    model = ActivationModel.objects.get(activation=activation)
    assert model.pipeline_state is None and bytes(model.learner_state) == b"model"
