"""Prices: chip purchase prices, cloud rental prices, electricity.

A :class:`PriceBook` holds purchase and cloud price rows. The bundled one is built
from the curated catalog; :func:`PriceBook.with_rows` adds rows from Epoch AI's price
table (see :mod:`flopcast.datasets.epoch`), which are looked up first.

Selection rules follow Cottier et al. 2024 (arXiv 2405.21015, code
github.com/epoch-research/training-cost-trends, ``prices.py``):

* purchase price: rows for the chip's key or family; the earliest row that is a
  whole server (DGX-style, server already included), else the earliest row;
  acquisition no earlier than chip release + 90 days;
* cloud price: the vendor picked from the organization (Google/DeepMind -> Google
  Cloud, Microsoft/OpenAI -> Azure, else AWS; TPUs only on Google Cloud), the
  latest price on or before the lookup date (else the earliest after), in the
  requested tier; a missing tier is converted from another with the vendor's
  committed-use discount.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flopcast.catalogs._table import date, num, read_rows
from flopcast.catalogs.hardware import Hardware
from flopcast.defaults import CLOUD_TIERS
from flopcast.errors import InvalidInputError, MissingInputError

if TYPE_CHECKING:
    from flopcast.datasets.epoch import EpochPrice

TIERS = CLOUD_TIERS
VENDORS = ("aws", "azure", "gcp", "lambda")
_VENDOR_NAMES = {
    "amazon web services": "aws",
    "aws": "aws",
    "microsoft azure": "azure",
    "azure": "azure",
    "google cloud": "gcp",
    "gcp": "gcp",
    "lambda labs": "lambda",
    "lambda": "lambda",
}
_FAMILY = re.compile(r"(tpu\s*v\d+[a-z]?|[abhlkpvt]\d{1,3}[a-z]?|mi\d{3}x?|gaudi\s*\d)", re.I)


#: variants whose letter suffix is not a family of its own (the V100S is a faster-clocked V100)
_FAMILY_OF_VARIANT = {"v100s": "v100"}


def family_token(name: str) -> str:
    """A chip family from a free-form name: ``NVIDIA Tesla V100 DGXS 32 GB`` -> ``v100``."""
    m = _FAMILY.search(name or "")
    if not m:
        return (name or "").strip().lower()
    token = re.sub(r"\s+", "", m.group(1).lower())
    token = token.replace("tpuv", "tpu-v")
    return _FAMILY_OF_VARIANT.get(token, token)


def vendor_key(name: str | None) -> str:
    s = (name or "").strip().lower()
    return _VENDOR_NAMES.get(s, s)


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


@dataclass(frozen=True)
class CloudRow:
    """One dated cloud price quote; any tier may be missing."""

    hardware: str
    vendor: str
    date: dt.date
    on_demand: float | None
    one_year: float | None
    three_year: float | None
    source: str
    notes: str = ""

    def tier(self, tier: str) -> float | None:
        return {"on-demand": self.on_demand, "1y": self.one_year, "3y": self.three_year}[tier]


class PriceBook:
    """Purchase and cloud price rows, with Cottier et al.'s lookup rules."""

    def __init__(
        self,
        purchases: tuple[PurchasePrice, ...],
        cloud: tuple[CloudRow, ...],
        discounts: dict[str, dict[str, float]],
        label: str = "bundled",
    ):
        self.purchases, self.cloud, self.discounts, self.label = purchases, cloud, discounts, label

    def with_rows(
        self, purchases: Iterable[PurchasePrice] = (), cloud: Iterable[CloudRow] = (), label: str = ""
    ) -> PriceBook:
        """A book whose extra rows are looked up before this one's."""
        return _ChainedBook(PriceBook(tuple(purchases), tuple(cloud), self.discounts, label or "extra"), self)

    def _names(self, hw: Hardware) -> tuple[str, ...]:
        return (hw.key, hw.family, family_token(hw.name))

    def purchase_price(self, hw: Hardware) -> PurchasePrice | None:
        """The purchase price Cottier's rule picks for ``hw``, or None if none is known."""
        names = self._names(hw)
        rows = sorted((p for p in self.purchases if p.hardware in names), key=lambda p: p.date)
        if rows:
            servers = [p for p in rows if p.includes_server]
            return (servers or rows)[0]
        if hw.release_price_usd:
            return PurchasePrice(
                hw.key,
                hw.release_date or dt.date(1970, 1, 1),
                hw.release_price_usd,
                False,
                hw.source,
                "release price from the hardware catalog",
            )
        return None

    def _tier_price(self, row: CloudRow, tier: str) -> float | None:
        direct = row.tier(tier)
        if direct is not None:
            return direct
        disc = self.discounts.get(row.vendor, self.discounts["aws"])
        on_demand = row.on_demand
        if on_demand is None:
            for t in ("3y", "1y"):
                committed = row.tier(t)
                if committed is not None:
                    on_demand = committed / (1 - disc[t])
                    break
        if on_demand is None:
            return None
        return on_demand if tier == "on-demand" else on_demand * (1 - disc[tier])

    def cloud_price(
        self,
        hw: Hardware,
        *,
        vendor: str | None = None,
        tier: str = "3y",
        on: dt.date | None = None,
        organization: str = "",
    ) -> CloudPrice:
        """A cloud price per chip-hour for ``hw`` (see the module docstring for the rule)."""
        if tier not in TIERS:
            raise InvalidInputError(f"cloud tier={tier!r} is not one of {', '.join(TIERS)}")
        if vendor is not None and vendor not in VENDORS:
            raise InvalidInputError(f"cloud vendor={vendor!r} is not one of {', '.join(VENDORS)}")
        found = self._find_cloud(hw, vendor, tier, on, organization)
        if found is None:
            raise MissingInputError(
                f"no {tier} cloud price for {hw.name} in the catalog; give price_usd_per_chip_hour (--price-per-chip-hour)"
            )
        return found

    def _find_cloud(
        self, hw: Hardware, vendor: str | None, tier: str, on: dt.date | None, organization: str
    ) -> CloudPrice | None:
        preferred = vendor or vendor_for(organization, hw)
        order = [preferred] + ([] if hw.is_tpu or vendor else [v for v in VENDORS if v != preferred])
        names = self._names(hw)
        for v in order:
            priced = [
                (r, price)
                for r in self.cloud
                if r.hardware in names and r.vendor == v and (price := self._tier_price(r, tier)) is not None
            ]
            if not priced:
                continue
            # exact-variant rows win over family rows of the same date
            priced.sort(key=lambda rp: (rp[0].date, rp[0].hardware == hw.key))
            if on is not None:
                before = [rp for rp in priced if rp[0].date <= on]
                row, price = before[-1] if before else priced[0]
            else:
                row, price = priced[-1]
            return CloudPrice(hw.key, v, row.date, tier, price, row.source, row.notes)
        return None


class _ChainedBook(PriceBook):
    def __init__(self, first: PriceBook, rest: PriceBook):
        super().__init__(first.purchases, first.cloud, rest.discounts, f"{first.label}+{rest.label}")
        self.first, self.rest = first, rest

    def purchase_price(self, hw: Hardware) -> PurchasePrice | None:
        return self.first.purchase_price(hw) if _has_purchase(self.first, hw) else self.rest.purchase_price(hw)

    def _find_cloud(
        self, hw: Hardware, vendor: str | None, tier: str, on: dt.date | None, organization: str
    ) -> CloudPrice | None:
        return PriceBook._find_cloud(self.first, hw, vendor, tier, on, organization) or self.rest._find_cloud(
            hw, vendor, tier, on, organization
        )


def _has_purchase(book: PriceBook, hw: Hardware) -> bool:
    names = book._names(hw)
    return any(p.hardware in names for p in book.purchases)


def epoch_price_rows(rows: Iterable[EpochPrice]) -> tuple[list[PurchasePrice], list[CloudRow]]:
    """Epoch price-table rows (:class:`~flopcast.datasets.epoch.EpochPrice`) -> purchase and cloud rows.

    Rows are filed under the chip's family (``NVIDIA A100 SXM4 40 GB`` -> ``a100``), as
    Cottier et al.'s code matches prices by family name. A purchase price whose notes or
    name say DGX is a whole server's, per chip; the others are chip prices.
    """
    purchases: list[PurchasePrice] = []
    cloud: list[CloudRow] = []
    for r in rows:
        if r.date is None or not r.hardware:
            continue
        fam = family_token(r.hardware)
        notes = r.notes or ""
        if r.purchase:
            purchases.append(
                PurchasePrice(fam, r.date, r.purchase, "dgx" in (notes + r.hardware).lower(), r.source or "", notes)
            )
        if r.on_demand or r.one_year or r.three_year:
            cloud.append(
                CloudRow(
                    fam, vendor_key(r.vendor), r.date, r.on_demand, r.one_year, r.three_year, r.source or "", notes
                )
            )
    return purchases, cloud


@lru_cache(maxsize=1)
def bundled_price_book() -> PriceBook:
    rows, label = read_rows(
        "purchase_prices.csv", required=("hardware", "date", "price_usd_per_chip", "includes_server", "source")
    )
    purchases = tuple(
        PurchasePrice(
            r["hardware"].strip(),
            date(r, "date", label, required=True),
            num(r, "price_usd_per_chip", label, required=True),
            r["includes_server"].strip().lower() == "true",
            r["source"].strip(),
            (r.get("notes") or "").strip(),
        )
        for r in rows
    )
    rows, label = read_rows(
        "cloud_prices.csv", required=("hardware", "vendor", "date", "on_demand", "one_year", "three_year", "source")
    )
    cloud = tuple(
        CloudRow(
            r["hardware"].strip(),
            vendor_key(r["vendor"]),
            date(r, "date", label, required=True),
            num(r, "on_demand", label),
            num(r, "one_year", label),
            num(r, "three_year", label),
            r["source"].strip(),
            (r.get("notes") or "").strip(),
        )
        for r in rows
    )
    rows, label = read_rows("cloud_discounts.csv", required=("vendor", "one_year", "three_year"))
    discounts = {
        r["vendor"].strip(): {
            "1y": num(r, "one_year", label, required=True),
            "3y": num(r, "three_year", label, required=True),
        }
        for r in rows
    }
    return PriceBook(purchases, cloud, discounts)


def vendor_for(organization: str, hw: Hardware) -> str:
    """Cottier's vendor rule: TPUs and Google/DeepMind on GCP, Microsoft/OpenAI on Azure, else AWS."""
    org = (organization or "").lower()
    if hw.is_tpu or "google" in org or "deepmind" in org:
        return "gcp"
    if "microsoft" in org or "openai" in org:
        return "azure"
    return "aws"


def purchase_price(hw: Hardware) -> PurchasePrice | None:
    """Purchase price from the bundled book."""
    return bundled_price_book().purchase_price(hw)


def cloud_price(hw: Hardware, **kwargs: Any) -> CloudPrice:
    """Cloud price from the bundled book."""
    return bundled_price_book().cloud_price(hw, **kwargs)


@lru_cache(maxsize=1)
def electricity_prices() -> dict[int, float]:
    rows, label = read_rows("electricity_prices.csv", required=("year", "usd_per_kwh", "source"))
    return {int(r["year"]): num(r, "usd_per_kwh", label, required=True) for r in rows}


def electricity_price_usd_per_kwh(year: int) -> float:
    """US industrial electricity price for ``year``, clamped to the years in the table."""
    table = electricity_prices()
    y = min(max(int(year), min(table)), max(table))
    return table[y]


def _all_purchases(book: PriceBook) -> list[PurchasePrice]:
    out: list[PurchasePrice] = []
    b: PriceBook | None = book
    while b is not None:
        out += list(b.first.purchases) if isinstance(b, _ChainedBook) else list(b.purchases)
        b = b.rest if isinstance(b, _ChainedBook) else None
    return out


def _trend_level(book: PriceBook, rate: float) -> float | None:
    """log10(FLOP/s per $) at 2000-01-01 on a trend of slope ``rate``: the median over the priced chips.

    Each purchase row's chip is found by family in the curated catalog; server prices are
    divided by the family's server overhead. Cached on the book.
    """
    import math
    import statistics

    from flopcast.catalogs import constants as K
    from flopcast.catalogs.hardware import bundled_hardware

    cache = book.__dict__.setdefault("_trend_level_cache", {})
    if rate in cache:
        return cache[rate]
    catalog = bundled_hardware()
    pts = []
    for p in _all_purchases(book):
        hw = catalog.find(family_token(p.hardware))
        if hw is None or hw.default_precision() is None:
            continue
        price = p.price_usd_per_chip / (K.constant("server_overhead", hw.family).value if p.includes_server else 1.0)
        years = (p.date - dt.date(2000, 1, 1)).days / 365.25
        pts.append(math.log10(hw.peak_flop_per_s() / price) - rate * years)
    level = statistics.median(pts) if pts else None
    cache[rate] = level
    return level


def trend_price(hw: Hardware, book: PriceBook, when: dt.date) -> PurchasePrice | None:
    """A chip price from the hardware price-performance trend, for chips with no price: peak / (FLOP/s per $).

    The trend's slope is the depreciation rate (0.14 orders of magnitude a year, Hobbhahn
    et al. 2023); its level is fitted to the chips in ``book`` that have purchase prices.
    """
    from flopcast.catalogs import constants as K

    rate = K.constant("depreciation_oom_per_year").value
    level = _trend_level(book, rate)
    found = hw.peak_for_cost()
    if level is None or found is None:
        return None
    years = (when - dt.date(2000, 1, 1)).days / 365.25
    price = found[0] / 10 ** (level + rate * years)
    return PurchasePrice(
        hw.key,
        when,
        price,
        False,
        "price-performance trend",
        f"price-performance trend ({rate} OOM/year, level fitted to the priced chips)",
    )
