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

That is the published method (``cloud_vendor="organization"``). By default a cloud price is the
market's instead (:meth:`PriceBook.market_cloud_price`): every dated quote for the chip in the
tier, from every provider, moved to the date asked along the hardware price-performance trend;
the quotes nearest in time give the median and their spread the interval
(:func:`market_price`). :meth:`PriceBook.market_purchase_price` does the same for purchase
prices, per chip and per server.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flopcast.catalogs._table import date, num, read_rows
from flopcast.catalogs.hardware import Hardware
from flopcast.defaults import CLOUD_TIERS
from flopcast.errors import CatalogError, InvalidInputError, MissingInputError

if TYPE_CHECKING:
    from flopcast.datasets.epoch import EpochPrice
    from flopcast.uncertainty import LogNormal

TIERS = CLOUD_TIERS
#: the providers Cottier et al.'s rule picks from (``cloud_vendor="organization"``)
VENDORS = ("aws", "azure", "gcp", "lambda")
#: what ``cloud_vendor`` accepts besides a provider key: every quote (the default), Cottier et al.'s
#: provider from the developer, or the quotes of one kind of provider
MARKET = "market"
ORGANIZATION = "organization"
VENDOR_KINDS = ("hyperscaler", "neocloud", "marketplace")
VENDOR_RULES = (MARKET, ORGANIZATION, *VENDOR_KINDS)
_HYPERSCALERS = frozenset({"aws", "azure", "gcp", "oracle"})
_MARKETPLACES = frozenset({"vast", "salad"})
_VENDOR_NAMES = {
    "amazon web services": "aws",
    "aws": "aws",
    "microsoft azure": "azure",
    "azure": "azure",
    "google cloud": "gcp",
    "gcp": "gcp",
    "lambda labs": "lambda",
    "lambda": "lambda",
    "oracle cloud": "oracle",
    "vast.ai": "vast",
}
#: a chip family in a free-form name; Grace superchips (GB200, GH200) are families of their own, not B200 or H200
_FAMILY = re.compile(r"(tpu\s*v\d+[a-z]?|\bg[bh]\d{3}|[abhlkpvt]\d{1,3}[a-z]?|mi\d{3}x?|gaudi\s*\d)", re.I)


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
    """A provider's short key: ``Amazon Web Services`` -> ``aws``, ``Cudo Compute`` -> ``cudo-compute``."""
    s = (name or "").strip().lower()
    if s in _VENDOR_NAMES:
        return _VENDOR_NAMES[s]
    return re.sub(r"[^a-z0-9.]+", "-", s).strip("-")


def kind_of_vendor(vendor: str) -> str:
    """``hyperscaler``, ``neocloud`` or ``marketplace`` for a provider key (the curated rows say it themselves)."""
    if vendor in _HYPERSCALERS:
        return "hyperscaler"
    return "marketplace" if vendor in _MARKETPLACES else "neocloud"


class MissingPriceError(MissingInputError):
    """No price for a chip in the tables. ``reason`` says what is missing and the nearest dated price; the message
    adds how to give one."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"{reason}; give price_usd_per_chip_hour (--price-per-chip-hour)")


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
    spot: float | None = None
    #: hyperscaler, neocloud or marketplace ("" : from the vendor key)
    kind: str = ""

    def tier(self, tier: str) -> float | None:
        return {"on-demand": self.on_demand, "1y": self.one_year, "3y": self.three_year, "spot": self.spot}[tier]

    @property
    def vendor_kind(self) -> str:
        return self.kind or kind_of_vendor(self.vendor)


@dataclass(frozen=True)
class PriceQuote:
    """One dated price observation: a cloud price per chip-hour or a purchase price per chip."""

    hardware: str
    vendor: str
    date: dt.date
    price_usd: float
    source: str
    notes: str = ""


@dataclass(frozen=True)
class PriceEstimate:
    """A price at a date from the dated quotes (:func:`market_price`): a median and a 90% interval.

    ``quotes`` are the quotes used, each with its price moved to ``when`` along the trend
    (``adjusted``); ``nearest`` is the quote closest in time to ``when``.
    """

    hardware: str
    #: "cloud 3y", "purchase (chip)", "purchase (server, per chip)"...
    what: str
    when: dt.date
    median_usd: float
    low_usd: float
    high_usd: float
    #: log-standard deviation of the price (the interval is median x exp(+-1.645 sigma))
    sigma: float
    quotes: tuple[PriceQuote, ...]
    adjusted_usd: tuple[float, ...]
    nearest: PriceQuote
    #: "market", a vendor kind or a provider key
    vendor: str
    trend_oom_per_year: float

    @property
    def gap_days(self) -> int:
        """Days between ``when`` and the nearest quote."""
        return abs((self.when - self.nearest.date).days)

    @property
    def extrapolated(self) -> bool:
        """True when no quote lies within a year of ``when``: the price is the trend's."""
        return self.gap_days > _WINDOW_DAYS

    def vendors(self) -> list[str]:
        return sorted({q.vendor for q in self.quotes if q.vendor})

    def describe(self) -> str:
        """Where the price comes from, in one line."""
        dates = sorted(q.date for q in self.quotes)
        span = f"{dates[0]}" if dates[0] == dates[-1] else f"{dates[0]}..{dates[-1]}"
        who = ", ".join(self.vendors()) or "catalog"
        n = len(self.quotes)
        head = f"median of {n} {self.what} quotes ({who}; {span})" if n > 1 else f"{self.what} quote ({who}, {span})"
        tail = (
            f"; moved to {self.when} along the price-performance trend ({self.trend_oom_per_year:g} OOM/year)"
            if any(q.date != self.when for q in self.quotes)
            else ""
        )
        warn = (
            f"; no quote within a year of {self.when}: the nearest is {self.nearest.date} "
            f"({self._money(self.nearest.price_usd)}), so the price is the trend's"
            if self.extrapolated
            else ""
        )
        return head + tail + warn

    def _money(self, usd: float) -> str:
        from flopcast.formatting import format_usd

        return f"${usd:.2f}/h" if self.what.startswith("cloud") else format_usd(usd)

    def short(self) -> str:
        """``3y market, 6 quotes of 2025-03..2026-11`` (and ``, the trend's`` when extrapolated)."""
        dates = sorted(q.date for q in self.quotes)
        span = (
            f"{dates[0]:%Y-%m}"
            if f"{dates[0]:%Y-%m}" == f"{dates[-1]:%Y-%m}"
            else f"{dates[0]:%Y-%m}..{dates[-1]:%Y-%m}"
        )
        n = len(self.quotes)
        return f"{self.vendor}, {n} quote{'s' if n > 1 else ''} of {span}" + (
            f", moved {self.gap_days / 365.25:.1f} years along the trend" if self.extrapolated else ""
        )

    def distribution(self) -> LogNormal:
        from flopcast.uncertainty import LogNormal

        return LogNormal(math.log(self.median_usd), self.sigma)

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "date": self.when.isoformat(),
            "vendor": self.vendor,
            "median_usd": self.median_usd,
            "p5_usd": self.low_usd,
            "p95_usd": self.high_usd,
            "quotes": len(self.quotes),
            "nearest_quote": {
                "date": self.nearest.date.isoformat(),
                "vendor": self.nearest.vendor,
                "price_usd": self.nearest.price_usd,
                "source": self.nearest.source,
            },
            "extrapolated": self.extrapolated,
            "source": self.describe(),
        }


#: quotes within this many days of the date asked give the market price (else the nearest ones do)
_WINDOW_DAYS = 365
#: the least spread a market price gets: a log-sd of 0.1 (about +-18% at 90%)
_MIN_SIGMA = 0.1
_Z90 = 1.6448536269514722


def market_price(
    quotes: Sequence[PriceQuote],
    when: dt.date,
    *,
    what: str,
    vendor: str = MARKET,
    trend_oom_per_year: float = 0.14,
    trend_sd_oom_per_year: float = 0.0243,
) -> PriceEstimate | None:
    """The price at ``when`` from dated ``quotes``: None when there are none.

    Each quote's price is moved to ``when`` along the hardware price-performance trend
    (``price x 10 ** (-rate x years)``, the rate Cottier et al. depreciate hardware at), so a chip
    gets cheaper as newer chips arrive. The quotes within a year of ``when`` are used, or, when
    there are none, those within a year of the nearest quote. The median of the moved prices is
    the price; the interval is a lognormal whose log-sd combines their spread (at least 0.1) and
    the trend's own uncertainty over the years moved (``trend_sd_oom_per_year`` is the 0.10-0.18
    90% interval of the rate as a standard deviation).
    """
    if not quotes:
        return None
    gaps = [abs((when - q.date).days) for q in quotes]
    nearest_gap = min(gaps)
    reach = max(_WINDOW_DAYS, nearest_gap + _WINDOW_DAYS)
    used = [q for q, g in zip(quotes, gaps, strict=True) if g <= reach]
    years = [(when - q.date).days / 365.25 for q in used]
    adjusted = [q.price_usd * 10.0 ** (-trend_oom_per_year * y) for q, y in zip(used, years, strict=True)]
    logs = sorted(math.log(a) for a in adjusted)
    median = math.exp(statistics.median(logs))
    spread = 0.0
    if len(logs) >= 5:
        spread = (_quantile(logs, 0.95) - _quantile(logs, 0.05)) / (2 * _Z90)
    elif len(logs) >= 2:
        spread = statistics.stdev(logs)
    mean_years = statistics.fmean(abs(y) for y in years)
    drift = math.log(10.0) * trend_sd_oom_per_year * mean_years
    sigma = math.sqrt(max(spread, _MIN_SIGMA) ** 2 + drift**2)
    near_gap = min(abs((when - q.date).days) for q in used)
    closest = sorted((q for q in used if abs((when - q.date).days) == near_gap), key=lambda q: q.price_usd)
    nearest = closest[(len(closest) - 1) // 2]  # of the quotes on the nearest date, the middle one
    return PriceEstimate(
        hardware=used[0].hardware,
        what=what,
        when=when,
        median_usd=median,
        low_usd=median * math.exp(-_Z90 * sigma),
        high_usd=median * math.exp(_Z90 * sigma),
        sigma=sigma,
        quotes=tuple(used),
        adjusted_usd=tuple(adjusted),
        nearest=nearest,
        vendor=vendor,
        trend_oom_per_year=trend_oom_per_year,
    )


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values (numpy's default rule)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


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
        if direct is not None or tier == "spot":
            return direct
        kind = row.vendor_kind
        if kind == "marketplace":  # a marketplace sells by the hour: no committed-use tiers to convert to
            return None
        disc = self.discounts.get(row.vendor) or self.discounts.get(kind) or self.discounts["aws"]
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

    # -- the market: every dated quote, moved to the date asked along the trend ------------------

    def all_purchases(self) -> tuple[PurchasePrice, ...]:
        """Every purchase row of this book (and of the books it chains)."""
        return self.purchases

    def all_cloud(self) -> tuple[CloudRow, ...]:
        """Every cloud row of this book (and of the books it chains)."""
        return self.cloud

    def _cloud_index(self) -> dict[str, list[CloudRow]]:
        """The cloud rows by chip key or family (built once per book)."""
        cache = self.__dict__.get("_cloud_by_name")
        if cache is None:
            cache = {}
            for r in self.all_cloud():
                cache.setdefault(r.hardware, []).append(r)
            self.__dict__["_cloud_by_name"] = cache
        return cache

    def vendors(self) -> tuple[str, ...]:
        """The provider keys of the cloud rows."""
        cache = self.__dict__.get("_vendors")
        if cache is None:
            cache = self.__dict__["_vendors"] = tuple(sorted({r.vendor for r in self.all_cloud() if r.vendor}))
        return cache

    def check_vendor(self, vendor: str | None) -> None:
        """An InvalidInputError unless ``vendor`` is None, a rule (market, organization, a kind) or a provider."""
        if vendor is None or vendor in VENDOR_RULES or vendor in self.vendors():
            return
        raise InvalidInputError(
            f"cloud_vendor={vendor!r} is not one of {', '.join(VENDOR_RULES)} or a provider of the price tables "
            f"({', '.join(self.vendors())})"
        )

    def cloud_quotes(self, hw: Hardware, tier: str, vendor: str | None = MARKET) -> list[PriceQuote]:
        """The dated quotes for ``hw`` (its key or family) in ``tier``, from ``vendor``'s rows (every row by default).

        A quote missing the tier is converted from another with the provider's committed-use
        discount (Cottier et al.'s rule); repeated quotes (same provider, date and price) count once.
        """
        if tier not in TIERS:
            raise InvalidInputError(f"cloud tier={tier!r} is not one of {', '.join(TIERS)}")
        rule = vendor or MARKET
        cache = self.__dict__.setdefault("_quotes", {})
        key = (self._names(hw), tier, rule)
        if key not in cache:
            cache[key] = self._cloud_quotes(hw, tier, rule)
        return list(cache[key])

    def _cloud_quotes(self, hw: Hardware, tier: str, rule: str) -> list[PriceQuote]:
        seen: set[tuple[str, dt.date, float]] = set()
        out: list[PriceQuote] = []
        index = self._cloud_index()
        rows = [r for name in dict.fromkeys(self._names(hw)) for r in index.get(name, ())]
        for r in rows:
            if rule in VENDOR_KINDS and r.vendor_kind != rule:
                continue
            if rule not in (MARKET, *VENDOR_KINDS) and r.vendor != rule:
                continue
            price = self._tier_price(r, tier)
            if price is None or (r.vendor, r.date, round(price, 6)) in seen:
                continue
            seen.add((r.vendor, r.date, round(price, 6)))
            out.append(PriceQuote(hw.key, r.vendor, r.date, price, r.source, r.notes))
        return sorted(out, key=lambda q: (q.date, q.vendor, q.price_usd))

    def market_cloud_price(
        self, hw: Hardware, *, when: dt.date, tier: str = "3y", vendor: str | None = MARKET
    ) -> PriceEstimate:
        """The cloud price per chip-hour of ``hw`` at ``when`` (:func:`market_price` over :meth:`cloud_quotes`).

        A MissingInputError when the tables hold no quote for the chip in the tier (from that
        provider): the message names what is missing and the nearest dated price there is.
        """
        self.check_vendor(vendor)
        rule = vendor or MARKET
        rate, sd = _trend()
        est = market_price(
            self.cloud_quotes(hw, tier, rule),
            when,
            what=f"cloud {tier}",
            vendor=rule,
            trend_oom_per_year=rate,
            trend_sd_oom_per_year=sd,
        )
        if est is None:
            raise MissingPriceError(self._no_cloud_price(hw, tier, rule, when))
        return est

    def _no_cloud_price(self, hw: Hardware, tier: str, rule: str, when: dt.date) -> str:
        """What is missing, and the nearest dated quote there is: in the tier from any provider, else in another tier."""
        who = "" if rule == MARKET else f" from {rule}"
        head = f"no {tier} cloud price for {hw.name}{who} in the price tables"
        for t in ([tier] if rule != MARKET else []) + [t for t in TIERS if t != tier]:
            near = _nearest(self.cloud_quotes(hw, t, MARKET), when)
            if near is None:
                continue
            price = f"{near.date} (${near.price_usd:,.4g}/h)"
            if t == tier:
                return f"{head} (the nearest {tier} quote is {near.vendor}'s of {price})"
            return f"{head} (the nearest quote is {near.vendor}'s {t} price of {price})"
        return f"{head} (none for the {hw.family} family in any tier)"

    def purchase_quotes(self, hw: Hardware, *, server: bool) -> list[PriceQuote]:
        """Dated purchase quotes for ``hw`` (its key or family): whole-server prices per chip, or chip prices."""
        names = self._names(hw)
        seen: set[tuple[dt.date, float]] = set()
        out = []
        for p in self.all_purchases():
            if p.hardware in names and p.includes_server == server and (p.date, p.price_usd_per_chip) not in seen:
                seen.add((p.date, p.price_usd_per_chip))
                out.append(PriceQuote(hw.key, "", p.date, p.price_usd_per_chip, p.source, p.notes))
        return sorted(out, key=lambda q: (q.date, q.price_usd))

    def market_purchase_price(self, hw: Hardware, *, when: dt.date, server: bool) -> PriceEstimate | None:
        """The purchase price per chip of ``hw`` at ``when`` (a whole server's per chip with ``server``); None if unpriced."""
        rate, sd = _trend()
        what = "purchase (server, per chip)" if server else "purchase (chip)"
        return market_price(
            self.purchase_quotes(hw, server=server), when, what=what, trend_oom_per_year=rate, trend_sd_oom_per_year=sd
        )


def _trend() -> tuple[float, float]:
    """The price-performance trend prices move along: Cottier et al.'s depreciation rate (OOM/year) and the
    standard deviation of its 90% interval, read as normal."""
    from flopcast.catalogs import constants as K

    c = K.constant("depreciation_oom_per_year")
    sd = (c.high - c.low) / (2 * _Z90) if c.low is not None and c.high is not None else 0.0
    return c.value, sd


def _nearest(quotes: list[PriceQuote], when: dt.date) -> PriceQuote | None:
    return min(quotes, key=lambda q: abs((when - q.date).days)) if quotes else None


class _ChainedBook(PriceBook):
    def __init__(self, first: PriceBook, rest: PriceBook):
        super().__init__(first.purchases, first.cloud, rest.discounts, f"{first.label}+{rest.label}")
        self.first, self.rest = first, rest

    def all_purchases(self) -> tuple[PurchasePrice, ...]:
        return self.first.all_purchases() + self.rest.all_purchases()

    def all_cloud(self) -> tuple[CloudRow, ...]:
        return self.first.all_cloud() + self.rest.all_cloud()

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
    name say DGX, HGX or 8 GPUs is a whole server's, per chip; the others are chip prices.
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
                PurchasePrice(fam, r.date, r.purchase, _is_server(notes, r.hardware), r.source or "", notes)
            )
        if r.on_demand or r.one_year or r.three_year:
            cloud.append(
                CloudRow(
                    fam, vendor_key(r.vendor), r.date, r.on_demand, r.one_year, r.three_year, r.source or "", notes
                )
            )
    return purchases, cloud


_SERVER = re.compile(r"\b(dgx|hgx)\b|\b8\s*x?\s*gpus?\b", re.I)


def _is_server(notes: str, hardware: str) -> bool:
    """Whether an Epoch purchase row is a whole server's price per chip: its notes or name say DGX, HGX or 8 GPUs."""
    return bool(_SERVER.search(f"{notes} {hardware}"))


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
            num(r, "spot", label) if "spot" in r else None,
            _kind(r, label),
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


def _kind(row: dict, label: str) -> str:
    kind = (row.get("vendor_kind") or "").strip().lower()
    if kind and kind not in VENDOR_KINDS:
        raise CatalogError(f"{label} line {row['_line']}: vendor_kind={kind!r} is not one of {', '.join(VENDOR_KINDS)}")
    return kind


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
    for p in book.all_purchases():
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


@dataclass(frozen=True)
class ChipPrices:
    """A chip's prices at one date: the market's cloud price in each tier and its purchase prices.

    A price the tables cannot give is None, with the reason in ``missing`` (never a zero).
    """

    hardware: str
    when: dt.date
    cloud: dict[str, PriceEstimate | None]
    purchase_chip: PriceEstimate | None
    purchase_server: PriceEstimate | None
    missing: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        def one(e: PriceEstimate | None) -> dict[str, Any] | None:
            return e.to_dict() if e is not None else None

        return {
            "date": self.when.isoformat(),
            "cloud_usd_per_chip_hour": {t: one(e) for t, e in self.cloud.items()},
            "purchase_usd_per_chip": one(self.purchase_chip),
            "purchase_server_usd_per_chip": one(self.purchase_server),
            "missing": dict(self.missing),
        }


def chip_prices(book: PriceBook, hw: Hardware, when: dt.date, vendor: str | None = MARKET) -> ChipPrices:
    """Every price of ``hw`` at ``when``: cloud by tier (from ``vendor``'s quotes) and purchase per chip and server."""
    cloud: dict[str, PriceEstimate | None] = {}
    missing: dict[str, str] = {}
    for tier in TIERS:
        try:
            cloud[tier] = book.market_cloud_price(hw, when=when, tier=tier, vendor=vendor)
        except MissingPriceError as exc:
            cloud[tier] = None
            missing[f"cloud {tier}"] = exc.reason
    chip = book.market_purchase_price(hw, when=when, server=False)
    server = book.market_purchase_price(hw, when=when, server=True)
    if chip is None:
        missing["purchase (chip)"] = f"no chip purchase price for {hw.name} in the price tables"
    if server is None:
        missing["purchase (server)"] = f"no server purchase price for {hw.name} in the price tables"
    return ChipPrices(hw.key, when, cloud, chip, server, missing)
