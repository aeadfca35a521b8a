"""A watch activation with cards waiting in its triage queue."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone


def triage_room(org, coordinator, texts: Sequence[str], *, top: float = 1.0, per: int = 10):
    """The activation « Crue du Lay » with one Mastodon card per text, posted now, the
    i-th of priority ``top - i / per`` (so the queue shows them in the given order)."""
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coordinator
    )
    for i, text in enumerate(texts):
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source_kind="mastodon",
            external_id=str(i),
            text=text,
            posted_at=timezone.now(),
            priority=top - i / per,
        )
    return activation
