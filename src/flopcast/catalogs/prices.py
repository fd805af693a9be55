"""Curated prices: chip purchase prices, cloud rental prices, electricity.

Selection rules follow Cottier et al. 2024 (arXiv 2405.21015, code
github.com/epoch-research/training-cost-trends, ``prices.py``):

* purchase price: rows for the chip's key, else its family; the earliest row that
  is a whole server (DGX-style, server already included), else the earliest row;
  acquisition no earlier than chip release + 90 days;
* cloud price: the vendor picked from the organization (Google/DeepMind -> Google
  Cloud, Microsoft/OpenAI -> Azure, else AWS; TPUs only on Google Cloud), the
  latest price on or before the lookup date (else the earliest after), in the
  requested tier; a missing tier is converted from another with the vendor's
  committed-use discount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from flopcast.catalogs._table import date, num, read_rows
from flopcast.catalogs.hardware import Hardware
from flopcast.errors import InvalidInputError, MissingInputError

TIERS = ("on-demand", "1y", "3y")
_TIER_COLUMN = {"on-demand": "on_demand", "1y": "one_year", "3y": "three_year"}
VENDORS = ("aws", "azure", "gcp", "lambda")


@dataclass(frozen=True)
class PurchasePrice:
    hardware: str
    date: dt.date
    price_usd_per_chip: float
    includes_server: bool
    source: str
    notes: str


@dataclass(frozen=True)
class CloudPrice:
    hardware: str
    vendor: str
    date: dt.date
    tier: str
    price_usd_per_chip_hour: float
    source: str
    notes: str


@lru_cache(maxsize=1)
def purchase_prices() -> tuple[PurchasePrice, ...]:
    rows, label = read_rows("purchase_prices.csv", required=("hardware", "date", "price_usd_per_chip", "includes_server", "source"))
    return tuple(
        PurchasePrice(
            r["hardware"].strip(), date(r, "date", label, required=True), num(r, "price_usd_per_chip", label, required=True),
            r["includes_server"].strip().lower() == "true", r["source"].strip(), (r.get("notes") or "").strip(),
        )
        for r in rows
    )


def purchase_price(hw: Hardware) -> PurchasePrice | None:
    """The purchase price Cottier's rule picks for ``hw``, or None if none is known."""
    rows = sorted((p for p in purchase_prices() if p.hardware in (hw.key, hw.family)), key=lambda p: p.date)
    if rows:
        servers = [p for p in rows if p.includes_server]
        return (servers or rows)[0]
    if hw.release_price_usd:
        return PurchasePrice(hw.key, hw.release_date or dt.date(1970, 1, 1), hw.release_price_usd, False,
                             hw.source, "release price from the hardware catalog")
    return None


@lru_cache(maxsize=1)
def _cloud_rows() -> tuple[dict, ...]:
    rows, label = read_rows("cloud_prices.csv", required=("hardware", "vendor", "date", "on_demand", "one_year", "three_year", "source"))
    out = []
    for r in rows:
        out.append({
            "hardware": r["hardware"].strip(), "vendor": r["vendor"].strip().lower(), "date": date(r, "date", label, required=True),
            "on_demand": num(r, "on_demand", label), "one_year": num(r, "one_year", label),
            "three_year": num(r, "three_year", label), "source": r["source"].strip(), "notes": (r.get("notes") or "").strip(),
        })
    return tuple(out)


@lru_cache(maxsize=1)
def cloud_discounts() -> dict[str, dict[str, float]]:
    rows, label = read_rows("cloud_discounts.csv", required=("vendor", "one_year", "three_year"))
    return {r["vendor"].strip(): {"1y": num(r, "one_year", label), "3y": num(r, "three_year", label)} for r in rows}


def vendor_for(organization: str, hw: Hardware) -> str:
    """Cottier's vendor rule: TPUs and Google/DeepMind on GCP, Microsoft/OpenAI on Azure, else AWS."""
    org = (organization or "").lower()
    if hw.is_tpu or "google" in org or "deepmind" in org:
        return "gcp"
    if "microsoft" in org or "openai" in org:
        return "azure"
    return "aws"


def _tier_price(row: dict, tier: str) -> float | None:
    direct = row[_TIER_COLUMN[tier]]
    if direct is not None:
        return direct
    disc = cloud_discounts().get(row["vendor"], cloud_discounts()["aws"])
    on_demand = row["on_demand"]
    if on_demand is None:
        for t in ("3y", "1y"):
            if row[_TIER_COLUMN[t]] is not None:
                on_demand = row[_TIER_COLUMN[t]] / (1 - disc[t])
                break
    if on_demand is None:
        return None
    return on_demand if tier == "on-demand" else on_demand * (1 - disc[tier])


def cloud_price(hw: Hardware, *, vendor: str | None = None, tier: str = "3y", on: dt.date | None = None,
                organization: str = "") -> CloudPrice:
    """A cloud price per chip-hour for ``hw`` (see the module docstring for the rule)."""
    if tier not in TIERS:
        raise InvalidInputError(f"cloud tier={tier!r} is not one of {', '.join(TIERS)}")
    if vendor is not None and vendor not in VENDORS:
        raise InvalidInputError(f"cloud vendor={vendor!r} is not one of {', '.join(VENDORS)}")
    preferred = vendor or vendor_for(organization, hw)
    order = [preferred] + ([] if hw.is_tpu or vendor else [v for v in ("aws", "azure", "gcp", "lambda") if v != preferred])
    for v in order:
        rows = [r for r in _cloud_rows() if r["hardware"] in (hw.key, hw.family) and r["vendor"] == v
                and _tier_price(r, tier) is not None]
        if not rows:
            continue
        # exact-variant rows win over family rows of the same date
        rows.sort(key=lambda r: (r["date"], r["hardware"] == hw.key))
        if on is not None:
            before = [r for r in rows if r["date"] <= on]
            row = before[-1] if before else rows[0]
        else:
            row = rows[-1]
        return CloudPrice(hw.key, v, row["date"], tier, _tier_price(row, tier), row["source"], row["notes"])
    raise MissingInputError(
        f"no {tier} cloud price for {hw.name} in the catalog; give price_usd_per_chip_hour (--price-per-chip-hour)"
    )


@lru_cache(maxsize=1)
def electricity_prices() -> dict[int, float]:
    rows, label = read_rows("electricity_prices.csv", required=("year", "usd_per_kwh", "source"))
    return {int(r["year"]): num(r, "usd_per_kwh", label, required=True) for r in rows}


def electricity_price_usd_per_kwh(year: int) -> float:
    """US industrial electricity price for ``year``, clamped to the years in the table."""
    table = electricity_prices()
    y = min(max(int(year), min(table)), max(table))
    return table[y]
