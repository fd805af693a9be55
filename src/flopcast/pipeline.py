"""The one estimation pipeline: a model record (or a user's run) in, a typed estimate out.

Every front-end estimates through here: ``estimate NAME`` is the batch of one, so it is
exactly NAME's row of ``costs``, with the same inputs, the same imputation and, for the same
seed and sample count, the same numbers. Two steps:

1. :func:`resolve` turns a :class:`~flopcast.datasets.records.ModelRecord` and the user's values
   (:class:`RunSpec`) into a :class:`Run`: each input a distribution with its unit,
   provenance (``reported``, ``derived``, ``imputed``, ``default`` or ``user``) and source,
   the route to chip-hours, the cost methods the inputs allow, and notes. No numbers are
   drawn here and no algorithm lives here: the stage functions of :mod:`flopcast.compute`,
   :mod:`flopcast.training` and :mod:`flopcast.methods` do the arithmetic.
2. :func:`evaluate` draws every input slot once per sample index (:class:`Draws`, shared by
   all runs of a call, so a run's numbers do not depend on the other runs), passes
   (models x samples) arrays through the stage functions in chunks, and summarizes each run
   into a :class:`TrainingEstimate`.

The evidence sets each interval (docs/methods.md, "Intervals from the evidence"):
published parameters and tokens give compute only the spread between counting conventions;
otherwise Epoch's bounds, else its confidence level, else Cottier et al.'s x1/3-3.
Reported chip-hours, chip counts and training times get narrow intervals; imputed ones wide.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from flopcast import compute as C
from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.catalogs.hardware import Hardware
from flopcast.catalogs.prices import electricity_price_usd_per_kwh, trend_price
from flopcast.defaults import (
    CLOUD_TIERS,
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    SAMPLING_CHOICES,
)
from flopcast.errors import FlopcastError, InvalidInputError, MissingInputError
from flopcast.methods import COST_METHODS, METHOD_CHOICES, METHOD_NAMES, parse_methods
from flopcast.datasets.records import ModelRecord
from flopcast.uncertainty import Distribution, LogNormal, Normal, Point, Summary, as_distribution
from flopcast.uncertainty.sampling import check_samples, make_rng, uniforms
from flopcast.uncertainty.sensitivity import SensitivityRow, sensitivity
from flopcast.units import DAYS_PER_YEAR, SECONDS_PER_HOUR

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


#: a run's numeric input: a number, a distribution (``ci(low, high)``, ``lognormal(...)``) or sample array
Value = float | int | Distribution | np.ndarray | None


@dataclass
class RunSpec:
    """What the user says about a run; every numeric field takes a number, an interval
    (``ci(low, high)``) or another distribution. None leaves the record's value."""

    params: Value = None
    params_active: Value = None
    tokens: Value = None
    epochs: Value = None
    n_layers: Value = None
    d_attn: Value = None
    context_length: Value = None
    training_compute_flop: Value = None
    hardware: str | None = None
    precision: str | None = None
    peak_flop_per_s: Value = None
    chips: Value = None
    training_time_hours: Value = None
    chip_hours: Value = None
    utilization: Value = None
    price_usd_per_chip_hour: Value = None
    chip_price_usd: Value = None
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
    price_index: Any = None
    convention: C.FlopConvention = C.DEFAULT_CONVENTION
    optimizer: str = "adam"
    micro_batch: int = 1
    recompute: str = "selective"

    @classmethod
    def from_options(
        cls,
        db,
        *,
        method: str | Sequence[str] | None = DEFAULT_METHOD,
        cloud_tier: str = DEFAULT_CLOUD_TIER,
        cloud_vendor: str | None = None,
        year_dollars: int | None = None,
        price_index=None,
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


# ----------------------------------------------------------------------------- resolution


def _factor(name: str, variant: str | None = None) -> Distribution:
    return K.constant(name, variant).distribution()


def _scaled(value: float, factor: Distribution) -> Distribution:
    """``value`` times a lognormal (or point) factor around 1, as one distribution."""
    if isinstance(factor, Point):
        return Point(value * factor.value)
    if isinstance(factor, LogNormal):
        return LogNormal(math.log(value) + factor.mu, factor.sigma)
    raise InvalidInputError(f"cannot scale {value:g} by {factor.describe()}")


def _compute_interval(r: ModelRecord, value: float, counted: bool) -> tuple[Distribution, str]:
    """The interval of a reported training compute, from the evidence behind it."""
    if counted:
        return _scaled(value, _factor("flop_convention_factor")), (
            "published parameters and tokens: only the spread between FLOP-counting conventions"
        )
    lo, hi = r.compute_lower_flop, r.compute_upper_flop
    z = 1.6448536269514722
    if lo and hi and lo < value < hi:
        sigma = max(math.log(hi / value), math.log(value / lo)) / z
        return LogNormal(math.log(value), sigma), f"Epoch's bounds {lo:.3g}-{hi:.3g} FLOP as a 90% interval"
    if hi and hi > value and not lo:
        return LogNormal(
            math.log(value), math.log(hi / value) / z
        ), f"Epoch's upper bound {hi:.3g} FLOP as the 95th percentile"
    if lo and lo < value and not hi:
        return LogNormal(
            math.log(value), math.log(value / lo) / z
        ), f"Epoch's lower bound {lo:.3g} FLOP as the 5th percentile"
    if r.confidence in ("confident", "likely", "speculative"):
        c = K.constant("compute_confidence_factor", r.confidence)
        return _scaled(value, c.distribution()), f"Epoch's confidence '{r.confidence}': x{c.low:.3g}-{c.high:.3g}"
    c = K.constant("training_compute_factor")
    return _scaled(value, c.distribution()), (
        f"no confidence level or bounds: Cottier et al.'s x{c.low:.3g}-{c.high:.3g}"
    )


def _counted(r: ModelRecord | None) -> bool:
    """Published parameters and tokens stand behind the compute: a confident record whose parameters and tokens are
    curated (with their citation) or whose compute Epoch counted from them ("Operation counting")."""
    if r is None or not (r.params_per_token and r.training_tokens):
        return False
    if r.confidence != "confident":
        return False
    curated = r.source_of("training_tokens").startswith("curated") and r.source_of("parameters").startswith("curated")
    return curated or "Operation counting" in r.estimation_method


def _is_hyperscaler(org: str) -> bool:
    org = (org or "").lower()
    return any(h in org for h in HYPERSCALERS)


class _Resolver:
    """Builds one :class:`Run`; every rule is a method so the order reads top to bottom."""

    def __init__(self, record: ModelRecord | None, spec: RunSpec, settings: Settings, db):
        self.r, self.spec, self.s, self.db = record, spec, settings, db
        self.inputs: dict[str, InputRecord] = {}
        self.notes: list[str] = list(record.notes) if record else []
        self.warnings: list[str] = []
        self.skipped: dict[str, str] = {}

    # -- helpers ----------------------------------------------------------------------------
    def add(self, name, value, provenance, source="", central=None):
        dist = as_distribution(value, name)
        if central is None:
            central = dist.value if isinstance(dist, Point) else float(dist.median)
        self.inputs[name] = InputRecord(name, dist, _UNITS[name], provenance, source, float(central))

    def user(self, attr: str):
        return getattr(self.spec, attr)

    def rec(self, attr: str):
        return getattr(self.r, attr) if self.r is not None else None

    def rec_source(self, attr: str) -> str:
        return self.r.source_of(attr) if self.r is not None else ""

    # -- the run ----------------------------------------------------------------------------
    def build(self) -> Run:
        r, spec = self.r, self.spec
        self.name = r.name if r else "custom run"
        self.key = r.key if r else "custom"
        self.pub = spec.publication_date or (r.publication_date if r else None)
        self.organization = spec.organization or (", ".join(r.organizations) if r else "")
        self.finetune = bool(r and r.is_finetune)
        self.precision = spec.precision
        self._hardware()
        self._size_and_data()
        self._compute()
        self._check_compute_routes()
        self._hardware_time()
        self._route()
        self._dates()
        for m in self.s.methods:
            try:
                getattr(self, f"_{m}_inputs")()
            except MissingInputError as exc:
                if self.s.strict_methods:
                    raise
                self.skipped[m] = str(exc)
        methods = tuple(m for m in self.s.methods if m not in self.skipped)
        dollars, inflation = self._dollars()
        return Run(
            name=self.name,
            key=self.key,
            hardware=self.hw,
            inputs=self.inputs,
            path=self.path,
            methods=methods,
            skipped_methods=self.skipped,
            record=r,
            publication_date=self.pub,
            start_date=self.start,
            inflation=inflation,
            dollars=dollars,
            notes=self.notes,
            warnings=self.warnings,
            compute_including_base_flop=self.including_base,
            is_finetune=self.finetune,
            source=self.db.describe() if self.db is not None else "user inputs",
            state_precision="fp32" if self.precision in ("fp32", "tf32") else "bf16",
            hardware_provenance=self.hw_provenance if self.hw is not None else "",
            hardware_source=self.hw_source if self.hw is not None else "",
        )

    def _hardware(self) -> None:
        """The chip: the user's, else the one the record names, else an imputed one, else none."""
        r, spec, catalog = self.r, self.spec, self.db.hardware
        self.hw, self.hw_override = None, False
        self.hw_provenance, self.hw_source = "", ""
        if spec.hardware is not None:
            self.hw, note = catalog.resolve(spec.hardware)
            if note:
                self.notes.append(note)
            self.hw_provenance, self.hw_source = "user", "given"
            pub = self.pub
            if pub is not None and self.hw.release_date and self.hw.release_date > pub:
                self.notes.append(
                    f"{self.hw.name} was released {self.hw.release_date}, after this model was "
                    f"published ({pub}): a counterfactual run, priced from the chip's first prices"
                )
            named, _ = catalog.match_names(r.training_hardware) if r and r.training_hardware else (None, [])
            if r is not None and (named is None or named.key != self.hw.key):
                self.hw_override = True
                was = named.name if named else "an unknown chip"
                self.notes.append(
                    f"hardware changed from {was} to {self.hw.name}: chip-hours are recomputed from "
                    "compute; the reported chip-hours, chip count and utilization are not used"
                )
            return
        if r is None:
            return
        if r.training_hardware:
            self.hw, notes = catalog.match_names(r.training_hardware)
            self.notes.extend(notes)
            hw = self.hw
            if hw is not None and hw.release_date and r.publication_date and hw.release_date > r.publication_date:
                self.hw = catalog.family_variant_before(hw.family, r.publication_date)
                instead = (
                    f"; costed on {self.hw.name}, the same family released in time" if self.hw else "; it is not used"
                )
                self.warnings.append(
                    f"training_hardware: the database names {hw.name}, released {hw.release_date}, "
                    f"after this model's publication ({r.publication_date}){instead}"
                )
            if self.hw is not None:
                self.hw_provenance, self.hw_source = "reported", self.rec_source("training_hardware")
                return
        hw, why = self.db.imputer.hardware(r)
        if hw is None:
            self.no_hardware_reason = why
            return
        self.hw, self.hw_provenance, self.hw_source = hw, "imputed", why
        self.notes.append(f"hardware (imputed): {hw.name}, {why}")

    def _size_and_data(self) -> None:
        """Parameters, tokens and the shape the attention term needs."""
        spec = self.spec
        sized = any(v is not None for v in (spec.params, spec.params_active, spec.tokens))
        self.user_sized = sized
        if spec.params_active is not None or spec.params is not None:
            p = spec.params_active if spec.params_active is not None else spec.params
            self.add("params_per_token", p, "user", "given")
        elif not self.finetune and self.rec("params_per_token"):
            attr = "params_active" if self.rec("params_active") else "parameters"
            self.add("params_per_token", self.rec("params_per_token"), "reported", self.rec_source(attr))
        total = spec.params if spec.params is not None else self.rec("parameters")
        if total is not None:
            self.add(
                "params",
                total,
                "user" if spec.params is not None else "reported",
                "given" if spec.params is not None else self.rec_source("parameters"),
            )
        if spec.tokens is not None:
            self.add("tokens", spec.tokens, "user", "given")
            ep = spec.epochs
            self.add(
                "epochs",
                1.0 if ep is None else ep,
                "user" if ep is not None else "default",
                "given" if ep is not None else "one pass over the tokens",
            )
        elif not self.finetune and self.rec("training_tokens"):
            src = self.rec_source("training_tokens")
            if self.r.dataset_unit == "words":
                src += "; the dataset size counts words: x4/3 tokens a word"
            self.add(
                "tokens", self.r.training_tokens, "reported" if self.r.dataset_unit == "tokens" else "derived", src
            )
            ep = spec.epochs if spec.epochs is not None else self.r.epochs
            self.add(
                "epochs",
                1.0 if ep is None else ep,
                "reported" if ep is not None else "default",
                self.rec_source("epochs") if ep is not None else "one pass over the tokens",
            )
        elif self.finetune and self.r.training_tokens:
            self.notes.append(
                "fine-tune: the database's dataset size is not used for 6ND (it may count the base model's data)"
            )
        for attr in ("n_layers", "d_attn", "context_length"):
            v = self.user(attr)
            if v is not None:
                self.add(attr, v, "user", "given")
            elif self.rec(attr) is not None:
                self.add(attr, self.rec(attr), "reported", self.rec_source(attr))
        if "d_attn" not in self.inputs and self.rec("d_model") is not None and "n_layers" in self.inputs:
            self.add("d_attn", self.r.d_model, "derived", "d_model (multi-head attention spans the model width)")

    def _compute(self) -> None:
        """The run's own training compute: the user's, else reported (a fine-tune's own), with its evidence."""
        r, spec = self.r, self.spec
        self.including_base = None
        if spec.training_compute_flop is not None:
            self.add("training_compute_flop", spec.training_compute_flop, "user", "given")
            return
        if r is None:
            return
        if self.finetune:
            own = r.finetune_compute_flop or r.post_training_compute_flop
            self.including_base = r.training_compute_flop
            if own:
                attr = "finetune_compute_flop" if r.finetune_compute_flop else "post_training_compute_flop"
                dist, why = _compute_interval(replace(r, compute_lower_flop=None, compute_upper_flop=None), own, False)
                self.add("training_compute_flop", dist, "reported", f"{self.rec_source(attr)}; interval: {why}", own)
                self.notes.append(
                    f"fine-tune of {r.base_model}: the cost is that of its own fine-tuning compute "
                    f"({own:.3g} FLOP)"
                    + (
                        f"; with the base model's, {r.training_compute_flop:.3g} FLOP"
                        if r.training_compute_flop
                        else ""
                    )
                )
            else:
                self.warnings.append(
                    f"finetune_compute_flop: a fine-tune of {r.base_model} with no fine-tuning "
                    "compute in the database; only its own chip-hours or chips x time can cost it"
                )
            return
        if r.training_compute_flop is None:
            return
        if self.user_sized:
            self.notes.append("the database's training compute is not used because parameters or tokens were given")
            return
        dist, why = _compute_interval(r, r.training_compute_flop, _counted(r))
        self.add(
            "training_compute_flop",
            dist,
            "reported",
            f"{self.rec_source('training_compute_flop')}; interval: {why}",
            r.training_compute_flop,
        )

    def _six_nd(self) -> float:
        """The central compute of parameters x tokens (with the attention term when the shape is known)."""
        shape = all(k in self.inputs for k in ("n_layers", "d_attn", "context_length"))
        return float(
            C.training_compute_flop(
                self._central("params_per_token"),
                self._central("tokens"),
                epochs=self._central("epochs"),
                n_layers=self._central("n_layers") if shape else None,
                d_attn=self._central("d_attn") if shape else None,
                context_length=self._central("context_length") if shape else None,
                convention=self.s.convention,
            )
        )

    def _check_compute_routes(self) -> None:
        """A training compute and parameters x tokens that differ by more than 3x: a warning naming both."""
        i = self.inputs
        if not ("training_compute_flop" in i and "params_per_token" in i and "tokens" in i):
            return
        given, counted = self._central("training_compute_flop"), self._six_nd()
        if C.disagrees(given, counted):
            who = "given" if i["training_compute_flop"].provenance == "user" else "reported"
            self.warnings.append(
                f"training_compute_flop: the {who} {given:.3g} FLOP and parameters x tokens ({counted:.3g} FLOP) "
                f"differ by {C.disagreement_ratio(given, counted):.1f}x (more than {C.DISAGREEMENT_FACTOR:g}x); "
                "the training compute is used"
                + (
                    ""
                    if "params_active" in self.spec.given() or self.rec("params_active")
                    else "; a mixture of experts counts its active parameters only"
                )
            )

    def _hardware_time(self) -> None:
        """Chip count, training time and chip-hours: the user's, else the record's (not with a changed chip)."""
        spec = self.spec
        use_record = self.r is not None and not self.hw_override
        for attr, name, rec_attr, factor in (
            ("chips", "chips", "hardware_quantity", "reported_chip_count_factor"),
            ("training_time_hours", "training_time_hours", "training_time_hours", "reported_training_time_factor"),
            ("chip_hours", "chip_hours", "chip_hours", "reported_chip_hours_factor"),
        ):
            v = self.user(attr)
            if v is not None:
                self.add(name, v, "user", "given")
                continue
            rv = self.rec(rec_attr) if (use_record or attr == "training_time_hours") else None
            if rv is not None and not (
                attr == "chip_hours" and (spec.chips is not None or spec.training_time_hours is not None)
            ):
                c = K.constant(factor)
                self.add(
                    name,
                    _scaled(rv, c.distribution()),
                    "reported",
                    f"{self.rec_source(rec_attr)}; x{c.low:.3g}-{c.high:.3g} (90%)",
                    rv,
                )
        u = spec.utilization if spec.utilization is not None else (self.rec("utilization") if use_record else None)
        self.u_given = u is not None
        if u is not None:
            prov = "user" if spec.utilization is not None else "reported"
            self.add("utilization", u, prov, "given" if prov == "user" else self.rec_source("utilization"))

    def _route(self) -> None:
        """Which route reaches chip-hours, and the checks between routes."""
        i = self.inputs
        has_compute = "training_compute_flop" in i or ("params_per_token" in i and "tokens" in i)
        if "chip_hours" in i:
            self.path = "chip_hours"
        elif "chips" in i and "training_time_hours" in i:
            self.path = "chips_time"
        elif has_compute and self.hw is not None:
            self.path = "compute"
        else:
            self.path = None
        if self.hw is None:
            why = getattr(self, "no_hardware_reason", "no hardware given (--hardware)")
            if self.path is not None and self.path != "compute":
                raise MissingInputError(f"chip-hours need a chip to cost them: {why}")
            self.path = None
            if not has_compute:
                raise NotEstimable(f"no training compute, parameters x tokens, or hardware x time ({why})")
            self.notes.append(f"compute only, no chip-hours or cost: {why}")
            return
        if self.path is None:
            raise NotEstimable(
                "no training compute, parameters x tokens, chip-hours, or chips x time"
                + (" (a fine-tune without its own compute)" if self.finetune else "")
            )
        self._peak()
        if self.path == "compute" and "utilization" not in i:
            c = K.constant("utilization", "default")
            self.add(
                "utilization",
                c.distribution(),
                "imputed",
                f"Cottier et al. 2024: median of reported MFU {c.value:g}, 90% CI {c.low:g}-{c.high:g}",
                c.value,
            )
        if self.path != "compute" and not has_compute and "utilization" not in i:
            c = K.constant("utilization", "default")
            self.add(
                "utilization",
                c.distribution(),
                "imputed",
                f"Cottier et al. 2024: median of reported MFU {c.value:g}, 90% CI {c.low:g}-{c.high:g} "
                "(sets compute from hardware x time)",
                c.value,
            )
        self.implied = self.path != "compute" and has_compute
        if self.implied:
            self._check_implied_utilization()

    def _peak(self) -> None:
        spec, hw = self.spec, self.hw
        if spec.peak_flop_per_s is not None:
            self.add("peak_flop_per_s", spec.peak_flop_per_s, "user", "given")
            return
        precision = spec.precision
        if precision is None and self.r is not None and not self.hw_override and self.r.precision:
            if self.r.precision in hw.peak_flop_per_s_by_precision and self.r.precision in (
                "bf16",
                "fp16",
                "tf32",
                "fp32",
                "fp8",
            ):
                precision = self.r.precision
        self.precision = precision
        if precision is not None:
            peak, p = hw.peak_flop_per_s(precision), precision
        else:
            found = hw.peak_for_cost()
            if found is None:
                raise MissingInputError(f"{hw.name} has no peak FLOP/s in the chip tables; give --peak-flop-per-s")
            peak, p = found
            if p == "int8":
                self.notes.append(f"{hw.name} has no floating-point peak; its INT8 OP/s stands in")
        self.add("peak_flop_per_s", peak, "reported", f"{hw.name} dense {p} peak; {hw.source}")

    def _central(self, name: str) -> float:
        return self.inputs[name].central

    def _check_implied_utilization(self) -> None:
        """Compute against hardware x time: the utilization they imply must be possible."""
        i = self.inputs
        if "training_compute_flop" in i:
            comp, what = self._central("training_compute_flop"), "the training compute"
        else:
            comp, what = self._six_nd(), "parameters x tokens (6ND)"
        chip_hours = (
            self._central("chip_hours")
            if self.path == "chip_hours"
            else self._central("chips") * self._central("training_time_hours")
        )
        peak = self._central("peak_flop_per_s")
        implied = comp / (chip_hours * SECONDS_PER_HOUR * peak)
        hw_what = "chip-hours" if self.path == "chip_hours" else "chips x training time"
        msg = (
            f"{what} ({comp:.3g} FLOP) and {hw_what} ({chip_hours:.3g} chip-hours at {peak:.3g} FLOP/s peak) "
            f"imply {implied:.0%} utilization"
        )
        user_fields = set(self.spec.given())
        if implied > 1:
            if user_fields & {
                "params",
                "params_active",
                "tokens",
                "epochs",
                "training_compute_flop",
                "chips",
                "training_time_hours",
                "chip_hours",
                "hardware",
                "peak_flop_per_s",
            }:
                raise InvalidInputError(
                    msg + "; more than the chips' peak: check --params/--tokens/--compute "
                    "against --chips/--hours/--days/--chip-hours and --hardware"
                )
            self.warnings.append(
                msg + ", more than the chips' peak: the database's compute and hardware "
                "disagree; chip-hours are used for the cost"
            )
        elif implied > IMPLIED_MFU_WARNING:
            self.warnings.append(msg + f", above {IMPLIED_MFU_WARNING:.0%}: check the inputs")
        elif implied < IMPLIED_MFU_LOW:
            self.warnings.append(msg + f", below {IMPLIED_MFU_LOW:.0%}: the two disagree; check the inputs")
        if self.u_given:
            given = self._central("utilization")
            if abs(implied - given) > 0.5 * given:
                self.warnings.append(
                    f"the utilization given ({given:.0%}) differs from the {implied:.0%} that "
                    f"{what} and {hw_what} imply"
                )

    def _dates(self) -> None:
        """Training start (prices and depreciation date from it) and the publication date."""
        spec, r = self.spec, self.r
        gap = int(K.constant("training_start_gap_days").value)
        if spec.start_date is not None:
            self.start = spec.start_date
        elif r is not None and r.training_start_date is not None:
            self.start = r.training_start_date
            self.notes.append(f"training start {self.start}, as set by Cottier et al. 2024 for this model")
        elif self.pub is not None:
            hrs = (
                self._central("training_time_hours")
                if "training_time_hours" in self.inputs
                else K.constant("training_time_hours", "default").value
            )
            self.start = self.pub - dt.timedelta(days=int(hrs // 24) + gap)
        else:
            self.start = dt.date.today()
        if self.pub is None:
            self.pub = self.start
        if (
            self.path is not None
            and "training_time_hours" not in self.inputs
            and ("chips" not in self.inputs or "acquisition" in self.s.methods)
        ):
            c = K.constant("training_time_hours", "default")
            f = K.constant("training_time_factor")
            self.add(
                "training_time_hours",
                _scaled(c.value, f.distribution()),
                "imputed",
                f"Cottier et al. 2024: {c.value:g} h (33.1 days) when none is reported, x{f.low:g}-{f.high:g}",
                c.value,
            )

    # -- money ------------------------------------------------------------------------------
    def _need_hardware(self) -> None:
        if self.path is None:
            raise MissingInputError(getattr(self, "no_hardware_reason", "no hardware given (--hardware)"))

    def _cloud_inputs(self) -> None:
        self._need_hardware()
        spec = self.spec
        if spec.price_usd_per_chip_hour is not None:
            self.add("price_usd_per_chip_hour", spec.price_usd_per_chip_hour, "user", "given")
            return
        gap = int(K.constant("training_start_gap_days").value)
        cp = self.db.price_book.cloud_price(
            self.hw,
            vendor=self.s.cloud_vendor,
            tier=self.s.cloud_tier,
            on=self.start - dt.timedelta(days=gap),
            organization=self.organization,
        )
        self.add(
            "price_usd_per_chip_hour",
            cp.price_usd_per_chip_hour,
            "reported",
            f"{cp.vendor} {cp.tier} price of {cp.date}: {cp.source}",
        )

    def _hardware_value_inputs(self) -> None:
        """Chip value, server and interconnect overheads, depreciation (amortized and acquisition)."""
        self._need_hardware()
        if "chip_price_usd" in self.inputs:
            return
        hw, spec = self.hw, self.spec
        variant = "tpu" if hw.is_tpu else "gpu"
        if spec.chip_price_usd is not None:
            self.add("chip_price_usd", spec.chip_price_usd, "user", "given")
            includes_server, price_date = False, self.start
        else:
            pp = self.db.price_book.purchase_price(hw)
            prov = "reported"
            if pp is None:
                pp = trend_price(hw, self.db.price_book, self.start)
                prov = "imputed"
            if pp is None:
                raise MissingInputError(f"no purchase price for {hw.name} in the price tables; give --chip-price")
            f = K.constant("chip_price_factor", variant)
            what = "server price per chip" if pp.includes_server else "chip price"
            self.add(
                "chip_price_usd",
                _scaled(pp.price_usd_per_chip, f.distribution()),
                prov,
                f"{what} of {pp.date}: {pp.notes or pp.source}; x{f.low:g}-{f.high:g}",
                pp.price_usd_per_chip,
            )
            includes_server, price_date = pp.includes_server, pp.date
        if includes_server:
            self.add("server_overhead", 1.0, "reported", "the price is a whole server's (DGX): overhead included")
        else:
            c = K.constant("server_overhead", hw.family)
            base = _factor("server_overhead", "default")
            dist = LogNormal(math.log(c.value), base.sigma) if isinstance(base, LogNormal) else Point(c.value)
            self.add("server_overhead", dist, "default", f"{c.name} = {c.value:g}: {c.source}", c.value)
        self._constant("interconnect_fraction")
        self._constant("depreciation_oom_per_year")
        after = int(K.constant("acquisition_after_release_days").value)
        release = hw.release_date or price_date
        if hw.is_tpu:  # TPUs are not sold: in service from release (Cottier et al.'s rule)
            acquired, after = release, 0
        else:
            acquired = max(price_date, release + dt.timedelta(days=after))
        years = (self.start - acquired).days / DAYS_PER_YEAR
        shift = K.constant("acquisition_shift_days").distribution()
        dist = (
            Normal(years + shift.mean / DAYS_PER_YEAR, shift.sd / DAYS_PER_YEAR)
            if isinstance(shift, Normal)
            else Point(years)
        )
        self.add(
            "years_held",
            dist,
            "derived",
            (
                f"in service from release, {acquired} (TPUs are not sold)"
                if hw.is_tpu
                else f"acquired {acquired} (price date, or release + {after} days)"
            )
            + f", training start {self.start}",
            years,
        )

    def _acquisition_inputs(self) -> None:
        self._hardware_value_inputs()

    def _amortized_inputs(self) -> None:
        self._need_hardware()
        hw = self.hw
        tdp, prov, src = hw.tdp_w, "reported", hw.source
        if tdp is None and hw.family == "tpu-v4":
            tdp, prov, src = K.constant("tpu_v4_tdp_w").value, "default", K.constant("tpu_v4_tdp_w").source
        if tdp is None:
            tdp, prov = self.db.hardware.median_tdp_w(tpu=hw.is_tpu), "imputed"
            src = f"median TDP of the {'TPUs' if hw.is_tpu else 'other chips'} in the chip tables"
        self._hardware_value_inputs()
        self.add("tdp_w", tdp, prov, src)
        self._constant("server_power_ratio", hw.family)
        self._constant("average_power_fraction", "tpu" if hw.is_tpu else "gpu")
        self._constant("pue", "hyperscaler" if _is_hyperscaler(self.organization) else "default")
        year = self.pub.year
        price = electricity_price_usd_per_kwh(year)
        f = K.constant("electricity_price_factor")
        self.add(
            "usd_per_kwh",
            _scaled(price, f.distribution()),
            "reported",
            f"US industrial electricity price of {year} (EIA, nearest year in the table); x{f.low:g}-{f.high:g}",
            price,
        )

    def _constant(self, name: str, variant: str | None = None) -> None:
        c = K.constant(name, variant)
        self.add(name, c.distribution(), "default", f"{c.name} = {c.value:g}: {c.source}", c.value)

    def _dollars(self) -> tuple[str, float]:
        year = self.s.year_dollars
        if year is None:
            return f"nominal USD of {self.pub:%Y-%m}", 1.0
        idx = self.s.price_index or (self.db.price_index if self.db is not None else None)
        if idx is None:
            from flopcast.catalogs.price_index import bundled_price_index

            idx = bundled_price_index()
        when: dt.date | int = self.pub
        if self.pub.year > idx.last_year:
            self.notes.append(
                f"dollars of {self.pub:%Y-%m} are treated as {idx.last_year} dollars, the last year of {idx.name}"
            )
            when = idx.last_year
        elif self.pub.year < idx.first_year:
            self.notes.append(
                f"dollars of {self.pub:%Y-%m} are treated as {idx.first_year} dollars, the first year of {idx.name}"
            )
            when = idx.first_year
        return f"{year} USD ({idx.name})", idx.factor(when, year)


def resolve(record: ModelRecord | None, spec: RunSpec | None = None, settings: Settings | None = None, db=None) -> Run:
    """The run for ``record`` (None for a run described by ``spec`` alone) on the database ``db``."""
    if db is None:
        from flopcast.datasets.database import load_database

        db = load_database()
    return _Resolver(record, spec or RunSpec(), settings or Settings(), db).build()


# ----------------------------------------------------------------------------- draws


class Draws:
    """One uniform column per input slot, drawn once for a call (``samples`` x slots)."""

    def __init__(
        self, samples: int = DEFAULT_SAMPLES, seed: int | None = DEFAULT_SEED, sampling: str = DEFAULT_SAMPLING
    ):
        if sampling not in SAMPLING_CHOICES:
            raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(SAMPLING_CHOICES)}")
        self.samples, self.seed, self.sampling = check_samples(samples), seed, sampling
        u = uniforms(len(SLOTS), self.samples, make_rng(seed), sampling)
        self.u = np.ascontiguousarray(u.T)  # (slots, samples)
        self._z: dict[int, np.ndarray] = {}
        self._ppf: dict[tuple[int, str], tuple[Distribution, np.ndarray]] = {}
        self._exp: dict[tuple[str, float], np.ndarray] = {}

    def uniform(self, slot: str) -> np.ndarray:
        return self.u[SLOTS.index(slot)]

    def ppf(self, dist: Distribution, slot: str) -> np.ndarray:
        """``dist`` drawn in ``slot``; kept for the call, so a distribution many runs share is drawn once."""
        key = (id(dist), slot)
        hit = self._ppf.get(key)
        if hit is None or hit[0] is not dist:
            hit = (dist, np.asarray(dist.ppf(self.uniform(slot)), dtype=float))
            self._ppf[key] = hit
        return hit[1]

    def exp_z(self, slot: str, sigma: float) -> np.ndarray:
        """``exp(sigma * z)`` of a slot: a lognormal factor with median 1, kept for the call."""
        key = (slot, sigma)
        if key not in self._exp:
            self._exp[key] = np.exp(sigma * self.z(slot))
        return self._exp[key]

    def z(self, slot: str) -> np.ndarray:
        from scipy import special

        i = SLOTS.index(slot)
        if i not in self._z:
            self._z[i] = special.ndtri(self.u[i])
        return self._z[i]


def _stack(dists: list[Distribution], draws: Draws, slot: str) -> np.ndarray:
    """(models x samples) draws of one slot; (models x 1) when every run's value is a point."""
    if all(isinstance(d, Point) for d in dists):
        return np.array([[d.value] for d in dists], dtype=float)
    if all(isinstance(d, LogNormal) or (isinstance(d, Point) and d.value > 0) for d in dists):
        # median x exp(sigma z), element by element the same whatever the other runs of the chunk are
        scale = np.array([[math.exp(d.mu) if isinstance(d, LogNormal) else d.value] for d in dists])
        sigmas = [d.sigma if isinstance(d, LogNormal) else 0.0 for d in dists]
        if len(set(sigmas)) == 1:
            return scale * draws.exp_z(slot, sigmas[0])[None, :]
        out = np.empty((len(dists), draws.samples))
        for i, sg in enumerate(sigmas):
            np.multiply(scale[i, 0], draws.exp_z(slot, sg), out=out[i])
        return out
    if all(isinstance(d, (Normal, Point)) for d in dists):
        mean = np.array([[d.mean if isinstance(d, Normal) else d.value] for d in dists])
        sd = np.array([[d.sd if isinstance(d, Normal) else 0.0] for d in dists])
        return mean + sd * draws.z(slot)[None, :]
    if all(d is dists[0] for d in dists):
        return np.broadcast_to(draws.ppf(dists[0], slot), (len(dists), draws.samples))
    out = np.empty((len(dists), draws.samples))
    for i, d in enumerate(dists):
        out[i] = draws.ppf(d, slot)
    return out


# ----------------------------------------------------------------------------- results


@dataclass(eq=False)
class TrainingEstimate:
    """Result of a training-cost estimate. All values in SI units and USD."""

    name: str
    key: str
    hardware: str
    training_compute_flop: Summary
    chip_hours: Summary | None
    duration_s: Summary | None
    chips: Summary | None
    memory_bytes: Summary | None
    min_chips: Summary | None
    cost_usd: dict[str, Summary]
    #: values of the published method with every input at its central value
    central: dict[str, float]
    compute_from_params_flop: Summary | None = None
    compute_including_base_flop: Summary | None = None
    implied_utilization: Summary | None = None
    dollars: str = ""
    inputs: list[InputRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_methods: dict[str, str] = field(default_factory=dict)
    sensitivity: dict[str, list[SensitivityRow]] = field(default_factory=dict)
    samples: int = 0
    seed: int | None = None
    sampling: str = DEFAULT_SAMPLING
    #: the database and its date, or "user inputs"
    source: str = ""
    publication_date: dt.date | None = None
    is_finetune: bool = False
    organization: str = ""
    domain: str = ""
    #: where the chip came from ("reported", "imputed", "user"; "" for compute only)
    hardware_provenance: str = ""

    _OPTIONAL = (
        "compute_from_params_flop",
        "compute_including_base_flop",
        "chip_hours",
        "implied_utilization",
        "duration_s",
        "chips",
        "memory_bytes",
        "min_chips",
    )

    def outputs(self) -> dict[str, Summary]:
        out = {"training_compute_flop": self.training_compute_flop}
        for name in self._OPTIONAL:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for method, s in self.cost_usd.items():
            out[f"cost_usd.{method}"] = s
        return out

    @property
    def provenance(self) -> dict[str, str]:
        out = {"hardware": self.hardware_provenance} if self.hardware_provenance else {}
        out.update({r.name: r.provenance for r in self.inputs})
        return out

    def imputed_inputs(self) -> list[str]:
        return [k for k, v in self.provenance.items() if v == "imputed"]

    def to_dict(self, *, inputs: bool = True) -> dict:
        out: dict[str, Any] = {
            "name": self.name,
            "key": self.key,
            "hardware": self.hardware,
            "source": self.source,
            "publication_date": self.publication_date.isoformat() if self.publication_date else None,
            "organization": self.organization,
            "domain": self.domain,
            "is_finetune": self.is_finetune,
            "dollars": self.dollars,
            "samples": self.samples,
            "seed": self.seed,
            "sampling": self.sampling,
        }
        for k, s in self.outputs().items():
            if not k.startswith("cost_usd."):
                out[k] = dict(s.to_dict(), central=self.central.get(k))
        out["cost_usd"] = {
            m: dict(s.to_dict(), central=self.central.get(f"cost_usd.{m}")) for m, s in self.cost_usd.items()
        }
        out["skipped_methods"] = dict(self.skipped_methods)
        out["provenance"] = self.provenance
        if inputs:
            out["inputs"] = [r.to_dict() for r in self.inputs]
        out["notes"], out["warnings"] = list(self.notes), list(self.warnings)
        if self.sensitivity:
            out["sensitivity"] = {
                k: [{"input": r.input, "rank_correlation": r.rank_correlation, "share": r.share} for r in rows]
                for k, rows in self.sensitivity.items()
            }
        return out

    def to_frame(self):
        """One row per output: unit, median, mean, p5, p95, central value."""
        import pandas as pd

        rows = [
            dict(output=k, unit=s.unit, **s.to_dict(), central=self.central.get(k)) for k, s in self.outputs().items()
        ]
        return pd.DataFrame(rows).set_index("output")

    def point(self) -> TrainingEstimate:
        """This estimate with every output at the published method's point value (inputs at their central values)."""

        def pt(k: str, s: Summary) -> Summary:
            v = self.central.get(k, s.median)
            return Summary(v, v, v, v, s.unit)

        out = {
            n: pt(n, getattr(self, n))
            for n in ("training_compute_flop", *self._OPTIONAL)
            if getattr(self, n) is not None
        }
        costs = {m: pt(f"cost_usd.{m}", s) for m, s in self.cost_usd.items()}
        return replace(self, cost_usd=costs, samples=1, sensitivity={}, **out)

    def summary(self) -> str:
        from flopcast.formatting import format_summary

        lines = [f"{self.name} on {self.hardware}"]
        for k, s in self.outputs().items():
            lines.append(f"  {k}: {format_summary(s)}")
        lines += [f"  note: {n}" for n in self.notes] + [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")


# ----------------------------------------------------------------------------- evaluation


def _group_key(run: Run) -> tuple:
    """Runs with the same key take the same branch at every step of the evaluation."""
    return (
        run.path,
        tuple(sorted(run.inputs)),
        run.methods,
        run.compute_including_base_flop is not None,
        run.state_precision,
        run.hardware is not None and bool(run.hardware.memory_bytes),
    )


def _stage(v: dict, run: Run, settings: Settings) -> dict[str, np.ndarray]:
    """The stage functions on drawn (or central) inputs of one homogeneous chunk of runs."""
    out: dict[str, np.ndarray] = {}
    if "params_per_token" in v and "tokens" in v:
        shape = all(k in v for k in ("n_layers", "d_attn", "context_length"))
        c6 = C.training_compute_flop(
            v["params_per_token"],
            v["tokens"],
            epochs=v["epochs"],
            n_layers=v["n_layers"] if shape else None,
            d_attn=v["d_attn"] if shape else None,
            context_length=v["context_length"] if shape else None,
            convention=settings.convention,
        )
        out["compute_from_params_flop"] = c6 * v["flop_convention"]
    compute = v.get("training_compute_flop", out.get("compute_from_params_flop"))
    if run.path is not None:
        peak = v["peak_flop_per_s"]
        if run.path == "chip_hours":
            chip_hours = v["chip_hours"]
        elif run.path == "chips_time":
            chip_hours = v["chips"] * v["training_time_hours"]
        else:
            chip_hours = training.chip_hours_from_compute(compute, peak, v["utilization"])
        out["chip_hours"] = chip_hours
        if run.path != "compute" and compute is not None:
            out["implied_utilization"] = compute / (chip_hours * SECONDS_PER_HOUR * peak)
        if compute is None:
            compute = C.compute_from_chip_hours(chip_hours, peak, v["utilization"])
        if "chips" in v:
            chips = v["chips"]
            hours = v.get("training_time_hours")
            out["duration_s"] = (
                hours * SECONDS_PER_HOUR if hours is not None else training.duration_s(chip_hours, chips)
            )
        elif "training_time_hours" in v:
            chips = training.chips_for_deadline(chip_hours, v["training_time_hours"] * SECONDS_PER_HOUR)
            out["duration_s"] = v["training_time_hours"] * SECONDS_PER_HOUR + 0.0 * chip_hours
        else:
            chips = None
        if chips is not None:
            out["chips"] = chips + 0.0 * chip_hours
    out["training_compute_flop"] = compute
    if "params" in v:
        mem = training.model_state_bytes(v["params"], run.state_precision, settings.optimizer)
        if all(k in v for k in ("n_layers", "d_attn", "context_length")):
            mem = mem + training.activation_bytes(
                v["n_layers"],
                v["d_attn"],
                v["context_length"],
                micro_batch=settings.micro_batch,
                recompute=settings.recompute,
            )
        out["memory_bytes"] = mem
        if "_chip_memory" in v:
            out["min_chips"] = training.min_chips_for_memory(mem, v["_chip_memory"])
    if run.methods:
        w = dict(v, chip_hours=out["chip_hours"], chips=out.get("chips"))
        if w["chips"] is None:
            w["chips"] = np.ceil(out["chip_hours"] / K.constant("training_time_hours", "default").value)
        infl = v["_inflation"]
        for m in run.methods:
            out[f"cost_usd.{m}"] = COST_METHODS[m].cost(w) * infl
    return out


def _chunk_size(samples: int) -> int:
    return max(1, (1 << 18) // max(samples, 1))


def evaluate(
    runs: Sequence[Run],
    draws: Draws,
    settings: Settings | None = None,
    *,
    keep_samples: bool = False,
    with_sensitivity: bool = False,
) -> list[TrainingEstimate]:
    """Estimate every run on the shared ``draws``; results in the order of ``runs``."""
    settings = settings or Settings()
    groups: dict[tuple, list[int]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(_group_key(run), []).append(i)
    results: list[TrainingEstimate | None] = [None] * len(runs)
    step = _chunk_size(draws.samples)
    chunks = [idx[start : start + step] for idx in groups.values() for start in range(0, len(idx), step)]

    def work(ids: list[int]) -> None:
        for i, est in zip(
            ids, _evaluate_chunk([runs[i] for i in ids], draws, settings, keep_samples, with_sensitivity)
        ):
            results[i] = est

    workers = min(len(chunks), _workers())
    if workers <= 1:
        for ids in chunks:
            work(ids)
    else:  # numpy releases the GIL in its array loops: chunks run side by side, each exactly as alone
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, chunks))
    return results  # type: ignore[return-value]


def _workers() -> int:
    import os

    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _evaluate_chunk(
    chunk: list[Run], draws: Draws, settings: Settings, keep_samples: bool, with_sensitivity: bool
) -> list[TrainingEstimate]:
    r0 = chunk[0]
    drawn: dict[str, np.ndarray] = {}
    centrals: dict[str, np.ndarray] = {}
    for name in r0.inputs:
        dists = [run.inputs[name].value for run in chunk]
        x = _stack(dists, draws, name)
        if name in _BOUNDS:
            lo, hi = _BOUNDS[name]
            x = np.clip(x, lo, hi)
        drawn[name] = x
        centrals[name] = np.array([[run.inputs[name].central] for run in chunk], dtype=float)
    drawn["_inflation"] = centrals["_inflation"] = np.array([[run.inflation] for run in chunk])
    if r0.hardware is not None and r0.hardware.memory_bytes:  # the group key makes this true of every run
        drawn["_chip_memory"] = centrals["_chip_memory"] = np.array([[run.hardware.memory_bytes] for run in chunk])
    if "flop_convention" not in drawn and "tokens" in drawn:
        fc = _stack([_factor("flop_convention_factor")] * len(chunk), draws, "flop_convention")
        drawn["flop_convention"] = fc
        centrals["flop_convention"] = np.ones((len(chunk), 1))
    out = _stage(drawn, r0, settings)
    cen = _stage(centrals, r0, settings)
    q = {
        k: np.quantile(x, [0.05, 0.5, 0.95], axis=1) if x.shape[1] > 1 else np.repeat(x.T, 3, axis=0)
        for k, x in out.items()
    }
    means = {k: np.mean(x, axis=1) for k, x in out.items()}
    results = []
    for i, run in enumerate(chunk):
        summ: dict[str, Summary] = {}
        for k, x in out.items():
            unit = "USD" if k.startswith("cost_usd.") else OUTPUT_UNITS[k]
            samples = x[i].copy() if keep_samples and x.shape[1] > 1 else None
            summ[k] = Summary(
                float(q[k][1, i]), float(means[k][i]), float(q[k][0, i]), float(q[k][2, i]), unit, samples, None
            )
        central = {k: float(c[i, 0]) for k, c in cen.items()}
        if run.compute_including_base_flop is not None:
            v = float(run.compute_including_base_flop)
            summ["compute_including_base_flop"] = Summary(v, v, v, v, "FLOP")
            central["compute_including_base_flop"] = v
        sens = {}
        if with_sensitivity:
            inputs_i = {n: a[i] for n, a in drawn.items() if not n.startswith("_") and a.shape[1] > 1}
            for k in ("training_compute_flop", "chip_hours", *[f"cost_usd.{m}" for m in run.methods]):
                if k in out:
                    sens[k] = sensitivity(inputs_i, out[k][i])
        rec = run.record
        results.append(
            TrainingEstimate(
                name=run.name,
                key=run.key,
                hardware=run.hardware.name if run.hardware else "",
                training_compute_flop=summ["training_compute_flop"],
                chip_hours=summ.get("chip_hours"),
                duration_s=summ.get("duration_s"),
                chips=summ.get("chips"),
                memory_bytes=summ.get("memory_bytes"),
                min_chips=summ.get("min_chips"),
                cost_usd={m: summ[f"cost_usd.{m}"] for m in run.methods},
                central=central,
                compute_from_params_flop=summ.get("compute_from_params_flop"),
                compute_including_base_flop=summ.get("compute_including_base_flop"),
                implied_utilization=summ.get("implied_utilization"),
                dollars=run.dollars,
                inputs=list(run.inputs.values()),
                notes=list(run.notes),
                warnings=list(run.warnings),
                skipped_methods=dict(run.skipped_methods),
                sensitivity=sens,
                samples=draws.samples,
                seed=draws.seed,
                sampling=draws.sampling,
                source=run.source,
                publication_date=run.publication_date,
                is_finetune=run.is_finetune,
                organization=", ".join(rec.organizations) if rec else "",
                domain=", ".join(rec.domains) if rec else "",
                hardware_provenance=run.hardware_provenance,
            )
        )
    return results


# ----------------------------------------------------------------------------- entry points


@dataclass
class BatchResult:
    """Estimates for many records, and the records that could not be estimated (with the reason)."""

    estimates: list[TrainingEstimate]
    skipped: list[dict]
    methods: tuple[str, ...]
    dollars: str
    source: str
    samples: int
    seed: int | None
    sampling: str
    selection: str = ""

    def rows(self) -> list[dict]:
        """One flat row per model (the CSV columns of ``costs``)."""
        return [flat_row(e, self.methods) for e in self.estimates]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "dollars": self.dollars,
            "samples": self.samples,
            "seed": self.seed,
            "sampling": self.sampling,
            "methods": list(self.methods),
            "selection": self.selection,
            "models": [e.to_dict(inputs=False) for e in self.estimates],
            "skipped": self.skipped,
        }


def flat_row(e: TrainingEstimate, methods: Sequence[str]) -> dict:
    row = {
        "model": e.name,
        "key": e.key,
        "publication_date": e.publication_date.isoformat() if e.publication_date else "",
        "organization": e.organization,
        "domain": e.domain,
        "hardware": e.hardware,
        "is_finetune": e.is_finetune,
    }
    for k in ("training_compute_flop", "chip_hours"):
        s = getattr(e, k)
        row[k], row[f"{k}_p5"], row[f"{k}_p95"] = (s.median, s.p5, s.p95) if s is not None else (None, None, None)
    comp = next((r for r in e.inputs if r.name == "training_compute_flop"), None)
    row["compute_source"] = (
        comp.provenance
        if comp is not None
        else (
            "derived (parameters x tokens)" if e.compute_from_params_flop is not None else "derived (hardware x time)"
        )
    )
    for m in methods:
        s = e.cost_usd.get(m)
        row[f"cost_{m}_usd"], row[f"cost_{m}_usd_p5"], row[f"cost_{m}_usd_p95"] = (
            (s.median, s.p5, s.p95) if s is not None else (None, None, None)
        )
    row["imputed_inputs"] = ";".join(e.imputed_inputs())
    row["notes"] = "; ".join(
        [*e.notes, *e.warnings, *(f"{m} cost skipped: {why}" for m, why in e.skipped_methods.items())]
    )
    return row


def estimate_records(
    records: Sequence[ModelRecord],
    db,
    *,
    settings: Settings | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    selection: str = "",
) -> BatchResult:
    """Estimate every record that allows it; the rest are listed in ``skipped`` with the reason."""
    settings = settings or Settings()
    draws = Draws(samples, seed, sampling)
    runs, skipped = [], []
    for r in records:
        try:
            runs.append(resolve(r, RunSpec(), settings, db))
        except FlopcastError as exc:
            skipped.append({"model": r.name, "key": r.key, "reason": str(exc)})
    estimates = evaluate(runs, draws, settings)
    dollars = (
        "nominal USD of each model's publication month"
        if settings.year_dollars is None
        else (estimates[0].dollars if estimates else f"{settings.year_dollars} USD")
    )
    return BatchResult(
        estimates, skipped, settings.methods, dollars, db.describe(), draws.samples, seed, sampling, selection
    )


def estimate_run(
    record: ModelRecord | None,
    db,
    *,
    spec: RunSpec | None = None,
    settings: Settings | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    keep_samples: bool = True,
    with_sensitivity: bool = False,
) -> TrainingEstimate:
    """One run: the batch of one (the same draws as any batch with these samples, seed and sampling)."""
    settings = settings or Settings()
    run = resolve(record, spec, settings, db)
    return evaluate(
        [run], Draws(samples, seed, sampling), settings, keep_samples=keep_samples, with_sensitivity=with_sensitivity
    )[0]


def estimate(
    model: str | ModelRecord | None = None,
    *,
    data: str | None = None,
    db=None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    with_sensitivity: bool = False,
    point: bool = False,
    methods=None,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index=None,
    attention: str = DEFAULT_ATTENTION,
    **run,
) -> TrainingEstimate:
    """Estimate a training run: a database model by name, a run described by keywords, or both.

    Keywords that are fields of :class:`RunSpec` (``params``, ``tokens``, ``hardware``, ``chips``,
    ``utilization``, ``price_usd_per_chip_hour``...) take a number, ``ci(low, high)`` or another
    distribution. The result is the same as ``flopcast estimate`` with the same values, and as
    that model's row of ``flopcast costs`` for the same samples and seed.

    >>> round(estimate("gpt-3").training_compute_flop.median / 1e23, 2)
    3.14
    """
    from flopcast.datasets.database import load_database

    names = {f.name for f in fields(RunSpec)}
    unknown = sorted(set(run) - names)
    if unknown:
        raise InvalidInputError(f"unknown argument(s) {', '.join(unknown)}; a run takes {', '.join(sorted(names))}")
    db = db if db is not None else load_database(data)
    settings = Settings.from_options(
        db,
        method=methods,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
    )
    record = db.find(model) if isinstance(model, str) else model
    est = estimate_run(
        record,
        db,
        spec=RunSpec(**run),
        settings=settings,
        samples=samples,
        seed=seed,
        sampling=sampling,
        keep_samples=not point,
        with_sensitivity=with_sensitivity and not point,
    )
    return est.point() if point else est
