from __future__ import annotations

import shutil

from beffroi.watch.classify import Classifier
from beffroi.watch.classify.crisislex import Event, read_crisislex
from beffroi.watch.classify.train import main, train


def _events(fixture_csv) -> list[Event]:
    posts = read_crisislex(fixture_csv)
    return [Event("a", posts), Event("b", posts[::-1])]


def test_training_is_deterministic_and_round_trips(fixture_csv, tmp_path):
    one = train(_events(fixture_csv), ["flood victims", "evacuation"])
    two = train(_events(fixture_csv), ["flood victims", "evacuation"])
    assert one.fingerprint() == two.fingerprint()
    path = tmp_path / "m.npz"
    one.save(path)
    assert Classifier.load(path).fingerprint() == one.fingerprint()
    assert one.meta["trained_on"] == ["a", "b"]
    # Fitted on these very rows, it must at least separate chatter from a flood report.
    sunset, flood = one.predict(
        ["lovely sunset at the beach tonight #summer", "Flooding on Elm Street, avoid the area"]
    )
    assert flood.informative_p > sunset.informative_p


def _fake_root(tmp_path, fixture_csv):
    for name in ("2099_Town_floods", "2099_City_storm"):
        folder = tmp_path / "CrisisLexT26" / name
        folder.mkdir(parents=True)
        shutil.copy(fixture_csv, folder / f"{name}-tweets_labeled.csv")
    (tmp_path / "CrisisLexLexicon").mkdir()
    (tmp_path / "CrisisLexLexicon" / "CrisisLexRec.txt").write_text("flood victims\nstorm\n")
    return tmp_path


def test_rebuild_script_excludes_events(fixture_csv, tmp_path, capsys):
    root = _fake_root(tmp_path / "data", fixture_csv)
    out = tmp_path / "model.npz"
    argv = ["--data-dir", str(root), "--out", str(out), "--exclude-event", "2099_City_storm"]
    assert main(argv) == 0
    assert Classifier.load(out).meta["trained_on"] == ["2099_Town_floods"]
    assert main(["--data-dir", str(root), "--out", str(out), "--exclude-event", "Nope"]) == 2
    assert "unknown event(s): Nope" in capsys.readouterr().err
