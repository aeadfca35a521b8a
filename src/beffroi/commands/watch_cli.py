"""What the `beffroi watch` commands run on activations share: the ``--activation``
option, Django's start, the lookup of the activations asked for, the exit codes, and
the printing of the main courante check (docs/decisions/courante-digest.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from beffroi.commands import bootstrap

if TYPE_CHECKING:
    from beffroi.core.chain import Break
    from beffroi.watch.courante_verify import Report
    from beffroi.watch.models import Activation

# Exit codes: done and clean; a finding (or a refusal because of one); a usage error.
OK, FINDINGS, USAGE = 0, 1, 2


def add_activation_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--activation",
        type=int,
        action="append",
        metavar="ID",
        help=f"only this activation (repeat for several); default: {default}",
    )


def add_batch_option(parser: argparse.ArgumentParser, rows: str) -> None:
    parser.add_argument(
        "--batch", type=int, default=500, help=f"{rows} per transaction (default 500)"
    )


def check_batch(args: argparse.Namespace) -> None:
    """A usage error, before anything starts, for a batch below one row."""
    if args.batch < 1:
        bootstrap.fail("--batch must be at least 1", USAGE)


def start() -> None:
    """Django up on an existing, migrated install with the services' key, or one clear
    line and exit 2. Every `beffroi watch` command here works on data already there, so
    none creates a data directory, key or database (run from cron's $HOME, they did,
    then failed with a traceback): bootstrap.require_beffroi_database."""
    bootstrap.setup_django(read_only=True)
    bootstrap.require_beffroi_database(needs_key=True)


def activations(ids: list[int] | None) -> list[Activation] | None:
    """The activations ``--activation`` asked for, once each in the order given; None
    when it was not given (every activation). An unknown id is a usage error."""
    if not ids:
        return None
    from beffroi.watch.models import Activation

    found = {a.pk: a for a in Activation.objects.filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        bootstrap.fail(f"no activation with id {', '.join(missing)}", USAGE)
    return [found[pk] for pk in dict.fromkeys(ids)]


def print_check(report: Report, broken: Break | None) -> int:
    """The main courante check as an operator reads it: the journal's break if any,
    one line per finding, the counts; returns the exit code."""
    from django.utils.translation import gettext as _

    if broken is not None:
        # The digests are read from the journal: a broken chain comes first, the lines
        # are still compared (what they show is evidence too).
        print(
            _("Journal rompu à l'entrée n° %(seq)s : %(problem)s")
            % {"seq": broken.seq, "problem": broken.problem}
        )
    for finding in report.findings:
        print(finding.message())
    counts: dict[str, Any] = {
        "checked": report.checked,
        "intact": report.intact,
        "changed": len(report.findings),
        "uncovered": report.uncovered,
    }
    print(
        _(
            "Lignes vérifiées : %(checked)s ; intactes : %(intact)s ; en anomalie (modifiées, "
            "supprimées, ajoutées ou dont l'empreinte manque ou est illisible) : %(changed)s ; "
            "non couvertes (antérieures à l'empreinte du contenu, sans action de Beffroi "
            "depuis : non vérifiables) : %(uncovered)s"
        )
        % counts
    )
    if report.other_key:
        print(
            _(
                "Empreintes sous une autre clé ou dans un format inconnu : %(n)s, comptées en "
                "anomalie (le secret du serveur a changé, ou le journal a été complété hors "
                "de Beffroi)"
            )
            % {"n": report.other_key}
        )
    if report.carried:
        # Not a finding (the operator chose it, and the journal says so), but the reader
        # of a clean check must still learn that the journal does not vouch for them.
        print(
            _(
                "Lignes reprises sans garantie du journal lors d'un nouveau scellement "
                "(--carry-unvouched, après la fuite d'un ancien secret) : %(n)s"
            )
            % {"n": report.carried}
        )
    return FINDINGS if broken is not None or not report.ok else OK
