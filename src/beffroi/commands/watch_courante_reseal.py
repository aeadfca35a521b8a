"""`beffroi watch courante-reseal`: after the pseudonym secret changed on purpose,
journal each main courante line's digest again under the new secret's key, once every
line has been checked under the old one (docs/decisions/courante-digest.md).

The old secret is never an argument (a command line is visible to every user of the
machine and kept in shell histories): ``--old-secret-file PATH`` (``-``: standard
input) or the environment variable ``BEFFROI_OLD_PSEUDONYM_KEY``. The work and its
journal entries are ``watch.actions.reseal_courante``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from beffroi.commands import bootstrap, watch_cli

if TYPE_CHECKING:
    from beffroi.watch.courante_verify import Report

# The name of a variable, not a secret.
OLD_SECRET_VARIABLE = "BEFFROI_OLD_PSEUDONYM_KEY"  # noqa: S105


def add_arguments(parser: argparse.ArgumentParser) -> None:
    watch_cli.add_activation_option(parser, "every activation")
    parser.add_argument(
        "--old-secret-file",
        action="append",
        metavar="PATH",
        help="file holding the old secret (e.g. a copy of the old BEFFROI_DATA_DIR/"
        "secret_key; '-' reads standard input); repeat it when the secret changed twice "
        f"with no re-seal between; ${OLD_SECRET_VARIABLE}, if set, is one more",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check under the old key and count the lines to seal again; write nothing",
    )
    parser.add_argument(
        "--compromised-since",
        type=_moment,
        metavar="DATE",
        help="when the old secret may have left your hands (ISO 8601, e.g. 2026-11-20T14:00; "
        "without an offset, the deployment's time zone): digests journaled under it from then "
        "on vouch for nothing by themselves; default: from the switch to the new secret",
    )
    parser.add_argument(
        "--carry-unvouched",
        action="store_true",
        help="seal again, marked as unvouched in the journal, the lines the journal does not "
        "vouch for (refused otherwise); only after examining each of them",
    )
    watch_cli.add_batch_option(parser, "lines")


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date and time: {text!r} (ISO 8601, e.g. 2026-11-20T14:00)"
        ) from None


def _read(path: str) -> tuple[str, str]:
    where = "standard input" if path == "-" else path
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        bootstrap.fail(f"cannot read the old secret from {where}: {exc.strerror or exc}")
    try:
        return raw.decode("utf-8"), where
    except UnicodeDecodeError:
        # The decoder's message names the offending byte: a byte of the secret.
        bootstrap.fail(f"cannot read the old secret from {where}: not UTF-8 text")


def old_secrets(paths: list[str] | None) -> list[str]:
    """The old secrets as the deployment read them: a secret file's content stripped,
    as the deployment strips its secret_key file; the environment variable as given
    and stripped (a secret from the environment was read as is), each tried."""
    given: list[tuple[str, str, bool]] = []
    for path in paths or []:
        given.append((*_read(path), False))
    if paths and paths.count("-") > 1:
        bootstrap.fail("standard input can hold only one old secret")
    environ = os.environ.get(OLD_SECRET_VARIABLE, "")
    if environ:
        given.append((environ, f"${OLD_SECRET_VARIABLE}", True))
    if not given:
        bootstrap.fail(f"give the old secret in --old-secret-file or ${OLD_SECRET_VARIABLE}")
    secrets: list[str] = []
    for secret, where, as_is in given:
        if not secret.strip():
            bootstrap.fail(f"the old secret read from {where} is empty")
        secrets.append(secret.strip())
        if as_is and secret != secret.strip():
            secrets.append(secret)
    return list(dict.fromkeys(secrets))


def _print_carried(report: Report) -> None:
    """The lines carried over (or, in a dry run, to be) though the journal does not
    vouch for them (--carry-unvouched), each named."""
    from django.utils.translation import ngettext

    if not report.unvouched:
        return
    n = len(report.unvouched)
    print(
        ngettext(
            "dont %(n)s ligne reprise sans garantie du journal, marquée comme telle :",
            "dont %(n)s lignes reprises sans garantie du journal, marquées comme telles :",
            n,
        )
        % {"n": n}
    )
    for finding in report.unvouched:
        print(finding.message())


def run(args: argparse.Namespace) -> int:
    watch_cli.check_batch(args)
    secrets = old_secrets(args.old_secret_file)
    watch_cli.start()
    from django.utils import timezone
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from beffroi.core.actions import ActionError
    from beffroi.watch import actions
    from beffroi.watch.courante_verify import Walk
    from beffroi.watch.models import Activation

    since = args.compromised_since
    if since is not None and timezone.is_naive(since):
        since = timezone.make_aware(since)
    if since is not None and since > timezone.now():
        bootstrap.fail("--compromised-since is in the future", watch_cli.USAGE)
    watch_cli.activations(args.activation)
    try:
        done = actions.reseal_courante(
            *secrets,
            activation_ids=args.activation,
            batch_size=args.batch,
            dry_run=args.dry_run,
            compromised_since=since,
            carry_unvouched=args.carry_unvouched,
        )
    except ActionError as exc:
        bootstrap.fail(str(exc))
    if done.refused and done.broken is None and done.report.ok:
        # Only lines the journal does not vouch for: name each, with its id.
        for finding in done.report.unvouched:
            print(finding.message())
        n = len(done.report.unvouched)
        print(
            ngettext(
                "Nouveau scellement refusé, rien n'a été écrit : %(n)s ligne intacte sous "
                "l'ancienne clé n'est pas garantie par le journal (elle peut venir du détenteur "
                "de l'ancien secret). Comparez-la avec ce qui a été transmis (exports, PDF), "
                "puis relancez avec --carry-unvouched pour la reprendre marquée « non garantie "
                "» au journal.",
                "Nouveau scellement refusé, rien n'a été écrit : %(n)s lignes intactes sous "
                "l'ancienne clé ne sont pas garanties par le journal (elles peuvent venir du "
                "détenteur de l'ancien secret). Comparez-les avec ce qui a été transmis "
                "(exports, PDF), puis relancez avec --carry-unvouched pour les reprendre "
                "marquées « non garanties » au journal.",
                n,
            )
            % {"n": n}
        )
        if any(f.stop is not Walk.OLDER_KEY for f in done.report.unvouched):
            # The honest cause the operator can check before suspecting a forgery.
            print(
                _(
                    "Cause possible sans falsification : un processus (application web, "
                    "worker, tâche cron) tournait encore avec l'ancien secret après le "
                    "changement, parce que les services ont été redémarrés l'un après "
                    "l'autre ; une ligne qu'il a créée ou modifiée est alors dans ce cas. "
                    "Vérifiez quand même les lignes nommées avec les exports et les PDF, "
                    "puis relancez avec --carry-unvouched. Au prochain changement, arrêtez "
                    "tous les processus avant de changer le secret, puis redémarrez-les."
                )
            )
        return watch_cli.FINDINGS
    if done.refused:
        watch_cli.print_check(done.report, done.broken)
        findings = done.report.findings
        if findings and not done.report.stale and all(f.kind == "foreign" for f in findings):
            # Nothing checked under the old key(s): the secret given is the likelier culprit.
            print(
                _(
                    "Aucune ligne n'est sous la clé de l'ancien secret donné : ce secret n'est "
                    "sans doute pas le bon, ou le secret a changé plus d'une fois (donnez "
                    "chaque ancien secret)."
                )
            )
        print(
            _(
                "Nouveau scellement refusé, rien n'a été écrit : le journal ou des lignes ne "
                "sont pas intègres sous l'ancienne clé. Traitez d'abord ces anomalies, puis "
                "relancez la commande."
            )
        )
        return watch_cli.FINDINGS
    names = dict(Activation.objects.values_list("pk", "name"))
    for activation_id, n in sorted(done.sealed.items()):
        print(
            ngettext(
                "Activation « %(name)s » (n° %(id)s) : %(n)s ligne scellée sous la nouvelle clé",
                "Activation « %(name)s » (n° %(id)s) : %(n)s lignes scellées sous la nouvelle clé",
                n,
            )
            % {"name": names.get(activation_id, ""), "id": activation_id, "n": n}
        )
    total = sum(done.sealed.values())
    if args.dry_run:
        print(
            ngettext(
                "Simulation : %(n)s ligne serait scellée sous la nouvelle clé ; rien n'a été "
                "écrit.",
                "Simulation : %(n)s lignes seraient scellées sous la nouvelle clé ; rien n'a "
                "été écrit.",
                total,
            )
            % {"n": total}
        )
        _print_carried(done.report)
        return watch_cli.OK
    print(_("Lignes scellées sous la nouvelle clé : %(n)s") % {"n": total})
    _print_carried(done.report)
    if done.changed_meanwhile:
        print(
            ngettext(
                "%(n)s ligne a changé pendant l'opération et n'a pas été scellée de nouveau : "
                "relancez la commande.",
                "%(n)s lignes ont changé pendant l'opération et n'ont pas été scellées de "
                "nouveau : relancez la commande.",
                done.changed_meanwhile,
            )
            % {"n": done.changed_meanwhile}
        )
        return watch_cli.FINDINGS
    return watch_cli.OK
