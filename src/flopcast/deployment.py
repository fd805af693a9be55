"""Deployment: what it costs to serve a model, from first principles.

Stage functions (array-in/array-out) for the memory fit, the per-chip roofline of
prefill and decode, throughput, latency, instances for a load and dollars per token.

Roofline. One decode step of a batch of ``b`` sequences reads every weight once and the
KV cache of every sequence, and does ``b x (2 N_active + 2 n_layers n_ctx d_model)``
FLOP. Its time is the memory time ``bytes / (chips x bandwidth x eff_mem)`` and the
compute time ``FLOP / (chips x peak x eff_compute)``: added (``overlap="none"``, the
default: measured serving systems track the sum, see docs/deployment.md) or the larger
of the two (``overlap="full"``, the ideal roofline). Prefill of the prompt is
compute-bound: ``prompt tokens x 2 N_active`` FLOP at ``eff_compute``.

Parallelism: ``tensor`` splits every layer over the instance's chips (all chips work on
every step; bandwidth and FLOP/s add up); ``pipeline`` places whole layers on each chip
with no micro-batching (one chip works at a time: the step takes as long as on one
chip with all the weights), as naive model parallelism (e.g. Hugging Face Accelerate's
``device_map``) does; ``zero`` shards the weights over the chips and each chip serves its
own share of the batch, gathering every weight from its peers over the interconnect at
every step (DeepSpeed ZeRO-Inference).

Weight kernels: ``fused`` kernels read each stored (possibly quantized) weight once;
``dequantize`` kernels first expand quantized weights into a 16-bit buffer and then run a
dense 16-bit GEMM, so the weights cost stored + 2 x 2 bytes of memory traffic each
(DeepSpeed-Inference's 2022 int8 path: ``quantized_gemm`` in
``csrc/transformer/inference/csrc/pt_binding.cpp`` calls ``launch_dequantize`` into an
fp16 tensor, then ``cublas_gemm_ex``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.units import BYTES_PER_VALUE, SECONDS_PER_HOUR, check_fraction, check_positive

WEIGHT_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
OVERLAPS = ("none", "full")
PARALLELISMS = ("tensor", "pipeline", "zero")
WEIGHT_KERNELS = ("fused", "dequantize")
QUANTIZED = ("fp8", "int8", "int4")
MAX_BATCH = 65_536
MAX_CONTEXT = 10_000_000


def _bytes(precision: str) -> float:
    if precision not in WEIGHT_PRECISIONS:
        raise UnknownNameError("precision", precision, WEIGHT_PRECISIONS)
    return BYTES_PER_VALUE[precision]


def check_batch(batch) -> None:
    arr = np.asarray(batch, dtype=float)
    if np.isnan(arr).any() or (arr < 1).any() or (arr > MAX_BATCH).any() or (arr != np.round(arr)).any():
        raise InvalidInputError(f"batch={_first(arr)} is outside 1..{MAX_BATCH:,}; it is a whole number of sequences")


def check_context(context) -> None:
    arr = np.asarray(context, dtype=float)
    if np.isnan(arr).any() or (arr < 1).any() or (arr > MAX_CONTEXT).any():
        raise InvalidInputError(f"context={_first(arr)} is outside 1..{MAX_CONTEXT:,} tokens")


def _first(arr) -> str:
    v = np.ravel(arr)
    bad = v[(v < 1) | np.isnan(v) | (v > MAX_BATCH)] if v.size else v
    return f"{float((bad if bad.size else v)[0]):g}"


# -- memory ----------------------------------------------------------------------------


def weight_bytes(params, precision: str = "bf16"):
    """Bytes of the weights: parameters x bytes per value (int4 0.5, int8/fp8 1, bf16 2, fp32 4)."""
    check_positive("params", params)
    return np.asarray(params, dtype=float) * _bytes(precision)


def weight_bytes_read(params, precision: str = "bf16", kernel: str = "fused", compute_precision: str = "fp16"):
    """Memory traffic of the weights in one decode step.

    ``fused``: every stored weight is read once (``params x bytes``). ``dequantize``: a
    quantized weight (fp8, int8, int4) is read, written out at ``compute_precision`` and
    read again by a dense GEMM: ``params x (stored + 2 x compute bytes)``, e.g. 5 bytes for
    int8 into fp16. Weights already at 16 or 32 bits are read once by either kernel.
    """
    if kernel not in WEIGHT_KERNELS:
        raise UnknownNameError("weight kernel", kernel, WEIGHT_KERNELS)
    stored = weight_bytes(params, precision)
    if kernel == "fused" or precision not in QUANTIZED:
        return stored
    return stored + np.asarray(params, dtype=float) * 2.0 * _bytes(compute_precision)


def kv_bytes_per_token(n_layers, d_model, kv_precision: str = "bf16", kv_heads_fraction=1.0):
    """KV-cache bytes per token of context: 2 (K and V) x layers x d_model x bytes.

    ``kv_heads_fraction`` is KV heads / attention heads (1 for multi-head attention,
    e.g. 8/64 for grouped-query attention with 8 KV heads).
    """
    check_positive("n_layers", n_layers)
    check_positive("d_model", d_model)
    check_fraction("kv_heads_fraction", kv_heads_fraction, what="KV heads / attention heads")
    return 2.0 * np.asarray(n_layers, dtype=float) * d_model * _bytes(kv_precision) * kv_heads_fraction


def serving_memory_bytes(weights_bytes, kv_per_token_bytes, batch, context):
    """Weights plus the KV cache of ``batch`` sequences of ``context`` tokens."""
    check_batch(batch)
    check_context(context)
    return np.asarray(weights_bytes, dtype=float) + np.asarray(kv_per_token_bytes, dtype=float) * batch * context


def min_chips_to_fit(memory_bytes, chip_memory_bytes, usable_fraction=0.9):
    """Fewest chips whose usable memory holds ``memory_bytes`` (the rest: activations, fragmentation)."""
    check_positive("memory_bytes", memory_bytes)
    check_positive("chip_memory_bytes", chip_memory_bytes)
    check_fraction("usable_fraction", usable_fraction, what="the fraction of chip memory usable for weights and KV")
    return np.ceil(np.asarray(memory_bytes, dtype=float) / (np.asarray(chip_memory_bytes) * usable_fraction) - 1e-9)


def practical_chips(min_chips):
    """The tensor-parallel degree used in practice: the next power of two (5 -> 8)."""
    m = np.asarray(min_chips, dtype=float)
    check_positive("min_chips", m)
    return 2.0 ** np.ceil(np.log2(m) - 1e-12)


# -- roofline --------------------------------------------------------------------------


def decode_step_s(
    *,
    params_active,
    weights_bytes,
    kv_per_token_bytes,
    batch,
    context,
    chips,
    peak_flop_per_s,
    memory_bandwidth_bytes_per_s,
    eff_compute=0.5,
    eff_memory=0.5,
    n_layers=None,
    d_model=None,
    overlap: str = "none",
    parallelism: str = "tensor",
    interconnect_bytes_per_s=None,
):
    """Seconds for one decode step: every sequence of the batch gets one token.

    ``weights_bytes`` is the weights' memory traffic per step (:func:`weight_bytes_read`).
    With ``parallelism="zero"`` the batch is shared out over the chips, and every chip also
    receives the ``(chips - 1) / chips`` of the weights it does not hold, at half the
    catalog's (bidirectional) ``interconnect_bytes_per_s`` times ``eff_memory``.
    """
    check_batch(batch)
    check_context(context)
    check_positive("chips", chips)
    check_positive("peak_flop_per_s", peak_flop_per_s)
    check_positive("memory_bandwidth_bytes_per_s", memory_bandwidth_bytes_per_s)
    check_fraction("eff_compute", eff_compute, what="achieved / peak FLOP/s")
    check_fraction("eff_memory", eff_memory, what="achieved / peak memory bandwidth")
    if overlap not in OVERLAPS:
        raise UnknownNameError("overlap", overlap, OVERLAPS)
    if parallelism not in PARALLELISMS:
        raise UnknownNameError("parallelism", parallelism, PARALLELISMS)
    b = np.asarray(batch, dtype=float)
    bytes_read = np.asarray(weights_bytes, dtype=float) + np.asarray(kv_per_token_bytes) * b * context
    flop_per_token = 2.0 * np.asarray(params_active, dtype=float)
    if n_layers is not None and d_model is not None:
        flop_per_token = flop_per_token + 2.0 * np.asarray(n_layers) * d_model * context
    flop = b * flop_per_token
    if parallelism == "zero":
        if interconnect_bytes_per_s is None:
            raise InvalidInputError("parallelism=zero needs the chip's interconnect bandwidth (none in the catalog)")
        check_positive("interconnect_bytes_per_s", interconnect_bytes_per_s)
        n = np.asarray(chips, dtype=float)
        w = np.asarray(weights_bytes, dtype=float)
        per_chip = b / n
        t_gather = w * (n - 1.0) / n / (0.5 * np.asarray(interconnect_bytes_per_s, dtype=float) * eff_memory)
        t_mem = (w + np.asarray(kv_per_token_bytes) * per_chip * context) / (memory_bandwidth_bytes_per_s * eff_memory)
        t_compute = per_chip * flop_per_token / (peak_flop_per_s * eff_compute)
        return t_gather + t_mem + t_compute if overlap == "none" else np.maximum(np.maximum(t_gather, t_mem), t_compute)
    working = 1.0 if parallelism == "pipeline" else np.asarray(chips, dtype=float)
    t_mem = bytes_read / (working * memory_bandwidth_bytes_per_s * eff_memory)
    t_compute = flop / (working * peak_flop_per_s * eff_compute)
    return t_mem + t_compute if overlap == "none" else np.maximum(t_mem, t_compute)


def prefill_s_per_token(*, params_active, chips, peak_flop_per_s, eff_compute=0.5, parallelism: str = "tensor"):
    """Seconds of instance time to read one prompt token (compute-bound: 2 N_active FLOP)."""
    check_positive("params_active", params_active)
    working = 1.0 if parallelism == "pipeline" else np.asarray(chips, dtype=float)
    return 2.0 * np.asarray(params_active, dtype=float) / (working * peak_flop_per_s * eff_compute)


def instance_throughput(step_s, batch, prompt_per_generated=0.0, prefill_s_token=0.0):
    """Generated tokens per second per instance, counting the time to read prompts."""
    check_positive("decode step", step_s)
    s_per_generated = np.asarray(step_s, dtype=float) / batch + np.asarray(prompt_per_generated) * prefill_s_token
    return 1.0 / s_per_generated


def instances_for_load(tokens_per_day, tokens_per_s_per_instance, load_factor=1.0):
    """Whole instances to serve ``tokens_per_day`` when each runs at ``load_factor`` of its throughput (at least 1)."""
    check_positive("tokens_per_day", tokens_per_day)
    check_fraction("load_factor", load_factor, what="average utilization of the fleet")
    need = np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * load_factor)
    return np.maximum(np.ceil(need - 1e-9), 1.0)


def fleet_load_factor(tokens_per_day, tokens_per_s_per_instance, instances):
    """Average fraction of the fleet's capacity used."""
    return np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * instances)


def usd_per_million_tokens(price_usd_per_chip_hour, chips, tokens_per_s_per_instance, load_factor=1.0):
    """Dollars per million generated tokens for an instance of ``chips`` chips at ``load_factor``."""
    check_positive("price_usd_per_chip_hour", price_usd_per_chip_hour)
    usd_per_s = np.asarray(price_usd_per_chip_hour, dtype=float) * chips / SECONDS_PER_HOUR
    return usd_per_s / (np.asarray(tokens_per_s_per_instance) * load_factor) * 1e6


def owned_usd_per_chip_hour(
    chip_price_usd,
    *,
    server_overhead=1.64,
    interconnect_fraction=0.19,
    lifetime_years=None,
    depreciation_oom_per_year=0.14,
    tdp_w=None,
    server_power_ratio=1.8,
    average_power_fraction=0.75,
    pue=1.25,
    usd_per_kwh=0.08,
):
    """Owned hardware per chip-hour: amortized capital (Cottier's rate, or straight-line over
    ``lifetime_years``) plus energy; the same constants as the training cost."""
    from flopcast import training

    check_positive("chip_price_usd", chip_price_usd)
    value = np.asarray(chip_price_usd, dtype=float) * server_overhead / (1 - interconnect_fraction)
    if lifetime_years is not None:
        check_positive("lifetime_years", lifetime_years)
        capital = value / (np.asarray(lifetime_years) * 8766.0)
    else:
        capital = value * training.amortization_per_chip_hour(depreciation_oom_per_year)
    energy = 0.0
    if tdp_w is not None:
        energy = training.energy_cost_usd(
            1.0,
            tdp_w,
            server_power_ratio=server_power_ratio,
            average_power_fraction=average_power_fraction,
            pue=pue,
            usd_per_kwh=usd_per_kwh,
        )
    return capital + energy


def api_cost_usd(tokens, usd_per_1k_tokens):
    """Cost of ``tokens`` through an API priced per thousand tokens."""
    check_positive("tokens", tokens)
    check_positive("usd_per_1k_tokens", usd_per_1k_tokens)
    return np.asarray(tokens, dtype=float) / 1000.0 * usd_per_1k_tokens


def words_to_tokens(words, words_per_token=0.75):
    """Tokens for ``words`` English words (OpenAI's rule of thumb: 0.75 words a token)."""
    check_positive("words", words)
    check_positive("words_per_token", words_per_token)
    return np.asarray(words, dtype=float) / words_per_token


# -- the deployment chain ----------------------------------------------------------------

SHARES_PUBLISHED = {
    "facebook_2021": {
        "experimentation": 0.10,
        "training": 0.20,
        "inference": 0.70,
        "source": "Wu et al. 2022, Sustainable AI (arXiv 2111.00364): power split 10:20:70",
    },
    "google_2022": {
        "experimentation_and_training": 0.40,
        "inference": 0.60,
        "source": "Patterson et al. 2022 (arXiv 2204.05149): about 3/5 of ML energy for inference",
    },
}


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
    tokens_per_s_per_instance: object
    latency_per_token_s: object
    tokens_per_day: object
    instances: object
    fleet_load_factor: object
    usd_per_million_tokens: object
    usd_per_day: object
    usd_per_year: object
    usd_total: object
    duration_days: float
    price_source: str
    inputs: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    vs_training: dict | None = None
    api: dict | None = None
    lifetime: dict | None = None
    scenario: str = ""
    parallelism: str = "tensor"
    weight_kernel: str = "fused"

    def outputs(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
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
        }

    def to_dict(self) -> dict:
        out = {
            k: getattr(self, k)
            for k in (
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
        }
        out.update({k: s.to_dict() for k, s in self.outputs().items()})
        out["inputs"] = self.inputs
        out["notes"] = list(self.notes)
        for k in ("vs_training", "api", "lifetime"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


def _decode_peak(hw, precision: str, weight_kernel: str = "fused") -> float:
    """Peak FLOP/s of the decode GEMMs: fp8 weights on fp8 tensor cores, int8/int4 on int8 ones
    when the chip has them and the kernel is fused; 16-bit otherwise (a dequantizing kernel
    runs a dense 16-bit GEMM)."""
    have = hw.peak_flop_per_s_by_precision
    if weight_kernel == "fused" and precision == "fp8" and "fp8" in have:
        return hw.peak_flop_per_s("fp8")
    if weight_kernel == "fused" and precision in ("int8", "int4") and "int8" in have:
        return hw.peak_flop_per_s("int8")
    return hw.peak_flop_per_s()


def _kv_fraction(spec, given) -> tuple[float, str]:
    """KV cache relative to multi-head attention: given, else the catalog model's, else 1 (with a note)."""
    if given is not None:
        check_fraction("kv_fraction", given, what="KV cache / multi-head attention's")
        return float(given), f"KV cache {given:g} of multi-head attention's (given)"
    frac = getattr(spec, "kv_cache_fraction", None) if spec is not None else None
    if frac:
        return float(frac), f"KV cache {frac:.4g} of multi-head attention's ({spec.name}'s attention; catalog)"
    return 1.0, ""


def _shape(params: float, n_layers, d_model):
    """Layers and width: given, else a standard shape with params = 12 L d^2 and d = 128 L."""
    if n_layers is not None and d_model is not None:
        return float(n_layers), float(d_model), ""
    d = (params * 128.0 / 12.0) ** (1.0 / 3.0)
    return d / 128.0, d, "layers and width not given: assumed params = 12 x layers x width^2 with width = 128 x layers"


def estimate_deployment(
    model=None,
    *,
    params=None,
    params_active=None,
    n_layers=None,
    d_model=None,
    hardware: str | None = None,
    chips: int | None = None,
    precision: str = "bf16",
    kv_precision: str = "bf16",
    kv_fraction: float | None = None,
    batch: int = 32,
    context: int | None = None,
    tokens_per_day=None,
    scenario=None,
    duration_days: float | None = None,
    price_usd_per_chip_hour=None,
    cloud_tier: str = "on-demand",
    owned: bool = False,
    load_factor=1.0,
    overlap: str = "none",
    parallelism: str = "tensor",
    weight_kernel: str = "fused",
    vs_training: bool = False,
    api_usd_per_1k_tokens=None,
    samples: int = 10_000,
    seed: int | None = 0,
    sampling: str = "random",
) -> DeploymentEstimate:
    """Serve ``model`` (a catalog name or ModelSpec) or an ad-hoc ``params`` model for a load.

    The load is ``tokens_per_day`` (a number or interval) or a ``scenario`` (a name, a path
    or a :class:`flopcast.scenarios.Scenario`). Efficiencies, the load and the experiments
    multiplier are uncertain inputs drawn once per sample index. ``kv_fraction`` is the KV
    cache relative to multi-head attention's (GQA: KV heads / heads); by default the catalog
    model's ``kv_cache_fraction``, else 1.
    """
    from flopcast.catalogs import bundled_hardware, get_model
    from flopcast.catalogs import constants as K
    from flopcast.catalogs.prices import bundled_price_book
    from flopcast.uncertainty import Summary, as_distribution, draw

    notes = []
    spec = get_model(model) if isinstance(model, str) else model
    name = spec.name if spec is not None else "custom model"
    params = params if params is not None else (spec.params if spec else None)
    if params is None:
        raise InvalidInputError("give a model (e.g. bloom-176b) or --params")
    check_positive("params", params)
    p_active = params_active or (spec.params_active if spec and spec.params_active else None) or params
    layers, width, shape_note = _shape(
        params,
        n_layers if n_layers is not None else (spec.n_layers if spec else None),
        d_model if d_model is not None else (spec.d_model if spec else None),
    )
    if shape_note:
        notes.append(shape_note)
    hw_name = hardware or "a100"
    hw, hw_note = bundled_hardware().resolve(hw_name)
    if hw_note:
        notes.append(hw_note)
    if not hw.memory_bytes or not hw.memory_bandwidth_bytes_per_s:
        raise InvalidInputError(f"{hw.name} has no memory size or bandwidth in the catalog")
    check_batch(batch)
    longest = (spec.max_context_length or spec.context_length) if spec else None
    ctx = float(context if context is not None else min(float(longest), 8192.0) if longest else 2048.0)
    check_context(ctx)
    if weight_kernel not in WEIGHT_KERNELS:
        raise UnknownNameError("weight kernel", weight_kernel, WEIGHT_KERNELS)
    if parallelism not in PARALLELISMS:
        raise UnknownNameError("parallelism", parallelism, PARALLELISMS)
    if parallelism == "zero" and not hw.interconnect_bandwidth_bytes_per_s:
        raise InvalidInputError(f"parallelism=zero needs {hw.name}'s interconnect bandwidth, which the catalog lacks")
    peak = _decode_peak(hw, precision, weight_kernel)
    w = float(weight_bytes(params, precision))
    w_read = float(weight_bytes_read(params, precision, weight_kernel))
    kv_frac, kv_note = _kv_fraction(spec, kv_fraction)
    if kv_note:
        notes.append(kv_note)
    kv = float(kv_bytes_per_token(layers, width, kv_precision, kv_heads_fraction=kv_frac))
    usable = K.constant("serving_memory_usable").value
    mem = float(serving_memory_bytes(w, kv, batch, ctx))
    need = int(min_chips_to_fit(mem, hw.memory_bytes, usable))
    if chips is None:
        chips = int(practical_chips(need))
        if chips != need:
            notes.append(f"{need} chips hold the weights and KV cache; {chips} (the next power of two) are used")
    elif chips < need:
        raise InvalidInputError(
            f"chips={chips} cannot hold {name} at {precision} with batch {batch:g} x context {ctx:g}: it needs "
            f"{mem / 1e9:.0f} GB, at least {need} {hw.name} ({hw.memory_bytes / 1e9:.0f} GB, {usable:.0%} usable each); "
            "give more chips, a smaller batch or context, or a lower precision"
        )
    # the load
    prompt_ratio = 0.0
    sc = None
    if scenario is not None:
        from flopcast.scenarios import load_scenario

        sc = scenario if hasattr(scenario, "distributions") else load_scenario(scenario)
        duration = float(duration_days or sc.duration_days)
    else:
        if tokens_per_day is None:
            raise InvalidInputError("give tokens_per_day (--tokens-per-day) or a scenario (--scenario)")
        duration = float(duration_days or 365.0)
    inputs = {
        "eff_memory": K.constant("serving_eff_memory").distribution(),
        "eff_compute": K.constant("serving_eff_compute").distribution(),
        "load_factor": as_distribution(load_factor, "load_factor"),
    }
    if sc is not None:
        inputs.update({f"scenario.{k}": v for k, v in sc.distributions().items()})
    else:
        inputs["tokens_per_day"] = as_distribution(tokens_per_day, "tokens_per_day")
    if price_usd_per_chip_hour is not None:
        inputs["price_usd_per_chip_hour"] = as_distribution(price_usd_per_chip_hour, "price_usd_per_chip_hour")
        price_source = "given"
    elif owned:
        pp = bundled_price_book().purchase_price(hw)
        if pp is None:
            from flopcast.errors import MissingInputError

            raise MissingInputError(f"no purchase price for {hw.name} in the catalog; give --price-per-chip-hour")
        overhead = 1.0 if pp.includes_server else K.constant("server_overhead", hw.family).value
        inputs["price_usd_per_chip_hour"] = as_distribution(
            float(
                owned_usd_per_chip_hour(
                    pp.price_usd_per_chip,
                    server_overhead=overhead,
                    tdp_w=hw.tdp_w,
                    server_power_ratio=K.constant("server_power_ratio", hw.family).value,
                )
            )
        )
        price_source = (
            f"owned: ${pp.price_usd_per_chip:,.0f} a chip ({pp.date}) amortized at Cottier et al.'s rate plus energy"
        )
    else:
        cp = bundled_price_book().cloud_price(hw, tier=cloud_tier)
        inputs["price_usd_per_chip_hour"] = as_distribution(cp.price_usd_per_chip_hour)
        price_source = f"{cp.vendor} {cp.tier} price of {cp.date}: {cp.source}"
    if vs_training:
        inputs["experiments_multiplier"] = K.constant("experiments_multiplier").distribution()
    if api_usd_per_1k_tokens is not None:
        inputs["api_usd_per_1k_tokens"] = as_distribution(api_usd_per_1k_tokens, "api_usd_per_1k_tokens")
    v = draw(inputs, samples, seed, sampling)
    if sc is not None:
        scen_vals = {k.split(".", 1)[1]: x for k, x in v.items() if k.startswith("scenario.")}
        tpd = np.asarray(sc.generated_tokens_per_day(scen_vals), dtype=float)
        prompt_ratio = sc.prompt_tokens_per_day(scen_vals) / tpd
    else:
        tpd = np.asarray(v["tokens_per_day"], dtype=float)
    step = decode_step_s(
        params_active=p_active,
        weights_bytes=w_read,
        kv_per_token_bytes=kv,
        batch=batch,
        context=ctx,
        chips=chips,
        peak_flop_per_s=peak,
        memory_bandwidth_bytes_per_s=hw.memory_bandwidth_bytes_per_s,
        eff_compute=v["eff_compute"],
        eff_memory=v["eff_memory"],
        n_layers=layers,
        d_model=width,
        overlap=overlap,
        parallelism=parallelism,
        interconnect_bytes_per_s=hw.interconnect_bandwidth_bytes_per_s,
    )
    pre = prefill_s_per_token(
        params_active=p_active, chips=chips, peak_flop_per_s=peak, eff_compute=v["eff_compute"], parallelism=parallelism
    )
    tput = instance_throughput(step, batch, prompt_ratio, pre)
    inst = instances_for_load(tpd, tput, v["load_factor"])
    lf = fleet_load_factor(tpd, tput, inst)
    price = v["price_usd_per_chip_hour"]
    per_day = inst * chips * 24.0 * price
    per_mtok = per_day / tpd * 1e6
    total = per_day * duration
    S = Summary.from_samples
    est = DeploymentEstimate(
        model=name,
        hardware=hw.name,
        precision=precision,
        chips_per_instance=int(chips),
        min_chips_to_fit=need,
        memory_per_instance_bytes=mem,
        batch=float(batch),
        context=ctx,
        tokens_per_s_per_instance=S(tput, "tokens/s"),
        latency_per_token_s=S(step, "s"),
        tokens_per_day=S(tpd, "tokens/day"),
        instances=S(inst, "instances"),
        fleet_load_factor=S(lf, ""),
        usd_per_million_tokens=S(per_mtok, "USD"),
        usd_per_day=S(per_day, "USD"),
        usd_per_year=S(per_day * 365.25, "USD"),
        usd_total=S(total, "USD"),
        duration_days=duration,
        price_source=price_source,
        notes=notes,
        scenario=getattr(sc, "key", "") or "",
        parallelism=parallelism,
        weight_kernel=weight_kernel,
        inputs=[{"name": k, "distribution": d.describe(), "median": float(d.median)} for k, d in inputs.items()],
    )
    if api_usd_per_1k_tokens is not None:
        api_total = api_cost_usd(tpd * duration, v["api_usd_per_1k_tokens"])
        est.api = {
            "usd_total": S(api_total, "USD").to_dict(),
            "ratio_self_hosted_to_api": S(total / api_total, "").to_dict(),
        }
    if vs_training:
        est.vs_training, est.lifetime = _versus_training(
            spec, name, hw, tpd, p_active, duration, total, v["experiments_multiplier"], samples, seed
        )
    return est


def _versus_training(spec, name, hw, tokens_per_day, params_active, duration, deploy_total, multiplier, samples, seed):
    """Deployment cost / development cost (training amortized cost x experiments), and the compute split."""
    from flopcast.service import training_estimate
    from flopcast.uncertainty import Summary

    if spec is None:
        raise InvalidInputError("--vs-training needs a catalog model (its training cost is estimated)")
    tr = training_estimate(spec.key, method="amortized", samples=samples, seed=seed)
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


# context of the Hugging Face benchmark: short prompts and 100 generated tokens (mean context ~60)
BLOOM_BENCH_CONTEXT = 60


def bloom_validation(eff_memory: float = 0.5, eff_compute: float = 0.5, overlap: str = "none") -> list[dict]:
    """flopcast's roofline against Hugging Face's BLOOM-176B inference measurements on A100 80GB.

    Each row of ``bloom_inference.csv`` gives the system's layout (parallelism), its weight
    kernel and the measured milliseconds per generated token (the step time over the tokens
    of the step); flopcast's figure comes from the same stage functions as
    :func:`estimate_deployment`, and ``ratio`` is measured / flopcast. For ZeRO rows the
    table's batch is per GPU (one stream per GPU), so a step yields ``chips x batch`` tokens.
    """
    from flopcast.catalogs import get_hardware, get_model
    from flopcast.catalogs._table import num, read_rows

    rows, label = read_rows(
        "bloom_inference.csv",
        required=("system", "precision", "parallelism", "weight_kernel", "chips", "batch", "ms_per_token", "source"),
    )
    m, hw = get_model("bloom-176b"), get_hardware("a100-80gb")
    kv = kv_bytes_per_token(m.n_layers, m.d_model)
    out = []
    for r in rows:
        batch = int(num(r, "batch", label, required=True))
        chips = int(num(r, "chips", label, required=True))
        precision, parallelism, kernel = (r[k].strip() for k in ("precision", "parallelism", "weight_kernel"))
        tokens = batch * chips if parallelism == "zero" else batch
        step = decode_step_s(
            params_active=m.params,
            weights_bytes=weight_bytes_read(m.params, precision, kernel),
            kv_per_token_bytes=kv,
            batch=tokens,
            context=BLOOM_BENCH_CONTEXT,
            chips=chips,
            peak_flop_per_s=_decode_peak(hw, precision, kernel),
            memory_bandwidth_bytes_per_s=hw.memory_bandwidth_bytes_per_s,
            eff_compute=eff_compute,
            eff_memory=eff_memory,
            n_layers=m.n_layers,
            d_model=m.d_model,
            overlap=overlap,
            parallelism=parallelism,
            interconnect_bytes_per_s=hw.interconnect_bandwidth_bytes_per_s,
        )
        ours = float(step) / tokens * 1e3
        measured = num(r, "ms_per_token", label, required=True)
        out.append(
            {
                "system": r["system"].strip(),
                "precision": precision,
                "parallelism": parallelism,
                "weight_kernel": kernel,
                "chips": chips,
                "batch": batch,
                "measured_ms": measured,
                "flopcast_ms": ours,
                "ratio": measured / ours,
                "source": r["source"].strip(),
            }
        )
    return out


def sweep(
    model,
    hardware=("a100", "h100", "h200", "l40s", "mi300x"),
    precisions=("bf16", "fp8", "int8", "int4"),
    batches=(1, 2, 4, 8, 16, 32, 64, 128),
    context: int = 2048,
    price_usd_per_chip_hour: float | None = None,
    eff_memory: float = 0.5,
    eff_compute: float = 0.5,
) -> list[dict]:
    """Throughput and $/Mtok at central efficiencies over chips x precisions x batch sizes.

    Configurations that do not fit in 8 chips, or a precision a chip lacks (fp8 on A100), are
    listed with ``fits=False`` and a reason instead of numbers.
    """
    from flopcast.catalogs import bundled_hardware, get_model
    from flopcast.catalogs.prices import bundled_price_book

    spec = get_model(model) if isinstance(model, str) else model
    layers, width, _ = _shape(spec.params, spec.n_layers, spec.d_model)
    kv = float(kv_bytes_per_token(layers, width, kv_heads_fraction=_kv_fraction(spec, None)[0]))
    p_active = spec.params_active or spec.params
    rows = []
    for name in hardware:
        hw = bundled_hardware().get(name)
        price = price_usd_per_chip_hour
        if price is None:
            try:
                price = bundled_price_book().cloud_price(hw, tier="on-demand").price_usd_per_chip_hour
            except Exception:  # noqa: BLE001 - a chip without a catalog price still gets throughput
                price = None
        for precision in precisions:
            if precision == "fp8" and "fp8" not in hw.peak_flop_per_s_by_precision:
                rows += [
                    dict(hardware=hw.name, precision=precision, batch=b, fits=False, reason=f"{hw.name} has no fp8")
                    for b in batches
                ]
                continue
            peak = _decode_peak(hw, precision)
            w = float(weight_bytes(spec.params, precision))
            b_arr = np.asarray(batches, dtype=float)
            mem = w + kv * b_arr * context
            need = min_chips_to_fit(mem, hw.memory_bytes)
            chips = practical_chips(need)
            step = decode_step_s(
                params_active=p_active,
                weights_bytes=w,
                kv_per_token_bytes=kv,
                batch=b_arr,
                context=context,
                chips=chips,
                peak_flop_per_s=peak,
                memory_bandwidth_bytes_per_s=hw.memory_bandwidth_bytes_per_s,
                eff_compute=eff_compute,
                eff_memory=eff_memory,
                n_layers=layers,
                d_model=width,
            )
            tput = b_arr / step
            for i, b in enumerate(batches):
                if chips[i] > 8:
                    rows.append(
                        dict(
                            hardware=hw.name,
                            precision=precision,
                            batch=b,
                            fits=False,
                            reason=f"needs {int(need[i])} chips (more than 8)",
                        )
                    )
                    continue
                rows.append(
                    dict(
                        hardware=hw.name,
                        precision=precision,
                        batch=b,
                        fits=True,
                        chips=int(chips[i]),
                        tokens_per_s=float(tput[i]),
                        ms_per_step=float(step[i]) * 1e3,
                        usd_per_million_tokens=None
                        if price is None
                        else float(usd_per_million_tokens(price, chips[i], tput[i])),
                    )
                )
    return rows
