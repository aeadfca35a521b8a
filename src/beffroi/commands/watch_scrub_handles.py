"""`beffroi watch scrub-handles`: re-apply today's handle rules to stored rows.

Thin: the work and its journal entry are ``watch.actions.scrub_handles``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from beffroi.commands import bootstrap, watch_cli

# The shell's code for a run stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    watch_cli.add_activation_option(parser, "every activation that does not keep handles")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="count the rows that would change; write nothing, journal nothing",
    )
    watch_cli.add_batch_option(parser, "rows")


def run(args: argparse.Namespace) -> int:
    watch_cli.check_batch(args)
    watch_cli.start()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from beffroi.core.actions import ActionError
    from beffroi.watch import actions, scrub
    from beffroi.watch.models import Activation

    console = Console(stderr=True)
    activations = watch_cli.activations(args.activation)
    if activations is None:
        activations = list(Activation.objects.filter(keep_handles=False).order_by("pk"))
    kept = [str(a.pk) for a in activations if a.keep_handles]
    if kept:
        bootstrap.fail(
            f"activation {', '.join(kept)} keeps handles (chosen by its organiser): "
            "nothing to scrub"
        )

    foreign = _under_another_key(activations)
    if foreign and not args.dry_run:
        # Before any activation starts: the repair refuses each of them anyway (it can
        # only seal under the current key), and a half-done run helps nobody.
        bootstrap.fail(foreign, watch_cli.FINDINGS)
    if foreign:
        print(f"beffroi: {foreign}", file=sys.stderr)

    verb = "would change" if args.dry_run else "changed"
    total = 0
    for activation in activations:
        sizes = scrub.to_scan(activation)
        with Progress(
            TextColumn(f"activation {activation.pk} {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks = {kind: bar.add_task(kind, total=n) for kind, n in sizes.items()}
            try:
                counts = actions.scrub_handles(
                    activation,
                    batch_size=args.batch,
                    dry_run=args.dry_run,
                    progress=lambda kind, n, bar=bar, tasks=tasks: bar.advance(tasks[kind], n),
                )
            except ActionError as exc:
                # Refused before this activation's first batch (lines under another key).
                bootstrap.fail(str(exc), watch_cli.FINDINGS)
            except KeyboardInterrupt:
                # Each finished batch is committed with its lines' digests: nothing reads
                # as forged, and a second run finishes (it is idempotent).
                print(
                    f"beffroi: interrupted in activation {activation.pk}: its finished batches "
                    "are written and journaled; run the same command again to finish",
                    file=sys.stderr,
                )
                return INTERRUPTED
        rows = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.as_journal().items())
        print(f"activation {activation.pk} ({activation.name}): {verb} {rows}", flush=True)
        total += counts.changed
    if not activations:
        print("no activation pseudonymises handles: nothing to scrub")
    elif args.dry_run:
        print(f"dry run: {total} rows would change; nothing written")
    else:
        print(f"{total} rows changed" + ("; journaled" if total else ""))
    return watch_cli.OK


def _under_another_key(activations: list[Any]) -> str:
    """The refusal for the lines of ``activations`` whose latest digest is under another
    key (the re-seal comes first: docs/decisions/courante-digest.md), or ""."""
    from django.utils.translation import ngettext

    from beffroi.watch import courante_verify

    if not activations:
        return ""
    report = courante_verify.check([a.pk for a in activations])
    foreign = [f for f in report.findings if f.kind == courante_verify.FOREIGN]
    if not foreign:
        return ""
    named = sorted({f.activation_name or str(f.activation_id) for f in foreign})
    return ngettext(
        "%(n)s ligne de la main courante (%(activations)s) est scellée sous une autre clé : "
        "lancez d'abord beffroi watch courante-reseal, puis relancez la réparation.",
        "%(n)s lignes de la main courante (%(activations)s) sont scellées sous une autre "
        "clé : lancez d'abord beffroi watch courante-reseal, puis relancez la réparation.",
        len(foreign),
    ) % {"n": len(foreign), "activations": ", ".join(f"« {name} »" for name in named)}
