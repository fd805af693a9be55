"""Hardware questions: the chips and their prices at a date, two chips side by side at one date, and a
run planned across candidate chips.

Prices are the market's (:meth:`flopcast.catalogs.prices.PriceBook.market_cloud_price`): every dated
quote, moved to the date asked along the price-performance trend. The date defaults to today and is
always stated in the result.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flopcast.defaults import DEFAULT_CLOUD_TIER, DEFAULT_METHOD, DEFAULT_SAMPLES, DEFAULT_SAMPLING, DEFAULT_SEED
from flopcast.errors import InvalidInputError
from flopcast.quantities import QuantityInput
from flopcast.service.checks import (
    check_chips,
    check_count,
    check_date,
    check_duration,
    check_fraction,
    check_params,
    check_positive,
)
from flopcast.service.training import MoneyOptions, _check_sampling, as_input, database, days_to_hours, settings

if TYPE_CHECKING:
    from flopcast.catalogs.hardware import Hardware
    from flopcast.catalogs.prices import ChipPrices
    from flopcast.comparison import HardwareComparison
    from flopcast.datasets.database import Database
    from flopcast.planning import RunPlan

#: the chips ``hardware plan`` compares when none are named: the 2026 training chips of issue 15
DEFAULT_PLAN_CHIPS = ("h100", "h200", "b200", "mi300x", "tpu-v5p")
#: at most this many candidate chips in one plan
MAX_PLAN_CHIPS = 24


def hardware_list(
    *, all_chips: bool = False, search: str | None = None, data: str | None = None, db: Database | None = None
) -> list[Hardware]:
    """The curated chips (``all_chips``: every chip of the database), optionally those whose key or name has ``search``."""
    rows = [h for h in database(data, db).hardware if all_chips or h.origin != "epoch"]
    if search:
        s = search.lower()
        rows = [h for h in rows if s in h.key.lower() or s in h.name.lower()]
    return rows


def hardware_prices(
    hw: Hardware, *, when: dt.date | None = None, vendor: str | None = None, db: Database | None = None
) -> ChipPrices:
    """``hw``'s cloud prices (every tier) and purchase prices (per chip, per server) at ``when`` (default today)."""
    from flopcast.catalogs.prices import chip_prices

    check_date("date", when)
    db = database(None, db)
    db.price_book.check_vendor(vendor)
    return chip_prices(db.price_book, hw, when or dt.date.today(), vendor)


def hardware_details(
    name: str, *, when: dt.date | None = None, data: str | None = None, db: Database | None = None
) -> tuple[Hardware, str, ChipPrices]:
    """One chip (and how its name resolved) with its prices at ``when``."""
    db = database(data, db)
    hw, note = db.hardware.resolve(name)
    return hw, note, hardware_prices(hw, when=when, db=db)


def hardware_comparison(
    a: str,
    b: str,
    *,
    params: float = 175e9,
    precision: str | None = None,
    price_a: float | None = None,
    price_b: float | None = None,
    utilization: float = 1.0,
    tier: str = DEFAULT_CLOUD_TIER,
    when: dt.date | None = None,
    data: str | None = None,
    db: Database | None = None,
) -> HardwareComparison:
    """Chip ``b`` against chip ``a`` (every ratio b / a), behind ``flopcast hardware compare``: peak FLOP/s,
    memory, chips to hold the training state of a ``params`` model, and cost per FLOP
    (``price / (peak x utilization x 3600)``), both chips priced at the market's ``tier`` price of one date,
    ``when`` (default today).
    """
    from flopcast.comparison import compare_hardware
    from flopcast.defaults import CLOUD_TIERS

    check_params("params", params)
    check_positive("price_a", price_a)
    check_positive("price_b", price_b)
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    check_date("date", when)
    if tier not in CLOUD_TIERS:
        raise InvalidInputError(f"cloud_tier={tier!r} is not one of {', '.join(CLOUD_TIERS)}")
    db = database(data, db)
    return compare_hardware(
        a,
        b,
        params=params,
        precision=precision,
        price_a=price_a,
        price_b=price_b,
        utilization=utilization,
        tier=tier,
        catalog=db.hardware,
        price_book=db.price_book,
        when=when,
    )


def run_plan(
    hardware: list[str] | tuple[str, ...] = DEFAULT_PLAN_CHIPS,
    *,
    params: QuantityInput = None,
    tokens: QuantityInput = None,
    compute: QuantityInput = None,
    chips: QuantityInput = None,
    days: QuantityInput = None,
    utilization: QuantityInput = None,
    precision: str | None = None,
    start_date: dt.date | None = None,
    organization: str | None = None,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    money: MoneyOptions | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
) -> RunPlan:
    """One run (``params`` x ``tokens``, or ``compute``) on each candidate chip, behind ``flopcast hardware plan``.

    For each chip: the fewest chips that hold the training state, the time on ``chips`` chips (or the
    chips to finish within ``days``), the cost by each method, energy and peak power; each a
    ``training_estimate`` of the same run, so every number matches ``flopcast estimate`` with the
    same inputs.
    """
    from flopcast.planning import plan_run

    names = [h.strip() for h in hardware if h and h.strip()]
    if not names:
        raise InvalidInputError("hardware= names no chip; give one or more, such as h100,b200,tpu-v5p")
    if len(names) > MAX_PLAN_CHIPS:
        raise InvalidInputError(f"hardware= names {len(names)} chips; a plan compares at most {MAX_PLAN_CHIPS}")
    if compute is None and (params is None or tokens is None):
        raise InvalidInputError("a plan needs params and tokens (--params, --tokens) or compute (--compute)")
    if chips is not None and days is not None:
        raise InvalidInputError("give chips (the cluster size) or days (the deadline), not both")
    _check_sampling(samples, seed, DEFAULT_SAMPLING, 1_000_000)
    check_params("params", params)
    check_count("tokens", tokens, unit="tokens", one="token")
    check_count("compute", compute, unit="FLOP", one="FLOP")
    check_chips("chips", chips)
    check_duration("days", days, unit_s=86400.0, unit="days")
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    check_date("start_date", start_date)
    from flopcast.catalogs.hardware import PRECISIONS

    if precision is not None and precision.lower() not in PRECISIONS:  # a chip without it says so in its column
        raise InvalidInputError(f"precision={precision!r} is not one of {', '.join(PRECISIONS)}")
    db = database(data, db)
    s = settings(db, method=method, cloud_tier=cloud_tier, cloud_vendor=cloud_vendor, money=money)
    hours = days_to_hours(days)
    return plan_run(
        names,
        db,
        settings=s,
        params=as_input(params),
        tokens=as_input(tokens),
        compute=as_input(compute),
        chips=as_input(chips),
        hours=as_input(hours),
        utilization=as_input(utilization, fraction=True),
        precision=precision,
        start_date=start_date or dt.date.today(),
        organization=organization,
        samples=samples,
        seed=seed,
    )
