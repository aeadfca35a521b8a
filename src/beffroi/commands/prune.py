"""`beffroi prune`: delete or blank what has outlived its retention period.

Thin: each kind is one action (``prune_*`` in the apps' ``actions.py``) that runs in one
transaction and journals one entry with counts. Periods are settings
(docs/decisions/retention.md); the journal itself is never pruned.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from beffroi.commands import bootstrap

# The shell's code for a run stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


@dataclass(frozen=True)
class Kind:
    name: str
    # "module:function" of the action, imported once Django is up.
    action: str
    title: Promise
    # The period as the line states it: a lazy plural keyed on "n" (the days, or for the
    # exports the hours), or plain text for what goes at its own expiry.
    period: Promise
    progress: bool = False


KINDS = (
    Kind(
        "client_pseudonyms",
        "beffroi.consult.actions:prune_client_pseudonyms",
        gettext_lazy("Pseudonymes des bulletins"),
        ngettext_lazy(
            "%(n)s jour après la clôture de la consultation",
            "%(n)s jours après la clôture de la consultation",
            "n",
        ),
    ),
    Kind(
        "watch_posts",
        "beffroi.watch.actions:prune_posts",
        gettext_lazy("Messages de veille"),
        ngettext_lazy(
            "%(n)s jour après la fin de l'activation",
            "%(n)s jours après la fin de l'activation",
            "n",
        ),
        progress=True,
    ),
    Kind(
        "invitations",
        "beffroi.core.actions:prune_invitations",
        gettext_lazy("Invitations"),
        ngettext_lazy(
            "%(n)s jour après acceptation, révocation ou expiration",
            "%(n)s jours après acceptation, révocation ou expiration",
            "n",
        ),
    ),
    Kind(
        "jobs",
        "beffroi.core.actions:prune_job_rows",
        gettext_lazy("Travaux d'arrière-plan terminés"),
        ngettext_lazy("%(n)s jour après leur fin", "%(n)s jours après leur fin", "n"),
    ),
    Kind(
        "expired",
        "beffroi.core.actions:prune_expired",
        gettext_lazy("Sessions et compteurs expirés"),
        gettext_lazy("dès leur expiration"),
    ),
    Kind(
        "export_files",
        "beffroi.watch.actions:prune_export_files",
        gettext_lazy("Exports de la main courante"),
        ngettext_lazy(
            "%(n)s heure après leur préparation", "%(n)s heures après leur préparation", "n"
        ),
    ),
)


def _period(kind: Kind, days: int | None) -> str:
    """The period a line states: the setting's days, the exports' hours, or none."""
    from django.conf import settings

    if kind.name == "expired":
        return str(kind.period)
    if kind.name == "export_files":
        days = settings.BEFFROI_WATCH_EXPORT_HOURS
    if days is None:
        return _("conservés sans limite (réglage « never »)")
    return str(kind.period % {"n": days})


def _count_words(name: str, n: int) -> str:
    words = {
        "ballots": ngettext("%(n)s bulletin", "%(n)s bulletins", n),
        "posts": ngettext("%(n)s message", "%(n)s messages", n),
        "post_changes": ngettext("%(n)s version d'auteur", "%(n)s versions d'auteur", n),
        "cards": ngettext("%(n)s carte", "%(n)s cartes", n),
        "card_decisions": ngettext("%(n)s décision", "%(n)s décisions", n),
        "invitations": ngettext("%(n)s invitation", "%(n)s invitations", n),
        "jobs": ngettext("%(n)s travail", "%(n)s travaux", n),
        "sessions": ngettext("%(n)s session", "%(n)s sessions", n),
        "cache_entries": ngettext("%(n)s entrée du cache", "%(n)s entrées du cache", n),
        "export_files": ngettext("%(n)s fichier", "%(n)s fichiers", n),
    }
    return words.get(name, f"%(n)s {name}") % {"n": n}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what each kind would lose; write nothing, journal nothing",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[k.name for k in KINDS],
        metavar="KIND",
        help=f"prune only this kind (repeatable): {', '.join(k.name for k in KINDS)}",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing unless something fails (for cron)",
    )


def _action(path: str) -> Callable[..., Any]:
    import importlib

    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> int:
    # On an existing install only: run from cron's $HOME without the services'
    # environment, it must not make a new empty database and report "nothing to prune".
    bootstrap.setup_django(read_only=True)
    bootstrap.require_beffroi_database()
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from beffroi.watch.actions import posts_to_prune

    kinds = [k for k in KINDS if not args.only or k.name in args.only]
    say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    total = 0
    for kind in kinds:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
            # Not on a pipe or a log file: a transient bar leaves a blank line there.
            disable=args.quiet or not sys.stderr.isatty(),
        ) as bar:
            task = bar.add_task(str(kind.title), total=posts_to_prune() if kind.progress else None)
            extra: dict[str, Any] = {}
            if kind.progress:
                extra["progress"] = lambda n, bar=bar, task=task: bar.advance(task, n)
            try:
                outcome = _action(kind.action)(dry_run=args.dry_run, **extra)
            except KeyboardInterrupt:
                # Each kind is one transaction: the one running is rolled back whole, the
                # ones before it are done and journaled.
                print(
                    "beffroi: "
                    + _(
                        "interrompu pendant « %(kind)s » : rien n'en a été effacé ; les "
                        "types précédents sont effacés et journalisés. Relancez la commande."
                    )
                    % {"kind": kind.title},
                    file=sys.stderr,
                )
                return INTERRUPTED
        counts = ", ".join(_count_words(k, n) for k, n in outcome.counts.items() if n)
        say(f"{kind.title} ({_period(kind, outcome.days)}) : {counts or _('rien à effacer')}")
        total += outcome.total
    if args.dry_run:
        say(_("Simulation : rien n'a été effacé ni journalisé."))
    elif total:
        say(_("Effacement terminé et journalisé."))
    return 0
