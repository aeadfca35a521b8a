"""Authors' profiles: a Mastodon account's bio and profile fields give its kind, by a
strict rule (docs/decisions/watch-author-profiles.md), and are never kept."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.classify.accounts import KINDS, account_kinds, profile_kinds
from beffroi.watch.sources.base import RawPost
from beffroi.watch.sources.mastodon import MastodonConfig, MastodonSource
from beffroi.watch.sources.runner import start_source_thread

TAG = "tag:inondation"

# A bio's self-description, and the kind it gives.
CLAIMS = [
    ("Journaliste à Midi Libre", "media"),
    ("« Journaliste à France 3 Occitanie »", "media"),
    ("Je suis journaliste, basée à Nîmes", "media"),
    ("Mère · journaliste · Alès", "media"),
    ("Reporter for Reuters. Views my own.", "media"),
    ("Rédaction de France Bleu Gard Lozère", "media"),
    ("Compte officiel de la préfecture du Gard", "government"),
    ("Compte officiel de la Préfecture du Gard. Urgence : 112", "government"),
    ("Official account of the City of Calgary", "government"),
    ("The official Mastodon account of the Red Cross in Gard", "ngo"),
    ("Compte officiel du journal Midi Libre", "media"),
    ("Maire d'Alès, président d'Alès Agglomération", "government"),
    ("Hôtel de ville de Nîmes", "government"),
    ("SDIS 30 - Sapeurs-pompiers du Gard", "government"),
    ("Association de sinistrés du Vidourle", "ngo"),
    ("Non-profit helping flood victims", "ngo"),
    ("Hôtel 3 étoiles au cœur d'Alès", "business"),
    ("Boulangerie artisanale depuis 1952", "business"),
]

# Bios that name a trade or a newsroom without saying the account is one.
NOTHING = [
    "ex-journaliste",
    "Ancienne journaliste à France 3",
    "Former reporter, now a baker",
    "Journaliste à la retraite",
    "Journalist (retired)",
    "Journaliste amateur",
    "Journaliste citoyen du Gard",
    "Étudiante en journalisme",
    "Student journalist",
    "fan of BBC",
    "Fan de la BBC. Habitante d'Alès",
    "Lectrice du Monde et de Midi Libre",
    "J'écoute France Bleu Gard tous les matins",
    "Habitante d'Alès",
    "Pas journaliste, juste témoin",
    "Police scanner fan",
    "#journaliste #Gard #crue",
    "Mes articles : https://www.midilibre.fr/auteur/marie",
    "Abonnée à @francebleugard",
    "Ceci n'est pas le compte officiel de la mairie",
    "",
]


@pytest.mark.parametrize(("bio", "kind"), CLAIMS)
def test_a_bio_that_says_what_the_account_is_gives_its_kind(bio: str, kind: str) -> None:
    assert profile_kinds(bio).kinds == (kind,)
    assert account_kinds(("marie", "Marie D."), bio) == (kind,)


@pytest.mark.parametrize("bio", NOTHING)
def test_a_bio_that_only_names_a_trade_or_a_newsroom_gives_nothing(bio: str) -> None:
    assert profile_kinds(bio).kinds == ()
    # The names still say "a person".
    assert account_kinds(("marie", "Marie D."), bio) == ("none",)


@pytest.mark.parametrize(
    "bio",
    [
        "Compte parodique de la préfecture du Gard",
        "Parody account. Not the real prefect",
        "Compte fan non officiel",
        "Unofficial news about Alès",
    ],
)
def test_a_bio_that_disowns_the_account_cancels_what_its_names_say(bio: str) -> None:
    """A fake prefecture takes the prefecture's name and says "parodie" in small print."""
    assert account_kinds(("prefet30", "Préfecture du Gard"), "") == ("government",)
    assert profile_kinds(bio).disowned
    assert account_kinds(("prefet30", "Préfecture du Gard"), bio) == ("none",)


def test_profile_fields_are_read_as_label_and_value() -> None:
    assert profile_kinds("", [("Poste", "Journaliste")]).kinds == ("media",)
    assert profile_kinds("", [("Journaliste chez", "Ouest-France")]).kinds == ("media",)
    # Where someone works says less than what they do: a newsroom named is not enough.
    assert profile_kinds("", [("Employeur", "Midi Libre")]).kinds == ()
    assert profile_kinds("", [("Site", "https://www.midilibre.fr")]).kinds == ()
    assert profile_kinds("", [("Statut", "Compte officiel de la mairie d'Alès")]).kinds == (
        "government",
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600), st.lists(st.tuples(st.text(max_size=80), st.text(max_size=80))))
def test_fuzz_any_profile_reads_without_error(bio: str, fields: list[tuple[str, str]]) -> None:
    reading = profile_kinds(bio, fields)
    assert set(reading.kinds) <= set(KINDS)
    assert not (reading.disowned and reading.kinds)


ROLES = [
    "journaliste à Midi Libre",
    "reporter for Reuters",
    "correspondante de l'AFP à Montpellier",
    "rédactrice en chef",
    "maire d'Alès",
    "préfet du Gard",
    "sapeurs-pompiers du Gard",
    "association de sinistrés",
    "hôtel 3 étoiles",
]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ROLES),
    st.sampled_from(["ex-", "Ancien ", "Ancienne ", "Former ", "Fan de ", "Not a ", "Future "]),
    st.sampled_from(["", "Je suis ", "I am "]),
)
def test_a_self_description_undone_says_nothing(role: str, undo: str, self_: str) -> None:
    assert profile_kinds(role).kinds != ()
    assert profile_kinds(self_ + undo + role).kinds == ()


def source(url: str, pseudonymise: Any) -> MastodonSource:
    config = MastodonConfig(instance_url=url, hashtags=("inondation",), timeout=5)
    return MastodonSource("masto", config, pseudonymise=pseudonymise, idle_tick=0.05)


def test_a_streamed_authors_bio_gives_the_posts_kind_and_is_not_kept(
    fake_mastodon, pseudonymise, recorder, status, until
) -> None:
    fake_mastodon.timelines[TAG] = []
    stop = threading.Event()
    thread = start_source_thread(
        source(fake_mastodon.url, pseudonymise), None, recorder.sink, stop_event=stop
    )
    fake_mastodon.wait_connections(TAG, 1)
    official = status(21, "Vigilance rouge crues : évitez la D907", acct="cellule_crise")
    official["account"]["display_name"] = "Cellule de crise"
    official["account"]["note"] = (
        '<p>Compte officiel de la préfecture du Gard.<br>Urgence : 112</p><p><a href="'
        'https://www.gard.gouv.fr" rel="nofollow">gard.gouv.fr</a></p>'
    )
    reporter = status(22, "Je suis sur place à Sommières", acct="marie")
    reporter["account"]["note"] = "<p>Mère, randonneuse.</p>"
    reporter["account"]["fields"] = [
        {"name": "Métier", "value": "Journaliste à Midi Libre", "verified_at": None}
    ]
    witness = status(23, "L'eau monte rue Avéjan", acct="paul")
    witness["account"]["note"] = "<p>Ex-journaliste, fan de la BBC</p>"
    for data in (official, reporter, witness):
        fake_mastodon.update(TAG, data)
    until(lambda: len(recorder.posts) == 3)
    stop.set()
    thread.join(timeout=5)

    kinds = {p.external_id: p.author_kinds for p in recorder.posts if isinstance(p, RawPost)}
    assert kinds == {"21": ("government",), "22": ("media",), "23": ("none",)}
    for post in recorder.posts:
        kept = repr(post)
        for words in ("Compte officiel", "randonneuse", "Midi Libre", "Ex-journaliste"):
            assert words not in kept


def test_an_odd_profile_never_costs_the_post(pseudonymise, status) -> None:
    src = source("https://piaille.invalid", pseudonymise)
    for note, fields in [
        (None, None),
        (42, "Journaliste"),
        ("<p>Journaliste</p>", [None, 3, {"name": None, "value": None}]),
        ("<p><b>Journaliste</b> à <i>Ouest-France</i></p>", {"name": "x"}),
    ]:
        data = status(30)
        data["account"]["note"], data["account"]["fields"] = note, fields
        post = src.to_post(data, TAG)
        assert isinstance(post, RawPost)
        assert post.author_kinds in {("none",), ("media",)}
