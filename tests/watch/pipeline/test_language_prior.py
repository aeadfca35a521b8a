"""Short posts: the expected languages' prior and the capitals rule (language.py)."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.pipeline import LanguageDetector, PostIn, normalise, start

NOW = datetime(2013, 6, 21, tzinfo=UTC)
CRISISLEX = Path(__file__).resolve().parents[3].parent / "shared/data/crisislex/CrisisLexT26"


def detect(texts: list[str], **options) -> list:
    posts = [PostIn(str(i), t, NOW) for i, t in enumerate(texts)]
    return LanguageDetector(**options)(normalise(start(posts)))


def test_stay_safe_alberta_is_english_not_tagalog():
    # Without the prior, langid gives tl 0.45 and en 0.24 to this short post.
    item = detect(["Stay safe, Alberta. #ABflood"])[0]
    assert (item.lang, item.lang_from) == ("en", "detected")
    bare = detect(["Stay safe, Alberta. #ABflood"], prior=1.0)[0]
    assert bare.lang == "tl"  # what the prior corrects; if the model changes, see it here


@pytest.mark.parametrize(
    "text",
    [
        "#bigwet THIS MADE ME LAUGH SO HARD OKAY",
        "POLICE CALLING FOR IMMEDIATE EVACUATION OF BUNDABERG NORTH. #bigwet",
        "Wow. AERIAL PICTURE METRO NORTH TRAIN DERAILMENT IN BRONX NYC.",
    ],
)
def test_shouted_english_is_english(text):
    assert detect([text])[0].lang == "en"


def test_the_prior_leans_only_where_evidence_is_weak():
    long_posts = [
        "El agua sube muy rápido en el centro, los bomberos están evacuando a la gente",
        "L'acqua sale molto velocemente in centro, i vigili del fuoco stanno evacuando",
        "Die Feuerwehr evakuiert die Bewohner, das Wasser steigt sehr schnell in der Stadt",
    ]
    assert [i.lang for i in detect(long_posts)] == ["es", "it", "de"]


def test_expected_languages_are_the_callers_choice():
    text = "Stay safe, Alberta. #ABflood"
    assert detect([text], expected=("tl",))[0].lang == "tl"
    # An expected language outside the detector's set is ignored, not an error.
    assert detect([text], languages=("en", "tl"), expected=("fr", "en"))[0].lang == "en"


def test_probability_is_renormalised_after_the_prior():
    items = detect(["Stay safe, Alberta. #ABflood", "Water is rising fast downtown, evacuate"])
    assert all(0.0 < i.lang_p <= 1.0 for i in items)


@pytest.mark.parametrize("prior", [0.0, -1.0, float("nan")])
def test_prior_must_be_positive(prior):
    with pytest.raises(ValueError, match="prior"):
        LanguageDetector(prior=prior)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_detection_never_crashes_and_stays_in_the_set(text):
    item = detect([text])[0]
    assert item.lang in (*LanguageDetector().languages, "und")
    assert 0.0 <= item.lang_p <= 1.0


def _labelled(event: str) -> list[str]:
    path = next((CRISISLEX / event).glob("*-tweets_labeled.csv"))
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(fh)
        next(rows)
        return [row[1] for row in rows if len(row) >= 2]


def test_agreement_with_the_event_language_on_crisislex_english_events():
    # Posts of three English-speaking events (3,232): some are truly in other languages
    # (Spanish, Japanese about LAX), so 100 % is out of reach. Before the prior and the
    # capitals rule: 3,061 agreed (94.7 %); after: 3,124 (96.7 %).
    texts = [
        t
        for event in ("2013_Queensland_floods", "2013_LA_airport_shootings", "2013_Boston_bombings")
        for t in _labelled(event)
    ]
    items = detect(texts)
    assert sum(i.lang == "en" for i in items) / len(items) >= 0.96


def test_the_prior_does_not_pull_a_spanish_event_to_french_or_english():
    # Venezuela refinery (1,000 posts): 903 Spanish before, 911 after.
    items = detect(_labelled("2012_Venezuela_refinery"))
    assert sum(i.lang == "es" for i in items) >= 900
