"""Inflation adjustment through a price index.

The bundled series is the US CPI-U annual average (BLS), 2010-2024. A user's file in
the FRED format of Epoch's ``price_index_PCU518210518210.csv`` (``observation_date``
and one value column; monthly) can replace it; that producer price index for data
processing and hosting is the one Cottier et al. 2024 use.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flopcast.catalogs._table import read_rows
from flopcast.errors import CatalogError, InvalidInputError


@dataclass(frozen=True)
class PriceIndex:
    """A dated index series: ``points`` sorted by date, ``annual`` when one value a year."""

    name: str
    points: tuple[tuple[dt.date, float], ...]
    annual: bool
    source: str

    @property
    def first_year(self) -> int:
        return self.points[0][0].year

    @property
    def last_year(self) -> int:
        return self.points[-1][0].year

    def check_year(self, year: int) -> None:
        if not (self.first_year <= year <= self.last_year):
            raise InvalidInputError(
                f"year={year} is outside the price index {self.name} ({self.first_year}-{self.last_year}); "
                "choose a year in that range or give another index file (--price-index FILE)"
            )

    def value_at(self, when: dt.date | int) -> float:
        """The index for a date (latest observation on or before it) or a year (annual mean)."""
        if isinstance(when, int):
            self.check_year(when)
            vals = [v for d, v in self.points if d.year == when]
            return sum(vals) / len(vals)
        self.check_year(when.year)
        if self.annual:
            return self.value_at(when.year)
        before = [v for d, v in self.points if d <= when]
        return before[-1] if before else self.points[0][1]

    def factor(self, from_when: dt.date | int, to_when: dt.date | int) -> float:
        """Multiply dollars of ``from_when`` by this to get dollars of ``to_when``."""
        return self.value_at(to_when) / self.value_at(from_when)


@lru_cache(maxsize=1)
def bundled_price_index() -> PriceIndex:
    rows, _ = read_rows("cpi_u.csv", required=("year", "value", "source"))
    points = tuple((dt.date(int(r["year"]), 1, 1), float(r["value"])) for r in rows)
    return PriceIndex("CPI-U (BLS, annual average)", points, True, rows[0]["source"])


def load_price_index(path: str | Path) -> PriceIndex:
    """A FRED-style CSV: ``observation_date,<SERIES>`` with one value per date."""
    rows, label = read_rows(path=path, required=("observation_date",))
    from flopcast.catalogs._table import read_text_file

    header = next(csv.reader(io.StringIO(read_text_file(Path(path)))), [])
    value_cols = [c for c in header if c != "observation_date"]
    if len(value_cols) != 1:
        raise CatalogError(f"{label}: expected one value column beside observation_date, found {value_cols or 'none'}")
    col = value_cols[0]
    points = []
    for r in rows:
        raw = (r.get(col) or "").strip()
        if raw in ("", "."):
            continue  # FRED writes missing observations as '.'
        try:
            v = float(raw)
            d = dt.date.fromisoformat(r["observation_date"].strip()[:10])
        except ValueError:
            raise CatalogError(
                f"{label} line {r['_line']}: {r['observation_date']!r}, {raw!r} is not a date and a number"
            ) from None
        if not (math.isfinite(v) and v > 0):
            raise CatalogError(f"{label} line {r['_line']}: index value {raw!r} must be a positive number")
        points.append((d, v))
    if not points:
        raise CatalogError(f"{label}: no observations")
    points.sort()
    return PriceIndex(col, tuple(points), False, label)
