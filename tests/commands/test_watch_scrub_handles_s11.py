"""`beffroi watch scrub-handles`: the operator's door to ``actions.scrub_handles``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usesdb

HANDLE = "xtianvincent"


def _activation(org, members, name, keep_handles=False):
    from datetime import UTC, datetime

    from beffroi.watch import actions
    from beffroi.watch.models import Post, Source

    activation = actions.create_activation(
        org, name=name, event_type="inondation", actor=members["coordinator"]
    )
    activation.keep_handles = keep_handles
    activation.save(update_fields=["keep_handles"])
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    Post.objects.create(
        activation=activation,
        source=source,
        external_id="1",
        text=f"RT@{HANDLE}: Stranded",
        created_at=datetime(2013, 11, 8, tzinfo=UTC),
    )
    return activation


def _run(*args):
    from beffroi.cli import main

    return main(["watch", "scrub-handles", *args])


def _texts(activation):
    return list(activation.posts.values_list("text", flat=True))


def test_dry_run_then_run_then_nothing_left(org, members, capsys):
    activation = _activation(org, members, "Haiyan")
    kept = _activation(org, members, "Convention préfecture", keep_handles=True)

    assert _run("--dry-run") == 0
    out = capsys.readouterr().out
    assert f"activation {activation.pk} (Haiyan): would change 1 posts" in out
    assert f"activation {kept.pk} " not in out  # it keeps handles: left alone
    assert "dry run: 1 rows would change; nothing written" in out
    assert HANDLE in _texts(activation)[0]

    assert _run() == 0
    assert "1 rows changed; journaled" in capsys.readouterr().out
    assert HANDLE not in _texts(activation)[0]
    assert HANDLE in _texts(kept)[0]

    assert _run("--activation", str(activation.pk)) == 0
    assert "0 rows changed\n" in capsys.readouterr().out


def test_an_activation_that_keeps_handles_or_does_not_exist_is_refused(org, members, capsys):
    kept = _activation(org, members, "Convention préfecture", keep_handles=True)

    with pytest.raises(SystemExit) as stop:
        _run("--activation", str(kept.pk))
    assert stop.value.code == 2
    assert "keeps handles" in capsys.readouterr().err
    assert HANDLE in _texts(kept)[0]

    with pytest.raises(SystemExit):
        _run("--activation", "999999")
    assert "no activation with id 999999" in capsys.readouterr().err


def test_a_batch_below_one_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as stop:
        _run("--batch", "0")
    assert stop.value.code == 2
    assert "--batch must be at least 1" in capsys.readouterr().err
