"""Grid carbon intensity by country or region (``data/grid_intensity.csv``), dated and cited.

A run's emissions are its facility energy times the intensity of the grid it draws from. The
default is the developer's country (Epoch's "Country (of organization)"), else the world
average; ``--grid`` picks a region and ``--grid-intensity`` gives a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flopcast.catalogs._table import num, read_rows
from flopcast.errors import CatalogError, UnknownNameError

#: the region used when a run's country is unknown or not in the catalog
WORLD = "world"

#: Epoch's spellings of countries whose catalog key is not the plain lower-case name
_COUNTRY_KEYS = {
    "united states of america": "us",
    "united states": "us",
    "usa": "us",
    "united kingdom of great britain and northern ireland": "uk",
    "united kingdom": "uk",
    "korea (republic of)": "south-korea",
    "republic of korea": "south-korea",
    "south korea": "south-korea",
    "united arab emirates": "uae",
    "russian federation": "russia",
    "iran (islamic republic of)": "iran",
    "european union": "eu",
}


@dataclass(frozen=True)
class GridIntensity:
    key: str
    name: str
    kg_co2e_per_kwh: float
    year: int
    source: str
    notes: str = ""


def _key(name: str) -> str:
    s = " ".join(name.strip().lower().split())
    return _COUNTRY_KEYS.get(s, re.sub(r"[^a-z0-9]+", "-", s).strip("-"))


@lru_cache(maxsize=1)
def grid_catalog() -> dict[str, GridIntensity]:
    """Every region of the bundled catalog, by key."""
    rows, label = read_rows("grid_intensity.csv", required=("key", "name", "kg_co2e_per_kwh", "year", "source"))
    out: dict[str, GridIntensity] = {}
    for r in rows:
        key = r["key"].strip()
        if key in out:
            raise CatalogError(f"{label} line {r['_line']}: region {key!r} appears twice")
        if not r["source"].strip():
            raise CatalogError(f"{label} line {r['_line']}: region {key!r} has no source")
        out[key] = GridIntensity(
            key,
            r["name"].strip(),
            num(r, "kg_co2e_per_kwh", label, required=True),
            int(num(r, "year", label, required=True)),
            r["source"].strip(),
            (r.get("notes") or "").strip(),
        )
    if WORLD not in out:
        raise CatalogError(f"{label}: the catalog needs a {WORLD!r} row, the default grid")
    return out


def grid_intensity(region: str) -> GridIntensity:
    """The grid of ``region`` (a key such as ``us`` or a country name as Epoch spells it)."""
    cat = grid_catalog()
    found = cat.get(_key(region))
    if found is None:
        raise UnknownNameError("grid", region, list(cat))
    return found


def grid_for_countries(countries: tuple[str, ...] | list[str]) -> GridIntensity | None:
    """The grid of the first of ``countries`` the catalog has (None when it has none of them)."""
    cat = grid_catalog()
    for c in countries:
        hit = cat.get(_key(c))
        if hit is not None:
            return hit
    return None
