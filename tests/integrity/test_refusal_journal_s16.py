"""A refusal that quotes a cell of the file keeps it for the person uploading (the message)
and leaves it out of what the permanent journal keeps (``for_the_journal``: line, column and
kind of error only). The cell here is what a mis-mapped column can hold."""

from __future__ import annotations

import pytest

from beffroi.integrity.audit import run_audit
from beffroi.integrity.errors import InputError

PERSON = "192.0.2.77 Jeanne Dupont 0612345678"
GOOD = "2026-03-01 10:00:00"

# (columns of the mapping, the file, what the journal says after « colonne « … » : »)
CASES = {
    "date": (
        'id = "ref"\ntime = "quand"',
        f"ref,quand,q1\n1,{GOOD},a\n2,{PERSON},b\n",
        (3, "quand", "date illisible"),
    ),
    "month first": (
        'id = "ref"\ntime = "quand"',
        f"ref,quand,q1\n1,01/02/2026 10:00,a\n2,03/13/2026 10:00 {PERSON},b\n",
        (3, "quand", "date écrite le mois d'abord"),
    ),
    "two-digit year": (
        'id = "ref"\ntime = "quand"',
        f"ref,quand,q1\n1,{GOOD},a\n2,01/03/26 {PERSON},b\n",
        (3, "quand", "année sur deux chiffres"),
    ),
    "number": (
        'id = "ref"\ntime = "quand"\nduration = "duree"',
        f"ref,quand,duree,q1\n1,{GOOD},12,a\n2,{GOOD},{PERSON},b\n",
        (3, "duree", "nombre illisible"),
    ),
    "doubled identifier": (
        'id = "contact"\ntime = "quand"',
        f"contact,quand,q1\n{PERSON},{GOOD},a\nautre,{GOOD},b\n{PERSON},{GOOD},c\n",
        (4, "contact", "identifiant en double (déjà à la ligne 2)"),
    ),
}


def _refusal(tmp_path, columns: str, text: str) -> InputError:
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(f'[columns]\n{columns}\nanswers = ["q1"]\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run_audit(export, fmt="csv", mapping=mapping)
    return caught.value


@pytest.mark.parametrize("case", CASES)
def test_the_journal_gets_line_column_and_kind_not_the_cell(tmp_path, case):
    columns, text, (line, column, kind) = CASES[case]
    refusal = _refusal(tmp_path, columns, text)
    # The person uploading sees the cell: it tells them which value to fix.
    assert PERSON in str(refusal)
    assert (refusal.line, refusal.column) == (line, column)
    assert refusal.for_the_journal() == (
        f"Fichier refusé à la ligne {line}, colonne « {column} » : {kind}."
    )


def test_a_refusal_that_quotes_no_cell_is_journaled_as_said(tmp_path):
    refusal = _refusal(tmp_path, 'id = "ref"\ntime = "quand"', f"ref,quand,q1\n1,{GOOD},a,x\n")
    assert refusal.kind is None
    assert refusal.for_the_journal() == str(refusal)
    assert str(refusal).startswith("CSV mal formé à la ligne 2")
