"""An uploaded export's audit page says the audit's progress, and why it failed, in
the reader's language (the pure audit reports both in French)."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from audit_rows import audit_row
from beffroi.audits.models import Audit
from beffroi.consult.views_i18n import AUDIT_ERRORS, PROGRESS
from english_catalogue import english

SRC = Path(__file__).resolve().parents[2] / "src" / "beffroi"


def _progress_messages() -> list[str]:
    """Every progress(fraction, message) call of the audits' code, the message as the
    French template PROGRESS must know (an f-string's holes become a number)."""
    found = []
    for path in [*sorted((SRC / "integrity").glob("*.py")), SRC / "audits" / "tasks.py"]:
        if path.name == "cli_audit.py":  # the terminal's progress bar, not a page
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "progress"
                and len(node.args) == 2
            ):
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    found.append(
                        "".join(
                            v.value if isinstance(v, ast.Constant) else "12" for v in arg.values
                        )
                    )
    return found


def test_every_progress_message_of_an_audit_has_an_english_template():
    messages = _progress_messages()
    assert "lecture du fichier" in messages and "rédaction du rapport" in messages
    assert [m for m in messages if PROGRESS.match(m) is None] == []


@pytest.mark.parametrize(
    "message,english",
    [("lecture du fichier", "reading the file"), ("12 réponses lues", "12 responses read")],
)
def test_running_audit_page_says_progress_in_english(client, members, org, message, english):
    audit = audit_row(
        org,
        members["coordinator"],
        status=Audit.Status.RUNNING,
        progress=0.2,
        progress_message=message,
    )
    client.force_login(members["scrutineer"])
    url = reverse("audit-detail", args=[org.slug, audit.pk])
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        en = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **headers).content.decode()
        assert english in en and message not in en
        fr = client.get(url, HTTP_ACCEPT_LANGUAGE="fr", **headers).content.decode()
        assert message in fr


def _input_error_messages() -> list[str]:
    """Every InputError an uploaded export's audit can fail with (integrity.load), and
    the task's internal error, with an f-string's holes filled."""
    found = []
    for path in (SRC / "integrity" / "load.py", SRC / "audits" / "tasks.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Messages kept in module constants (integrity.load's _NO_TIME…) are followed.
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }

        def said(arg: ast.expr, constants: dict[str, str] = constants) -> list[str]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return [arg.value]
            if isinstance(arg, ast.JoinedStr):
                return [
                    "".join(v.value if isinstance(v, ast.Constant) else "7" for v in arg.values)
                ]
            if isinstance(arg, ast.Name) and arg.id in constants:
                return [constants[arg.id]]
            if isinstance(arg, ast.IfExp):
                return said(arg.body) + said(arg.orelse)
            return []

        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("InputError", "fail_audit"):
                continue
            found += said(node.args[-1] if name == "fail_audit" else node.args[0])
    return found


def test_every_audit_failure_has_an_english_template():
    messages = _input_error_messages()
    assert len(messages) >= 20
    assert "Erreur interne pendant l'audit (7)." in messages
    assert any(m.startswith("Colonne « submitdate » absente") for m in messages)
    assert any(m.startswith("La correspondance doit nommer") for m in messages)
    assert [m for m in messages if AUDIT_ERRORS.match(m) is None] == []


def test_failed_audit_page_says_why_in_english(client, members, org):
    error = (
        "Date illisible à la ligne 2, colonne « submitdate » : « hier » "
        "(formats acceptés : AAAA-MM-JJ HH:MM:SS, JJ/MM/AAAA HH:MM…)."
    )
    audit = audit_row(
        org,
        members["coordinator"],
        status=Audit.Status.FAILED,
        error=error,
    )
    client.force_login(members["scrutineer"])
    url = reverse("audit-detail", args=[org.slug, audit.pk])
    with english():
        en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Unreadable date on line 2, column “submitdate”: “hier”" in en
    assert "Date illisible" not in en
    fr = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Date illisible à la ligne 2, colonne « submitdate »" in fr
