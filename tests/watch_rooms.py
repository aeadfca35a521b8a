"""Watch activations with cards, as the pipeline would have left them."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone


def add_cards(activation, texts: Sequence[str], **fields) -> list:
    """One Mastodon card per text, posted now, the i-th in group ``g{i}`` with id ``i``;
    ``fields`` add to or replace these for every card, except a callable, which is given
    the card's index."""
    from beffroi.watch.models import Card

    return [
        Card.objects.create(
            **{
                "activation": activation,
                "group_id": f"g{i}",
                "source_kind": "mastodon",
                "external_id": str(i),
                "text": text,
                "posted_at": timezone.now(),
                **{name: value(i) if callable(value) else value for name, value in fields.items()},
            }
        )
        for i, text in enumerate(texts)
    ]


def triage_room(org, coordinator, texts: Sequence[str], *, top: float = 1.0, per: int = 10):
    """The activation « Crue du Lay » with one card per text in its triage queue, the
    i-th of priority ``top - i / per`` (so the queue shows them in the given order)."""
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coordinator
    )
    add_cards(activation, texts, priority=lambda i: top - i / per)
    return activation


def decision_room(org, coordinator, texts: Sequence[str], **fields):
    """(activation, cards): the activation « Crue » (Vendée) with one French card per text
    (``fields`` as for ``add_cards``), waiting for decisions (and for what the learner
    makes of them)."""
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=coordinator
    )
    return activation, add_cards(activation, texts, **{"lang": "fr", **fields})


def rss_room(organisation, actor, *, name: str, source_name: str):
    """(activation, source): an activation in Vendée fed by one RSS source (on
    example.org, never fetched in tests)."""
    from beffroi.watch import actions

    activation = actions.create_activation(
        organisation, name=name, event_type="inondation", area=["85"], actor=actor
    )
    source = actions.add_source(
        activation,
        kind="rss",
        name=source_name,
        data={"url": "https://example.org/rss.xml"},
        actor=actor,
    )
    return activation, source


def file_source_room(coordinator):
    """A fresh organisation's activation « Crue » (Vendée) with one file source: where the
    worker tests store posts as a worker would."""
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    org = core_actions.create_organisation("VOST K1", "vostk1")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=coordinator
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    return activation, source


def file_post(i: int, text: str):
    """The i-th post of a file source, dated 10:i on 1 January 2024."""
    from datetime import UTC, datetime

    from beffroi.watch.sources.base import RawPost

    return RawPost("file", "x", str(i), text, datetime(2024, 1, 1, 10, i, tzinfo=UTC))


def courante_quoting(activation, coordinator, text: str, n: int) -> list:
    """``n`` cards of a file source whose text is ``text`` and a number, each with its post
    and a main courante line stored directly (as before a rule), then touched through a
    door, so that the journal holds their digests."""
    from django.utils import timezone

    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, Post, Source

    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    lines = []
    for i in range(1, n + 1):
        card = Card.objects.create(
            activation=activation, group_id=f"g{i}", source=source, source_kind="file",
            external_id=str(i), text=f"{text} {i}", posted_at=timezone.now(),
        )  # fmt: skip
        Post.objects.create(
            activation=activation, source=source, external_id=str(i), text=card.text,
            created_at=timezone.now(), card=card, processed=True,
        )  # fmt: skip
        line = LogEntry.objects.create(
            activation=activation, number=i, channel="reseaux-sociaux", category="autre",
            text=card.text, card=card,
        )  # fmt: skip
        actions.set_entry_sharing(line, False, actor=coordinator)
        lines.append(line)
    return lines
