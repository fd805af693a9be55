"""Side-by-side hardware comparison: peak, memory, chips to hold a model, cost per FLOP, all at one date."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from flopcast import parallelism, training
from flopcast.catalogs.hardware import Hardware, HardwareCatalog, bundled_hardware
from flopcast.catalogs.prices import MissingPriceError, PriceBook, bundled_price_book
from flopcast.units import SECONDS_PER_HOUR, check_fraction, check_positive


@dataclass(frozen=True)
class HardwareComparison:
    """``b`` relative to ``a``: every ratio is b / a."""

    a: str
    b: str
    precision_a: str
    precision_b: str
    peak_flop_per_s_a: float
    peak_flop_per_s_b: float
    peak_flop_per_s_ratio: float
    memory_bytes_a: float | None
    memory_bytes_b: float | None
    memory_bytes_ratio: float | None
    memory_bandwidth_ratio: float | None
    params: float
    training_memory_bytes: float
    min_chips_a: float | None
    min_chips_b: float | None
    utilization: float
    price_usd_per_chip_hour_a: float | None
    price_usd_per_chip_hour_b: float | None
    price_source_a: str
    price_source_b: str
    usd_per_flop_a: float | None
    usd_per_flop_b: float | None
    #: how many times cheaper b is per delivered FLOP (a's $/FLOP over b's)
    cost_per_flop_advantage: float | None
    #: the one date both chips are priced at (the market's price then, :meth:`PriceBook.market_cloud_price`)
    date: dt.date | None = None
    tier: str = "on-demand"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["date"] = self.date.isoformat() if self.date else None
        return d


def _ratio(b: float | None, a: float | None) -> float | None:
    return None if a in (None, 0) or b is None else b / a


def _precision(hw: Hardware, given: str | None) -> str:
    """The precision ``hw``'s peak was read at: ``given``, else the chip's default."""
    p = given or hw.default_precision()
    assert p is not None  # hw.peak_flop_per_s(None) has raised for a chip without a default precision
    return p


def _price(hw: Hardware, given: float | None, tier: str, book: PriceBook, when: dt.date) -> tuple[float | None, str]:
    if given is not None:
        check_positive("price_usd_per_chip_hour", given)
        return float(given), "given"
    try:
        est = book.market_cloud_price(hw, when=when, tier=tier)
    except MissingPriceError as exc:
        return None, exc.reason
    return est.median_usd, f"{tier} {est.short()}"


def compare_hardware(
    a: str,
    b: str,
    *,
    params: float = 175e9,
    precision: str | None = None,
    price_a: float | None = None,
    price_b: float | None = None,
    utilization: float = 1.0,
    tier: str = "on-demand",
    catalog: HardwareCatalog | None = None,
    price_book: PriceBook | None = None,
    when: dt.date | None = None,
) -> HardwareComparison:
    """Compare chip ``b`` with chip ``a``.

    ``params`` sizes the model whose training state (16 bytes a parameter with
    mixed-precision Adam) must fit; prices default to the market's cloud price in ``tier``
    at one date for both chips, ``when`` (default today); cost per FLOP is price / (peak x
    utilization x 3600).
    """
    cat = catalog or bundled_hardware()
    book = price_book or bundled_price_book()
    when = when or dt.date.today()
    ha, hb = cat.get(a), cat.get(b)
    check_positive("params", params)
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    pa, pb = ha.peak_flop_per_s(precision), hb.peak_flop_per_s(precision)
    mem = float(training.model_state_bytes(params))
    # the training state alone (no shape, so no per-rank activations), sharded over every chip (ZeRO-3)
    chips_a = float(parallelism.min_chips_sharded(mem, ha.memory_bytes)) if ha.memory_bytes else None
    chips_b = float(parallelism.min_chips_sharded(mem, hb.memory_bytes)) if hb.memory_bytes else None
    price_a, src_a = _price(ha, price_a, tier, book, when)
    price_b, src_b = _price(hb, price_b, tier, book, when)
    upf_a = price_a / (pa * utilization * SECONDS_PER_HOUR) if price_a else None
    upf_b = price_b / (pb * utilization * SECONDS_PER_HOUR) if price_b else None
    return HardwareComparison(
        a=ha.name,
        b=hb.name,
        precision_a=_precision(ha, precision),
        precision_b=_precision(hb, precision),
        peak_flop_per_s_a=pa,
        peak_flop_per_s_b=pb,
        peak_flop_per_s_ratio=pb / pa,
        memory_bytes_a=ha.memory_bytes,
        memory_bytes_b=hb.memory_bytes,
        memory_bytes_ratio=_ratio(hb.memory_bytes, ha.memory_bytes),
        memory_bandwidth_ratio=_ratio(hb.memory_bandwidth_bytes_per_s, ha.memory_bandwidth_bytes_per_s),
        params=float(params),
        training_memory_bytes=mem,
        min_chips_a=chips_a,
        min_chips_b=chips_b,
        utilization=utilization,
        price_usd_per_chip_hour_a=price_a,
        price_usd_per_chip_hour_b=price_b,
        price_source_a=src_a,
        price_source_b=src_b,
        usd_per_flop_a=upf_a,
        usd_per_flop_b=upf_b,
        cost_per_flop_advantage=_ratio(upf_a, upf_b),
        date=when,
        tier=tier,
    )
