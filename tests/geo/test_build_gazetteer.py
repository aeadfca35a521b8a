import gzip
import hashlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_gazetteer.py"


def _load():
    spec = importlib.util.spec_from_file_location("build_gazetteer", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_is_deterministic_and_joins_coordinates(tmp_path):
    build = _load()
    communes = tmp_path / "communes.json"
    communes.write_text(
        '[{"code":"44109","nom":"Nantes","departement":"44","region":"52",'
        '"type":"commune-actuelle","codesPostaux":["44000"],"population":1},'
        '{"code":"85001","nom":"Nouvelle","departement":"85","region":"52",'
        '"type":"commune-actuelle","codesPostaux":["85000"],"population":2},'
        '{"code":"85001","nom":"Vieux-Bourg","departement":"85","region":"52",'
        '"type":"commune-deleguee","chefLieu":"85001"}]',
        encoding="utf-8",
    )
    deps = tmp_path / "deps.json"
    deps.write_text('[{"code":"44","nom":"Loire-Atlantique"},{"code":"85","nom":"Vendée"}]')
    geonames = tmp_path / "rg.csv"
    geonames.write_text(
        "lat,lon,name,admin1,admin2,cc\n"
        "47.21725,-1.55336,Nantes,Pays de la Loire,Departement de la Loire-Atlantique,FR\n"
        "46.5,-1.5,Vieux Bourg,Pays de la Loire,Departement de la Vendee,FR\n"
        "10,10,Nantes,X,Y,ZZ\n",
        encoding="utf-8",
    )
    words = tmp_path / "words"
    words.write_text("nantes\nbourg\n", encoding="utf-8")
    out = tmp_path / "out" / "communes.csv.gz"
    args = ["--communes", str(communes), "--departements", str(deps), "--geonames", str(geonames),
            "--out", str(out), "--wordlist", str(words)]  # fmt: skip
    assert build.main(args) == 0
    first = hashlib.sha256(out.read_bytes()).hexdigest()
    assert build.main(args) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == first
    rows = gzip.decompress(out.read_bytes()).decode().splitlines()
    assert rows[1] == "C,44109,,Nantes,44,52,44000,1,47.21725,-1.55336"
    # The commune nouvelle takes the coordinates of its delegated chef-lieu.
    assert rows[2] == "C,85001,,Nouvelle,85,52,85000,2,46.50000,-1.50000"
    # Words of names ("bourg" in Vieux-Bourg), not only one-word names.
    assert (out.parent / "common_words.txt").read_text() == "bourg\nnantes\n"


def test_build_fails_clearly_without_word_lists(tmp_path):
    build = _load()
    with pytest.raises(SystemExit, match="word lists not found"):
        build.common_word_names([], [tmp_path / "missing"])
