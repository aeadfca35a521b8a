"""Time of a zone change on an activation with a long queue waiting.

    .venv/bin/python bench/watch_rezone.py [--cards 20000]

Builds, in a database of its own (a temporary directory, or ``DATABASE_URL`` when set:
``scripts/with-postgres.sh``), an activation of Luçon (85128) with ``--cards`` waiting
cards, a third located in the Aude, a third in Luçon, a third nowhere, and a tenth of
them decided; then times the edit that adds the Aude (11) to the zone, which scores the
waiting cards again in its transaction, and the edit back. Prints the seconds and the
cards changed.
"""

from __future__ import annotations

import argparse
import time

from bench_db import scratch_database, watch_room

PLACES = [
    ({"code": "11069", "name": "Carcassonne", "dep": "11", "evidence": "Carcassonne"}, False),
    ({"code": "85128", "name": "Luçon", "dep": "85", "evidence": "Luçon"}, True),
    (None, None),
]


def build(n: int):
    from datetime import UTC, datetime

    from beffroi.watch.models import Card, CardState, Source

    user, activation = watch_room("Crue", area=["85128"])
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    when = datetime(2026, 11, 24, tzinfo=UTC)
    cards = []
    for i in range(n):
        place, inside = PLACES[i % 3]
        line = (
            "non localisé"
            if place is None
            else ("dans la zone : " if inside else "localisé hors de la zone : ") + place["name"]
        )
        cards.append(
            Card(
                activation=activation, group_id=f"g{i}", source=source, source_kind="file",
                external_id=str(i), text=f"L'eau monte {i}", posted_at=when,
                priority=0.5, informative_p=0.8, urgency_cues=["l eau monte"],
                communes=[place] if place else [], in_area=inside,
                explanation=["urgence 1,00 : « l eau monte »", "informatif p=0,80", line],
                state=CardState.DECIDED if i % 10 == 0 else CardState.QUEUED,
            )
        )  # fmt: skip
    Card.objects.bulk_create(cards, batch_size=2000)
    return activation, user


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=20000)
    args = parser.parse_args()
    with scratch_database("rezone"):
        from django.db import connection

        from beffroi.core.models import JournalEntry
        from beffroi.watch import actions

        activation, user = build(args.cards)
        print(f"{connection.vendor}, {args.cards} cards ({args.cards - args.cards // 10} waiting)")
        # Loaded by the action before its transaction, once per process: said apart.
        t0 = time.perf_counter()
        import beffroi.watch.pipeline  # noqa: F401

        print(f"{'first import':<14} {time.perf_counter() - t0:6.2f} s  (outside the transaction)")
        for label, area in (("add the Aude", ["85128", "11"]), ("back to Luçon", ["85128"])):
            t0 = time.perf_counter()
            actions.update_activation(
                activation,
                name=activation.name,
                event_type=activation.event_type,
                keywords={},
                ends_at=None,
                area=area,
                actor=user,
            )
            seconds = time.perf_counter() - t0
            entry = JournalEntry.objects.filter(action="watch.activation.update").latest("seq")
            changed = entry.data["area"]["waiting_cards_rescored"]
            print(f"{label:<14} {seconds:6.2f} s  {changed} waiting cards scored again")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
