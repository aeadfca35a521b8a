"""`beffroi watch courante-verify`: the operator's check that every main courante line
still says what the journal last recorded of it; exit 1 names the lines that differ."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.usesdb


def _run(*args):
    from beffroi.cli import main

    return main(["watch", "courante-verify", *args])


def test_intact_then_forged_then_asked_for_another_activation(org, members, capsys):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    # A line written before the digest existed (line 1), then one through Beffroi.
    LogEntry.objects.create(
        activation=activation, number=1, channel="telephone", category="routes", text="ancienne"
    )
    line = actions.add_log_entry(
        activation, actor=members["volunteer"], text="Route coupée", channel="telephone",
        category="routes",
    )  # fmt: skip
    assert _run() == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        "Lignes vérifiées : 2 ; intactes : 1 ; en anomalie (modifiées, supprimées, ajoutées "
        "ou dont l'empreinte manque ou est illisible) : 0 ; non couvertes (antérieures à "
        "l'empreinte du contenu, sans action de Beffroi depuis : non vérifiables) : 1"
    )

    table = connection.ops.quote_name(LogEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET text = %s WHERE id = %s", ["Route ouverte", line.pk])
    assert _run("--activation", str(activation.pk)) == 1
    out = capsys.readouterr().out
    assert "ligne 2 de l'activation « Crue » : contenu modifié hors de Beffroi depuis le " in out
    assert "illisible) : 1 ;" in out

    other = actions.create_activation(
        org, name="Tempête", event_type="tempete", actor=members["coordinator"]
    )
    assert _run("--activation", str(other.pk)) == 0
    assert "Lignes vérifiées : 0 ;" in capsys.readouterr().out


def test_an_unknown_activation_is_a_usage_error(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        _run("--activation", "999999")
    assert exit_.value.code == 2
    assert "no activation with id 999999" in capsys.readouterr().err
