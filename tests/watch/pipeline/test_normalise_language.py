import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.pipeline import LanguageDetector, PostIn, normalise, start

NOW = datetime(2024, 10, 17, 8, 0, tzinfo=UTC)


def one(text, **options):
    return normalise(start([PostIn("1", text, NOW)]), **options)[0]


def test_nfc_whitespace_entities():
    decomposed = unicodedata.normalize("NFD", "Crue à Nantes")
    item = one(f"  {decomposed}\n\n &amp; \u200bdigue\t rompue  ")
    assert item.text == "Crue à Nantes & digue rompue"
    assert unicodedata.is_normalized("NFC", item.text)


def test_urls_hashtags_and_repost():
    item = one(
        "RT @Prefet85: Évacuez le front de mer #Vendée #crue http://t.co/abc. via @ouestfrance"
    )
    assert item.is_repost
    assert item.urls == ("http://t.co/abc",)
    assert item.hashtags == ("vendée", "crue")
    assert item.clean_text == "Évacuez le front de mer #Vendée #crue"


def test_handles_are_redacted_by_default():
    item = one("Merci @jean_dupont et @marie@mastodon.social pour l'info, écrire à a@b.fr")
    assert "jean_dupont" not in item.text and "marie" not in item.text
    assert item.text.count("@…") == 2 and "a@b.fr" in item.text
    assert item.mentions == ()


def test_handles_pseudonymised_with_a_key_or_kept_on_request():
    keyed = one("Vu par @Jean_Dupont et @jean_dupont", handle_key=b"secret")
    assert len(keyed.mentions) == 1 and keyed.mentions[0].startswith("h:")
    assert "jean" not in keyed.mentions[0]
    other_key = one("Vu par @jean_dupont", handle_key=b"other")
    assert other_key.mentions != keyed.mentions
    kept = one("Vu par @Jean_Dupont et @bsky.name.bsky.social", keep_handles=True)
    assert kept.mentions == ("jean_dupont", "bsky.name.bsky.social")
    assert "@Jean_Dupont" in kept.text


def test_repost_flag_from_platform():
    item = normalise(start([PostIn("2", "texte", NOW, repost_of="1")]))[0]
    assert item.is_repost


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_normalise_never_crashes(text):
    item = normalise(start([PostIn("x", text, NOW)]))[0]
    assert unicodedata.is_normalized("NFC", item.text)
    assert "  " not in item.text and item.text == item.text.strip()


LANG_POSTS = [
    ("L'eau monte très vite dans le centre-ville, les pompiers évacuent les habitants", "fr"),
    ("Les routes sont coupées entre Nantes et Pornic, restez chez vous ce soir", "fr"),
    ("Water is rising fast downtown, firefighters are evacuating people right now", "en"),
    ("Roads are closed between the two towns, please stay at home tonight", "en"),
    ("El agua sube muy rápido en el centro, los bomberos están evacuando a la gente", "es"),
    ("Las carreteras están cortadas, por favor quédense en casa esta noche", "es"),
    ("L'acqua sale molto velocemente in centro, i vigili del fuoco stanno evacuando", "it"),
    ("Le strade sono chiuse tra i due paesi, per favore restate a casa stasera", "it"),
]


@pytest.mark.parametrize(("text", "lang"), LANG_POSTS)
def test_language_detection(text, lang):
    item = LanguageDetector()(normalise(start([PostIn("1", text, NOW)])))[0]
    assert item.lang == lang and item.lang_from == "detected" and item.lang_p > 0.5


def test_short_text_falls_back_to_the_hint():
    items = normalise(start([PostIn("1", "Ok 👍", NOW, lang="fr-FR"), PostIn("2", "Ok", NOW)]))
    a, b = LanguageDetector()(items)
    assert (a.lang, a.lang_from) == ("fr", "hint")
    assert (b.lang, b.lang_from) == ("und", "none")
