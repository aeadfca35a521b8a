"""The watch demo replays its flood from any clone: the file ships in the package (with its
licence), is copied where replay sources may read, and an activation an earlier run left
without a replay gets one, never a second."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clone_elsewhere(settings, tmp_path, monkeypatch):
    """A data dir of its own and no ``../shared`` beside the checkout: replay sources may
    read only under ``<data dir>/imports``, as on a fresh clone."""
    from beffroi.watch import actions

    settings.DATA_DIR = tmp_path / "var"
    monkeypatch.delenv("BEFFROI_CRISISLEX_DIR", raising=False)
    monkeypatch.setattr(actions, "import_dirs", lambda: [tmp_path / "var" / "imports"])
    return tmp_path


@pytest.fixture
def demo_org(members):
    from beffroi.core import actions as core_actions

    org = core_actions.create_organisation("Démo", "demo-test")
    core_actions.set_role(members["coordinator"], org, "coordinator", actor=None)
    return org


def _replays(org):
    from beffroi.watch.models import Source

    return list(Source.objects.filter(activation__organisation=org, kind="replay"))


def test_the_demo_replays_the_shipped_file_without_shared(clone_elsewhere, demo_org):
    from beffroi.watch import demo
    from beffroi.watch.sources import validate_config

    first = list(demo.load(demo_org))
    assert "replaying" in first[0], first
    (source,) = _replays(demo_org)
    path = Path(source.config["path"])
    assert path == clone_elsewhere / "var" / "imports" / "demo" / demo.FILE
    assert path.read_bytes() == demo.SHIPPED.read_bytes()
    validate_config("replay", source.config)  # the worker will accept it

    again = list(demo.load(demo_org))
    assert again == [f"watch demo: activation '{demo.NAME}' already there (1 source(s))"]
    assert len(_replays(demo_org)) == 1


def test_an_activation_left_without_its_replay_gets_it_once(clone_elsewhere, demo_org, members):
    from beffroi.watch import actions, demo
    from beffroi.watch.models import Activation, EventType

    # What `make run` left on a clone before the file shipped: the activation, no source.
    actions.create_activation(
        demo_org,
        name=demo.NAME,
        event_type=EventType.EXERCISE,
        keywords={"en": ["flood"]},
        actor=members["coordinator"],
    )
    said = list(demo.load(demo_org))
    assert len(said) == 1 and "had no replay source" in said[0] and "replaying" in said[0], said
    assert len(_replays(demo_org)) == 1
    assert Activation.objects.filter(organisation=demo_org).count() == 1

    assert "already there (1 source(s))" in next(iter(demo.load(demo_org)))
    assert len(_replays(demo_org)) == 1


def test_a_closed_activation_without_replay_is_reported_not_a_crash(
    clone_elsewhere, demo_org, members
):
    from beffroi.watch import actions, demo
    from beffroi.watch.models import EventType

    activation = actions.create_activation(
        demo_org, name=demo.NAME, event_type=EventType.EXERCISE, actor=members["coordinator"]
    )
    actions.close_activation(activation, actor=members["coordinator"])
    (said,) = demo.load(demo_org)
    assert "no replay source added" in said and "Activation close" in said, said
    assert _replays(demo_org) == []


def test_crisislex_dir_overrides_the_shipped_copy(clone_elsewhere, demo_org, monkeypatch):
    from beffroi.watch import demo

    folder = clone_elsewhere / "crisislex" / "CrisisLexT26" / demo.EVENT
    folder.mkdir(parents=True)
    head = b"".join(demo.SHIPPED.read_bytes().splitlines(keepends=True)[:21])
    (folder / demo.FILE).write_bytes(head)
    monkeypatch.setenv("BEFFROI_CRISISLEX_DIR", str(clone_elsewhere / "crisislex"))
    said = list(demo.load(demo_org))
    assert "replaying" in said[0] and "shipped" not in said[0], said
    (source,) = _replays(demo_org)
    assert Path(source.config["path"]).read_bytes() == head


def test_a_crisislex_dir_without_the_event_falls_back_and_says_so(
    clone_elsewhere, demo_org, monkeypatch
):
    from beffroi.watch import demo

    monkeypatch.setenv("BEFFROI_CRISISLEX_DIR", str(clone_elsewhere / "nothing-here"))
    said = list(demo.load(demo_org))
    assert "using the copy shipped with Beffroi" in said[0], said
    (source,) = _replays(demo_org)
    assert Path(source.config["path"]).read_bytes() == demo.SHIPPED.read_bytes()


def test_the_shipped_file_is_the_dataset_with_its_licence():
    from beffroi.watch import demo
    from beffroi.watch.classify.crisislex import read_crisislex

    posts = read_crisislex(demo.SHIPPED)
    assert len(posts) == 1000
    licence = (demo.SHIPPED.parent / "LICENSE").read_text()
    assert "MIT License" in licence and "Olteanu" in licence
    assert "crisislex.org" in (demo.SHIPPED.parent / "README.md").read_text()


def test_the_package_data_patterns_ship_the_demo_data():
    """A wheel (or a non-editable install) holds only files the package-data globs name;
    without a pattern for demo_data/ the demo would find nothing once installed."""
    from beffroi.watch import demo

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    watch = Path(demo.__file__).resolve().parent
    shipped = {p for pattern in patterns for p in watch.glob(pattern) if p.is_file()}
    wanted = {p for p in (watch / "demo_data").iterdir() if p.suffix != ".pyc"}
    assert {p.name for p in wanted} >= {demo.FILE, "LICENSE", "README.md"}
    assert wanted <= shipped, sorted(p.name for p in wanted - shipped)
