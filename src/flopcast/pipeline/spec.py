"""What a run is: the input slots and their units, the user's values (:class:`RunSpec`), the
shared settings (:class:`Settings`) and the resolved :class:`Run`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

from flopcast import compute as C
from flopcast.catalogs.hardware import Hardware
from flopcast.datasets.records import ModelRecord
from flopcast.defaults import (
    CLOUD_TIERS,
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_UTILIZATION_PRIOR,
    DEPRECIATION_CHOICES,
    UTILIZATION_PRIOR_CHOICES,
)
from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.methods import METHOD_CHOICES, METHOD_NAMES, parse_methods
from flopcast.quantities import Quantity
from flopcast.uncertainty import Distribution

if TYPE_CHECKING:
    from pathlib import Path

    from flopcast.catalogs.price_index import PriceIndex
    from flopcast.datasets.database import Database

PROVENANCE = ("reported", "derived", "imputed", "default", "user")
HYPERSCALERS = ("google", "deepmind", "microsoft", "amazon", "meta", "facebook")

#: the uncertain input slots, in a fixed order: slot i always takes uniform column i, so a
#: model's draws do not depend on which other models or inputs a call has
SLOTS = (
    "params_per_token",
    "params",
    "tokens",
    "epochs",
    "n_layers",
    "d_attn",
    "context_length",
    "flop_convention",
    "training_compute_flop",
    "chip_hours",
    "chips",
    "training_time_hours",
    "utilization",
    "peak_flop_per_s",
    "price_usd_per_chip_hour",
    "chip_price_usd",
    "server_overhead",
    "interconnect_fraction",
    "depreciation_oom_per_year",
    "years_held",
    "tdp_w",
    "server_power_ratio",
    "average_power_fraction",
    "pue",
    "usd_per_kwh",
    # added after the first 25, so earlier slots keep their columns (and their draws)
    "grid_kg_co2e_per_kwh",
    "depreciation_years",
    "cost_of_capital",
)
_UNITS = {
    "params_per_token": "parameters",
    "params": "parameters",
    "tokens": "tokens",
    "epochs": "",
    "n_layers": "",
    "d_attn": "",
    "context_length": "tokens",
    "flop_convention": "ratio",
    "training_compute_flop": "FLOP",
    "chip_hours": "chip-hours",
    "chips": "chips",
    "training_time_hours": "hours",
    "utilization": "fraction",
    "peak_flop_per_s": "FLOP/s",
    "price_usd_per_chip_hour": "USD/chip-hour",
    "chip_price_usd": "USD",
    "server_overhead": "ratio",
    "interconnect_fraction": "fraction",
    "depreciation_oom_per_year": "OOM/year",
    "years_held": "years",
    "tdp_w": "W",
    "server_power_ratio": "ratio",
    "average_power_fraction": "fraction",
    "pue": "ratio",
    "usd_per_kwh": "USD/kWh",
    "grid_kg_co2e_per_kwh": "kg CO2e/kWh",
    "depreciation_years": "years",
    "cost_of_capital": "fraction/year",
}
#: physical bounds of sampled inputs whose interval reaches them: tails beyond are clipped
_BOUNDS = {
    "utilization": (1e-6, 1.0),
    "average_power_fraction": (0.0, 1.0),
    "pue": (1.0, np.inf),
    "interconnect_fraction": (0.0, 0.99),
}
OUTPUT_UNITS = {
    "training_compute_flop": "FLOP",
    "compute_from_params_flop": "FLOP",
    "compute_including_base_flop": "FLOP",
    "chip_hours": "chip-hours",
    "implied_utilization": "fraction",
    "duration_s": "s",
    "chips": "chips",
    "memory_bytes": "bytes",
    "min_chips": "chips",
    "peak_power_w": "W",
    "energy_chip_j": "J",
    "energy_facility_j": "J",
    "emissions_kg_co2e": "kg CO2e",
}
#: utilization implied by compute and hardware x time: above this a warning, above 1 an error
IMPLIED_MFU_WARNING = 0.7
#: below this, compute and hardware x time disagree too (a warning)
IMPLIED_MFU_LOW = 0.01


def check_book_life(years: float) -> None:
    """A straight-line book life: a number of years in [1, 30]."""
    if not isinstance(years, int | float) or not (1.0 <= float(years) <= 30.0):
        raise InvalidInputError(
            f"depreciation_years={years!r} is outside 1-30; it is the book life of the hardware in years "
            "(hyperscalers book servers over 4-6)"
        )


def check_grid_intensity(value: float) -> None:
    """A grid carbon intensity: kg CO2e per kWh in [0, 2] (coal plants emit about 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0.0 <= float(value) <= 2.0):
        raise InvalidInputError(
            f"grid={value!r} is outside 0-2 kg CO2e/kWh; give a region (such as us, eu, france) or a number "
            "such as 0.38"
        )


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class InputRecord:
    """One input of a run: its distribution, unit, provenance and source."""

    name: str
    value: Distribution
    unit: str
    provenance: str
    source: str = ""
    #: the value the published method uses (a constant's central value), else the median
    central: float | None = None

    def to_dict(self) -> dict:
        d = self.value
        out = {
            "name": self.name,
            "unit": self.unit,
            "provenance": self.provenance,
            "source": self.source,
            "median": d.median,
            "central": self.central,
            "distribution": d.describe(),
        }
        if not d.is_point:
            out["p5"], out["p95"] = d.interval(0.9)
        return out


@dataclass
class RunSpec:
    """What the user says about a run; every numeric field takes a number, an interval
    (``ci(low, high)``), another distribution or an array of samples (a :data:`~flopcast.quantities.Quantity`).
    None leaves the record's value."""

    params: Quantity | None = None
    params_active: Quantity | None = None
    tokens: Quantity | None = None
    epochs: Quantity | None = None
    n_layers: Quantity | None = None
    d_attn: Quantity | None = None
    context_length: Quantity | None = None
    training_compute_flop: Quantity | None = None
    hardware: str | None = None
    precision: str | None = None
    peak_flop_per_s: Quantity | None = None
    chips: Quantity | None = None
    training_time_hours: Quantity | None = None
    chip_hours: Quantity | None = None
    utilization: Quantity | None = None
    price_usd_per_chip_hour: Quantity | None = None
    chip_price_usd: Quantity | None = None
    organization: str | None = None
    start_date: dt.date | None = None
    publication_date: dt.date | None = None
    #: False: a new run of the record's model (the planner's), so its reported chips, time, chip-hours and
    #: utilization are not used; its compute, size and data are
    reported_run: bool = True

    def given(self) -> list[str]:
        return [f.name for f in fields(self) if f.name != "reported_run" and getattr(self, f.name) is not None]


@dataclass(frozen=True)
class Settings:
    """How to estimate: which methods, cloud tier and vendor, dollars, FLOP convention, memory model."""

    methods: tuple[str, ...] = METHOD_NAMES
    strict_methods: bool = False
    cloud_tier: str = DEFAULT_CLOUD_TIER
    cloud_vendor: str | None = None
    year_dollars: int | None = None
    #: the index for ``year_dollars`` (None: the database's)
    price_index: PriceIndex | None = None
    convention: C.FlopConvention = C.DEFAULT_CONVENTION
    optimizer: str = "adam"
    micro_batch: int = 1
    recompute: str = "selective"
    #: how the amortized method depreciates hardware (:data:`DEPRECIATION_CHOICES`)
    depreciation: str = DEFAULT_DEPRECIATION
    #: the book life of straight-line depreciation (None: the catalog's default)
    depreciation_years: float | None = None
    #: the annual cost of the capital tied up in hardware (0: none, Cottier et al.'s method)
    cost_of_capital: float = 0.0
    #: the grid: a region of the grid-intensity catalog or kg CO2e per kWh (None: the developer's country,
    #: else the world average)
    grid: str | float | None = None
    #: the MFU imputed where none is reported (:data:`~flopcast.defaults.UTILIZATION_PRIOR_CHOICES`)
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR

    @classmethod
    def from_options(
        cls,
        db: Database,
        *,
        method: str | Sequence[str] | None = DEFAULT_METHOD,
        cloud_tier: str = DEFAULT_CLOUD_TIER,
        cloud_vendor: str | None = None,
        year_dollars: int | None = None,
        price_index: PriceIndex | str | Path | None = None,
        attention: str = DEFAULT_ATTENTION,
        depreciation: str = DEFAULT_DEPRECIATION,
        depreciation_years: float | None = None,
        cost_of_capital: float = 0.0,
        grid: str | float | None = None,
        utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
    ) -> Settings:
        """The settings of the options every front-end shares, each checked (the field, the value, what is allowed).

        ``price_index``: a PriceIndex, a FRED-style CSV path, or None for the database's index; it needs
        ``year_dollars``.
        """
        from flopcast.catalogs.grid import grid_intensity
        from flopcast.catalogs.price_index import PriceIndex, load_price_index

        if isinstance(method, str) and method not in METHOD_CHOICES:
            raise InvalidInputError(f"method={method!r} is not one of {', '.join(METHOD_CHOICES)}")
        if cloud_tier not in CLOUD_TIERS:
            raise InvalidInputError(f"cloud_tier={cloud_tier!r} is not one of {', '.join(CLOUD_TIERS)}")
        db.price_book.check_vendor(cloud_vendor)
        if utilization_prior not in UTILIZATION_PRIOR_CHOICES:
            raise InvalidInputError(
                f"utilization_prior={utilization_prior!r} is not one of {', '.join(UTILIZATION_PRIOR_CHOICES)}"
            )
        if depreciation not in DEPRECIATION_CHOICES:
            raise InvalidInputError(f"depreciation={depreciation!r} is not one of {', '.join(DEPRECIATION_CHOICES)}")
        if depreciation_years is not None:
            if depreciation != "straight-line":
                raise InvalidInputError(
                    f"depreciation_years={depreciation_years:g} needs depreciation='straight-line' (--depreciation)"
                )
            check_book_life(depreciation_years)
        from flopcast.training import check_cost_of_capital

        check_cost_of_capital(cost_of_capital)
        if isinstance(grid, str):
            grid_intensity(grid)  # an unknown region is an error naming the known ones
        elif grid is not None:
            check_grid_intensity(grid)
        if price_index is not None and year_dollars is None:
            raise InvalidInputError(
                "a price index needs year_dollars (--year-dollars): the year whose dollars to express costs in"
            )
        index = None
        if year_dollars is not None:
            index = (
                price_index
                if isinstance(price_index, PriceIndex)
                else (load_price_index(price_index) if price_index is not None else db.price_index)
            )
            index.check_year(year_dollars)
        methods, strict = parse_methods(method)
        return cls(
            methods=methods,
            strict_methods=strict,
            cloud_tier=cloud_tier,
            cloud_vendor=cloud_vendor,
            year_dollars=year_dollars,
            price_index=index,
            convention=C.convention(attention),
            depreciation=depreciation,
            depreciation_years=depreciation_years,
            cost_of_capital=float(cost_of_capital),
            grid=grid,
            utilization_prior=utilization_prior,
        )


@dataclass(frozen=True)
class Architecture:
    """A model's shape beyond layers, width and context, as the memory per rank takes it
    (:func:`flopcast.parallelism.min_chips`): from the curated catalog."""

    n_heads: float
    #: KV heads / attention heads (grouped-query attention; 1 for multi-head)
    kv_ratio: float
    #: the feed-forward width / the attention width
    ffn_ratio: float
    #: a gated feed-forward block (SwiGLU, GeGLU: three matrices), trained without dropout as Llama-style models are
    gated_ffn: bool
    #: the vocabulary (0: unknown, the embedding's activations are left out)
    vocab: float


@dataclass
class Run:
    """A resolved run: inputs and how the stages combine them. Built by :func:`resolve`."""

    name: str
    key: str
    hardware: Hardware | None
    inputs: dict[str, InputRecord]
    #: how chip-hours are reached: "chip_hours" | "chips_time" | "compute" | None (compute only)
    path: str | None
    methods: tuple[str, ...]
    skipped_methods: dict[str, str]
    record: ModelRecord | None = None
    publication_date: dt.date | None = None
    start_date: dt.date | None = None
    inflation: float = 1.0
    dollars: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the compute a fine-tune's base model adds (Epoch's total), shown apart from the run's own
    compute_including_base_flop: float | None = None
    is_finetune: bool = False
    source: str = ""
    #: weights and gradients in 32 bits (fp32/tf32 training) or 16 bits (everything else)
    state_precision: str = "bf16"
    #: where the chip came from: "reported", "imputed" or "user" ("" without a chip), and why
    hardware_provenance: str = ""
    hardware_source: str = ""
    #: the shape terms beyond layers, width and context that the memory per rank uses (None: unknown)
    architecture: Architecture | None = None

    def has(self, name: str) -> bool:
        return name in self.inputs


class NotEstimable(MissingInputError):
    """A record from which no compute can be estimated; the message says why."""
