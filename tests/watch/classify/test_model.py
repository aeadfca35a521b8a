from __future__ import annotations

import numpy as np
import pytest

from beffroi.watch.classify import SOURCES, Classifier, Prediction, load_default
from beffroi.watch.classify.labels import INFO_TYPES
from beffroi.watch.classify.model import default_model_path


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_default()


def test_shipped_model_is_small_and_has_licence_beside_it():
    path = default_model_path()
    assert path.stat().st_size < 5_000_000
    licence = (path.parent / "LICENSE-CrisisLex.txt").read_text()
    assert "MIT" in licence and "Olteanu" in licence


def test_predictions_are_well_formed(clf):
    preds = clf.predict(["hello", "", "RT @x: http://t.co/a 123"])
    assert len(preds) == 3
    for p in preds:
        assert isinstance(p, Prediction)
        assert 0.0 <= p.informative_p <= 1.0
        assert p.informative == (p.informative_p >= clf.threshold)
        assert p.info_type in INFO_TYPES
        assert p.source in SOURCES
        assert set(p.source_p) == set(SOURCES)
        assert sum(p.source_p.values()) == pytest.approx(1.0)
        assert max(p.source_p, key=p.source_p.__getitem__) == p.source
    assert clf.predict([]) == []


def test_sane_labels_on_hand_written_english_posts(clf):
    media, eyewitness, chatter, donation = clf.predict(
        [
            "RT @BBCBreaking: Earthquake of magnitude 6.1 hits southern Italy, buildings "
            "collapsed http://t.co/xyz",
            "Power lines down on Main St right outside my house, avoid the area",
            "just had the best pizza of my life lol",
            "Donate to the Red Cross to help the flood victims, text REDCROSS to 90999",
        ]
    )
    assert media.informative and media.source == "Media"
    assert eyewitness.informative and eyewitness.info_type == "Infrastructure and utilities"
    assert not chatter.informative and chatter.informative_p < 0.2
    assert donation.informative and donation.info_type == "Donations and volunteering"


def test_sane_labels_on_hand_written_french_posts(clf):
    road, sympathy, chatter = clf.predict(
        [
            "Inondations à Nice : la route de Grenoble est coupée, évitez le secteur",
            "Pensées pour les victimes de la tempête, courage à tous",
            "trop bien le match hier soir mdr",
        ]
    )
    assert road.informative
    assert road.info_type in {"Infrastructure and utilities", "Caution and advice"}
    assert not sympathy.informative and sympathy.source == "Outsiders"
    assert not chatter.informative
    assert road.informative_p > sympathy.informative_p > 0.0


def test_round_trip_keeps_weights_and_fingerprint(clf):
    again = Classifier.from_bytes(clf.to_bytes())
    assert again.fingerprint() == clf.fingerprint()
    for name in clf.heads:
        np.testing.assert_array_equal(again.heads[name].weights, clf.heads[name].weights)


def test_refuses_a_foreign_file(tmp_path):
    bogus = tmp_path / "m.npz"
    np.savez(bogus, config=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="not a beffroi-classify/1 model"):
        Classifier.load(bogus)
