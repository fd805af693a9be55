"""Why one training run cost more than another: a cost ratio as a product of factors.

Every cost method of :mod:`flopcast.methods` is a run's chip-hours times a rate, its cost per
chip-hour (the cloud price; the amortized hardware and energy per chip-hour; for acquisition, the
cluster's price spread over the run's chip-hours), and chip-hours are the compute over the
delivered FLOP/s (:func:`flopcast.training.chip_hours_from_compute`)::

    cost = chip_hours x rate,   chip_hours = compute / (peak x utilization x 3600)

so the ratio of two runs' costs is exactly a product::

    cost_A / cost_B = (compute_A / compute_B) x (peak_B / peak_A) x (utilization_B / utilization_A)
                      x (rate_A / rate_B) x (memory_A / memory_B)

``memory`` is how much a run's cost rises because its chip count is raised to hold the model's
memory (1 where it is not raised). A faster chip or a better utilization of run A makes A cheaper,
so those two factors are B's value over A's. Each factor's *share* of the ratio is
``ln(factor) / ln(ratio)``: the shares of factors whose product is the ratio sum to 1.

The functions are pure and array-in/array-out: each argument is a float or a numpy array (Monte
Carlo samples, or one value per pair of runs), broadcast together.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flopcast.units import SECONDS_PER_HOUR, FloatOrArray, check_positive

#: the factors of a cost ratio, in the order they are multiplied (a waterfall draws them so)
FACTOR_NAMES = ("compute", "peak_flop_per_s", "utilization", "price_per_chip_hour", "memory_chips")


def implied_utilization(
    compute_flop: FloatOrArray, peak_flop_per_s: FloatOrArray, chip_hours: FloatOrArray
) -> np.ndarray:
    """The fraction of peak FLOP/s that delivers ``compute_flop`` in ``chip_hours``: compute / (peak x hours x 3600).

    Where chip-hours were derived from a utilization it is that utilization; where they were
    reported (chips x time, or chip-hours) it is the one the reported figures imply.
    """
    check_positive("training_compute_flop", compute_flop)
    check_positive("peak_flop_per_s", peak_flop_per_s)
    check_positive("chip_hours", chip_hours)
    return np.asarray(compute_flop, dtype=float) / (
        np.asarray(peak_flop_per_s, dtype=float) * np.asarray(chip_hours, dtype=float) * SECONDS_PER_HOUR
    )


def cost_per_chip_hour_usd(cost_usd: FloatOrArray, chip_hours: FloatOrArray) -> np.ndarray:
    """A cost method's rate: its cost over the run's chip-hours, USD per chip-hour."""
    check_positive("cost_usd", cost_usd)
    check_positive("chip_hours", chip_hours)
    return np.asarray(cost_usd, dtype=float) / np.asarray(chip_hours, dtype=float)


def cost_ratio_factors(
    *,
    compute_flop_a: FloatOrArray,
    compute_flop_b: FloatOrArray,
    peak_flop_per_s_a: FloatOrArray,
    peak_flop_per_s_b: FloatOrArray,
    utilization_a: FloatOrArray,
    utilization_b: FloatOrArray,
    price_usd_per_chip_hour_a: FloatOrArray,
    price_usd_per_chip_hour_b: FloatOrArray,
    memory_chip_factor_a: FloatOrArray = 1.0,
    memory_chip_factor_b: FloatOrArray = 1.0,
) -> dict[str, np.ndarray]:
    """The factors of cost(A) / cost(B), by name (:data:`FACTOR_NAMES`); their product is the ratio of
    ``compute / (peak x utilization) x price x memory`` of A to that of B.

    ``memory_chip_factor_*``: how much the run's cost is raised by a chip count raised for memory (1: not raised).
    """
    pairs = {
        "training_compute_flop": (compute_flop_a, compute_flop_b),
        "peak_flop_per_s": (peak_flop_per_s_a, peak_flop_per_s_b),
        "utilization": (utilization_a, utilization_b),
        "price_usd_per_chip_hour": (price_usd_per_chip_hour_a, price_usd_per_chip_hour_b),
        "memory_chip_factor": (memory_chip_factor_a, memory_chip_factor_b),
    }
    arr: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, (a, b) in pairs.items():
        check_positive(f"{name} of A", a)
        check_positive(f"{name} of B", b)
        arr[name] = (np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    c, p, u, r, m = arr.values()
    return {
        "compute": c[0] / c[1],
        "peak_flop_per_s": p[1] / p[0],  # a faster chip for A makes A cheaper
        "utilization": u[1] / u[0],
        "price_per_chip_hour": r[0] / r[1],
        "memory_chips": m[0] / m[1],
    }


def split_price_factor(
    price_factor: FloatOrArray, price_at_date_a: FloatOrArray, price_at_date_b: FloatOrArray
) -> tuple[np.ndarray, np.ndarray]:
    """``(chips, dates)``: a price factor rate_A / rate_B split at one common date.

    ``chips`` = rate_A(date) / rate_B(date), the two chips priced on the same day; ``dates`` =
    price_factor / chips, how much the runs' own dates move it (prices fall with time). Their
    product is ``price_factor``.
    """
    check_positive("price_per_chip_hour factor", price_factor)
    check_positive("price_usd_per_chip_hour at the date of A", price_at_date_a)
    check_positive("price_usd_per_chip_hour at the date of B", price_at_date_b)
    chips = np.asarray(price_at_date_a, dtype=float) / np.asarray(price_at_date_b, dtype=float)
    return chips, np.asarray(price_factor, dtype=float) / chips


def residual_factor(ratio: FloatOrArray, factors: Mapping[str, FloatOrArray]) -> np.ndarray:
    """What the named ``factors`` leave of ``ratio``: ratio / their product (1 when they are the whole ratio)."""
    check_positive("cost ratio", ratio)
    product = np.ones_like(np.asarray(ratio, dtype=float))
    for name, f in factors.items():
        check_positive(f"factor {name}", f)
        product = product * np.asarray(f, dtype=float)
    return np.asarray(ratio, dtype=float) / product


def log_shares(factors: FloatOrArray, ratio: FloatOrArray) -> np.ndarray:
    """Each factor's share of the log-ratio, ln(factor) / ln(ratio); NaN where the ratio is 1 (no log-ratio to share).

    ``factors`` is an array whose last axis runs over the factors (broadcast against ``ratio``).
    """
    check_positive("factors", factors)
    check_positive("cost ratio", ratio)
    lf = np.log(np.asarray(factors, dtype=float))
    lr = np.log(np.asarray(ratio, dtype=float))
    lr = np.expand_dims(lr, -1) if lf.ndim > np.ndim(lr) else lr
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(lr) > 1e-12, lf / np.where(lr == 0, 1.0, lr), np.nan)


__all__ = [
    "FACTOR_NAMES",
    "cost_per_chip_hour_usd",
    "cost_ratio_factors",
    "implied_utilization",
    "log_shares",
    "residual_factor",
    "split_price_factor",
]
