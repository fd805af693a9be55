"""The registry of cost methods: one place that names them, what they need and their stage function.

Every list of method choices a user sees (CLI options, the web API's schema, the docs'
table in docs/methods.md) is derived from :data:`COST_METHODS`; a test keeps the docs in step.
The methods are those of Cottier et al. 2024 (arXiv 2405.21015), built from the stage
functions of :mod:`flopcast.training` (imported when a cost is computed, so listing the
methods stays light).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flopcast.errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np

#: a cost method's inputs by name: floats or (models x samples) arrays
Inputs = Mapping[str, Any]


@dataclass(frozen=True)
class CostMethod:
    name: str
    title: str
    description: str
    #: the inputs the stage function reads, besides chip-hours and the cluster size
    needs: tuple[str, ...]
    cost: Callable[[Inputs], np.ndarray]
    #: the cost grows with the time the cluster is held (rental, depreciation, energy); False for a purchase
    per_chip_hour: bool = True


def _cloud(v: Inputs) -> np.ndarray:
    from flopcast import training

    return training.cloud_cost_usd(v["chip_hours"], v["price_usd_per_chip_hour"])


def _hardware_value(v: Inputs) -> dict[str, Any]:
    return dict(server_overhead=v["server_overhead"], interconnect_fraction=v["interconnect_fraction"])


def _amortized(v: Inputs) -> np.ndarray:
    from flopcast import training

    common = dict(years_held=v["years_held"], cost_of_capital=v.get("cost_of_capital", 0.0), **_hardware_value(v))
    if "depreciation_years" in v:  # --depreciation straight-line
        hardware = training.straight_line_hardware_cost_usd(
            v["chip_hours"], v["chip_price_usd"], depreciation_years=v["depreciation_years"], **common
        )
    else:
        hardware = training.amortized_hardware_cost_usd(
            v["chip_hours"], v["chip_price_usd"], depreciation_oom_per_year=v["depreciation_oom_per_year"], **common
        )
    return hardware + _energy(v)


def _energy(v: Inputs) -> np.ndarray:
    """The run's facility energy (the pipeline's ``energy_facility_j``, made from the energy inputs this method
    needs by :func:`flopcast.power.facility_energy_j`) at the electricity price."""
    from flopcast.power import J_PER_KWH

    return v["energy_facility_j"] / J_PER_KWH * v["usd_per_kwh"]


def _acquisition(v: Inputs) -> np.ndarray:
    from flopcast import training

    return training.acquisition_cost_usd(v["chips"], v["chip_price_usd"], **_hardware_value(v))


_HARDWARE = ("chip_price_usd", "server_overhead", "interconnect_fraction")
_ENERGY = ("tdp_w", "server_power_ratio", "average_power_fraction", "pue", "usd_per_kwh")

COST_METHODS: dict[str, CostMethod] = {
    m.name: m
    for m in (
        CostMethod(
            "cloud",
            "Cloud rental",
            "chip-hours x the cloud price per chip-hour (3-year committed use by default)",
            ("price_usd_per_chip_hour",),
            _cloud,
        ),
        CostMethod(
            "amortized",
            "Amortized hardware + energy",
            "the share of the cluster's value (chips, servers, interconnect) used up by the run, depreciating "
            "at the hardware price-performance rate (or straight-line over a book life, with "
            "`--depreciation straight-line`), plus the energy it drew",
            (*_HARDWARE, "years_held", "depreciation_oom_per_year", *_ENERGY),
            _amortized,
        ),
        CostMethod(
            "acquisition",
            "Hardware acquisition",
            "the up-front price of every chip of the cluster, with servers and interconnect",
            _HARDWARE,
            _acquisition,
            per_chip_hour=False,
        ),
    )
}

#: the method names, in the order outputs list them
METHOD_NAMES: tuple[str, ...] = tuple(COST_METHODS)
#: what ``--method`` accepts: a method name or ``all``
METHOD_CHOICES: tuple[str, ...] = (*METHOD_NAMES, "all")


def parse_methods(method: str | Sequence[str] | None) -> tuple[tuple[str, ...], bool]:
    """``(methods, strict)``: ``None`` or ``"all"`` is every method, skipping those that lack an input;
    named methods must all be computable (``strict``)."""
    if method is None or method == "all":
        return METHOD_NAMES, False
    names = (method,) if isinstance(method, str) else tuple(method)
    for m in names:
        if m not in COST_METHODS:
            raise InvalidInputError(f"method={m!r} is not one of {', '.join(METHOD_CHOICES)}")
    return names, True


def markdown_table() -> str:
    """The methods table of docs/methods.md."""
    lines = ["| method | what it is | inputs it needs (besides chip-hours) |", "|---|---|---|"]
    for m in COST_METHODS.values():
        lines.append(f"| `{m.name}` | {m.title}: {m.description} | {', '.join(f'`{n}`' for n in m.needs)} |")
    return "\n".join(lines)


# -- development beyond the final run (flopcast.pipeline.development) ---------------------

#: where the experiments multiplier comes from: name -> (constant of constants.csv, what it is)
EXPERIMENT_BASES: dict[str, tuple[str, str]] = {
    "per-model": (
        "experiments_multiplier",
        "Cottier et al. 2024: the experiments that led to one model, 1.2-4x its final run (median 2.2)",
    ),
    "lab-wide": (
        "experiments_multiplier.lab_wide",
        "Epoch AI 2025-2026: a lab's whole R&D compute, 3.3-10x its final runs (final runs 10-30% of it)",
    ),
}
DEFAULT_EXPERIMENTS = "per-model"
EXPERIMENT_CHOICES: tuple[str, ...] = tuple(EXPERIMENT_BASES)


def check_experiments(experiments: str) -> str:
    """``experiments`` if it names a basis of :data:`EXPERIMENT_BASES`; else an InvalidInputError."""
    if experiments not in EXPERIMENT_BASES:
        raise InvalidInputError(f"experiments={experiments!r} is not one of {', '.join(EXPERIMENT_CHOICES)}")
    return experiments
