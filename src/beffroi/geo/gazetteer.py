"""French communes gazetteer: INSEE code, names, postal codes, population, coordinates.

The data file (data/communes.csv.gz, rebuilt by scripts/build_gazetteer.py) is read once,
lazily, on the first lookup. Coordinates come from GeoNames places of 1,000+ inhabitants,
so only about a quarter of the communes have them: `nearest()` answers with the nearest
commune *whose coordinates are known* and says how far it is.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from beffroi.geo.text import fold

EARTH_RADIUS_KM = 6371.0088

KIND_LABELS = {
    "C": "commune",
    "A": "arrondissement municipal",
    "D": "commune déléguée",
    "S": "commune associée",
}


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    dep: str
    region: str
    postcodes: tuple[str, ...]
    population: int
    lat: float | None
    lon: float | None
    # C: current commune; A: municipal arrondissement (Paris, Lyon, Marseille);
    # D/S: delegated/associated former commune, whose `parent` is the current commune.
    kind: str = "C"
    parent: str = ""

    @property
    def current_code(self) -> str:
        """INSEE code of the current commune this entry belongs to."""
        return self.parent if self.kind in ("D", "S") and self.parent else self.code

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


class GazetteerError(ValueError):
    """The gazetteer data file is missing or malformed."""


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    la, lo = math.radians(lat), math.radians(lon)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Gazetteer:
    def __init__(self, entries: list[Commune]) -> None:
        self.entries = entries
        self.communes: dict[str, Commune] = {}
        self.former: list[Commune] = []
        postcodes: dict[str, list[Commune]] = {}
        names: dict[str, list[Commune]] = {}
        for e in entries:
            if e.kind in ("C", "A"):
                self.communes[e.code] = e
            else:
                self.former.append(e)
            if e.kind == "C":
                for pc in e.postcodes:
                    postcodes.setdefault(pc, []).append(e)
            names.setdefault(fold(e.name), []).append(e)
        order = {"C": 0, "A": 1, "D": 2, "S": 3}
        self._by_postcode = {
            k: tuple(sorted(v, key=lambda c: (-c.population, c.code))) for k, v in postcodes.items()
        }
        self._by_name = {
            k: tuple(sorted(v, key=lambda c: (order[c.kind], -c.population, c.code)))
            for k, v in names.items()
        }
        self._tree: Any = None
        self._tree_communes: list[Commune] = []

    def by_code(self, code: str) -> Commune | None:
        """Current commune or municipal arrondissement with this INSEE code."""
        return self.communes.get(code.strip().upper())

    def by_postcode(self, postcode: str) -> tuple[Commune, ...]:
        """Current communes served by this postal code, most populous first."""
        return self._by_postcode.get(postcode.strip(), ())

    def by_name(self, name: str, *, include_former: bool = True) -> tuple[Commune, ...]:
        """Entries whose folded name equals the folded query (accent/case/hyphen-insensitive).

        Current communes come first (most populous first), then municipal arrondissements,
        then former (delegated/associated) communes, whose `current_code` is the commune
        they now belong to.
        """
        found = self._by_name.get(fold(name), ())
        if include_former:
            return found
        return tuple(c for c in found if c.kind in ("C", "A"))

    def names(self) -> dict[str, tuple[Commune, ...]]:
        """Folded name -> entries; the geocoder builds its matcher from this."""
        return self._by_name

    def in_department(self, dep: str) -> list[Commune]:
        return [c for c in self.communes.values() if c.dep == dep and c.kind == "C"]

    def nearest(
        self, lat: float, lon: float, *, max_km: float | None = 50.0
    ) -> tuple[Commune, float] | None:
        """Nearest current commune with known coordinates, and its distance in km.

        None when the point is farther than `max_km` from every known commune (a point
        abroad, at sea, or a commune too small to be in GeoNames' 1,000+ places).
        """
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or math.isnan(lat + lon):
            raise ValueError(f"coordonnées invalides : lat={lat}, lon={lon}")
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree_communes = [
                c for c in self.communes.values() if c.kind == "C" and c.has_coordinates
            ]
            points = [_unit_vector(c.lat, c.lon) for c in self._tree_communes]  # type: ignore[arg-type]
            self._tree = cKDTree(points)
        _, index = self._tree.query(_unit_vector(lat, lon))
        best = self._tree_communes[int(index)]
        km = haversine_km(lat, lon, best.lat, best.lon)  # type: ignore[arg-type]
        if max_km is not None and km > max_km:
            return None
        return best, km


def _parse(text: str) -> list[Commune]:
    reader = csv.DictReader(io.StringIO(text))
    entries: list[Commune] = []
    for line, row in enumerate(reader, start=2):
        try:
            entries.append(
                Commune(
                    code=row["code"],
                    name=row["name"],
                    dep=row["dep"],
                    region=row["region"],
                    postcodes=tuple(row["postcodes"].split()),
                    population=int(row["population"] or 0),
                    lat=float(row["lat"]) if row["lat"] else None,
                    lon=float(row["lon"]) if row["lon"] else None,
                    kind=row["kind"],
                    parent=row["parent"],
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise GazetteerError(f"communes.csv.gz line {line}: {exc}") from exc
    return entries


@cache
def gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded on first use and shared afterwards."""
    data = resources.files("beffroi.geo").joinpath("data/communes.csv.gz").read_bytes()
    return Gazetteer(_parse(gzip.decompress(data).decode("utf-8")))


def by_code(code: str) -> Commune | None:
    return gazetteer().by_code(code)


def by_postcode(postcode: str) -> tuple[Commune, ...]:
    return gazetteer().by_postcode(postcode)


def by_name(name: str, *, include_former: bool = True) -> tuple[Commune, ...]:
    return gazetteer().by_name(name, include_former=include_former)


def nearest(lat: float, lon: float, *, max_km: float | None = 50.0) -> tuple[Commune, float] | None:
    return gazetteer().nearest(lat, lon, max_km=max_km)
