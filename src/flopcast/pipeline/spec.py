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
    DEFAULT_METHOD,
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
}
#: utilization implied by compute and hardware x time: above this a warning, above 1 an error
IMPLIED_MFU_WARNING = 0.7
#: below this, compute and hardware x time disagree too (a warning)
IMPLIED_MFU_LOW = 0.01


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

    def given(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


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
    ) -> Settings:
        """The settings of the options every front-end shares, each checked (the field, the value, what is allowed).

        ``price_index``: a PriceIndex, a FRED-style CSV path, or None for the database's index; it needs
        ``year_dollars``.
        """
        from flopcast.catalogs.price_index import PriceIndex, load_price_index
        from flopcast.catalogs.prices import VENDORS

        if isinstance(method, str) and method not in METHOD_CHOICES:
            raise InvalidInputError(f"method={method!r} is not one of {', '.join(METHOD_CHOICES)}")
        if cloud_tier not in CLOUD_TIERS:
            raise InvalidInputError(f"cloud_tier={cloud_tier!r} is not one of {', '.join(CLOUD_TIERS)}")
        if cloud_vendor is not None and cloud_vendor not in VENDORS:
            raise InvalidInputError(f"cloud_vendor={cloud_vendor!r} is not one of {', '.join(VENDORS)}")
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
        )


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

    def has(self, name: str) -> bool:
        return name in self.inputs


class NotEstimable(MissingInputError):
    """A record from which no compute can be estimated; the message says why."""
