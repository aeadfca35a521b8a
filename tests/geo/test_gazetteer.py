import pytest

from beffroi.geo import gazetteer as g
from beffroi.geo.text import fold, joined


def test_known_communes_by_code():
    nantes = g.by_code("44109")
    assert nantes is not None and nantes.name == "Nantes" and nantes.dep == "44"
    assert "44000" in nantes.postcodes and nantes.population > 250_000
    assert nantes.lat == pytest.approx(47.2, abs=0.1) and nantes.lon == pytest.approx(
        -1.55, abs=0.1
    )
    paris = g.by_code("75056")
    assert paris is not None and paris.name == "Paris" and "75015" in paris.postcodes
    talmont = g.by_code("85288")
    assert talmont is not None and talmont.name == "Talmont-Saint-Hilaire"
    assert talmont.postcodes == ("85440",)
    assert g.by_code("99999") is None


def test_postcode_lookup_most_populous_first():
    found = g.by_postcode("85440")
    assert found[0].code == "85288"
    assert {c.dep for c in found} == {"85"}
    pops = [c.population for c in found]
    assert pops == sorted(pops, reverse=True)
    assert g.by_postcode("00000") == ()


@pytest.mark.parametrize(
    "query",
    [
        "St-Jean-de-Monts",
        "Saint Jean de Monts",
        "SAINT-JEAN-DE-MONTS",
        "saint jean de monts",
        "St Jean-de-Monts",
    ],
)
def test_name_lookup_is_accent_case_hyphen_insensitive(query):
    found = g.by_name(query)
    assert [c.code for c in found] == ["85234"]


def test_name_lookup_accents_and_apostrophes():
    assert g.by_name("Les Sables d’Olonne")[0].code == "85194"
    assert g.by_name("orleans")[0].code == "45234"
    assert g.by_name("L'Abergement-Clemenciat")[0].code == "01001"


def test_homonyms_current_first_then_population():
    found = g.by_name("Saint-Denis")
    current = [c for c in found if c.kind == "C"]
    assert len(current) >= 3
    assert {"93066", "97411"} <= {c.code for c in current}
    pops = [c.population for c in current]
    assert pops == sorted(pops, reverse=True)


def test_former_communes_point_to_current_commune():
    former = [c for c in g.gazetteer().former if c.kind == "D" and c.code != c.parent]
    assert former, "the gazetteer ships delegated communes"
    sample = former[0]
    assert g.by_name(sample.name)
    assert g.by_code(sample.current_code) is not None
    assert all(c.kind in ("C", "A") for c in g.by_name(sample.name, include_former=False))


def test_nearest_commune():
    found = g.nearest(47.2173, -1.5534)
    assert found is not None
    commune, km = found
    assert commune.code == "44109" and km < 1
    # Middle of the Atlantic: nothing within 50 km.
    assert g.nearest(45.0, -30.0) is None
    with pytest.raises(ValueError, match="coordonnées invalides"):
        g.nearest(95.0, 0.0)


def test_coordinates_coverage_is_what_the_notice_says():
    communes = [c for c in g.gazetteer().communes.values() if c.kind == "C"]
    with_coords = sum(1 for c in communes if c.has_coordinates)
    assert 34_000 < len(communes) < 36_000
    assert 0.2 < with_coords / len(communes) < 0.3
    for c in communes:
        if c.has_coordinates:
            assert -25 < c.lat < 52 and -180 < c.lon < 180


def test_fold():
    assert fold("Saint-Jean-de-Monts") == fold("St Jean de Monts") == "saint jean de monts"
    assert fold("Œuilly") == "oeuilly"
    assert joined("Les Sables-d'Olonne") == "lessablesdolonne"
    assert fold("  --  ") == ""


def test_malformed_data_file_is_reported_with_its_line():
    with pytest.raises(g.GazetteerError, match="line 2"):
        g._parse(
            "kind,code,parent,name,dep,region,postcodes,population,lat,lon\nC,1,,X,1,1,,abc,,\n"
        )
