"""Demo content of the watch room (called by ``beffroi demo``; idempotent).

An exercise activation replays the 2013 Alberta floods from CrisisLexT26 at
×60 through the replay source, so a newcomer sees the queue fill as soon as
the worker runs; a first line in the main courante and a partner link show
the rest of the room.

The replayed file ships with Beffroi (``demo_data/``, MIT licence beside it), so
the demo works from any clone or installed package; ``BEFFROI_CRISISLEX_DIR``
points at a full CrisisLex folder to use its copy instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from beffroi.core.models import Organisation
from beffroi.watch import actions
from beffroi.watch.models import Activation, EventType
from beffroi.watch.sources import ConfigError

NAME = "Exercice — crue (rejeu CrisisLex : Alberta 2013)"
EVENT = "2013_Alberta_floods"
SPEED = 60.0
# Nights and lulls of the collection are shortened to one minute of data time
# (1 s at ×60), so the demo never looks stuck.
MAX_GAP = 60.0
FILE = f"{EVENT}-tweets_labeled.csv"
SHIPPED = Path(__file__).resolve().parent / "demo_data" / FILE


def dataset_path() -> Path:
    """The file the demo replays: the CrisisLex folder named by BEFFROI_CRISISLEX_DIR
    when it holds the event, else the copy shipped in the package."""
    env = os.environ.get("BEFFROI_CRISISLEX_DIR")
    if env:
        candidate = Path(env) / "CrisisLexT26" / EVENT / FILE
        if candidate.is_file():
            return candidate
    return SHIPPED


def _importable_copy(path: Path) -> Path:
    """File and replay sources read only under ``<data dir>/imports`` (a form must not
    turn the server's own files into posts), and a path inside the installed package
    would break when the virtualenv is rebuilt: the demo replays its own copy there."""
    target = Path(settings.DATA_DIR) / "imports" / "demo" / FILE
    data = path.read_bytes()
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
    return target


def _add_replay(activation: Activation, actor: object) -> str:
    """Give the activation its replay source; the line to print says what happened."""
    source = dataset_path()
    if not source.is_file():
        return f"dataset not found at {source}: no replay source (add one from the Sources page)"
    env = os.environ.get("BEFFROI_CRISISLEX_DIR")
    if env and source == SHIPPED:
        note = f" (BEFFROI_CRISISLEX_DIR={env} has no {EVENT}; using the copy shipped with Beffroi)"
    else:
        note = ""
    path = _importable_copy(source)
    try:
        actions.add_source(
            activation,
            kind="replay",
            name=f"Rejeu {EVENT} ×{SPEED:g}",
            data={"path": str(path), "format": "crisislex", "speed": SPEED, "max_gap": MAX_GAP},
            actor=actor,
        )
    except ConfigError as exc:
        reasons = "; ".join(str(m) for m in exc.errors.values())
        return f"no replay source added: {reasons}"
    return (
        f"replaying {path} at ×{SPEED:g}{note} (the worker fills the queue; `make run` starts it)"
    )


def _coordinator(org: Organisation) -> object:
    User = get_user_model()
    return (
        User.objects.filter(memberships__organisation=org, memberships__role="coordinator")
        .order_by("pk")
        .first()
    )


def load(org: Organisation) -> Iterator[str]:
    activation = Activation.objects.filter(organisation=org, name=NAME).first()
    if activation is not None:
        # An activation from an earlier run that had no data to replay (before the file
        # shipped with Beffroi) gets its source now; one that has a replay keeps it alone,
        # whatever state it is in, so the queue never fills twice.
        if not activation.sources.filter(kind="replay").exists():
            replay = _add_replay(activation, _coordinator(org))
            yield f"watch demo: activation '{NAME}' already there, had no replay source — {replay}"
            return
        n = activation.sources.count()
        yield f"watch demo: activation '{NAME}' already there ({n} source(s))"
        return
    coordinator = _coordinator(org)
    activation = actions.create_activation(
        org,
        name=NAME,
        event_type=EventType.EXERCISE,
        keywords={"en": ["flood", "#abflood", "#yycflood"], "fr": ["crue", "inondation"]},
        actor=coordinator,
    )
    replay = _add_replay(activation, coordinator)
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
