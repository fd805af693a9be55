"""Serving orchestration: a model, a chip and a load in, a typed :class:`DeploymentEstimate` out.

Layer: orchestration, as :mod:`flopcast.pipeline` is for training. This module resolves the
model's shape (the curated model catalog), the chip (the hardware catalog), the price (the
price book), the load (a number or a :mod:`flopcast.scenarios` scenario) and the uncertain
inputs, draws them once per sample index, and passes the arrays through the stage functions of
:mod:`flopcast.deployment`; no serving arithmetic lives here. :func:`~flopcast.serving.sweep.sweep` tabulates the same
stage functions over chips, precisions and batch sizes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np

from flopcast.catalogs import Hardware, HardwareCatalog, ModelCatalog, ModelSpec, bundled_hardware, bundled_models
from flopcast.catalogs import constants as K
from flopcast.catalogs.prices import PriceBook, bundled_price_book
from flopcast.deployment import (
    PARALLELISMS,
    SHARES_PUBLISHED,
    WEIGHT_KERNELS,
    Values,
    api_cost_usd,
    check_batch,
    check_context,
    decode_peak_flop_per_s,
    decode_step_s,
    fleet_load_factor,
    instance_throughput,
    instances_for_load,
    kv_bytes_per_token,
    kv_cache_fraction,
    min_chips_to_fit,
    model_shape,
    owned_usd_per_chip_hour,
    practical_chips,
    prefill_s_per_token,
    serving_memory_bytes,
    weight_bytes,
    weight_bytes_read,
)
from flopcast.errors import InvalidInputError, MissingInputError, UnknownNameError
from flopcast.quantities import Interval, Quantity
from flopcast.scenarios import Scenario, load_scenario
from flopcast.uncertainty import Distribution, Summary, as_distribution, draw
from flopcast.units import check_positive

if TYPE_CHECKING:
    from flopcast.datasets.database import Database

#: an uncertain input: a number, a ``(low, high)`` pair, a distribution or an array of samples
Input: TypeAlias = "Quantity | Interval"

_OUTPUTS = (
    "tokens_per_s_per_instance",
    "latency_per_token_s",
    "tokens_per_day",
    "instances",
    "fleet_load_factor",
    "usd_per_million_tokens",
    "usd_per_day",
    "usd_per_year",
    "usd_total",
)
_FACTS = (
    "model",
    "hardware",
    "precision",
    "chips_per_instance",
    "min_chips_to_fit",
    "memory_per_instance_bytes",
    "batch",
    "context",
    "duration_days",
    "price_source",
    "scenario",
    "parallelism",
    "weight_kernel",
)


@dataclass(eq=False)
class DeploymentEstimate:
    """Serving a model: throughput, latency, fleet size and dollars (USD), each a Summary."""

    model: str
    hardware: str
    precision: str
    chips_per_instance: int
    min_chips_to_fit: int
    memory_per_instance_bytes: float
    batch: float
    context: float
    tokens_per_s_per_instance: Summary
    latency_per_token_s: Summary
    tokens_per_day: Summary
    instances: Summary
    fleet_load_factor: Summary
    usd_per_million_tokens: Summary
    usd_per_day: Summary
    usd_per_year: Summary
    usd_total: Summary
    duration_days: float
    price_source: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    vs_training: dict[str, Any] | None = None
    api: dict[str, Any] | None = None
    lifetime: dict[str, Any] | None = None
    scenario: str = ""
    parallelism: str = "tensor"
    weight_kernel: str = "fused"

    def outputs(self) -> dict[str, Summary]:
        return {k: getattr(self, k) for k in _OUTPUTS}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _FACTS}
        out.update({k: s.to_dict() for k, s in self.outputs().items()})
        out["inputs"] = self.inputs
        out["notes"] = list(self.notes)
        for k in ("vs_training", "api", "lifetime"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


@dataclass(frozen=True)
class _Model:
    """The served model: its catalog row (None for an ad-hoc one), parameters and shape."""

    spec: ModelSpec | None
    name: str
    params: float
    params_active: float
    n_layers: float
    d_model: float


@dataclass(frozen=True)
class _Instance:
    """One serving instance: the chip, the context, the decode peak, the bytes and the chips."""

    hw: Hardware
    memory_bandwidth_bytes_per_s: float
    context: float
    peak_flop_per_s: float
    weights_read_bytes: float
    kv_per_token_bytes: float
    memory_bytes: float
    min_chips: int
    chips: int


@dataclass(frozen=True)
class _Layout:
    """How an instance serves: weight and KV precisions, batch, context, overlap, parallelism, weight kernel."""

    precision: str
    kv_precision: str
    kv_fraction: float | None
    batch: int
    context: int | None
    overlap: str
    parallelism: str
    weight_kernel: str


def estimate_deployment(
    model: str | ModelSpec | None = None,
    *,
    params: float | None = None,
    params_active: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
    hardware: str | None = None,
    chips: int | None = None,
    precision: str = "bf16",
    kv_precision: str = "bf16",
    kv_fraction: float | None = None,
    batch: int = 32,
    context: int | None = None,
    tokens_per_day: Input | None = None,
    scenario: str | os.PathLike[str] | Scenario | None = None,
    duration_days: float | None = None,
    price_usd_per_chip_hour: Input | None = None,
    cloud_tier: str = "on-demand",
    owned: bool = False,
    load_factor: Input = 1.0,
    overlap: str = "none",
    parallelism: str = "tensor",
    weight_kernel: str = "fused",
    vs_training: bool = False,
    api_usd_per_1k_tokens: Input | None = None,
    samples: int = 10_000,
    seed: int | None = 0,
    sampling: str = "random",
    db: Database | None = None,
    hardware_catalog: HardwareCatalog | None = None,
    model_catalog: ModelCatalog | None = None,
    price_book: PriceBook | None = None,
    price_date: dt.date | None = None,
) -> DeploymentEstimate:
    """Serve ``model`` (a catalog name or ModelSpec) or an ad-hoc ``params`` model for a load.

    The load is ``tokens_per_day`` (a number or interval) or a ``scenario`` (a name, a path
    or a :class:`flopcast.scenarios.Scenario`). Efficiencies, the load and the experiments
    multiplier are uncertain inputs drawn once per sample index. ``kv_fraction`` is the KV
    cache relative to multi-head attention's (GQA: KV heads / heads); by default the catalog
    model's ``kv_cache_fraction``, else 1.

    Chips and prices come from ``hardware_catalog`` and ``price_book``, else from ``db``'s
    (a :class:`~flopcast.datasets.database.Database`, also the one ``vs_training`` estimates
    the training cost on), else the bundled catalogs; models from ``model_catalog``, else the
    bundled curated catalog. A cloud price is the market's at ``price_date`` (default today).
    """
    notes: list[str] = []
    layout = _Layout(precision, kv_precision, kv_fraction, batch, context, overlap, parallelism, weight_kernel)
    m = _resolve_model(model, params, params_active, n_layers, d_model, model_catalog or bundled_models(), notes)
    chips_catalog = hardware_catalog or (db.hardware if db is not None else bundled_hardware())
    inst = _resolve_instance(m, chips_catalog.resolve(hardware or "a100"), chips, layout, notes)
    sc, duration = _resolve_load(scenario, tokens_per_day, duration_days)
    inputs = _load_inputs(sc, tokens_per_day, load_factor)
    prices = price_book or (db.price_book if db is not None else bundled_price_book())
    price, price_source = _resolve_price(
        inst.hw, price_usd_per_chip_hour, owned, cloud_tier, prices, price_date or dt.date.today()
    )
    inputs["price_usd_per_chip_hour"] = price
    if vs_training:
        inputs["experiments_multiplier"] = K.constant("experiments_multiplier").distribution()
    if api_usd_per_1k_tokens is not None:
        inputs["api_usd_per_1k_tokens"] = as_distribution(api_usd_per_1k_tokens, "api_usd_per_1k_tokens")
    v = draw(inputs, samples, seed, sampling)
    out = _serve(m, inst, layout, sc, v, duration)
    est = _estimate(m, inst, layout, out, inputs, sc, duration, price_source, notes)
    if api_usd_per_1k_tokens is not None:
        est.api = _versus_api(out, v["api_usd_per_1k_tokens"], duration)
    if vs_training:
        est.vs_training, est.lifetime = _versus_training(
            m.spec,
            out["tokens_per_day"],
            m.params_active,
            duration,
            out["usd_total"],
            v["experiments_multiplier"],
            samples,
            seed,
            db=db,
        )
    return est


def _resolve_model(
    model: str | ModelSpec | None,
    params: float | None,
    params_active: float | None,
    n_layers: float | None,
    d_model: float | None,
    catalog: ModelCatalog,
    notes: list[str],
) -> _Model:
    """The catalog row of ``model`` (if any) with the given values over it; a standard shape when none."""
    spec = catalog.get(model) if isinstance(model, str) else model
    name = spec.name if spec is not None else "custom model"
    params = params if params is not None else (spec.params if spec else None)
    if params is None:
        raise InvalidInputError("give a model (e.g. bloom-176b) or --params")
    check_positive("params", params)
    p_active = params_active or (spec.params_active if spec and spec.params_active else None) or params
    layers, width, shape_note = model_shape(
        params,
        n_layers if n_layers is not None else (spec.n_layers if spec else None),
        d_model if d_model is not None else (spec.d_model if spec else None),
    )
    if shape_note:
        notes.append(shape_note)
    return _Model(spec, name, params, p_active, layers, width)


def _resolve_instance(
    m: _Model, chip: tuple[Hardware, str], chips: int | None, layout: _Layout, notes: list[str]
) -> _Instance:
    """The chip (with how its name resolved), the context and the instance's chips: the next power of
    two that holds the weights and the KV cache, or the given number when it holds them."""
    hw, hw_note = chip
    if hw_note:
        notes.append(hw_note)
    if not hw.memory_bytes or not hw.memory_bandwidth_bytes_per_s:
        raise InvalidInputError(f"{hw.name} has no memory size or bandwidth in the catalog")
    precision, batch = layout.precision, layout.batch
    weight_kernel, parallelism = layout.weight_kernel, layout.parallelism
    check_batch(batch)
    spec = m.spec
    longest = (spec.max_context_length or spec.context_length) if spec else None
    context = layout.context
    ctx = float(context if context is not None else min(float(longest), 8192.0) if longest else 2048.0)
    check_context(ctx)
    if weight_kernel not in WEIGHT_KERNELS:
        raise UnknownNameError("weight kernel", weight_kernel, WEIGHT_KERNELS)
    if parallelism not in PARALLELISMS:
        raise UnknownNameError("parallelism", parallelism, PARALLELISMS)
    if parallelism == "zero" and not hw.interconnect_bandwidth_bytes_per_s:
        raise InvalidInputError(f"parallelism=zero needs {hw.name}'s interconnect bandwidth, which the catalog lacks")
    peak = decode_peak_flop_per_s(hw, precision, weight_kernel)
    w = float(weight_bytes(m.params, precision))
    w_read = float(weight_bytes_read(m.params, precision, weight_kernel))
    kv_frac, kv_note = kv_cache_fraction(
        layout.kv_fraction,
        getattr(spec, "kv_cache_fraction", None) if spec is not None else None,
        getattr(spec, "name", ""),
    )
    if kv_note:
        notes.append(kv_note)
    kv = float(kv_bytes_per_token(m.n_layers, m.d_model, layout.kv_precision, kv_heads_fraction=kv_frac))
    usable = K.constant("serving_memory_usable").value
    mem = float(serving_memory_bytes(w, kv, batch, ctx))
    need = int(min_chips_to_fit(mem, hw.memory_bytes, usable))
    if chips is None:
        chips = int(practical_chips(need))
        if chips != need:
            notes.append(f"{need} chips hold the weights and KV cache; {chips} (the next power of two) are used")
    elif chips < need:
        raise InvalidInputError(
            f"chips={chips} cannot hold {m.name} at {precision} with batch {batch:g} x context {ctx:g}: it needs "
            f"{mem / 1e9:.0f} GB, at least {need} {hw.name} ({hw.memory_bytes / 1e9:.0f} GB, {usable:.0%} usable each); "
            "give more chips, a smaller batch or context, or a lower precision"
        )
    return _Instance(hw, hw.memory_bandwidth_bytes_per_s, ctx, peak, w_read, kv, mem, need, chips)


def _resolve_load(
    scenario: str | os.PathLike[str] | Scenario | None, tokens_per_day: Input | None, duration_days: float | None
) -> tuple[Scenario | None, float]:
    """The scenario (loaded when named) and the duration: given, else the scenario's, else a year."""
    if scenario is not None:
        # a Scenario (or an object like one) as it is, else a bundled name or a TOML path
        sc = cast(Scenario, scenario) if hasattr(scenario, "distributions") else load_scenario(scenario)
        return sc, float(duration_days or sc.duration_days)
    if tokens_per_day is None:
        raise InvalidInputError("give tokens_per_day (--tokens-per-day) or a scenario (--scenario)")
    return None, float(duration_days or 365.0)


def _load_inputs(sc: Scenario | None, tokens_per_day: Input | None, load_factor: Input) -> dict[str, Distribution]:
    """The uncertain inputs of the roofline and the load, in the order that fixes their draws."""
    inputs = {
        "eff_memory": K.constant("serving_eff_memory").distribution(),
        "eff_compute": K.constant("serving_eff_compute").distribution(),
        "load_factor": as_distribution(load_factor, "load_factor"),
    }
    if sc is not None:
        inputs.update({f"scenario.{k}": v for k, v in sc.distributions().items()})
    else:
        inputs["tokens_per_day"] = as_distribution(tokens_per_day, "tokens_per_day")
    return inputs


def _resolve_price(
    hw: Hardware, given: Input | None, owned: bool, cloud_tier: str, prices: PriceBook, when: dt.date
) -> tuple[Distribution, str]:
    """USD per chip-hour and where it comes from: given, owned (amortized purchase plus energy) or cloud."""
    if given is not None:
        return as_distribution(given, "price_usd_per_chip_hour"), "given"
    if owned:
        pp = prices.purchase_price(hw)
        if pp is None:
            raise MissingInputError(f"no purchase price for {hw.name} in the catalog; give --price-per-chip-hour")
        overhead = 1.0 if pp.includes_server else K.constant("server_overhead", hw.family).value
        price = owned_usd_per_chip_hour(
            pp.price_usd_per_chip,
            server_overhead=overhead,
            tdp_w=hw.tdp_w,
            server_power_ratio=K.constant("server_power_ratio", hw.family).value,
        )
        source = (
            f"owned: ${pp.price_usd_per_chip:,.0f} a chip ({pp.date}) amortized at Cottier et al.'s rate plus energy"
        )
        return as_distribution(float(price)), source
    est = prices.market_cloud_price(hw, when=when, tier=cloud_tier)
    return est.distribution(), f"market {cloud_tier} price on {when}: {est.describe()}"


def _serve(
    m: _Model, inst: _Instance, layout: _Layout, sc: Scenario | None, v: Mapping[str, Values], duration: float
) -> dict[str, Values]:
    """The stage functions on the drawn inputs: the load, the step, throughput, fleet and dollars."""
    batch, parallelism = layout.batch, layout.parallelism
    prompt_ratio: Values = 0.0
    if sc is not None:
        scen_vals = {k.split(".", 1)[1]: x for k, x in v.items() if k.startswith("scenario.")}
        tpd = np.asarray(sc.generated_tokens_per_day(scen_vals), dtype=float)
        prompt_ratio = sc.prompt_tokens_per_day(scen_vals) / tpd
    else:
        tpd = np.asarray(v["tokens_per_day"], dtype=float)
    step = decode_step_s(
        params_active=m.params_active,
        weights_bytes=inst.weights_read_bytes,
        kv_per_token_bytes=inst.kv_per_token_bytes,
        batch=batch,
        context=inst.context,
        chips=inst.chips,
        peak_flop_per_s=inst.peak_flop_per_s,
        memory_bandwidth_bytes_per_s=inst.memory_bandwidth_bytes_per_s,
        eff_compute=v["eff_compute"],
        eff_memory=v["eff_memory"],
        n_layers=m.n_layers,
        d_model=m.d_model,
        overlap=layout.overlap,
        parallelism=parallelism,
        interconnect_bytes_per_s=inst.hw.interconnect_bandwidth_bytes_per_s,
    )
    pre = prefill_s_per_token(
        params_active=m.params_active,
        chips=inst.chips,
        peak_flop_per_s=inst.peak_flop_per_s,
        eff_compute=v["eff_compute"],
        parallelism=parallelism,
    )
    tput = instance_throughput(step, batch, prompt_ratio, pre)
    n = instances_for_load(tpd, tput, v["load_factor"])
    per_day = n * inst.chips * 24.0 * v["price_usd_per_chip_hour"]
    return {
        "tokens_per_s_per_instance": tput,
        "latency_per_token_s": step,
        "tokens_per_day": tpd,
        "instances": n,
        "fleet_load_factor": fleet_load_factor(tpd, tput, n),
        "usd_per_million_tokens": per_day / tpd * 1e6,
        "usd_per_day": per_day,
        "usd_per_year": per_day * 365.25,
        "usd_total": per_day * duration,
    }


_UNITS = {
    "tokens_per_s_per_instance": "tokens/s",
    "latency_per_token_s": "s",
    "tokens_per_day": "tokens/day",
    "instances": "instances",
    "fleet_load_factor": "",
    "usd_per_million_tokens": "USD",
    "usd_per_day": "USD",
    "usd_per_year": "USD",
    "usd_total": "USD",
}


def _estimate(
    m: _Model,
    inst: _Instance,
    layout: _Layout,
    out: Mapping[str, Values],
    inputs: Mapping[str, Distribution],
    sc: Scenario | None,
    duration: float,
    price_source: str,
    notes: list[str],
) -> DeploymentEstimate:
    """The estimate: the instance's facts, a summary of every output and the inputs it drew."""

    def s(key: str) -> Summary:
        return Summary.from_samples(out[key], _UNITS[key])

    return DeploymentEstimate(
        model=m.name,
        hardware=inst.hw.name,
        precision=layout.precision,
        chips_per_instance=int(inst.chips),
        min_chips_to_fit=inst.min_chips,
        memory_per_instance_bytes=inst.memory_bytes,
        batch=float(layout.batch),
        context=inst.context,
        tokens_per_s_per_instance=s("tokens_per_s_per_instance"),
        latency_per_token_s=s("latency_per_token_s"),
        tokens_per_day=s("tokens_per_day"),
        instances=s("instances"),
        fleet_load_factor=s("fleet_load_factor"),
        usd_per_million_tokens=s("usd_per_million_tokens"),
        usd_per_day=s("usd_per_day"),
        usd_per_year=s("usd_per_year"),
        usd_total=s("usd_total"),
        duration_days=duration,
        price_source=price_source,
        notes=notes,
        scenario=getattr(sc, "key", "") or "",
        parallelism=layout.parallelism,
        weight_kernel=layout.weight_kernel,
        inputs=[{"name": k, "distribution": d.describe(), "median": float(d.median)} for k, d in inputs.items()],
    )


def _versus_api(out: Mapping[str, Values], usd_per_1k_tokens: Values, duration: float) -> dict[str, Any]:
    """Self-hosting against an API priced per thousand tokens, over the same tokens."""
    api_total = api_cost_usd(out["tokens_per_day"] * duration, usd_per_1k_tokens)
    return {
        "usd_total": Summary.from_samples(api_total, "USD").to_dict(),
        "ratio_self_hosted_to_api": Summary.from_samples(out["usd_total"] / api_total, "").to_dict(),
    }


def _versus_training(
    spec: ModelSpec | None,
    tokens_per_day: Values,
    params_active: float,
    duration: float,
    deploy_total: Values,
    multiplier: Values,
    samples: int,
    seed: int | None,
    *,
    db: Database | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Deployment cost / development cost (training amortized cost x experiments), and the compute split."""
    from flopcast.pipeline import estimate

    if spec is None:
        raise InvalidInputError("--vs-training needs a catalog model (its training cost is estimated)")
    tr = estimate(spec.key, db=db, methods="amortized", samples=samples, seed=seed)
    train = tr.cost_usd["amortized"].samples
    train_flop = tr.training_compute_flop.samples
    n = len(np.atleast_1d(deploy_total))
    train = np.resize(train, n) if train is not None else np.full(n, tr.cost_usd["amortized"].median)
    train_flop = np.resize(train_flop, n) if train_flop is not None else np.full(n, tr.training_compute_flop.median)
    development = train * multiplier
    ratio = deploy_total / development
    p = {f"P(ratio >= {x:g})": float(np.mean(ratio >= x)) for x in (0.1, 0.2, 0.5, 1.0)}
    inference_flop = 2.0 * params_active * tokens_per_day * duration
    experiments_flop = train_flop * (multiplier - 1.0)
    total_flop = experiments_flop + train_flop + inference_flop
    shares = {
        k: Summary.from_samples(x / total_flop, "").to_dict()
        for k, x in (("experimentation", experiments_flop), ("training", train_flop), ("inference", inference_flop))
    }
    vs = {
        "training_cost_usd": Summary.from_samples(train, "USD").to_dict(),
        "development_cost_usd": Summary.from_samples(development, "USD").to_dict(),
        "deployment_cost_usd": Summary.from_samples(deploy_total, "USD").to_dict(),
        "ratio": Summary.from_samples(ratio, "").to_dict(),
        "probabilities": p,
        "training_dollars": tr.dollars,
        "published": "Cottier 2022: about 20% (90% CI 10-68%) for 1% of Twitter or 1M developers for a year",
    }
    lifetime = {"compute_share": shares, "published": SHARES_PUBLISHED}
    return vs, lifetime
