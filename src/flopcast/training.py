"""Training run stage functions: compute -> chip-hours -> time, memory, chips -> dollars.

All functions are array-in/array-out (floats, Monte Carlo sample arrays, or a
broadcast of both). The three cost methods follow Cottier et al. 2024, "The rising
costs of training frontier AI models" (arXiv 2405.21015); their constants live in
``catalogs/data/constants.csv`` with sources, not here.
"""

from __future__ import annotations

import math

import numpy as np

from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.units import (
    BYTES_PER_VALUE,
    HOURS_PER_YEAR,
    SECONDS_PER_HOUR,
    FloatOrArray,
    check_fraction,
    check_positive,
)

#: ln 10, for powers of ten as ``exp(x ln 10)``
LN10 = math.log(10.0)

# -- time and chips --------------------------------------------------------------


def chip_hours_from_compute(
    compute_flop: FloatOrArray, peak_flop_per_s: FloatOrArray, utilization: FloatOrArray
) -> np.ndarray:
    """Chip-hours to deliver ``compute_flop`` at ``utilization`` of ``peak_flop_per_s``."""
    check_positive("training_compute_flop", compute_flop)
    check_positive("peak_flop_per_s", peak_flop_per_s)
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    return (
        np.asarray(compute_flop, dtype=float)
        / (np.asarray(peak_flop_per_s, dtype=float) * utilization)
        / SECONDS_PER_HOUR
    )


def duration_s(chip_hours: FloatOrArray, chips: FloatOrArray) -> np.ndarray:
    """Wall-clock seconds for ``chip_hours`` spread over ``chips`` chips."""
    check_positive("chip_hours", chip_hours)
    check_positive("chips", chips)
    return np.asarray(chip_hours, dtype=float) / chips * SECONDS_PER_HOUR


def chips_for_deadline(chip_hours: FloatOrArray, deadline_s: FloatOrArray) -> np.ndarray:
    """Fewest whole chips that finish ``chip_hours`` of work within ``deadline_s``."""
    check_positive("chip_hours", chip_hours)
    check_positive("deadline_s", deadline_s)
    return np.maximum(np.ceil(np.asarray(chip_hours, dtype=float) * SECONDS_PER_HOUR / deadline_s - 1e-9), 1.0)


# -- memory ----------------------------------------------------------------------

#: Extra optimizer bytes per parameter beyond weights and gradients, by (optimizer,
#: whether weights are stored in 16 bits). Mixed-precision Adam keeps an fp32 master
#: copy plus two fp32 moments: 4 + 4 + 4 = 12 bytes, so with 2-byte weights and
#: 2-byte gradients a parameter costs 16 bytes (Rajbhandari et al. 2020, ZeRO,
#: arXiv 1910.02054, Sec. 3.1: "16 Psi bytes").
OPTIMIZER_BYTES_PER_PARAM = {
    ("adam", True): 12.0,  # fp32 master weights + momentum + variance
    ("adam", False): 8.0,  # fp32 training: momentum + variance
    ("sgd", True): 8.0,  # fp32 master + momentum
    ("sgd", False): 4.0,  # momentum
    ("adafactor", True): 4.0,  # fp32 master weights; factored moments are negligible
    ("adafactor", False): 0.0,
}
OPTIMIZERS = sorted({k[0] for k in OPTIMIZER_BYTES_PER_PARAM})

#: Activation bytes per layer per token, in units of d_model, for 16-bit activations
#: (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
#: Models", arXiv 2205.05198, Sec. 4: s*b*h*(34 + 5*a*s/h) bytes per layer with no
#: recomputation; 34*s*b*h with selective recomputation; 2*s*b*h, the layer input,
#: with full recomputation).
RECOMPUTE = ("none", "selective", "full")


def bytes_per_value(precision: str) -> float:
    try:
        return BYTES_PER_VALUE[precision]
    except KeyError:
        raise UnknownNameError("precision", precision, BYTES_PER_VALUE) from None


def model_state_bytes(params: FloatOrArray, precision: str = "bf16", optimizer: str = "adam") -> np.ndarray:
    """Weights + gradients + optimizer states, in bytes."""
    check_positive("params", params)
    w = bytes_per_value(precision)
    key = (optimizer, w < 4)
    if key not in OPTIMIZER_BYTES_PER_PARAM:
        raise UnknownNameError("optimizer", optimizer, OPTIMIZERS)
    return np.asarray(params, dtype=float) * (2 * w + OPTIMIZER_BYTES_PER_PARAM[key])


def activation_bytes(
    n_layers: FloatOrArray,
    d_model: FloatOrArray,
    context_length: FloatOrArray,
    *,
    micro_batch: FloatOrArray = 1,
    n_heads: FloatOrArray | None = None,
    recompute: str = "selective",
) -> np.ndarray:
    """Activation memory of one micro-batch in bytes, the whole model on one chip (16-bit activations): ``n_layers``
    x :func:`flopcast.parallelism.layer_activation_bytes` without parallelism (Korthikanti et al. 2022's GPT
    layer), with ``n_heads`` defaulting to ``d_model / 128``."""
    from flopcast.parallelism import layer_activation_bytes

    check_positive("n_layers", n_layers)
    check_positive("d_model", d_model)
    check_positive("context_length", context_length)
    check_positive("micro_batch", micro_batch)
    if recompute not in RECOMPUTE:
        raise UnknownNameError("recompute", recompute, RECOMPUTE)
    heads = n_heads if n_heads is not None else np.maximum(np.asarray(d_model, dtype=float) / 128.0, 1.0)
    return layer_activation_bytes(context_length, micro_batch, d_model, heads, recompute=recompute) * n_layers


def state_precision(precision: str | None) -> str:
    """The precision of the weights and gradients a run trains in: 32 bits for fp32/tf32 training, 16 for
    everything else (mixed precision keeps the fp32 master copy among the optimizer states)."""
    return "fp32" if precision in ("fp32", "tf32") else "bf16"


def min_chips_for_memory(
    memory_bytes: FloatOrArray, chip_memory_bytes: FloatOrArray, usable_fraction: FloatOrArray = 1.0
) -> np.ndarray:
    """Fewest chips whose combined memory holds ``memory_bytes`` (perfect sharding)."""
    check_positive("memory_bytes", memory_bytes)
    check_positive("chip_memory_bytes", chip_memory_bytes)
    check_fraction("usable_fraction", usable_fraction, what="the fraction of chip memory usable")
    return np.ceil(
        np.asarray(memory_bytes, dtype=float) / (np.asarray(chip_memory_bytes, dtype=float) * usable_fraction) - 1e-9
    )


# -- dollars -----------------------------------------------------------------------


def cloud_cost_usd(chip_hours: FloatOrArray, price_usd_per_chip_hour: FloatOrArray) -> np.ndarray:
    """Method (a), cloud rental: chip-hours x price per chip-hour."""
    check_positive("chip_hours", chip_hours)
    check_positive("price_usd_per_chip_hour", price_usd_per_chip_hour)
    return np.asarray(chip_hours, dtype=float) * price_usd_per_chip_hour


def depreciated_value_usd(
    value_usd: FloatOrArray, years: FloatOrArray, depreciation_oom_per_year: FloatOrArray
) -> np.ndarray:
    """Value after ``years`` of depreciation at the hardware price-performance rate.

    Hardware loses value as fast as new hardware gets cheaper per FLOP/s:
    ``value * 10 ** (-rate * years)`` (Cottier et al. 2024, with the rate of Hobbhahn
    et al. 2023). Negative ``years`` (training before acquisition) count as zero. The power is
    computed as ``exp(-rate * years * ln 10)``, the same number to a few units in the last place and
    about 5x faster than ``10.0 **`` on Monte Carlo sample arrays.

    >>> round(float(depreciated_value_usd(10_000.0, 2.0, 0.14)), 6)  # 10,000 x 10 ** -0.28
    5248.074602
    """
    check_positive("chip_price_usd", value_usd)
    check_positive("depreciation_oom_per_year", depreciation_oom_per_year)
    exponent = np.asarray(np.multiply(depreciation_oom_per_year, np.maximum(years, 0.0)), dtype=float)
    np.multiply(exponent, -LN10, out=exponent)
    return np.asarray(value_usd, dtype=float) * np.exp(exponent, out=exponent)


def amortization_per_chip_hour(depreciation_oom_per_year: FloatOrArray) -> np.ndarray:
    """Fraction of hardware value used up per chip-hour: ``rate * ln 10 / 8766``.

    At 0.14 orders of magnitude a year this is 3.677e-5 per hour (Cottier et al. 2024).
    """
    check_positive("depreciation_oom_per_year", depreciation_oom_per_year)
    return np.asarray(depreciation_oom_per_year, dtype=float) * math.log(10.0) / HOURS_PER_YEAR


def amortized_hardware_cost_usd(
    chip_hours: FloatOrArray,
    chip_price_usd: FloatOrArray,
    *,
    server_overhead: FloatOrArray = 1.0,
    interconnect_fraction: FloatOrArray = 0.19,
    years_held: FloatOrArray = 0.0,
    depreciation_oom_per_year: FloatOrArray = 0.14,
    cost_of_capital: FloatOrArray = 0.0,
) -> np.ndarray:
    """Method (b), capital part: the hardware value used up by the run.

    value per chip = price x server overhead / (1 - interconnect fraction), depreciated
    from acquisition to the training start, then amortized per chip-hour. A
    ``cost_of_capital`` r adds the return the tied-up value forgoes, ``value x ln(1 + r)``
    a year (0 in Cottier et al.'s method).
    """
    check_positive("chip_hours", chip_hours)
    check_positive("server_overhead", server_overhead)
    _check_interconnect(interconnect_fraction)
    check_cost_of_capital(cost_of_capital)
    value = depreciated_value_usd(chip_price_usd, years_held, depreciation_oom_per_year)
    value = value * server_overhead / (1.0 - np.asarray(interconnect_fraction, dtype=float))
    per_hour = amortization_per_chip_hour(depreciation_oom_per_year) + np.log1p(cost_of_capital) / HOURS_PER_YEAR
    return np.asarray(chip_hours, dtype=float) * value * per_hour


def capital_recovery_factor(cost_of_capital: FloatOrArray, years: FloatOrArray) -> np.ndarray:
    """The annual charge per dollar of capital over ``years``: ``r / (1 - (1 + r) ** -years)``, ``1 / years`` at r = 0.

    >>> round(float(capital_recovery_factor(0.08, 5)), 4)  # an 8%, 5-year annuity
    0.2505
    """
    check_positive("depreciation_years", years)
    check_cost_of_capital(cost_of_capital)
    r = np.asarray(cost_of_capital, dtype=float)
    n = np.asarray(years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = r / -np.expm1(-n * np.log1p(r))
    return np.where(r > 0, crf, 1.0 / n)


def straight_line_hardware_cost_usd(
    chip_hours: FloatOrArray,
    chip_price_usd: FloatOrArray,
    *,
    depreciation_years: FloatOrArray,
    server_overhead: FloatOrArray = 1.0,
    interconnect_fraction: FloatOrArray = 0.19,
    years_held: FloatOrArray = 0.0,
    cost_of_capital: FloatOrArray = 0.0,
) -> np.ndarray:
    """Method (b), capital part, straight-line: the cluster's value over its book life, per chip-hour.

    A chip-hour costs value x capital recovery factor(r, N) / 8,766 h, where value = price x
    server overhead / (1 - interconnect fraction) and N is the book life (1/N a year at r = 0,
    how hyperscalers book servers over 4-6 years). Hardware held past its book life is fully
    depreciated: it adds nothing.
    """
    check_positive("chip_hours", chip_hours)
    check_positive("chip_price_usd", chip_price_usd)
    check_positive("server_overhead", server_overhead)
    _check_interconnect(interconnect_fraction)
    value = np.asarray(chip_price_usd, dtype=float) * server_overhead / (1.0 - np.asarray(interconnect_fraction))
    per_year = value * capital_recovery_factor(cost_of_capital, depreciation_years)
    in_service = np.asarray(years_held, dtype=float) < np.asarray(depreciation_years, dtype=float)
    return np.asarray(chip_hours, dtype=float) * per_year / HOURS_PER_YEAR * in_service


def check_cost_of_capital(rate: FloatOrArray) -> None:
    """A cost of capital: an annual rate in [0, 1) (a number or an array of them)."""
    try:
        arr = np.asarray(rate, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"cost_of_capital={rate!r} is not a number; give an annual rate such as 0.08") from None
    bad = np.isnan(arr) | (arr < 0) | (arr >= 1)
    if bad.any():
        raise InvalidInputError(
            f"cost_of_capital={float(arr[bad].flat[0]):g} is outside [0, 1); it is an annual rate such as 0.08 for 8%"
        )


def energy_cost_usd(
    chip_hours: FloatOrArray,
    tdp_w: FloatOrArray,
    *,
    server_power_ratio: FloatOrArray,
    average_power_fraction: FloatOrArray,
    pue: FloatOrArray,
    usd_per_kwh: FloatOrArray,
) -> np.ndarray:
    """Method (b), energy part: the facility energy (:func:`flopcast.power.facility_energy_j`) x $/kWh."""
    from flopcast.power import J_PER_KWH, facility_energy_j

    check_positive("usd_per_kwh", usd_per_kwh)
    energy = facility_energy_j(
        chip_hours,
        tdp_w,
        server_power_ratio=server_power_ratio,
        average_power_fraction=average_power_fraction,
        pue=pue,
    )
    return energy / J_PER_KWH * usd_per_kwh


def acquisition_cost_usd(
    chips: FloatOrArray,
    chip_price_usd: FloatOrArray,
    *,
    server_overhead: FloatOrArray = 1.0,
    interconnect_fraction: FloatOrArray = 0.19,
) -> np.ndarray:
    """Method (c), up-front acquisition: chips x price x server overhead / (1 - interconnect)."""
    check_positive("chips", chips)
    check_positive("chip_price_usd", chip_price_usd)
    check_positive("server_overhead", server_overhead)
    _check_interconnect(interconnect_fraction)
    return (
        np.asarray(chips, dtype=float)
        * chip_price_usd
        * server_overhead
        / (1.0 - np.asarray(interconnect_fraction, dtype=float))
    )


def _check_interconnect(fraction: FloatOrArray) -> None:
    arr = np.asarray(fraction, dtype=float)
    if np.isnan(arr).any() or ((arr < 0) | (arr >= 1)).any():
        raise InvalidInputError(
            f"interconnect_fraction={float(np.ravel(arr)[0]):g} is outside [0, 1); it is the share of cluster cost"
        )


# -- development beyond the final run -------------------------------------------------
#
# Cottier et al. 2024 (arXiv 2405.21015), section 4: the compute of the experiments that lead to a model
# plus its final run is 1.2-4x the final run's (median 2.2), and R&D staff are 29-49% of the total
# amortized development cost of GPT-4 and Gemini Ultra (hardware 47-67%, energy 2-6%). docs/methods.md,
# "Development cost beyond the final run".


def _check_multiplier(experiments_multiplier: FloatOrArray) -> np.ndarray:
    m = np.asarray(experiments_multiplier, dtype=float)
    if np.isnan(m).any() or (m < 1).any() or np.isinf(m).any():
        bad = m[np.isnan(m) | (m < 1) | np.isinf(m)]
        raise InvalidInputError(
            f"experiments_multiplier={float(np.ravel(bad)[0]):g} is not allowed; it is (experiments + final run) / "
            "final run, a finite ratio >= 1"
        )
    return m


def experiments_cost_usd(final_run_usd: FloatOrArray, experiments_multiplier: FloatOrArray) -> np.ndarray:
    """The experiments before a final run: ``final x (multiplier - 1)``, USD (Cottier et al. 2024's multiplier
    is development compute / final-run compute)."""
    check_positive("final_run_usd", final_run_usd, allow_zero=True)
    m = _check_multiplier(experiments_multiplier)
    return np.asarray(final_run_usd, dtype=float) * (m - 1.0)


def development_compute_cost_usd(final_run_usd: FloatOrArray, experiments_multiplier: FloatOrArray) -> np.ndarray:
    """Hardware and energy of the whole development (experiments + final run): ``final x multiplier``, USD."""
    check_positive("final_run_usd", final_run_usd, allow_zero=True)
    return np.asarray(final_run_usd, dtype=float) * _check_multiplier(experiments_multiplier)


def _check_share(staff_share: FloatOrArray) -> np.ndarray:
    s = np.asarray(staff_share, dtype=float)
    bad = ~((s > 0) & (s < 1))
    if bad.any():
        raise InvalidInputError(
            f"staff_share={float(np.ravel(s[bad])[0]):g} is outside (0, 1); it is R&D staff's share of the total "
            "development cost (Cottier et al. 2024: 0.29-0.49)"
        )
    return s


def rd_staff_cost_usd(development_compute_usd: FloatOrArray, staff_share: FloatOrArray) -> np.ndarray:
    """R&D staff from their share ``s`` of the total development cost: ``compute x s / (1 - s)``, USD.

    With ``total = compute + staff`` and ``staff = s x total``, ``staff = compute x s / (1 - s)``; so
    ``staff / total`` is ``s`` exactly.
    """
    check_positive("development_compute_usd", development_compute_usd, allow_zero=True)
    s = _check_share(staff_share)
    return np.asarray(development_compute_usd, dtype=float) * s / (1.0 - s)


def total_development_cost_usd(development_compute_usd: FloatOrArray, staff_share: FloatOrArray) -> np.ndarray:
    """Hardware, energy and R&D staff of the whole development: ``compute / (1 - s)``, USD."""
    check_positive("development_compute_usd", development_compute_usd, allow_zero=True)
    return np.asarray(development_compute_usd, dtype=float) / (1.0 - _check_share(staff_share))
