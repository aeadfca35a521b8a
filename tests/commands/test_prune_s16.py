"""`beffroi prune`: the operator's (and cron's) door to the retention actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.usesdb


def _run(*args):
    from beffroi.cli import main

    return main(["prune", *args])


def _old_invitation(org, email):
    from django.utils import timezone

    from beffroi.core.models import Invitation

    return Invitation.objects.create(
        organisation=org,
        email=email,
        role="volunteer",
        token_hash=email.ljust(64, "0")[:64],
        expires_at=timezone.now() - timedelta(days=40),
    )


def _ended_activation(org, members):
    from django.utils import timezone

    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source

    activation = actions.create_activation(
        org, name="Tempête", event_type="tempete", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    for n in range(3):
        Post.objects.create(
            activation=activation,
            source=source,
            external_id=str(n),
            text="Arbre tombé",
            created_at=timezone.now() - timedelta(days=400),
        )
    activation.ends_at = timezone.now() - timedelta(days=200)
    activation.save(update_fields=["ends_at"])
    return activation


def test_dry_run_prints_each_kind_and_changes_nothing(org, members, capsys):
    from beffroi.core.models import Invitation, JournalEntry
    from beffroi.watch.models import Post

    _old_invitation(org, "ancienne@example.org")
    activation = _ended_activation(org, members)
    before = JournalEntry.objects.count()

    assert _run("--dry-run") == 0
    out, err = capsys.readouterr()
    # No progress bar off a terminal (cron, a pipe): it left a blank line per kind there.
    assert err == ""
    invitations = "Invitations (30 jours après acceptation, révocation ou expiration)"
    assert f"{invitations} : 1 invitation" in out
    assert "Messages de veille (180 jours après la fin de l'activation) : 3 messages" in out
    assert "Pseudonymes des bulletins (180 jours après la clôture de la consultation) : " in out
    assert "rien à effacer" in out
    assert out.rstrip().endswith("Simulation : rien n'a été effacé ni journalisé.")
    assert Invitation.objects.count() == 1
    assert Post.objects.filter(activation=activation).count() == 3
    assert JournalEntry.objects.count() == before


def test_a_run_prunes_and_journals_one_entry_per_kind(org, members, capsys):
    from beffroi.core.models import Invitation, JournalEntry
    from beffroi.watch.models import Post

    _old_invitation(org, "ancienne@example.org")
    activation = _ended_activation(org, members)
    before = JournalEntry.objects.count()

    assert _run() == 0
    out = capsys.readouterr().out
    assert "Effacement terminé et journalisé." in out
    assert not Invitation.objects.exists()
    assert not Post.objects.filter(activation=activation).exists()
    added = list(JournalEntry.objects.filter(seq__gt=before).values_list("action", flat=True))
    # (Expired sessions or cache rows left by the fixtures may add their own entry.)
    assert {"retention.invitations", "retention.watch_posts"} <= set(added)
    assert all(action.startswith("retention.") for action in added)

    # Nothing left: a second run journals nothing.
    assert _run() == 0
    assert "Effacement terminé" not in capsys.readouterr().out
    assert JournalEntry.objects.count() == before + len(added)


def test_only_and_quiet(org, members, capsys):
    from beffroi.core.models import Invitation
    from beffroi.watch.models import Post

    _old_invitation(org, "ancienne@example.org")
    activation = _ended_activation(org, members)

    assert _run("--only", "invitations", "-q") == 0
    assert capsys.readouterr().out == ""
    assert not Invitation.objects.exists()
    assert Post.objects.filter(activation=activation).count() == 3


def test_an_unknown_kind_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        _run("--only", "journal")
    assert stopped.value.code == 2
    assert "invalid choice: 'journal'" in capsys.readouterr().err


@pytest.mark.slow
def test_run_where_there_is_no_install_it_refuses_and_creates_nothing(tmp_path):
    """From cron's $HOME without the services' environment: no empty database made and
    then reported as « rien à effacer »."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEFFROI_"))}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "prune", "--dry-run"],
        env=env,
        cwd=tmp_path,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"beffroi: Aucune base Beffroi dans {tmp_path / 'var'} ")
    assert done.stdout == "" and list(tmp_path.iterdir()) == []
