"""Demo content of the watch room (called by ``beffroi demo``; idempotent).

An exercise activation replays the 2013 Alberta floods from CrisisLexT26 at
×60 through the replay source, so a newcomer sees the queue fill as soon as
the worker runs; a first line in the main courante and a partner link show
the rest of the room.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.contrib.auth import get_user_model
from django.urls import reverse

from beffroi.core.models import Organisation
from beffroi.watch import actions
from beffroi.watch.models import Activation, EventType

NAME = "Exercice — crue (rejeu CrisisLex : Alberta 2013)"
EVENT = "2013_Alberta_floods"
SPEED = 60.0
# Nights and lulls of the collection are shortened to one minute of data time
# (1 s at ×60), so the demo never looks stuck.
MAX_GAP = 60.0


def dataset_path() -> Path:
    root = Path(__file__).resolve().parents[3]
    folder = (root.parent / "shared" / "data" / "crisislex" / "CrisisLexT26" / EVENT).resolve()
    return folder / f"{EVENT}-tweets_labeled.csv"


def load(org: Organisation) -> Iterator[str]:
    activation = Activation.objects.filter(organisation=org, name=NAME).first()
    if activation is not None:
        n = activation.sources.count()
        yield f"watch demo: activation '{NAME}' already there ({n} source(s))"
        return
    User = get_user_model()
    coordinator = (
        User.objects.filter(memberships__organisation=org, memberships__role="coordinator")
        .order_by("pk")
        .first()
    )
    activation = actions.create_activation(
        org,
        name=NAME,
        event_type=EventType.EXERCISE,
        keywords={"en": ["flood", "#abflood", "#yycflood"], "fr": ["crue", "inondation"]},
        actor=coordinator,
    )
    path = dataset_path()
    if path.is_file():
        actions.add_source(
            activation,
            kind="replay",
            name=f"Rejeu {EVENT} ×{SPEED:g}",
            data={"path": str(path), "format": "crisislex", "speed": SPEED, "max_gap": MAX_GAP},
            actor=coordinator,
        )
        replay = (
            f"replaying {path.name} at ×{SPEED:g} "
            "(the worker started with the demo fills the queue)"
        )
    else:
        replay = f"dataset not found at {path}: no replay source (add one from the Sources page)"
    actions.add_log_entry(
        activation,
        actor=coordinator,
        text="Ouverture de l'exercice : cellule de veille active, point toutes les heures.",
        channel="officiel",
        category="officiel",
    )
    yield f"watch demo: activation '{NAME}' — {replay}"
    # The partners' side without an account: a read-only link, shown once (only its
    # hash is kept), as the coordination would send it to a préfecture.
    _link, token = actions.create_partner_link(
        activation, label="COD de démonstration", days=30, actor=coordinator
    )
    # `beffroi demo` sets BEFFROI_DEMO_URL to the address it serves.
    base = os.environ.get("BEFFROI_DEMO_URL", "http://127.0.0.1:8000").rstrip("/")
    page = reverse("watch-partner", args=[token])
    yield f"  partner link (read-only main courante, no account): {base}{page}"
