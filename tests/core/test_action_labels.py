"""The journal and the dashboard name actions in words; the code stays beside them."""

import ast
import re
from pathlib import Path

from django.urls import reverse

from beffroi.core import journal
from beffroi.core.action_labels import LABELS, action_label
from english_catalogue import english

SRC = Path(__file__).resolve().parents[2] / "src" / "beffroi"


def _journaled_actions() -> set[str]:
    """Every action code the code base can journal: the constant first arguments of
    ``journal.append`` (and both branches of a conditional one)."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "journal"
                and node.args
            ):
                continue
            first = node.args[0]
            branches = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for branch in branches:
                assert isinstance(branch, ast.Constant), f"{path}:{node.lineno}: not a code"
                found.add(branch.value)
    return found


def test_every_action_the_code_journals_has_a_label() -> None:
    journaled = _journaled_actions()
    assert len(journaled) > 40
    assert sorted(journaled - set(LABELS)) == []
    # No label for an action nothing writes any more.
    assert sorted(set(LABELS) - journaled) == []


def test_an_unknown_action_is_shown_as_its_code() -> None:
    assert action_label("watch.something.later") == "watch.something.later"


def test_journal_and_dashboard_show_labels_with_the_code(client, members, org) -> None:
    coord = members["coordinator"]
    journal.append("member.role", actor=coord, organisation=org, subject="user:1")
    client.force_login(coord)
    page = client.get(reverse("journal", args=[org.slug])).content.decode()
    assert '<span title="member.role">Rôle modifié</span>' in page
    assert '<option value="member.role">Rôle modifié</option>' in page
    board = client.get(reverse("org-dashboard", args=[org.slug])).content.decode()
    assert '<span title="member.role">Rôle modifié</span>' in board
    client.cookies["django_language"] = "en"
    with english():
        page = client.get(reverse("journal", args=[org.slug])).content.decode()
    assert re.search(r'<span title="member.role">Role changed</span>', page)
