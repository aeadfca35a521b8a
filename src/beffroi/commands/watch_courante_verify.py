"""`beffroi watch courante-verify`: does each main courante line still say what the
journal last recorded of it? (docs/decisions/courante-digest.md)

Read-only. Checks the journal's chain first (the digests live in it), then every line of
the activations asked for; exits 1 when the chain is broken or a line was changed or
deleted behind Beffroi's back."""

from __future__ import annotations

import argparse

from beffroi.commands import watch_cli


def add_arguments(parser: argparse.ArgumentParser) -> None:
    watch_cli.add_activation_option(parser, "every activation")


def run(args: argparse.Namespace) -> int:
    watch_cli.start()
    from beffroi.core import journal
    from beffroi.watch import courante_verify

    watch_cli.activations(args.activation)
    broken = journal.verify()
    return watch_cli.print_check(courante_verify.check(args.activation), broken)
