from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.classify.features import (
    FeatureConfig,
    Featurizer,
    _cues,
    _tokens,
    char_ngram_matrix,
)
from beffroi.watch.classify.model import load_default

CUED = FeatureConfig(cue_weight=0.6, relay_weight=1.0, extra_features=2**12)


def cues(text: str) -> set[str]:
    return set(_tokens(text, CUED, {}).cues)


def test_author_kind_cues_read_the_wording():
    witness = cues("I can see the water rising outside my window right now pic.twitter.com/abc")
    assert {"q:photo", "q:here"} <= witness
    official = cues("Residents of Elm County: evacuation order in effect, call 555-123-4567")
    assert {"q:official2", "q:phone", "q:label_colon"} <= official
    ngo = cues("We need volunteers! Donate to our relief fund today")
    assert {"q:first_plural", "q:ngo2"} <= ngo
    assert "q:bare" in ngo
    headline = cues(
        "BREAKING: Train Derails Near Station, Dozens Injured - Local News http://t.co/x"
    )
    assert {"q:news2", "q:caps1", "q:title3", "q:dash_sep", "q:url_end", "q:nurl1"} <= headline
    french = cues("On a vu l'eau monter devant chez nous, vous êtes où ?")
    assert {"q:first_plural", "q:second_person", "q:here"} <= french


def test_relayed_handle_is_a_feature_of_its_own():
    toks = _tokens("RT @GMANews: Flood in Manila via @RedCross", CUED, {})
    assert "r:<gmanews>" in toks.relayed and "r:<redcross>" in toks.relayed
    assert "r:news" in toks.relayed
    # A plain mention is not a relay.
    assert _tokens("thanks @GMANews for the coverage", CUED, {}).relayed == []


def test_rt_prefix_is_not_taken_for_a_headline_label():
    assert "q:label_colon" not in cues("RT @someone: the water is everywhere")


def test_cue_and_relay_blocks_use_only_the_extra_columns():
    texts = ["RT @cityofboston: Residents please stay home", "je vois l'eau monter chez moi"]
    plain = Featurizer(FeatureConfig()).transform(texts)
    cued = Featurizer(CUED).transform(texts)
    assert cued.shape == (2, 2**18 + 2**12)
    np.testing.assert_allclose(cued[:, : 2**18].toarray(), plain.toarray())
    assert cued[:, 2**18 :].nnz > 0


def test_config_round_trips_and_old_files_load_without_the_new_blocks():
    assert FeatureConfig.from_json(CUED.to_json()) == CUED
    old = FeatureConfig().to_json()
    for key in ("cue_weight", "relay_weight", "extra_features"):
        del old[key]
    assert FeatureConfig.from_json(old) == FeatureConfig()


def test_shipped_informativeness_heads_ignore_the_author_kind_columns():
    clf = load_default()
    n = clf.features.n_features
    assert clf.features.width > n
    for name in ("informative", "info_type"):
        assert not clf.heads[name].weights[:, n:].any()
    assert clf.heads["source"].weights[:, n:].any()


def test_relayed_newsroom_reads_as_media():
    media, ngo = load_default().predict(
        [
            "RT @abc7news: Firefighters contain blaze near the freeway",
            "RT @RedCross: Text REDCROSS to 90999 to give $10 to flood relief",
        ]
    )
    assert media.source == "Media"
    assert ngo.source == "NGOs"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_cues_never_fail_on_arbitrary_text(text):
    out = _cues(text, text.lower(), 0, 0, 0)
    assert all(isinstance(t, str) and t for t in out)
    Featurizer(CUED).transform([text])


def _windows(text: str, n_min: int = 2, n_max: int = 5) -> int:
    return sum(max(0, len(text) - n + 1) for n in range(n_min, n_max + 1))


def test_char_ngrams_count_every_window_and_share_columns_across_texts():
    x = char_ngram_matrix([" crue ", " la crue monte ", ""], 2, 5, 2**18)
    assert x.shape == (3, 2**18)
    assert list(np.asarray(x.sum(axis=1)).ravel()) == [
        _windows(" crue "),
        _windows(" la crue monte "),
        0,
    ]
    # " crue " appears whole in the second text: all its n-grams land in the same columns.
    first, second = x[0].toarray().ravel(), x[1].toarray().ravel()
    assert np.all(second[first > 0] >= first[first > 0])
    # A repeated bigram is counted, not just flagged.
    assert char_ngram_matrix(["aaaa"], 2, 2, 2**10).data.tolist() == [3.0]


def test_char_ngrams_refuse_a_bad_width_or_range():
    with pytest.raises(ValueError, match="power of two"):
        char_ngram_matrix(["x"], 2, 5, 1000)
    with pytest.raises(ValueError, match="n_min <= n_max"):
        char_ngram_matrix(["x"], 5, 2, 1024)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=6))
def test_char_ngrams_of_a_batch_are_those_of_each_text_alone(texts):
    """Posts are hashed in batches of any make-up (pipeline chunks, copies enriched once):
    a post's row must not depend on its neighbours, and nothing crosses from one to the next."""
    batch = char_ngram_matrix(texts, 2, 5, 2**12)
    assert batch.shape == (len(texts), 2**12)
    for i, text in enumerate(texts):
        alone = char_ngram_matrix([text], 2, 5, 2**12)
        assert (batch[i] != alone).nnz == 0
        if "\x00" not in text:
            assert alone.sum() == _windows(text)


def test_a_model_file_hashed_with_the_first_scheme_is_refused_with_a_clear_message():
    old = FeatureConfig().to_json()
    del old["char_hash"]
    with pytest.raises(ValueError, match="rebuild it"):
        FeatureConfig.from_json(old)


def test_the_authors_kind_moves_the_source_head_only():
    """An account read at ingest as an authority's (its handle is a pseudonym by then)
    counts as a relayed authority does: the source head leans to Government; the
    informativeness heads, which do not use the account-kind columns, do not move."""
    model = load_default()
    text = "Vigilance rouge crues : évitez les déplacements"
    plain, official = model.predict([text, text], [(), ("government",)])
    assert plain.source != "Government" and official.source == "Government"
    assert official.informative_p == plain.informative_p
    assert official.info_type == plain.info_type
    with pytest.raises(ValueError, match="one list of author kinds per text"):
        model.transform([text], [(), ()])
