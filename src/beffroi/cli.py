"""The one `beffroi` command.

Each subcommand lives in its own module and is imported only when it is
invoked, so pure subcommands (audit, verify, simulate, watch classify…) start
fast and never import Django.  A subcommand module exposes:

    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> int

and is listed in COMMANDS below (nested groups are dicts).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping

from beffroi import __version__

# name -> (module path, one-line help) or a nested mapping for command groups.
CommandTree = Mapping[str, "tuple[str, str] | CommandTree"]

COMMANDS: CommandTree = {
    "serve": ("beffroi.commands.serve", "apply migrations and serve the app over ASGI"),
    "demo": ("beffroi.commands.demo", "like serve, with the demo data loaded"),
    "worker": ("beffroi.commands.worker", "run background tasks and live sources"),
    "manage": ("beffroi.commands.manage", "Django management commands (passthrough)"),
    "prune": (
        "beffroi.commands.prune",
        "delete or blank what has outlived its retention period (journaled counts)",
    ),
    "journal": {
        "verify": ("beffroi.commands.journal_verify", "recompute the journal's hash chain"),
    },
    "audit": ("beffroi.integrity.cli_audit", "audit a survey export for automated responses"),
    "simulate": {
        "consultation": (
            "beffroi.integrity.cli_simulate",
            "simulate a consultation export, with or without an attack",
        ),
    },
    "verify": ("beffroi.consult.cli_verify", "verify a scrutineer bundle (no server needed)"),
    "credentials": {
        "generate": (
            "beffroi.consult.cli_credentials",
            "generate voting credentials (credential authority)",
        ),
        "fingerprint": (
            "beffroi.consult.cli_keys_fingerprint",
            "fingerprint of every public-key list the authority made (batches and reissues)",
        ),
    },
    "consult": {
        "example-bundle": (
            "beffroi.consult.cli_example_bundle",
            "build an example scrutineer bundle through the real code path",
        ),
    },
    "watch": {
        "classify": (
            "beffroi.watch.classify.cli",
            "classify a labelled crisis-post file with the shipped model",
        ),
        "scrub-handles": (
            "beffroi.commands.watch_scrub_handles",
            "pseudonymise the handles left in rows stored before today's rules",
        ),
        "courante-verify": (
            "beffroi.commands.watch_courante_verify",
            "check that each main courante line still matches its journaled digest",
        ),
        "courante-reseal": (
            "beffroi.commands.watch_courante_reseal",
            "after a change of the pseudonym secret, seal each main courante line again "
            "under the new key (checked under the old one first)",
        ),
    },
}


def _build(parser: argparse.ArgumentParser, tree: CommandTree, argv: list[str]) -> None:
    sub = parser.add_subparsers(dest=f"cmd_{id(tree)}", metavar="COMMAND", required=True)
    wanted = argv[0] if argv else None
    for name, entry in tree.items():
        if isinstance(entry, Mapping):
            child = sub.add_parser(name, help=f"{name} commands")
            if name == wanted:
                _build(child, entry, argv[1:])
            else:
                child.add_subparsers(metavar="COMMAND")
            continue
        module_path, help_text = entry
        child = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            # Import only the module of the command actually invoked.
            module = importlib.import_module(module_path)
            module.add_arguments(child)
            child.set_defaults(_run=module.run)


def make_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beffroi",
        description="Beffroi: consultations anyone can check, and the crisis watch room.",
    )
    parser.add_argument("--version", action="version", version=f"beffroi {__version__}")
    _build(parser, COMMANDS, argv)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `manage` passes everything after it to Django untouched.
    if argv[:1] == ["manage"]:
        from beffroi.commands.manage import run_manage

        return run_manage(argv[1:])
    parser = make_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
