from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.classify.accounts import ACCOUNT_WORDS, KINDS, PSEUDONYM, AccountKinds
from beffroi.watch.classify.features import FeatureConfig, Featurizer, _tokens

kinds = AccountKinds(ACCOUNT_WORDS)


def test_kind_words_are_found_as_parts_and_inside_run_together_handles():
    assert kinds("cityofcalgary") == {"government"}
    assert kinds("RedCrossAU") == {"ngo"}
    assert kinds("abc7news") == {"media"}
    assert kinds("Joes_Hotel") == {"business"}
    assert kinds("prefet85") == {"government"}
    assert kinds("CroixRouge_fr") == {"ngo"}
    assert kinds("maria_lopez88") == set()


def test_short_and_ambiguous_words_only_count_as_whole_parts_or_ends():
    # "press" inside "depressed", "state" inside "realestate", "ville" inside a town,
    # "ocha" inside a surname, "brand" inside a first name, "inc" opening a Spanish word.
    for handle in ("DepressedDarth", "nashville_realestate", "rocha_ana", "brandon", "incendios"):
        assert kinds(handle) == set(), handle
    assert kinds("state_police") == {"government"}
    assert kinds("meteo_tv") == {"media"}
    assert kinds("govuk") == {"government"}
    assert kinds("acme_inc") == {"business"}


def test_pseudonymised_handles_give_no_kind():
    # What the sources store by default: the handle's words are gone, and "none" would
    # wrongly say "a person".
    from beffroi.watch.sources.base import PSEUDONYM_MENTION

    assert PSEUDONYM.pattern == PSEUDONYM_MENTION.pattern
    toks = _tokens("RT @h_0123456789abcdef: route coupée", CFG, {}, AccountKinds(ACCOUNT_WORDS))
    assert toks.kinds == []


def test_the_lists_name_no_organisation_of_a_crisislex_event():
    # The benchmark holds out whole events: national agencies, firms or newspapers seen
    # in them would leak those events into the word lists (accounts.py docstring).
    words = {w for ws in ACCOUNT_WORDS.values() for w in ws}
    for name in ("pagasa", "ndrrmc", "telstra", "vodafone", "gmanews", "cbs", "rfs", "ntsb"):
        assert name not in words
    assert set(ACCOUNT_WORDS) == set(KINDS)


CFG = FeatureConfig(
    relay_weight=1.0,
    kind_weight=0.5,
    account_words=tuple(ACCOUNT_WORDS.items()),
    extra_features=2**12,
)


def test_only_relayed_accounts_give_kind_features():
    toks = _tokens("RT @cityofcalgary: thanks @RedCrossAU", CFG, {}, AccountKinds(ACCOUNT_WORDS))
    assert toks.kinds == ["k:government"]
    person = _tokens("RT @maria_lopez88: water in my street", CFG, {}, AccountKinds(ACCOUNT_WORDS))
    assert person.kinds == ["k:none"]
    assert _tokens("no relay here @gmanews", CFG, {}, AccountKinds(ACCOUNT_WORDS)).kinds == []


def test_kind_block_uses_only_the_extra_columns_and_its_words_travel_in_the_config():
    without = FeatureConfig(relay_weight=1.0, extra_features=2**12)
    texts = ["RT @cityofcalgary: schools closed", "RT @someone: water rising"]
    a = Featurizer(without).transform(texts)
    b = Featurizer(CFG).transform(texts)
    assert (a[:, : 2**18] != b[:, : 2**18]).nnz == 0
    assert (a != b).nnz > 0
    assert FeatureConfig.from_json(CFG.to_json()) == CFG


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_handle_gives_known_kinds(handle):
    assert kinds(handle) <= set(KINDS)


def test_author_kinds_read_usernames_and_display_names_in_french():
    from beffroi.watch.classify.accounts import author_kinds

    assert author_kinds("prefet85", "Préfet de la Vendée") == ("government",)
    assert author_kinds("mairie_lucon", "Ville de Luçon") == ("government",)
    assert author_kinds("CroixRougeFR", "Croix-Rouge française") == ("ngo",)
    assert author_kinds("jdupont", "Jean Dupont") == ("none",)  # a person, most likely
    assert author_kinds("", "  ") == ()  # nothing known: no token at all


def test_only_zones_reserved_to_public_bodies_make_an_authority():
    from beffroi.watch.classify.accounts import domain_kinds, merge_kinds

    for host in ["www.gard.gouv.fr", "social.numerique.gouv.fr", "WEATHER.GOV.", "www.gov.uk",
                 "sede.gob.es", "prefet30@social.numerique.gouv.fr", "ec.europa.eu"]:  # fmt: skip
        assert domain_kinds(host) == ("government",), host
    for host in ["gouvernement.fr", "gouv.fr.example.com", "legov.com", "mastodon.social", ""]:
        assert domain_kinds(host) == (), host
    # A name says "a person" but the server says "authority": the proof wins.
    assert merge_kinds(("none",), ("government",)) == ("government",)
    assert merge_kinds(("media",), ()) == ("media",)
    assert merge_kinds(("none",), ()) == ("none",)
    assert merge_kinds((), ()) == ()
