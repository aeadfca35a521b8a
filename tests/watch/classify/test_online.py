from __future__ import annotations

import pytest

from beffroi.watch.classify import OnlineLearner, load_default

# A made-up activation where volunteers consider posts about the village fair relevant
# (the fair's field is used as a shelter) — something the shipped model cannot know.
FAIR = [
    "la kermesse de Saint-Jory est complète ce soir",
    "kermesse de Saint-Jory : plus de place sous le chapiteau",
    "kermesse Saint-Jory, on ouvre le deuxième chapiteau",
    "le chapiteau de la kermesse de Saint-Jory accueille les familles",
    "kermesse Saint-Jory : les familles arrivent en nombre",
    "encore des familles à la kermesse de Saint-Jory",
]
PROBE = "kermesse de Saint-Jory, le chapiteau est ouvert"


@pytest.fixture(scope="module")
def base():
    return load_default()


def test_learning_moves_predictions_towards_taught_labels(base):
    learner = OnlineLearner(base)
    before = learner.predict([PROBE])[0]
    # The prior is strong on purpose: a dozen consistent decisions are needed to flip it.
    for text in FAIR + FAIR:
        learner.learn(text, informative=True, source="Government")
    after = learner.predict([PROBE])[0]
    assert after.informative_p > before.informative_p + 0.3
    assert after.source_p["Government"] > before.source_p["Government"]
    assert after.informative and after.source == "Government"
    # Unrelated posts keep roughly the shipped model's opinion.
    unrelated = "RT @BBCBreaking: Earthquake of magnitude 6.1 hits southern Italy"
    assert learner.predict([unrelated])[0].source == base.predict([unrelated])[0].source


def test_teaching_the_opposite_lowers_the_probability(base):
    learner = OnlineLearner(base)
    text = "Route coupée à Vaison, l'eau monte"
    before = learner.predict([text])[0].informative_p
    for _ in range(5):
        learner.learn(text, informative=False)
    assert learner.predict([text])[0].informative_p < before


def test_partial_labels_teach_only_their_head(base):
    learner = OnlineLearner(base)
    for text in FAIR + FAIR:  # a dozen, as above: the prior is strong
        learner.learn(text, info_type="Donations and volunteering")
    after = learner.predict([PROBE])[0]
    assert after.info_type == "Donations and volunteering"
    assert after.informative_p == pytest.approx(base.predict([PROBE])[0].informative_p)


def test_rejects_unknown_labels_and_empty_decisions(base):
    learner = OnlineLearner(base)
    with pytest.raises(ValueError, match="source='Witness'"):
        learner.learn("x", source="Witness")
    with pytest.raises(ValueError, match="at least one"):
        learner.learn("x")
    assert learner.n_examples == 0


def test_serialisation_round_trip(base):
    learner = OnlineLearner(base, l2=2.0)
    for i, text in enumerate(FAIR):
        learner.learn(text, informative=i % 2 == 0, source="NGOs" if i % 3 else None)
    blob = learner.to_bytes()
    again = OnlineLearner.from_bytes(blob, base)
    assert again.n_examples == learner.n_examples and again.l2 == 2.0
    assert again.head_l2 == learner.head_l2 == {"informative": 0.3}
    probes = [PROBE, "Pensées aux sinistrés", "bridge closed"]
    for a, b in zip(learner.predict(probes), again.predict(probes), strict=True):
        assert a.informative_p == pytest.approx(b.informative_p, abs=1e-9)
        assert a.source == b.source
    # Still learning after the restore.
    again.learn(PROBE, informative=True)
    assert again.n_examples == learner.n_examples + 1
    assert OnlineLearner.from_bytes(OnlineLearner(base).to_bytes(), base).n_examples == 0


def test_head_l2_must_name_real_heads(base):
    with pytest.raises(ValueError, match="unknown heads"):
        OnlineLearner(base, head_l2={"sentiment": 1.0})


def test_from_bytes_refuses_garbage(base):
    with pytest.raises(ValueError, match="not an online-learner state"):
        OnlineLearner.from_bytes(b"not a zip", base)


def test_oldest_decisions_drop_beyond_the_cap(base):
    learner = OnlineLearner(base, max_examples=3)
    for text in FAIR:
        learner.learn(text, informative=True)
    assert learner.n_examples == 3


def test_source_decisions_teach_the_source_head_only(base):
    # Volunteers correct a post's source type: only the source head moves.
    learner = OnlineLearner(base)
    for text in FAIR + FAIR:
        learner.learn(text, source="NGOs")
    after = learner.predict([PROBE])[0]
    before = base.predict([PROBE])[0]
    assert after.source_p["NGOs"] > before.source_p["NGOs"]
    assert after.informative_p == pytest.approx(before.informative_p)
    assert after.info_type == before.info_type


def test_lessons_see_the_author_kinds_the_predictions_saw(base):
    # A local radio's reporters post what they see: volunteers correct its posts from
    # Media to Eyewitness. Lessons that carry the author's kind move the radio's next post
    # about something else much further than the same lessons without it.
    with_kinds, without = OnlineLearner(base), OnlineLearner(base)
    for text in FAIR + FAIR:
        with_kinds.learn(text, source="Eyewitness", author_kinds=("media",))
        without.learn(text, source="Eyewitness")
    probe = (["Pont de Lattes : le niveau de l'eau atteint le tablier"], [("media",)])
    p_with = with_kinds.predict(*probe)[0].source_p["Eyewitness"]
    p_without = without.predict(*probe)[0].source_p["Eyewitness"]
    assert p_with > p_without + 0.1
