"""Serving orchestration: a model, a load and latency targets in, a typed :class:`DeploymentEstimate` out.

Layer: orchestration, as :mod:`flopcast.pipeline` is for training. This module resolves the
model's shape (the curated model catalog), the candidate chips (the hardware catalog), their
prices (the price book), the load (a number, a request rate or a :mod:`flopcast.scenarios`
scenario) and the request shape; :func:`flopcast.serving.plan.plan` picks the configuration;
the uncertain inputs are drawn once per sample index and go through
:func:`flopcast.serving.config.evaluate` and the fleet's stage functions of
:mod:`flopcast.deployment`. No serving arithmetic lives here.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np

from flopcast.catalogs import Hardware, HardwareCatalog, ModelCatalog, ModelSpec, bundled_hardware, bundled_models
from flopcast.catalogs import constants as K
from flopcast.catalogs.prices import PriceBook, bundled_price_book
from flopcast.deployment import (
    SHARES_PUBLISHED,
    Values,
    api_cost_usd,
    check_batch,
    check_context,
    fleet_load_factor,
    inference_implied_by_shares,
    kv_cache_fraction,
    model_shape,
    owned_usd_per_chip_hour,
)
from flopcast.errors import FlopcastError, InvalidInputError, MissingInputError
from flopcast.quantities import Interval, Quantity
from flopcast.scenarios import Scenario, load_scenario
from flopcast.serving.config import Config, Served, Workload, evaluate, fleet, memory_bytes, served
from flopcast.serving.plan import Choices, PlanResult, Targets, plan
from flopcast.uncertainty import Distribution, Summary, as_distribution, draw
from flopcast.units import check_positive

if TYPE_CHECKING:
    from flopcast.datasets.database import Database

#: an uncertain input: a number, a ``(low, high)`` pair, a distribution or an array of samples
Input: TypeAlias = "Quantity | Interval"

_OUTPUTS = (
    "tokens_per_s_per_instance",
    "time_per_output_token_s",
    "time_to_first_token_s",
    "latency_per_token_s",
    "tokens_per_day",
    "prompt_tokens_per_day",
    "instances",
    "prefill_instances",
    "fleet_load_factor",
    "usd_per_million_tokens",
    "usd_per_million_output_tokens",
    "usd_per_day",
    "usd_per_year",
    "usd_total",
)
_FACTS = (
    "model",
    "hardware",
    "precision",
    "kv_precision",
    "chips_per_instance",
    "tp",
    "ep",
    "min_chips_to_fit",
    "memory_per_instance_bytes",
    "batch",
    "context",
    "prompt_tokens",
    "output_tokens",
    "duration_days",
    "price_source",
    "scenario",
    "parallelism",
    "weight_kernel",
    "configuration",
    "disaggregated",
)


@dataclass(eq=False)
class DeploymentEstimate:
    """Serving a model: throughput, latency, fleet size and dollars (USD), each a Summary.

    ``tokens_per_day`` counts generated (output) tokens, ``prompt_tokens_per_day`` the prompts read;
    ``usd_per_million_tokens`` is over both (the single price a host would charge for input and
    output), ``usd_per_million_output_tokens`` over the output alone. ``plan`` holds the planner's
    search: the targets, whether they bind, and the frontier of throughput against latency.
    """

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
    time_per_output_token_s: Summary | None = None
    prefill_instances: Summary | None = None
    time_to_first_token_s: Summary | None = None
    prompt_tokens_per_day: Summary | None = None
    usd_per_million_output_tokens: Summary | None = None
    kv_precision: str = "bf16"
    tp: int = 1
    ep: int = 1
    prompt_tokens: float = 0.0
    output_tokens: float = 0.0
    configuration: str = ""
    #: prompts read on prefill instances of their own (``prefill_instances`` of ``instances``)
    disaggregated: bool = False
    plan: dict[str, Any] | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    vs_training: dict[str, Any] | None = None
    api: dict[str, Any] | None = None
    lifetime: dict[str, Any] | None = None
    scenario: str = ""
    parallelism: str = "tensor"
    weight_kernel: str = "fused"

    def outputs(self) -> dict[str, Summary]:
        return {k: s for k in _OUTPUTS if (s := getattr(self, k)) is not None}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _FACTS}
        out.update({k: s.to_dict() for k, s in self.outputs().items()})
        out["inputs"] = self.inputs
        out["notes"] = list(self.notes)
        for k in ("plan", "vs_training", "api", "lifetime"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


def estimate_deployment(
    model: str | ModelSpec | None = None,
    *,
    params: float | None = None,
    params_active: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
    hardware: str | Sequence[str] | None = None,
    chips: int | None = None,
    tp: int | None = None,
    ep: int | None = None,
    precision: str | None = None,
    kv_precision: str | None = None,
    kv_fraction: float | None = None,
    batch: int | None = None,
    prompt_tokens: float | None = None,
    output_tokens: float | None = None,
    context: float | None = None,
    cache_hit: float = 0.0,
    draft_tokens: int = 0,
    acceptance: float = 0.0,
    draft_cost: float = 0.0,
    tokens_per_day: Input | None = None,
    requests_per_s: Input | None = None,
    scenario: str | os.PathLike[str] | Scenario | None = None,
    duration_days: float | None = None,
    ttft_s: float | None = None,
    tpot_s: float | None = None,
    price_usd_per_chip_hour: Input | None = None,
    cloud_tier: str = "on-demand",
    owned: bool = False,
    load_factor: Input | None = None,
    overlap: str = "none",
    parallelism: str = "tensor",
    weight_kernel: str = "fused",
    disaggregated: bool | None = None,
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
    """Serve ``model`` (a catalog name or ModelSpec) or an ad-hoc ``params`` model for a load, on the
    cheapest configuration that meets the latency targets.

    The load is ``tokens_per_day`` (generated tokens, a number or interval), ``requests_per_s`` or a
    ``scenario`` (a name, a path or a :class:`flopcast.scenarios.Scenario`); each request reads
    ``prompt_tokens`` and writes ``output_tokens`` (defaults: LMSYS-Chat-1M's means, 70 and 215).
    What is not fixed (``hardware``: one name or several, ``chips``, ``tp``, ``ep``, ``precision``,
    ``batch``) the planner (:func:`flopcast.serving.plan.plan`) searches at central efficiencies for the
    fewest dollars a day within ``ttft_s`` and ``tpot_s`` (defaults: MLPerf Inference's server targets,
    2 s and 200 ms; ``math.inf`` for none) for a fleet that runs at ``load_factor`` of its capacity on
    average (default: DeepSeek's published average / peak, 0.82, 90% CI 0.6-0.95); the chosen
    configuration then goes through the Monte Carlo.
    With every choice fixed, that configuration is reported alone and the targets are only compared.

    Chips and prices come from ``hardware_catalog`` and ``price_book``, else from ``db``'s (a
    :class:`~flopcast.datasets.database.Database`, also the one ``vs_training`` estimates the training
    cost on), else the bundled catalogs; models from ``model_catalog``, else the bundled curated catalog.
    A cloud price is the market's at ``price_date`` (default today); the candidates by default are the
    chips with one.
    """
    notes: list[str] = []
    if batch is not None:
        check_batch(batch)
    srv = _resolve_model(
        model, params, params_active, n_layers, d_model, kv_fraction, model_catalog or bundled_models(), notes
    )
    chips_catalog = hardware_catalog or (db.hardware if db is not None else bundled_hardware())
    prices = price_book or (db.price_book if db is not None else bundled_price_book())
    when = price_date or dt.date.today()
    sc, duration = _resolve_load(scenario, tokens_per_day, requests_per_s, duration_days)
    work = _workload(sc, prompt_tokens, output_tokens, context, cache_hit, draft_tokens, acceptance, draft_cost, srv)
    candidates = _candidates(chips_catalog, hardware, price_usd_per_chip_hour, owned, cloud_tier, prices, when, notes)
    # every choice fixed (a mixture of experts also its tensor parallelism; one way of reading prompts):
    # that configuration alone, with the targets compared rather than enforced
    fixed = isinstance(hardware, str) and None not in (chips, precision, batch) and (tp is not None or not srv.moe)
    if fixed and disaggregated is None:
        disaggregated = False
    targets = _targets(ttft_s, tpot_s)
    central_load = _central_load(sc, tokens_per_day, requests_per_s, work)
    lf = K.constant("serving_load_factor").distribution() if load_factor is None else load_factor
    central_lf = float(as_distribution(lf, "load_factor").median)

    result = plan(
        srv,
        work,
        hardware=[hw for hw, _, _ in candidates.values()],
        price=lambda hw: float(candidates[hw.key][1].median),
        output_tokens_per_day=central_load,
        load_factor=central_lf,
        targets=Targets() if fixed else targets,
        choices=Choices(
            chips, tp, ep, precision, kv_precision, batch, disaggregated, weight_kernel, parallelism, overlap
        ),
    )
    cfg = result.config
    _, price, price_source = candidates[cfg.hw.key]
    inputs = _load_inputs(sc, tokens_per_day, requests_per_s, lf)
    software = K.constant("serving_software_factor", cfg.hw.family)
    if software.value != 1.0:
        inputs["software_factor"] = software.distribution()
    inputs["price_usd_per_chip_hour"] = price
    if vs_training:
        inputs["experiments_multiplier"] = K.constant("experiments_multiplier").distribution()
    if api_usd_per_1k_tokens is not None:
        inputs["api_usd_per_1k_tokens"] = as_distribution(api_usd_per_1k_tokens, "api_usd_per_1k_tokens")
    v = draw(inputs, samples, seed, sampling)
    out = _serve(srv, cfg, work, sc, v, duration)
    est = _estimate(srv, cfg, work, out, inputs, sc, duration, price_source, notes)
    est.plan = _plan_dict(result, targets, fixed, est)
    if api_usd_per_1k_tokens is not None:
        est.api = _versus_api(out, v["api_usd_per_1k_tokens"], duration)
    if vs_training:
        est.vs_training, est.lifetime = _versus_training(
            srv.spec,
            out,
            srv.params_active,
            duration,
            v["experiments_multiplier"],
            samples,
            seed,
            owned=owned,
            when=when,
            db=db,
        )
    return est


def _resolve_model(
    model: str | ModelSpec | None,
    params: float | None,
    params_active: float | None,
    n_layers: float | None,
    d_model: float | None,
    kv_fraction: float | None,
    catalog: ModelCatalog,
    notes: list[str],
) -> Served:
    """The catalog row of ``model`` (if any) with the given values over it (a standard shape when it has
    none), as the configuration arithmetic takes it, with the notes on the shape and the KV cache."""
    spec = catalog.get(model) if isinstance(model, str) else model
    if spec is not None and spec.domain and spec.domain not in ("language", "multimodal"):
        raise InvalidInputError(
            f"{spec.name} is a model of the {spec.domain} domain; serving is costed per token of text, for "
            "language and multimodal models"
        )
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
    frac, kv_note = kv_cache_fraction(
        kv_fraction, spec.kv_cache_fraction if spec is not None else None, spec.name if spec is not None else ""
    )
    if kv_note:
        notes.append(kv_note)
    return served(spec, name, params, p_active, layers, width, frac)


def _workload(
    sc: Scenario | None,
    prompt_tokens: float | None,
    output_tokens: float | None,
    context: float | None,
    cache_hit: float,
    draft_tokens: int,
    acceptance: float,
    draft_cost: float,
    srv: Served,
) -> Workload:
    """The request shape: given, else the scenario's prompt ratio times the default output, else the defaults."""
    if output_tokens is not None:
        out = float(output_tokens)
    elif sc is not None and sc.load.output_tokens_per_request:
        out = float(sc.load.output_tokens_per_request)
    else:
        out = float(K.constant("serving_output_tokens").value)
    check_positive("output_tokens", out)
    if prompt_tokens is not None:
        prompt = float(prompt_tokens)
    elif sc is not None and sc.load.prompt_ratio_input:
        prompt = out * float(sc.central_values()[sc.load.prompt_ratio_input])
    elif sc is not None:
        prompt = 0.0
    else:
        prompt = float(K.constant("serving_prompt_tokens").value)
    if prompt < 0 or not np.isfinite(prompt):
        raise InvalidInputError(f"prompt_tokens={prompt:g} must be >= 0")
    if context is not None:
        check_context(context)
    elif srv.max_context is not None and prompt + out > srv.max_context:
        raise InvalidInputError(
            f"prompt_tokens + output_tokens = {prompt + out:,.0f} exceeds {srv.name}'s context of {srv.max_context:,.0f} tokens"
        )
    if not 0 <= cache_hit < 1:
        raise InvalidInputError(f"cache_hit={cache_hit:g} is outside [0, 1)")
    if draft_tokens < 0 or draft_tokens > 16 or draft_tokens != int(draft_tokens):
        raise InvalidInputError(f"draft_tokens={draft_tokens} is outside 0..16")
    if not 0 <= acceptance < 1:
        raise InvalidInputError(f"acceptance={acceptance:g} is outside [0, 1)")
    if draft_tokens and acceptance == 0:
        raise InvalidInputError("draft_tokens needs an acceptance rate in (0, 1) (--acceptance)")
    if not 0 <= draft_cost <= 1:
        raise InvalidInputError(f"draft_cost={draft_cost:g} is outside [0, 1] (a draft token's time / a step's)")
    return Workload(prompt, out, cache_hit, int(draft_tokens), acceptance, draft_cost, context)


def _candidates(
    catalog: HardwareCatalog,
    hardware: str | Sequence[str] | None,
    given_price: Input | None,
    owned: bool,
    tier: str,
    prices: PriceBook,
    when: dt.date,
    notes: list[str],
) -> dict[str, tuple[Hardware, Distribution, str]]:
    """The chips to search with their prices (a distribution and where it comes from), by key: the named
    ones, else every accelerator with a memory size and bandwidth that was on sale at ``when`` and has a
    price then. A named chip without a price is the user's error."""
    if hardware is not None:
        names = [hardware] if isinstance(hardware, str) else list(hardware)
        if not names:
            raise InvalidInputError("hardware=[] names no chip; give one or more, e.g. 'h100,h200'")
        out = {}
        for name in names:
            hw, note = catalog.resolve(name)
            if note:
                notes.append(note)
            if not hw.memory_bytes or not hw.memory_bandwidth_bytes_per_s:
                raise InvalidInputError(f"{hw.name} has no memory size or bandwidth in the catalog")
            out[hw.key] = (hw, *_resolve_price(hw, given_price, owned, tier, prices, when))
        return out
    out = {}
    for hw in catalog:
        if not hw.memory_bytes or not hw.memory_bandwidth_bytes_per_s or hw.type not in ("GPU", "TPU", "accelerator"):
            continue
        if hw.release_date is not None and hw.release_date > when:  # not yet sold on the price date
            continue
        try:
            out[hw.key] = (hw, *_resolve_price(hw, given_price, owned, tier, prices, when))
        except FlopcastError:
            continue
    if not out:
        raise MissingInputError(f"no chip in the catalog has a {'purchase' if owned else tier} price on {when}")
    notes.append(f"searched {len(out)} chips with a price on {when}; --hardware names your own")
    return out


def _targets(ttft_s: float | None, tpot_s: float | None) -> Targets:
    """The latency targets: given (``inf`` for none), else MLPerf Inference's server targets."""
    out = []
    for name, v, const in (("ttft", ttft_s, "serving_ttft_target_s"), ("tpot", tpot_s, "serving_tpot_target_s")):
        value = K.constant(const).value if v is None else float(v)
        if not value > 0:
            raise InvalidInputError(f"{name}={value:g} must be > 0 seconds (inf for no target)")
        out.append(None if np.isinf(value) else value)
    return Targets(out[0], out[1])


def _central_load(
    sc: Scenario | None, tokens_per_day: Input | None, requests_per_s: Input | None, work: Workload
) -> float:
    """Generated tokens a day at the load's median, for the planner."""
    if sc is not None:
        return sc.central_generated_tokens_per_day()
    if requests_per_s is not None:
        return float(as_distribution(requests_per_s, "requests_per_s").median) * 86_400 * work.output_tokens
    return float(as_distribution(tokens_per_day, "tokens_per_day").median)


def _resolve_load(
    scenario: str | os.PathLike[str] | Scenario | None,
    tokens_per_day: Input | None,
    requests_per_s: Input | None,
    duration_days: float | None,
) -> tuple[Scenario | None, float]:
    """The scenario (loaded when named) and the duration: given, else the scenario's, else a year."""
    given = [
        n
        for n, v in (("scenario", scenario), ("tokens_per_day", tokens_per_day), ("requests_per_s", requests_per_s))
        if v is not None
    ]
    if len(given) > 1:
        raise InvalidInputError(f"give one load, not {' and '.join(given)}")
    if scenario is not None:
        # a Scenario (or an object like one) as it is, else a bundled name or a TOML path
        sc = cast(Scenario, scenario) if hasattr(scenario, "distributions") else load_scenario(scenario)
        return sc, float(duration_days or sc.duration_days)
    if not given:
        raise InvalidInputError(
            "give tokens_per_day (--tokens-per-day), requests_per_s (--requests-per-second) or a scenario (--scenario)"
        )
    return None, float(duration_days or 365.0)


def _load_inputs(
    sc: Scenario | None, tokens_per_day: Input | None, requests_per_s: Input | None, load_factor: Input
) -> dict[str, Distribution]:
    """The uncertain inputs of the roofline and the load, in the order that fixes their draws."""
    from flopcast.serving.config import EFFICIENCIES

    inputs = {k: K.constant(c).distribution() for k, c in EFFICIENCIES.items()}
    inputs["load_factor"] = as_distribution(load_factor, "load_factor")
    if sc is not None:
        inputs.update({f"scenario.{k}": v for k, v in sc.distributions().items()})
    elif requests_per_s is not None:
        inputs["requests_per_s"] = as_distribution(requests_per_s, "requests_per_s")
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
    srv: Served, cfg: Config, work: Workload, sc: Scenario | None, v: Mapping[str, Values], duration: float
) -> dict[str, Values]:
    """The stage functions on the drawn inputs: the load, the instance, the fleet and dollars."""
    if sc is not None:
        scen_vals = {k.split(".", 1)[1]: x for k, x in v.items() if k.startswith("scenario.")}
        tpd = np.asarray(sc.generated_tokens_per_day(scen_vals), dtype=float)
        if sc.load.prompt_ratio_input:  # the prompt length follows the drawn ratio
            ratio = np.asarray(scen_vals[sc.load.prompt_ratio_input], dtype=float)
            work = replace(work, prompt_tokens=ratio * work.output_tokens)
    elif "requests_per_s" in v:
        tpd = np.asarray(v["requests_per_s"], dtype=float) * 86_400 * work.output_tokens
    else:
        tpd = np.asarray(v["tokens_per_day"], dtype=float)
    one = evaluate(srv, cfg, work, v)
    tput = np.asarray(one["output_tokens_per_s"], dtype=float)
    n, prefill_n = fleet(cfg, one, work, tpd, v["load_factor"])
    per_day = n * cfg.chips * 24.0 * v["price_usd_per_chip_hour"]
    prompt_per_day = tpd * np.asarray(work.prompt_tokens, dtype=float) / work.output_tokens
    return {
        "tokens_per_s_per_instance": tput,
        "time_per_output_token_s": one["time_per_output_token_s"],
        "time_to_first_token_s": one["time_to_first_token_s"],
        "latency_per_token_s": one["step_s"],
        "tokens_per_day": tpd,
        "prompt_tokens_per_day": prompt_per_day,
        "instances": n,
        "prefill_instances": prefill_n,
        "fleet_load_factor": fleet_load_factor(tpd, tput, n - prefill_n),
        "usd_per_million_tokens": per_day / (tpd + prompt_per_day) * 1e6,
        "usd_per_million_output_tokens": per_day / tpd * 1e6,
        "usd_per_day": per_day,
        "usd_per_year": per_day * 365.25,
        "usd_total": per_day * duration,
    }


_UNITS = {
    "tokens_per_s_per_instance": "tokens/s",
    "time_per_output_token_s": "s",
    "time_to_first_token_s": "s",
    "latency_per_token_s": "s",
    "tokens_per_day": "tokens/day",
    "prompt_tokens_per_day": "tokens/day",
    "instances": "instances",
    "prefill_instances": "instances",
    "fleet_load_factor": "",
    "usd_per_million_tokens": "USD",
    "usd_per_million_output_tokens": "USD",
    "usd_per_day": "USD",
    "usd_per_year": "USD",
    "usd_total": "USD",
}


def _estimate(
    srv: Served,
    cfg: Config,
    work: Workload,
    out: Mapping[str, Values],
    inputs: Mapping[str, Distribution],
    sc: Scenario | None,
    duration: float,
    price_source: str,
    notes: list[str],
) -> DeploymentEstimate:
    """The estimate: the configuration's facts, a summary of every output and the inputs it drew."""
    usable = K.constant("serving_memory_usable").value
    mem = float(np.ravel(memory_bytes(srv, cfg, work, cfg.batch))[0])
    need = int(np.ceil(mem / (float(cfg.hw.memory_bytes or 1.0) * usable) - 1e-9))
    summaries: dict[str, Any] = {k: Summary.from_samples(out[k], _UNITS[k]) for k in _OUTPUTS}
    if not cfg.disaggregated:
        summaries["prefill_instances"] = None
    return DeploymentEstimate(
        model=srv.name,
        hardware=cfg.hw.name,
        precision=cfg.precision,
        kv_precision=cfg.kv_precision,
        chips_per_instance=int(cfg.chips),
        tp=cfg.tp,
        ep=cfg.ep,
        min_chips_to_fit=need,
        memory_per_instance_bytes=mem,
        batch=float(cfg.batch),
        context=float(np.mean(work.decode_context)),
        prompt_tokens=float(np.mean(work.prompt_tokens)),
        output_tokens=work.output_tokens,
        configuration=cfg.describe(),
        disaggregated=cfg.disaggregated,
        duration_days=duration,
        price_source=price_source,
        notes=notes,
        scenario=getattr(sc, "key", "") or "",
        parallelism=cfg.parallelism,
        weight_kernel=cfg.weight_kernel,
        inputs=[{"name": k, "distribution": d.describe(), "median": float(d.median)} for k, d in inputs.items()],
        **summaries,
    )


def _plan_dict(result: PlanResult, targets: Targets, fixed: bool, est: DeploymentEstimate) -> dict[str, Any]:
    """The planner's answer for the output: the targets, whether they bind, what was searched, the frontier."""
    tpot = est.time_per_output_token_s.median if est.time_per_output_token_s else None
    ttft = est.time_to_first_token_s.median if est.time_to_first_token_s else None
    meets = (targets.tpot_s is None or (tpot is not None and tpot <= targets.tpot_s)) and (
        targets.ttft_s is None or (ttft is not None and ttft <= targets.ttft_s)
    )
    keep = ("hardware", "chips", "tp", "ep", "precision", "kv_precision", "batch", "time_per_output_token_s",
            "time_to_first_token_s", "output_tokens_per_s", "output_tokens_per_s_per_chip",
            "usd_per_million_tokens_at_capacity", "usd_per_day")  # fmt: skip
    unconstrained = result.unconstrained
    return {
        "fixed": fixed,
        "targets": {"ttft_s": targets.ttft_s, "tpot_s": targets.tpot_s, "text": targets.describe()},
        "meets_targets": meets,
        "binding": result.binding,
        "unconstrained": None
        if unconstrained is None
        else {k: unconstrained[k] for k in keep} | {"configuration": unconstrained["config"].describe()},
        "searched": result.searched,
        "feasible": result.feasible,
        "frontier": [{k: r[k] for k in keep} for r in result.frontier],
    }


def _versus_api(out: Mapping[str, Values], usd_per_1k_tokens: Values, duration: float) -> dict[str, Any]:
    """Self-hosting against an API priced per thousand tokens, over the same tokens."""
    api_total = api_cost_usd(out["tokens_per_day"] * duration, usd_per_1k_tokens)
    return {
        "usd_total": Summary.from_samples(api_total, "USD").to_dict(),
        "ratio_self_hosted_to_api": Summary.from_samples(out["usd_total"] / api_total, "").to_dict(),
    }


def _versus_training(
    spec: ModelSpec | None,
    out: Mapping[str, Values],
    params_active: float,
    duration: float,
    multiplier: Values,
    samples: int,
    seed: int | None,
    *,
    owned: bool,
    when: dt.date,
    db: Database | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Deployment cost / development cost (the final run x experiments) on one basis, and the compute split.

    Rented serving is set against the training run's cloud cost, owned serving against its amortized
    cost; the training cost is in dollars of the serving prices' year (the price index's last year
    when that is later), so both sides are in the same dollars.
    """
    from flopcast.catalogs.price_index import bundled_price_index
    from flopcast.pipeline import estimate

    if spec is None:
        raise InvalidInputError("--vs-training needs a catalog model (its training cost is estimated)")
    method = "amortized" if owned else "cloud"
    idx = db.price_index if db is not None and getattr(db, "price_index", None) is not None else bundled_price_index()
    year = min(when.year, idx.last_year)
    tr = estimate(spec.key, db=db, methods=method, samples=samples, seed=seed, year_dollars=year)
    if method not in tr.cost_usd:
        raise MissingInputError(f"{spec.name}'s training has no {method} cost to compare with: {tr.notes[:1]}")
    train = tr.cost_usd[method].samples
    train_flop = tr.training_compute_flop.samples
    deploy_total = np.asarray(out["usd_total"], dtype=float)
    n = len(np.atleast_1d(deploy_total))
    train = np.resize(train, n) if train is not None else np.full(n, tr.cost_usd[method].median)
    train_flop = np.resize(train_flop, n) if train_flop is not None else np.full(n, tr.training_compute_flop.median)
    development = train * multiplier
    ratio = deploy_total / development
    p = {f"P(ratio >= {x:g})": float(np.mean(ratio >= x)) for x in (0.1, 0.2, 0.5, 1.0)}
    tokens = np.asarray(out["tokens_per_day"]) + np.asarray(out["prompt_tokens_per_day"])
    inference_flop = 2.0 * params_active * tokens * duration
    experiments_flop = train_flop * (multiplier - 1.0)
    total_flop = experiments_flop + train_flop + inference_flop
    shares = {
        k: Summary.from_samples(x / total_flop, "").to_dict()
        for k, x in (("experimentation", experiments_flop), ("training", train_flop), ("inference", inference_flop))
    }
    basis = (
        f"{'owned hardware, amortized' if owned else 'rented cloud hardware'} on both sides, in {year} US dollars: "
        f"serving at {when:%Y-%m} prices, the training run's {method} cost ({tr.dollars})"
    )
    if when.year > year:
        basis += f"; the price index ends in {year}, so {when:%Y-%m} prices are taken as {year} dollars"
    vs = {
        "basis": basis,
        "method": method,
        "year_dollars": year,
        "training_cost_usd": Summary.from_samples(train, "USD").to_dict(),
        "development_cost_usd": Summary.from_samples(development, "USD").to_dict(),
        "deployment_cost_usd": Summary.from_samples(deploy_total, "USD").to_dict(),
        "ratio": Summary.from_samples(ratio, "").to_dict(),
        "probabilities": p,
        "training_dollars": tr.dollars,
        "published": "Cottier 2022: about 20% (90% CI 10-68%) for 1% of Twitter or 1M developers for a year",
    }
    implied = {
        key: {
            "inference_flop": Summary.from_samples(
                inference_implied_by_shares(train_flop, experiments_flop, cast(Mapping[str, float], split)), "FLOP"
            ).to_dict(),
            "this_deployment_over_implied": Summary.from_samples(
                inference_flop
                / inference_implied_by_shares(train_flop, experiments_flop, cast(Mapping[str, float], split)),
                "",
            ).to_dict(),
            "source": split["source"],
        }
        for key, split in SHARES_PUBLISHED.items()
    }
    lifetime = {"compute_share": shares, "published": SHARES_PUBLISHED, "implied_by_published_shares": implied}
    return vs, lifetime
