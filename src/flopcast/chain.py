"""The training-cost chain: wires the stage functions and fills a typed result.

It only resolves inputs (from a catalog model, the catalogs and the user's values),
draws each uncertain input once per sample index, passes the arrays through the
stage functions of :mod:`flopcast.compute` and :mod:`flopcast.training`, and
summarizes. It adds no algorithm of its own. Each input carries its provenance
(``reported``, ``derived``, ``imputed``, ``default`` or ``user``) and source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from flopcast import compute, training
from flopcast.catalogs import constants as K
from flopcast.catalogs import prices
from flopcast.catalogs.hardware import HardwareCatalog, bundled_hardware
from flopcast.catalogs.models import ModelSpec, bundled_models
from flopcast.catalogs.price_index import PriceIndex, bundled_price_index
from flopcast.errors import InvalidInputError, MissingInputError, UnknownNameError
from flopcast.uncertainty import Distribution, LogNormal, Point, Summary, as_distribution, draw, lognormal_product, sensitivity
from flopcast.uncertainty.sensitivity import SensitivityRow
from flopcast.units import DAYS_PER_YEAR, SECONDS_PER_HOUR

METHODS = ("cloud", "amortized", "acquisition")
PROVENANCE = ("reported", "derived", "imputed", "default", "user")
HYPERSCALERS = ("google", "deepmind", "microsoft", "amazon", "meta", "facebook")


@dataclass(frozen=True)
class InputRecord:
    """One input of the chain: its distribution, unit, provenance and source."""

    name: str
    value: Distribution
    unit: str
    provenance: str
    source: str = ""
    #: the value the published method uses (a constant's central value), else the median
    central: float | None = None

    def to_dict(self) -> dict:
        d = self.value
        out = {"name": self.name, "unit": self.unit, "provenance": self.provenance, "source": self.source,
               "median": d.median, "central": self.central, "distribution": d.describe()}
        if not d.is_point:
            out["p5"], out["p95"] = d.interval(0.9)
        return out


@dataclass
class TrainingRunSpec:
    """What is known about a training run. Every numeric field takes a number, an
    interval (``ci(low, high)``), another distribution or an array of samples."""

    params: object = None
    params_active: object = None
    tokens: object = None
    epochs: object = None
    n_layers: object = None
    d_model: object = None
    context_length: object = None
    training_compute_flop: object = None
    hardware: str | None = None
    precision: str | None = None
    peak_flop_per_s: object = None
    chips: object = None
    training_time_hours: object = None
    chip_hours: object = None
    utilization: object = None
    price_usd_per_chip_hour: object = None
    chip_price_usd: object = None
    organization: str = ""
    start_date: dt.date | None = None
    publication_date: dt.date | None = None


@dataclass(eq=False)
class TrainingEstimate:
    """Result of a training-cost estimate. All values in SI units and USD."""

    name: str
    hardware: str
    training_compute_flop: Summary
    chip_hours: Summary
    duration_s: Summary | None
    chips: Summary | None
    memory_bytes: Summary | None
    min_chips: Summary | None
    cost_usd: dict[str, Summary]
    #: values of the published method with every input at its central value
    central: dict[str, float]
    compute_from_params_flop: Summary | None = None
    compute_from_hardware_flop: Summary | None = None
    dollars: str = ""
    inputs: list[InputRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sensitivity: dict[str, list[SensitivityRow]] = field(default_factory=dict)
    samples: int = 0
    seed: int | None = None
    sampling: str = "random"
    #: where the model's facts came from, with the snapshot date
    source: str = ""

    def outputs(self) -> dict[str, Summary]:
        out = {"training_compute_flop": self.training_compute_flop, "chip_hours": self.chip_hours}
        for name in ("compute_from_params_flop", "compute_from_hardware_flop", "duration_s", "chips",
                     "memory_bytes", "min_chips"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for method, s in self.cost_usd.items():
            out[f"cost_usd.{method}"] = s
        return out

    def to_dict(self) -> dict:
        out = {"name": self.name, "hardware": self.hardware, "source": self.source, "dollars": self.dollars,
               "samples": self.samples,
               "seed": self.seed, "sampling": self.sampling}
        for k, s in self.outputs().items():
            if not k.startswith("cost_usd."):
                out[k] = dict(s.to_dict(), central=self.central.get(k))
        out["cost_usd"] = {m: dict(s.to_dict(), central=self.central.get(f"cost_usd.{m}")) for m, s in self.cost_usd.items()}
        out["inputs"] = [r.to_dict() for r in self.inputs]
        out["notes"], out["warnings"] = list(self.notes), list(self.warnings)
        if self.sensitivity:
            out["sensitivity"] = {k: [{"input": r.input, "rank_correlation": r.rank_correlation, "share": r.share}
                                      for r in rows] for k, rows in self.sensitivity.items()}
        return out

    def to_frame(self):
        """One row per output: unit, median, mean, p5, p95, central value."""
        import pandas as pd

        rows = [dict(output=k, unit=s.unit, **s.to_dict(), central=self.central.get(k)) for k, s in self.outputs().items()]
        return pd.DataFrame(rows).set_index("output")

    def summary(self) -> str:
        from flopcast.reporting.format import format_summary

        lines = [f"{self.name} on {self.hardware}"]
        for k, s in self.outputs().items():
            lines.append(f"  {k}: {format_summary(s)}")
        lines += [f"  note: {n}" for n in self.notes] + [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")


def _is_hyperscaler(org: str) -> bool:
    org = (org or "").lower()
    return any(h in org for h in HYPERSCALERS)


class TrainingCostChain:
    """Build inputs, draw them once, run the stages, summarize.

    ``uncertainty=False`` evaluates only the central values (the published method's
    point estimate). ``methods`` picks cost methods from :data:`METHODS`.
    """

    def __init__(self, spec: TrainingRunSpec | None = None, *, model: ModelSpec | str | None = None,
                 methods=None, cloud_tier: str = "3y", cloud_vendor: str | None = None,
                 target_year: int | None = None, price_index: PriceIndex | None = None,
                 hardware_catalog: HardwareCatalog | None = None, input_uncertainty: bool = True,
                 optimizer: str = "adam", micro_batch: int = 1, recompute: str = "selective",
                 convention: compute.FlopConvention = compute.DEFAULT_CONVENTION,
                 price_book: prices.PriceBook | None = None, source: str = "", extra_notes=()):
        if isinstance(model, str):
            model = bundled_models().get(model)
        self.model = model
        self.spec = spec or TrainingRunSpec()
        # methods=None: every method the data allow (a method that lacks an input is
        # dropped with a warning); named methods must all be computable.
        self.strict_methods = methods is not None
        methods = METHODS if methods is None else ((methods,) if isinstance(methods, str) else tuple(methods))
        for m in methods:
            if m not in METHODS:
                raise UnknownNameError("cost method", m, METHODS)
        self.methods = tuple(methods)
        if cloud_tier not in prices.TIERS:
            raise InvalidInputError(f"cloud_tier={cloud_tier!r} is not one of {', '.join(prices.TIERS)}")
        self.cloud_tier, self.cloud_vendor = cloud_tier, cloud_vendor
        self.target_year = target_year
        self.price_index = price_index or bundled_price_index()
        self.catalog = hardware_catalog or bundled_hardware()
        self.input_uncertainty = input_uncertainty
        self.optimizer, self.micro_batch, self.recompute = optimizer, micro_batch, recompute
        self.convention = convention
        self.price_book = price_book or prices.bundled_price_book()
        self.source = source or (f"bundled curated catalog (as of {self.model.as_of})" if self.model is not None
                                 else "user inputs")
        self.records: dict[str, InputRecord] = {}
        self.notes: list[str] = list(extra_notes)
        self.warnings: list[str] = []
        self._build()

    # -- input resolution ----------------------------------------------------------

    def _add(self, name, value, unit, provenance, source="", central=None):
        dist = as_distribution(value, name)
        if central is None:
            central = dist.value if isinstance(dist, Point) else float(dist.median)
        self.records[name] = InputRecord(name, dist, unit, provenance, source, float(central))

    def _user_or_model(self, field_name: str, model_attr: str | None = None):
        """(value, provenance, source) from the user's spec, else the catalog model."""
        v = getattr(self.spec, field_name)
        if v is not None:
            return v, "user", "given"
        if self.model is not None and model_attr is not None:
            mv = getattr(self.model, model_attr)
            if mv is not None:
                return mv, "reported", self.model.source
        return None, None, None

    def _build(self) -> None:
        spec, model = self.spec, self.model
        self.name = model.name if model else "custom run"
        c_src = "Cottier et al. 2024 (arXiv 2405.21015)"
        factor = (lambda n: K.constant(n).distribution()) if self.input_uncertainty else (lambda n: Point(1.0))

        # hardware
        hw_name = spec.hardware or (model.hardware if model else None)
        if hw_name is None:
            raise MissingInputError("hardware is required (e.g. --hardware a100); the model catalog has none for this run")
        self.hw, note = self.catalog.resolve(hw_name)
        if note:
            self.notes.append(note)
        precision = spec.precision or (model.precision if model and model.precision in ("fp16", "bf16", "fp32", "tf32", "fp8") else None)
        # weights and gradients are kept in 32 bits for fp32/tf32 training, else in 16 bits
        # (fp8 training keeps 16-bit weights and fp32 master copies too)
        self.state_precision = "fp32" if precision in ("fp32", "tf32") else "bf16"
        if spec.peak_flop_per_s is not None:
            self._add("peak_flop_per_s", spec.peak_flop_per_s, "FLOP/s", "user", "given")
        else:
            peak = self.hw.peak_flop_per_s(precision)
            self._add("peak_flop_per_s", peak, "FLOP/s", "reported",
                      f"{self.hw.name} dense {precision or self.hw.default_precision()} peak; {self.hw.source}")

        # compute from parameters and data
        # the user's parameters (active, else total) win over the catalog's per-token count
        if spec.params_active is not None or spec.params is not None:
            p = spec.params_active if spec.params_active is not None else spec.params
            p_prov, p_src = "user", "given"
        else:
            p, p_prov, p_src = self._user_or_model("params_active", "params_per_token")
        d, d_prov, d_src = self._user_or_model("tokens", "training_tokens")
        user_sized = spec.params is not None or spec.params_active is not None or spec.tokens is not None
        total_params, tp_prov, tp_src = self._user_or_model("params", "params")
        if total_params is not None:
            self._add("params", total_params, "parameters", tp_prov, tp_src)
        if p is not None and d is not None:
            self._add("params_per_token", p, "parameters", p_prov, p_src)
            self._add("tokens", d, "tokens", d_prov, d_src)
            ep, ep_prov, ep_src = self._user_or_model("epochs", "epochs")
            self._add("epochs", 1.0 if ep is None else ep, "", ep_prov or "default", ep_src or "one pass over the tokens")
        for attr in ("n_layers", "d_model", "context_length"):
            v, prov, src = self._user_or_model(attr, attr)
            if v is not None:
                self._add(attr, v, "", prov, src)

        c, c_prov, c_src2 = self._user_or_model("training_compute_flop", "training_compute_flop")
        if c_prov == "reported" and user_sized:
            # the user resized the model: its reported compute no longer applies
            self.notes.append("the catalog's training compute is not used because parameters or tokens were given")
            c = None
        if c is not None:
            if c_prov == "reported":
                c = _scaled(c, factor("training_compute_factor"))
            self._add("training_compute_flop", c, "FLOP", c_prov, c_src2, _num(c))

        # hardware quantity and time
        chips, ch_prov, ch_src = self._user_or_model("chips", "chips")
        if chips is not None:
            self._add("chips", _scaled(chips, factor("chip_count_factor")) if ch_prov == "reported" else chips, "chips",
                      ch_prov, ch_src, _num(chips))
        hours, h_prov, h_src = self._user_or_model("training_time_hours", "training_time_hours")
        if hours is not None:
            self._add("training_time_hours", _scaled(hours, factor("training_time_factor")) if h_prov == "reported" else hours,
                      "hours", h_prov, h_src, _num(hours))
        chh, chh_prov, chh_src = self._user_or_model("chip_hours", "chip_hours")
        if chh is not None:
            chh_raw = chh
            if chh_prov == "reported":
                chh = _scaled(_scaled(chh, factor("chip_count_factor")), factor("training_time_factor"))
            self._add("chip_hours", chh, "chip-hours", chh_prov, chh_src, _num(chh_raw))

        u, u_prov, u_src = self._user_or_model("utilization", "utilization")
        if u is None:
            const = K.constant("utilization", "default")
            u = const.distribution() if self.input_uncertainty else const.value
            u_prov, u_src = "imputed", f"{c_src}: median of reported MFU, 90% CI {const.low}-{const.high}"
            self._add("utilization", u, "fraction", u_prov, u_src, const.value)
        else:
            self._add("utilization", u, "fraction", u_prov, u_src)

        has_compute_path = "training_compute_flop" in self.records or "tokens" in self.records
        has_hw_path = "chip_hours" in self.records or ("chips" in self.records and "training_time_hours" in self.records)
        if not (has_compute_path or has_hw_path):
            raise MissingInputError(
                "not enough to estimate compute: give training compute (--compute), parameters and tokens "
                "(--params, --tokens), or chips and time (--chips, --hours)"
            )

        # dates
        pub = spec.publication_date or (model.publication_date if model else None)
        default_hours = K.constant("training_time_hours", "default").value
        if spec.start_date is not None:
            self.start = spec.start_date
        elif model is not None and model.training_start_date is not None:
            self.start = model.training_start_date
            self.notes.append(f"training start {self.start} as set by Cottier et al. 2024 for this model")
        elif pub is not None:
            hrs = model.training_time_hours if (model and model.training_time_hours) else default_hours
            gap = K.constant("training_start_gap_days").value
            self.start = pub - dt.timedelta(days=int(hrs // 24) + gap)
        else:
            self.start = dt.date.today()
        self.dollar_date = pub or self.start
        self.organization = spec.organization or (model.organization if model else "")

        for method in list(self.methods):
            try:
                MONEY_INPUTS[method](self, factor)
            except MissingInputError as exc:
                if self.strict_methods:
                    raise
                self.methods = tuple(m for m in self.methods if m != method)
                self.warnings.append(f"{method} cost skipped: {exc}")
        if "acquisition" in self.methods and "chips" not in self.records and "training_time_hours" not in self.records:
            default_hours = K.constant("training_time_hours", "default").value
            self.notes.append(f"training_time_hours (imputed): {default_hours} h, Cottier et al.'s default, "
                              "sets the cluster size for the acquisition cost")

    def _cloud_inputs(self, factor) -> None:
        spec = self.spec
        if spec.price_usd_per_chip_hour is not None:
            self._add("price_usd_per_chip_hour", spec.price_usd_per_chip_hour, "USD/chip-hour", "user", "given")
            return
        lookup = self.start - dt.timedelta(days=int(K.constant("training_start_gap_days").value))
        cp = self.price_book.cloud_price(self.hw, vendor=self.cloud_vendor, tier=self.cloud_tier, on=lookup,
                                organization=self.organization)
        self._add("price_usd_per_chip_hour", cp.price_usd_per_chip_hour, "USD/chip-hour", "reported",
                  f"{cp.vendor} {cp.tier} price of {cp.date}: {cp.source}")

    def _hardware_inputs(self, factor) -> None:
        """Chip value, server and interconnect overheads, depreciation (amortized and acquisition)."""
        if "chip_price_usd" in self.records:
            return
        hw, spec = self.hw, self.spec
        variant = "tpu" if hw.is_tpu else "gpu"
        if spec.chip_price_usd is not None:
            self._add("chip_price_usd", spec.chip_price_usd, "USD", "user", "given")
            includes_server, price_date = False, self.start
        else:
            pp = self.price_book.purchase_price(hw)
            if pp is None:
                raise MissingInputError(
                    f"no purchase price for {hw.name} in the catalog; give chip_price_usd (--chip-price)"
                )
            self._add("chip_price_usd", _scaled(pp.price_usd_per_chip, factor(f"chip_price_factor.{variant}")), "USD",
                      "reported", f"{pp.date}: {pp.notes}; {pp.source}", pp.price_usd_per_chip)
            includes_server, price_date = pp.includes_server, pp.date
        if includes_server:
            self._add("server_overhead", 1.0, "ratio", "reported", "price is for a whole server (DGX), overhead included")
        else:
            const = K.constant("server_overhead", hw.family)
            self._add("server_overhead", const.distribution() if self.input_uncertainty else const.value, "ratio",
                      "default", f"{const.name} = {const.value:g}: {const.source}", const.value)
        self._add_constant("interconnect_fraction", "interconnect_fraction", None)
        self._add_constant("depreciation_oom_per_year", "depreciation_oom_per_year", None)
        release = hw.release_date or price_date
        acquisition = max(price_date, release + dt.timedelta(days=int(K.constant("acquisition_after_release_days").value)))
        years = (self.start - acquisition).days / DAYS_PER_YEAR
        shift = K.constant("acquisition_shift_days").distribution() if self.input_uncertainty else Point(0.0)
        years_dist = Point(years) if shift.is_point else _shifted(years, shift, 1 / DAYS_PER_YEAR)
        self._add("years_held", years_dist, "years", "derived",
                  f"acquired {acquisition} (price date, or release + 90 days), training start {self.start}", years)

    def _amortized_inputs(self, factor) -> None:
        hw = self.hw
        tdp = hw.tdp_w or (K.constant("tpu_v4_tdp_w").value if hw.family == "tpu-v4" else None)
        if tdp is None:
            raise MissingInputError(f"{hw.name} has no TDP in the catalog; the energy cost needs one")
        self._hardware_inputs(factor)
        self._add("tdp_w", tdp, "W", "reported", hw.source)
        self._add_constant("server_power_ratio", "server_power_ratio", hw.family)
        self._add_constant("average_power_fraction", "average_power_fraction", "tpu" if hw.is_tpu else "gpu")
        self._add_constant("pue", "pue", "hyperscaler" if _is_hyperscaler(self.organization) else "default")
        price = prices.electricity_price_usd_per_kwh(self.dollar_date.year)
        self._add("usd_per_kwh", _scaled(price, factor("electricity_price_factor")), "USD/kWh", "reported",
                  f"US industrial electricity price {min(max(self.dollar_date.year, 2010), 2025)} (EIA)", price)

    def _add_constant(self, record: str, name: str, variant: str | None) -> None:
        const = K.constant(name, variant)
        value = const.distribution() if self.input_uncertainty else const.value
        self._add(record, value, const.unit, "default", f"{const.name} = {const.value:g}: {const.source}", const.value)

    # -- evaluation ------------------------------------------------------------------

    def _evaluate(self, v: dict) -> dict[str, np.ndarray | float]:
        """Run the stage functions on drawn (or central) input values."""
        out: dict[str, np.ndarray | float] = {}
        peak, u = v["peak_flop_per_s"], v["utilization"]
        if "tokens" in v:
            out["compute_from_params_flop"] = compute.training_compute_flop(
                v["params_per_token"], v["tokens"], epochs=v["epochs"], n_layers=v.get("n_layers"),
                d_model=v.get("d_model"), context_length=v.get("context_length"), convention=self.convention)
        # chip-hours: reported, else chips x time, else compute / (peak x utilization)
        if "chip_hours" in v:
            chip_hours = v["chip_hours"]
        elif "chips" in v and "training_time_hours" in v:
            chip_hours = np.asarray(v["chips"]) * v["training_time_hours"]
        else:
            c = v.get("training_compute_flop", out.get("compute_from_params_flop"))
            chip_hours = training.chip_hours_from_compute(c, peak, u)
        out["chip_hours"] = chip_hours
        if "chip_hours" in v or ("chips" in v and "training_time_hours" in v):
            out["compute_from_hardware_flop"] = compute.compute_from_chip_hours(chip_hours, peak, u)
        out["training_compute_flop"] = v.get("training_compute_flop", out.get("compute_from_params_flop",
                                                                                out.get("compute_from_hardware_flop")))
        # cluster size and wall-clock time
        if "chips" in v:
            chips = v["chips"]
        elif "training_time_hours" in v:
            chips = training.chips_for_deadline(chip_hours, np.asarray(v["training_time_hours"]) * SECONDS_PER_HOUR)
        else:
            chips = None
        if chips is not None:
            out["chips"] = chips
            # a reported time is the duration; else chip-hours over chips
            out["duration_s"] = (np.asarray(v["training_time_hours"]) * SECONDS_PER_HOUR
                                 if "training_time_hours" in v else training.duration_s(chip_hours, chips))
        # memory
        if "params" in v:
            mem = training.model_state_bytes(v["params"], self.state_precision, self.optimizer)
            if all(k in v for k in ("n_layers", "d_model", "context_length")):
                mem = mem + training.activation_bytes(v["n_layers"], v["d_model"], v["context_length"],
                                                      micro_batch=self.micro_batch, recompute=self.recompute)
            out["memory_bytes"] = mem
            if self.hw.memory_bytes:
                out["min_chips"] = training.min_chips_for_memory(mem, self.hw.memory_bytes)
        # dollars
        for method in self.methods:
            out[f"cost_usd.{method}"] = COST_METHODS[method](self, v, out)
        return out

    def _cost_chips(self, v, out):
        if "chips" in out:
            return out["chips"]
        return np.ceil(np.asarray(out["chip_hours"]) / K.constant("training_time_hours", "default").value)

    def run(self, *, samples: int = 10_000, seed: int | None = 0, sampling: str = "random",
            uncertainty: bool = True, with_sensitivity: bool = False) -> TrainingEstimate:
        central_inputs = {k: r.central for k, r in self.records.items()}
        central = self._finalize(self._evaluate(central_inputs))
        if uncertainty:
            drawn = draw({k: r.value for k, r in self.records.items()}, samples, seed, sampling)
            drawn = self._clip_fractions(drawn)
            results = self._finalize(self._evaluate(drawn))
        else:
            drawn, results = central_inputs, central
        units = {"training_compute_flop": "FLOP", "compute_from_params_flop": "FLOP", "compute_from_hardware_flop": "FLOP",
                 "chip_hours": "chip-hours", "duration_s": "s", "chips": "chips", "memory_bytes": "bytes", "min_chips": "chips"}
        summ = {}
        for k, x in results.items():
            unit = "USD" if k.startswith("cost_usd.") else units[k]
            closed = self._closed_form(k) if uncertainty else None
            summ[k] = (Summary.from_distribution(closed, unit, samples=np.asarray(x)) if closed is not None
                       else Summary.from_samples(x, unit))
        self._compare_compute(summ)
        sens = {}
        if with_sensitivity and uncertainty:
            for k in ("training_compute_flop", "chip_hours", *[f"cost_usd.{m}" for m in self.methods]):
                if k in results:
                    sens[k] = sensitivity({n: a for n, a in drawn.items()}, results[k])
        dollars = (f"nominal USD of {self.dollar_date:%Y-%m}" if self.target_year is None
                   else f"{self.target_year} USD ({self.price_index.name})")
        return TrainingEstimate(
            name=self.name, hardware=self.hw.name,
            training_compute_flop=summ["training_compute_flop"], chip_hours=summ["chip_hours"],
            duration_s=summ.get("duration_s"), chips=summ.get("chips"), memory_bytes=summ.get("memory_bytes"),
            min_chips=summ.get("min_chips"),
            cost_usd={m: summ[f"cost_usd.{m}"] for m in self.methods},
            central={k: float(np.asarray(x)) for k, x in central.items()},
            compute_from_params_flop=summ.get("compute_from_params_flop"),
            compute_from_hardware_flop=summ.get("compute_from_hardware_flop"),
            dollars=dollars, inputs=list(self.records.values()), notes=list(self.notes), warnings=list(self.warnings),
            sensitivity=sens, samples=samples if uncertainty else 1, seed=seed, sampling=sampling,
            source=self.source,
        )

    def _inflation_factor(self) -> float:
        """Dollars of the run's date -> dollars of ``target_year``; dates past the index use its last year."""
        idx = self.price_index
        when = self.dollar_date
        if when.year > idx.last_year:
            note = f"dollars of {when:%Y-%m} are treated as {idx.last_year} dollars, the last year of {idx.name}"
            if note not in self.notes:
                self.notes.append(note)
            when = idx.last_year
        return idx.factor(when, self.target_year)

    def _finalize(self, out: dict) -> dict:
        if self.target_year is not None:
            f = self._inflation_factor()
            for k in list(out):
                if k.startswith("cost_usd."):
                    out[k] = np.asarray(out[k]) * f
        return out

    #: physical bounds of sampled inputs whose 90% interval reaches a bound:
    #: lognormal tails beyond them are clipped (documented in docs/methods.md)
    _BOUNDS = {"average_power_fraction": (0.0, 1.0), "utilization": (0.0, 1.0), "pue": (1.0, np.inf)}

    def _clip_fractions(self, drawn: dict) -> dict:
        for k, (lo, hi) in self._BOUNDS.items():
            if k in drawn and isinstance(drawn[k], np.ndarray):
                drawn[k] = np.clip(drawn[k], lo, hi)
        return drawn

    def _closed_form(self, output: str) -> Distribution | None:
        """Exact lognormal for outputs that are products of lognormal/point inputs."""
        r = self.records
        if output == "cost_usd.cloud" and "price_usd_per_chip_hour" in r:
            if "chip_hours" in r:
                terms = [(r["chip_hours"].value, 1)]
            elif "chips" in r and "training_time_hours" in r:
                terms = [(r["chips"].value, 1), (r["training_time_hours"].value, 1)]
            else:
                return None
            factor = self._inflation_factor() if self.target_year else 1.0
            dist = lognormal_product(terms + [(r["price_usd_per_chip_hour"].value, 1)], constant=factor)
            return dist if isinstance(dist, LogNormal) else None
        return None

    def _compare_compute(self, summ: dict) -> None:
        a, b = summ.get("compute_from_params_flop"), summ.get("compute_from_hardware_flop")
        given = self.records.get("training_compute_flop")
        pairs = [("parameters x tokens", a, "hardware x time", b)]
        if given is not None:
            pairs.append(("the given training compute", summ["training_compute_flop"], "hardware x time", b))
        for na, sa, nb, sb in pairs:
            if sa is not None and sb is not None and compute.disagrees(sa.median, sb.median):
                ratio = compute.disagreement_ratio(sa.median, sb.median)
                self.warnings.append(
                    f"compute from {na} ({sa.median:.2e} FLOP) and from {nb} ({sb.median:.2e} FLOP) "
                    f"differ by {ratio:.1f}x (more than {compute.DISAGREEMENT_FACTOR:g}x): check the inputs"
                )


def _num(value) -> float | None:
    """The central value of a raw input: the number itself, else the median."""
    d = as_distribution(value)
    return d.value if isinstance(d, Point) else None


def _scaled(value, factor: Distribution):
    """``value * factor`` as an input, in closed form (factors are lognormal or points)."""
    base = as_distribution(value)
    if isinstance(factor, Point) and factor.value == 1.0:
        return base
    closed = lognormal_product([(base, 1), (factor, 1)])
    if closed is None:
        raise InvalidInputError(f"cannot scale {base.describe()} by {factor.describe()}: both must be lognormal or points")
    return closed


def _shifted(base: float, shift: Distribution, scale: float) -> Distribution:
    from flopcast.uncertainty import Normal

    if isinstance(shift, Normal):
        return Normal(base + shift.mean * scale, shift.sd * scale)
    return Point(base)


def _cloud(chain: TrainingCostChain, v, out):
    return training.cloud_cost_usd(out["chip_hours"], v["price_usd_per_chip_hour"])


def _amortized(chain: TrainingCostChain, v, out):
    hardware = training.amortized_hardware_cost_usd(
        out["chip_hours"], v["chip_price_usd"], server_overhead=v["server_overhead"],
        interconnect_fraction=v["interconnect_fraction"], years_held=v["years_held"],
        depreciation_oom_per_year=v["depreciation_oom_per_year"])
    energy = training.energy_cost_usd(
        out["chip_hours"], v["tdp_w"], server_power_ratio=v["server_power_ratio"],
        average_power_fraction=v["average_power_fraction"], pue=v["pue"], usd_per_kwh=v["usd_per_kwh"])
    return hardware + energy


def _acquisition(chain: TrainingCostChain, v, out):
    return training.acquisition_cost_usd(chain._cost_chips(v, out), v["chip_price_usd"],
                                         server_overhead=v["server_overhead"],
                                         interconnect_fraction=v["interconnect_fraction"])


COST_METHODS: dict[str, Callable] = {"cloud": _cloud, "amortized": _amortized, "acquisition": _acquisition}
MONEY_INPUTS: dict[str, Callable] = {
    "cloud": TrainingCostChain._cloud_inputs,
    "amortized": TrainingCostChain._amortized_inputs,
    "acquisition": TrainingCostChain._hardware_inputs,
}


def estimate(model: str | ModelSpec | None = None, *, samples: int = 10_000, seed: int | None = 0,
             sampling: str = "random", uncertainty: bool = True, with_sensitivity: bool = False,
             **kwargs) -> TrainingEstimate:
    """Estimate compute, time, memory and cost of a training run.

    ``model`` is a catalog name (``"gpt-3"``) or None for an ad-hoc run; keyword
    arguments that are fields of :class:`TrainingRunSpec` describe or override the
    run, the rest go to :class:`TrainingCostChain` (``methods``, ``cloud_tier``,
    ``target_year``...).
    """
    spec_fields = {f.name for f in fields(TrainingRunSpec)}
    spec = TrainingRunSpec(**{k: v for k, v in kwargs.items() if k in spec_fields})
    chain_kwargs = {k: v for k, v in kwargs.items() if k not in spec_fields}
    chain = TrainingCostChain(spec, model=model, **chain_kwargs)
    return chain.run(samples=samples, seed=seed, sampling=sampling, uncertainty=uncertainty,
                     with_sensitivity=with_sensitivity)
