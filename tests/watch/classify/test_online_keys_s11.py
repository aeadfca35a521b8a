"""Lessons keyed by what they are about: the team changes its mind about a card, and the
learner holds the new verdict only (replaced), or nothing when the card went back to the
queue (withdrawn). No Django here: the learner is a pure core."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from beffroi.watch.classify import OnlineLearner, load_default
from beffroi.watch.classify.online import STATE_FORMAT

FIXTURES = Path(__file__).parent / "fixtures"
FAIR = [
    "la kermesse de Saint-Jory est complète ce soir",
    "kermesse de Saint-Jory : plus de place sous le chapiteau",
    "kermesse Saint-Jory, on ouvre le deuxième chapiteau",
    "le chapiteau de la kermesse de Saint-Jory accueille les familles",
]
PROBES = ["kermesse de Saint-Jory, le chapiteau est ouvert", "Route coupée à Vaison", "bridge"]


@pytest.fixture(scope="module")
def base():
    return load_default()


def _logits(learner: OnlineLearner) -> dict[str, np.ndarray]:
    return learner.logits(learner.base.transform(PROBES))


def _same(a: OnlineLearner, b: OnlineLearner, **tolerance: float) -> None:
    la, lb = _logits(a), _logits(b)
    for name in la:
        if tolerance:
            np.testing.assert_allclose(la[name], lb[name], **tolerance)
        else:
            np.testing.assert_array_equal(la[name], lb[name])


def test_a_later_lesson_with_the_same_key_replaces_the_earlier(base):
    corrected = OnlineLearner(base)
    corrected.learn(FAIR[0], informative=True, key="card:1")
    corrected.learn(FAIR[1], informative=False, key="card:2")
    corrected.learn(FAIR[2], informative=True)  # unkeyed: never replaced
    corrected.learn(FAIR[1], informative=True, key="card:2")  # the team changed its mind
    assert corrected.n_examples == 3
    assert corrected.labels("card:2") == {"informative": "True"}
    assert corrected.lesson_keys() == ["card:1", "card:2"]  # the correction is the most recent
    # Exactly what a learner told only the current verdicts (in the same order) predicts.
    fresh = OnlineLearner(base)
    fresh.learn(FAIR[0], informative=True, key="card:1")
    fresh.learn(FAIR[2], informative=True)
    fresh.learn(FAIR[1], informative=True, key="card:2")
    _same(corrected, fresh)
    # And, up to rounding, whatever the order they were given in: a set of lessons.
    shuffled = OnlineLearner(base)
    shuffled.learn(FAIR[1], informative=True, key="card:2")
    shuffled.learn(FAIR[2], informative=True)
    shuffled.learn(FAIR[0], informative=True, key="card:1")
    _same(corrected, shuffled, rtol=1e-6, atol=1e-6)
    # The wrong verdict is gone: a learner keeping both lessons predicts otherwise.
    both = OnlineLearner(base)
    for text, informative in [(FAIR[0], True), (FAIR[1], False), (FAIR[2], True)]:
        both.learn(text, informative=informative)
    both.learn(FAIR[1], informative=True)
    assert not np.allclose(_logits(both)["informative"], _logits(corrected)["informative"])


def test_a_replacing_lesson_is_the_whole_of_what_is_taught_about_its_key(base):
    learner = OnlineLearner(base)
    learner.learn(FAIR[0], informative=True, source="NGOs", key="card:1")
    learner.learn(FAIR[0], source="Government", key="card:1")
    assert learner.labels("card:1") == {"source": "Government"}
    assert learner.labels("card:9") is None


def test_a_withdrawn_lesson_teaches_nothing(base):
    learner = OnlineLearner(base)
    learner.learn(FAIR[0], informative=True, key="card:1")
    learner.learn(FAIR[1], informative=False, key="card:2")
    before = _logits(learner)
    assert learner.forget("card:2") is True
    assert learner.forget("card:2") is False  # twice: nothing more to withdraw
    assert learner.n_examples == 1 and learner.lesson_keys() == ["card:1"]
    alone = OnlineLearner(base)
    alone.learn(FAIR[0], informative=True, key="card:1")
    _same(learner, alone)
    assert not np.allclose(before["informative"], _logits(learner)["informative"])
    learner.forget("card:1")
    _same(learner, OnlineLearner(base))  # nothing left: the shipped model's opinion


def test_keys_are_non_empty_strings(base):
    learner = OnlineLearner(base)
    with pytest.raises(ValueError, match="non-empty string"):
        learner.learn(FAIR[0], informative=True, key="")
    assert learner.n_examples == 0


def test_a_correction_counts_as_recent_for_the_cap(base):
    learner = OnlineLearner(base, max_examples=2)
    learner.learn(FAIR[0], informative=True, key="a")
    learner.learn(FAIR[1], informative=True, key="b")
    learner.learn(FAIR[0], informative=False, key="a")
    learner.learn(FAIR[2], informative=True, key="c")
    assert learner.lesson_keys() == ["a", "c"]  # "b" was the oldest lesson held


def test_keys_survive_a_round_trip(base):
    learner = OnlineLearner(base)
    learner.learn(FAIR[0], informative=True, key="card:1")
    learner.learn(FAIR[1], source="NGOs")
    learner.learn(FAIR[2], informative=False, source="Media", key="card:3:source")
    again = OnlineLearner.from_bytes(learner.to_bytes(), base)
    assert again.lesson_keys() == ["card:1", "card:3:source"] and again.n_examples == 3
    assert again.labels("card:3:source") == {"informative": "False", "source": "Media"}
    _same(learner, again)
    again.learn(FAIR[0], informative=False, key="card:1")
    assert again.n_examples == 3 and again.labels("card:1") == {"informative": "False"}


def test_a_state_saved_before_keys_is_read_with_its_lessons_unkeyed(base):
    """The state of an activation saved by the previous version (format 1, written by it:
    three lessons, the last with an author kind) keeps teaching what it taught."""
    blob = (FIXTURES / "online_state_v1_s11.npz").read_bytes()
    with np.load(io.BytesIO(blob)) as z:
        assert json.loads(bytes(z["config"]))["format"] == "beffroi-classify-online/1"
        assert "keys" not in z.files
    old = OnlineLearner.from_bytes(blob, base)
    assert old.n_examples == 3 and old.lesson_keys() == []
    same = OnlineLearner(base)
    same.learn(FAIR[0], informative=True)
    same.learn(FAIR[1], informative=False, source="NGOs")
    same.learn("Route coupée à Vaison, l'eau monte", source="Eyewitness", author_kinds=("media",))
    _same(old, same)
    # It goes on learning, keyed from now on, and is saved in the current format.
    old.learn(FAIR[2], informative=True, key="card:7")
    old.learn(FAIR[2], informative=False, key="card:7")
    assert old.n_examples == 4
    with np.load(io.BytesIO(old.to_bytes())) as z:
        assert json.loads(bytes(z["config"]))["format"] == STATE_FORMAT
        assert [str(k) for k in z["keys"]] == ["", "", "", "card:7"]


def test_a_state_with_a_key_twice_is_refused(base):
    learner = OnlineLearner(base)
    learner.learn(FAIR[0], informative=True, key="card:1")
    learner.learn(FAIR[1], informative=True, key="card:2")
    with np.load(io.BytesIO(learner.to_bytes())) as z:
        arrays = {name: z[name] for name in z.files}
    arrays["keys"] = np.asarray(["card:1", "card:1"])
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ValueError, match="inconsistent lesson keys"):
        OnlineLearner.from_bytes(buf.getvalue(), base)
