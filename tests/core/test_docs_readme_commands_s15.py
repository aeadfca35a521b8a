"""The README's command table names every `beffroi` subcommand: a newcomer reads the
table, not `--help` (a review found three commands missing from it)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from beffroi.cli import COMMANDS

README = Path(__file__).resolve().parents[2] / "README.md"


def _names(tree: Mapping[str, object], prefix: str = "") -> Iterator[str]:
    for name, entry in tree.items():
        if isinstance(entry, Mapping):
            yield from _names(entry, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


def _table_commands() -> set[str]:
    """`beffroi …` at the start of a row of the README's command table."""
    rows = re.findall(r"^\| `beffroi ([^`]+)`", README.read_text(), flags=re.M)
    return set(rows)


def test_every_subcommand_has_a_row_in_the_readme():
    rows = _table_commands()
    missing = [
        name
        for name in _names(COMMANDS)
        if not any(row == name or row.startswith(name + " ") for row in rows)
    ]
    assert not missing, f"README.md's command table lacks: {missing}"


def test_the_walk_sees_nested_commands():
    names = set(_names(COMMANDS))
    assert {"serve", "journal verify", "watch courante-reseal"} <= names
