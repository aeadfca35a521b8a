import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.geo.geocode import commune_at, find_communes

# (post, expected INSEE codes in order of appearance)
POSTS = [
    ("L'eau monte à Nantes, on est coincés rue de Strasbourg", ["44109"]),
    ("#Nantes inondations en cours", ["44109"]),
    ("NANTES SOUS L'EAU", ["44109"]),
    ("Route coupée à St-Jean-de-Monts, secours sur place", ["85234"]),
    ("saint jean de monts sous l'eau ce matin", ["85234"]),
    ("#SaintJeanDeMonts la digue tient", ["85234"]),
    ("#StJeanDeMonts la digue tient", ["85234"]),
    ("Digue rompue à Talmont 85440, évacuation en cours", ["85288"]),
    ("Alerte à Eu, la Bresle déborde", ["76255"]),
    ("Je suis à Orange, la route est coupée", ["84087"]),
    ("Les secours arrivent au Mans", ["72181"]),
    ("crue aux Sables-d'Olonne", ["85194"]),
    ("Help, trapped near Paris", ["75056"]),
    ("Saint-Denis (93) : incendie dans un entrepôt", ["93066"]),
    ("Grosse tempête sur Nice ce soir", ["06088"]),
    ("Inondations à Nantes et à Saint-Jean-de-Monts", ["44109", "85234"]),
    ("Embouteillage route de Nantes vers Rennes", ["35238"]),
    ("On a vu la crue de la Loire à Tours hier", ["37261"]),
]

# Posts that name no commune although they contain commune names as words.
TRAPS = [
    "Vigilance orange orages en mars, rendez-vous vers 18h",
    "Eu égal à Y plus Bats",
    "Flooding in New Orleans again",
    "Accident gare de Lyon, trains bloqués",
    "SOS on est bloqués au 2e étage",
    "Nice work everyone, stay safe",
    "Rupture de digue à Saint-Hilaire-de-Talmont",
    "12000 personnes évacuées cette nuit",
    "La Bresle déborde",
    "Plus de courant depuis ce matin",
    "Mars est une planète",
    "Orange County fire spreading",
    "Digue rompue, 85440 évacuation en cours",
    # From CrisisLexT26 (foreign events): words and numbers that are French places.
    "RT @BreakingNews: Magnitude 7.9 earthquake strikes off the coast of Costa Rica - USGS",
    "terremoto: se avete 2€ da donare: SMS a 45500. Se ne avete 10+",
    "28/15:00 EST Flood Warning - Mary River (QLD)",
    "Colorado Springs wildfire forces more than 32000 from homes",
    "Train from Poughkeepsie, due at Grand Central at 07:43 a.m.",
    "Barry O'Farrell says 100s of homes have been lost in #nswfires",
    "Em Tempo Real: Vai a 29 número de mortos em forte terremoto na Guatemala.",
    "",
]


@pytest.mark.parametrize(("post", "codes"), POSTS)
def test_finds_the_communes(post, codes):
    found = find_communes(post)
    assert [m.code for m in found] == codes
    for m in found:
        assert post[m.start : m.end] == m.evidence
        assert 0 < m.confidence <= 1 and m.reasons


@pytest.mark.parametrize("post", TRAPS)
def test_traps_name_no_commune(post):
    assert find_communes(post) == []


def test_precision_and_recall_on_the_hand_written_set():
    expected = sum(len(c) for _, c in POSTS)
    hits = sum(len(set(c) & {m.code for m in find_communes(p)}) for p, c in POSTS)
    false = sum(len(find_communes(t)) for t in TRAPS)
    assert hits == expected and false == 0


def test_area_breaks_homonym_ties():
    default = find_communes("Incendie à Saint-Denis")[0]
    assert default.code == "97411" and default.in_area is None
    assert any("homonymes" in r for r in default.reasons)
    in_area = find_communes("Incendie à Saint-Denis", area={"93"})[0]
    assert in_area.code == "93066" and in_area.in_area is True
    assert in_area.confidence > default.confidence
    outside = find_communes("Inondations à Nantes", area={"85"})[0]
    assert outside.in_area is False


def test_area_unlocks_one_letter_commune():
    assert find_communes("Je vais à Y demain") == []
    assert [m.code for m in find_communes("Je vais à Y demain", area={"80829"})] == ["80829"]


def test_postcode_disambiguates_name():
    found = find_communes("Incendie à Saint-Denis 93200, fumée visible")
    assert [m.code for m in found] == ["93066"]
    assert any("code postal" in r for r in found[0].reasons)


def test_postcode_with_name_gives_one_match():
    found = find_communes("Route coupée à St-Jean-de-Monts (85160)")
    assert [m.code for m in found] == ["85234"]


def test_coordinates_to_commune():
    m = commune_at(47.2184, -1.5536)
    assert m is not None and m.code == "44109" and m.via == "coordinates"
    assert commune_at(0.0, 0.0) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_on_any_text(text):
    for m in find_communes(text, area={"44", "85234"}):
        assert 0 <= m.start <= m.end <= len(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "à",
                "Nantes",
                "#",
                "85440",
                "-",
                "'",
                "St",
                "Jean",
                "de",
                "Monts",
                " ",
                "\n",
                "(85)",
                "au",
                "Mans",
                "Y",
                "É",
                "日本",
                "#",
            ]
        ),
        max_size=30,
    )
)
def test_never_crashes_on_place_like_text(parts):
    find_communes("".join(parts))
    find_communes(" ".join(parts))


def test_name_followed_by_a_word_that_folds_to_nothing():
    # Non-Latin words fold to an empty key; they must end the name, not crash the walk.
    assert [m.code for m in find_communes("à Nantes 日本 Saint 日本")] == ["44109"]


@pytest.mark.parametrize(
    ("post", "lang", "codes"),
    [
        ("Terremoto en Costa Rica, aviso de tsunami", "es", []),
        ("URGENTE: TERREMOTO EN COSTA RICA", "es", []),
        ("Bomb suspects lived in US at least 1 year", "en", []),
        ("All schools open except for St Joseph's School", "en", []),
        ("Flooding in Nantes this morning, roads closed", "en", ["44109"]),
        ("First Paris, then Spain: another train crash", "en", ["75056"]),
        ("El partido en Lyon fue anulado", "es", ["69123"]),
        ("C'est beau la jeunesse #soupir", "fr", []),
        ("Inondations #Cannes ce soir", "fr", ["06029"]),
    ],
)
def test_language_of_the_post_raises_the_bar(post, lang, codes):
    assert [m.code for m in find_communes(post, lang=lang)] == codes


ORDINARY_FRENCH = """\
tempete sur la cote ce soir, arbres tombés
l'eau est montée dans le bourg, la mairie est ouverte
les routes sont fermées entre les deux villages
coupure de courant depuis hier soir dans tout le quartier
la rivière déborde près du pont, les caves sont inondées
la digue a tenu mais le port est sous l'eau
des arbres sur la voie ferrée, trains arrêtés
on attend les secours depuis deux heures
le vent souffle fort, restez chez vous
la salle des fêtes accueille les sinistrés
plus de réseau mobile dans la vallée
le collège est fermé demain, bus supprimés
évacuation du camping en cours, gendarmes sur place
grêle énorme, voitures abîmées, toitures percées
le niveau de la loire continue de monter
alerte rouge pour la nuit prochaine
nos pensées vont aux familles des victimes
une maison s'est effondrée dans la rue principale
on est bloqués au premier étage avec les enfants
la route départementale est coupée au niveau du rond-point""".splitlines()


@pytest.mark.parametrize("post", ORDINARY_FRENCH)
@pytest.mark.parametrize("case", [str, str.capitalize, str.upper])
def test_ordinary_french_sentences_name_no_commune(post, case):
    assert find_communes(case(post), lang="fr") == []


def test_lower_case_names_that_are_no_words():
    found = find_communes("inondations à la roche sur yon, centre ville bloqué", lang="fr")
    assert [m.code for m in found] == ["85191"]
    assert [m.code for m in find_communes("inondations nantes centre")] == ["44109"]
