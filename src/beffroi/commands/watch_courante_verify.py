"""`beffroi watch courante-verify`: does each main courante line still say what the
journal last recorded of it? (docs/decisions/courante-digest.md)

Read-only. Checks the journal's chain first (the digests live in it), then every line of
the activations asked for; exits 1 when the chain is broken or a line was changed or
deleted behind Beffroi's back."""

from __future__ import annotations

import argparse

from beffroi.commands import bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--activation",
        type=int,
        action="append",
        metavar="ID",
        help="only this activation (repeat for several); default: every activation",
    )


def run(args: argparse.Namespace) -> int:
    bootstrap.setup_django()
    bootstrap.check_database()
    from django.utils.translation import gettext as _

    from beffroi.core import journal
    from beffroi.watch import courante_verify
    from beffroi.watch.models import Activation

    if args.activation:
        known = set(Activation.objects.filter(pk__in=args.activation).values_list("pk", flat=True))
        missing = [str(pk) for pk in args.activation if pk not in known]
        if missing:
            bootstrap.fail(f"no activation with id {', '.join(missing)}")
    broken = journal.verify()
    if broken is not None:
        # The digests are read from the journal: a broken chain is reported first, the lines
        # are still compared (what they show is evidence too).
        print(
            _("Journal rompu à l'entrée n° %(seq)s : %(problem)s")
            % {"seq": broken.seq, "problem": broken.problem}
        )
    report = courante_verify.check(args.activation)
    for finding in report.findings:
        print(finding.message())
    print(
        _(
            "Lignes vérifiées : %(checked)s ; intactes : %(intact)s ; en anomalie (modifiées, "
            "supprimées, ajoutées ou dont l'empreinte manque ou est illisible) : %(changed)s ; "
            "non couvertes (antérieures à l'empreinte du contenu, sans action de Beffroi "
            "depuis : non vérifiables) : %(uncovered)s"
        )
        % {
            "checked": report.checked,
            "intact": report.intact,
            "changed": len(report.findings),
            "uncovered": report.uncovered,
        }
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
    return 1 if broken is not None or not report.ok else 0
