"""Session 7: the triage room's language filter names each language in the reader's
language (« Anglais », "English"); the option's value stays the code the queue filters on.
It showed bare codes (« fr », « en »)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from beffroi.watch.pipeline.language import DEFAULT_LANGUAGES
from beffroi.watch.views_i18n import language_choices, language_name
from english_catalogue import english


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    for i, lang in enumerate(["fr", "en", "es", "en", "zz", ""]):
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source_kind="rss",
            external_id=str(i),
            text=f"message {i}",
            posted_at=timezone.now(),
            priority=0.5,
            lang=lang,
        )
    return activation


def _options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="lang">(.*?)</select>', page, flags=re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1))


def test_language_filter_names_languages_in_the_readers_language(client, members, org, room):
    client.force_login(members["volunteer"])
    url = reverse("watch-triage", kwargs={"org": org.slug, "activation_id": room.pk})
    french = _options(client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    english = _options(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    # Sorted by the name the reader sees; a code Django does not know is shown as is.
    assert french == [
        ("", "toutes"),
        ("en", "Anglais"),
        ("es", "Espagnol"),
        ("fr", "Français"),
        ("zz", "zz"),
    ]
    assert english == [
        ("", "all"),
        ("en", "English"),
        ("fr", "French"),
        ("es", "Spanish"),
        ("zz", "zz"),
    ]
    # The value is still what the queue filters on.
    queue = reverse("watch-queue", kwargs={"org": org.slug, "activation_id": room.pk})
    cards = client.get(queue, {"lang": "en"}).json()["cards"]
    assert len(cards) == 2 and {c["lang"] for c in cards} == {"en"}


def test_regional_and_odd_codes() -> None:
    with override("en"):
        assert language_name("pt-BR") == "Brazilian Portuguese"
        assert language_name("de-AT") == "German"
        assert language_name("und") == "und"
        assert language_choices(["fr", "fr", "en"]) == [("en", "English"), ("fr", "French")]
    with override("fr"):
        assert language_name("pt-BR") == "Portugais brésilien"


def test_every_language_the_detector_knows_has_a_name() -> None:
    with english():
        named = {code: language_name(code) for code in DEFAULT_LANGUAGES}
    assert [code for code, name in named.items() if name == code] == []
    assert named["tl"] == "Tagalog" and named["ht"] == "Haitian Creole"
    with override("fr"):
        assert language_name("gcf") == "Créole guadeloupéen" and language_name("zh") == "Chinois"


def test_each_card_carries_its_languages_name_for_the_badge(client, members, org, room):
    """The card's badge showed the code (« en »); the name travels with the card, so a
    card that arrives live in a language the filter did not list is named too."""
    client.force_login(members["volunteer"])
    queue = reverse("watch-queue", kwargs={"org": org.slug, "activation_id": room.pk})
    french = client.get(queue, HTTP_ACCEPT_LANGUAGE="fr").json()["cards"]
    assert {c["lang"]: c["lang_label"] for c in french} == {
        "fr": "Français",
        "en": "Anglais",
        "es": "Espagnol",
        "zz": "zz",
        "": "",
    }
    with english():
        cards = client.get(queue, HTTP_ACCEPT_LANGUAGE="en").json()["cards"]
    assert {c["lang"]: c["lang_label"] for c in cards}["en"] == "English"
    # The claim's answer (which fills the panel) carries it as well.
    card = next(c for c in cards if c["lang"] == "es")
    claim = reverse(
        "watch-card-claim",
        kwargs={"org": org.slug, "activation_id": room.pk, "card_id": card["id"]},
    )
    with english():
        taken = client.post(claim, HTTP_ACCEPT_LANGUAGE="en").json()
    assert taken["card"]["lang_label"] == "Spanish"


def _attribute(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def test_the_page_gives_the_waiting_count_in_each_form(client, members, org, room):
    """« 1 cartes en attente » / "1 cards waiting": the script picks the form the page's
    language takes for the count (Intl.PluralRules), the page gives both forms."""
    client.force_login(members["volunteer"])
    url = reverse("watch-triage", kwargs={"org": org.slug, "activation_id": room.pk})
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert _attribute(french, "data-msg-waiting-one") == "{n} carte en attente"
    assert _attribute(french, "data-msg-waiting-other") == "{n} cartes en attente"
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _attribute(page, "data-msg-waiting-one") == "{n} card waiting"
    assert _attribute(page, "data-msg-waiting-other") == "{n} cards waiting"
    assert "cartes en attente" not in page
