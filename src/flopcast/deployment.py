"""Deployment stage functions: what it costs to serve a model, from first principles.

Layer: stage functions (array-in/array-out, no catalogs, no database, no sampling) for the
memory fit, the per-chip roofline of prefill and decode, throughput, latency, instances for a
load and dollars per token. :mod:`flopcast.serving` orchestrates them into a
:class:`~flopcast.serving.DeploymentEstimate`; :mod:`flopcast.validation.serving` checks them
against published measurements.

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

from collections.abc import Mapping
from typing import Protocol, TypeAlias

import numpy as np

from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.units import BYTES_PER_VALUE, SECONDS_PER_HOUR, check_fraction, check_positive

#: what the stage functions take and give back: a number or an array of them (one per sample,
#: batch size...); a number comes back as a numpy float (a float) where every input was a number
Values: TypeAlias = float | np.ndarray

WEIGHT_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
OVERLAPS = ("none", "full")
PARALLELISMS = ("tensor", "pipeline", "zero")
WEIGHT_KERNELS = ("fused", "dequantize")
QUANTIZED = ("fp8", "int8", "int4")
MAX_BATCH = 65_536
MAX_CONTEXT = 10_000_000

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


class ChipPeaks(Protocol):
    """What :func:`decode_peak_flop_per_s` reads of a chip (a catalog :class:`~flopcast.catalogs.Hardware`)."""

    @property
    def peak_flop_per_s_by_precision(self) -> Mapping[str, float]: ...

    def peak_flop_per_s(self, precision: str | None = None) -> float: ...


def _bytes(precision: str) -> float:
    if precision not in WEIGHT_PRECISIONS:
        raise UnknownNameError("precision", precision, WEIGHT_PRECISIONS)
    return BYTES_PER_VALUE[precision]


def check_batch(batch: Values) -> None:
    arr = np.asarray(batch, dtype=float)
    if np.isnan(arr).any() or (arr < 1).any() or (arr > MAX_BATCH).any() or (arr != np.round(arr)).any():
        raise InvalidInputError(f"batch={_first(arr)} is outside 1..{MAX_BATCH:,}; it is a whole number of sequences")


def check_context(context: Values) -> None:
    arr = np.asarray(context, dtype=float)
    if np.isnan(arr).any() or (arr < 1).any() or (arr > MAX_CONTEXT).any():
        raise InvalidInputError(f"context={_first(arr)} is outside 1..{MAX_CONTEXT:,} tokens")


def _first(arr: np.ndarray) -> str:
    v = np.ravel(arr)
    bad = v[(v < 1) | np.isnan(v) | (v > MAX_BATCH)] if v.size else v
    return f"{float((bad if bad.size else v)[0]):g}"


# -- the model and the chip ------------------------------------------------------------


def model_shape(params: float, n_layers: float | None, d_model: float | None) -> tuple[float, float, str]:
    """Layers and width: given, else a standard shape with params = 12 L d^2 and d = 128 L."""
    if n_layers is not None and d_model is not None:
        return float(n_layers), float(d_model), ""
    d = (params * 128.0 / 12.0) ** (1.0 / 3.0)
    return d / 128.0, d, "layers and width not given: assumed params = 12 x layers x width^2 with width = 128 x layers"


def kv_cache_fraction(given: float | None, catalog: float | None = None, model: str = "") -> tuple[float, str]:
    """KV cache relative to multi-head attention: ``given``, else the catalog model's (``catalog``, the
    ``kv_cache_fraction`` of ``model``), else 1 (with a note, empty for 1)."""
    if given is not None:
        check_fraction("kv_fraction", given, what="KV cache / multi-head attention's")
        return float(given), f"KV cache {given:g} of multi-head attention's (given)"
    if catalog:
        return float(catalog), f"KV cache {catalog:.4g} of multi-head attention's ({model}'s attention; catalog)"
    return 1.0, ""


def decode_peak_flop_per_s(hw: ChipPeaks, precision: str, weight_kernel: str = "fused") -> float:
    """Peak FLOP/s of the decode GEMMs: fp8 weights on fp8 tensor cores, int8/int4 on int8 ones
    when the chip has them and the kernel is fused; 16-bit otherwise (a dequantizing kernel
    runs a dense 16-bit GEMM)."""
    have = hw.peak_flop_per_s_by_precision
    if weight_kernel == "fused" and precision == "fp8" and "fp8" in have:
        return hw.peak_flop_per_s("fp8")
    if weight_kernel == "fused" and precision in ("int8", "int4") and "int8" in have:
        return hw.peak_flop_per_s("int8")
    return hw.peak_flop_per_s()


# -- memory ----------------------------------------------------------------------------


def weight_bytes(params: Values, precision: str = "bf16") -> Values:
    """Bytes of the weights: parameters x bytes per value (int4 0.5, int8/fp8 1, bf16 2, fp32 4)."""
    check_positive("params", params)
    return np.asarray(params, dtype=float) * _bytes(precision)


def weight_bytes_read(
    params: Values, precision: str = "bf16", kernel: str = "fused", compute_precision: str = "fp16"
) -> Values:
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


def kv_bytes_per_token(
    n_layers: Values, d_model: Values, kv_precision: str = "bf16", kv_heads_fraction: Values = 1.0
) -> Values:
    """KV-cache bytes per token of context: 2 (K and V) x layers x d_model x bytes.

    ``kv_heads_fraction`` is KV heads / attention heads (1 for multi-head attention,
    e.g. 8/64 for grouped-query attention with 8 KV heads).
    """
    check_positive("n_layers", n_layers)
    check_positive("d_model", d_model)
    check_fraction("kv_heads_fraction", kv_heads_fraction, what="KV heads / attention heads")
    return 2.0 * np.asarray(n_layers, dtype=float) * d_model * _bytes(kv_precision) * kv_heads_fraction


def serving_memory_bytes(weights_bytes: Values, kv_per_token_bytes: Values, batch: Values, context: Values) -> Values:
    """Weights plus the KV cache of ``batch`` sequences of ``context`` tokens."""
    check_batch(batch)
    check_context(context)
    return np.asarray(weights_bytes, dtype=float) + np.asarray(kv_per_token_bytes, dtype=float) * batch * context


def min_chips_to_fit(memory_bytes: Values, chip_memory_bytes: Values, usable_fraction: Values = 0.9) -> Values:
    """Fewest chips whose usable memory holds ``memory_bytes`` (the rest: activations, fragmentation)."""
    check_positive("memory_bytes", memory_bytes)
    check_positive("chip_memory_bytes", chip_memory_bytes)
    check_fraction("usable_fraction", usable_fraction, what="the fraction of chip memory usable for weights and KV")
    return np.ceil(np.asarray(memory_bytes, dtype=float) / (np.asarray(chip_memory_bytes) * usable_fraction) - 1e-9)


def practical_chips(min_chips: Values) -> Values:
    """The tensor-parallel degree used in practice: the next power of two (5 -> 8)."""
    m = np.asarray(min_chips, dtype=float)
    check_positive("min_chips", m)
    return 2.0 ** np.ceil(np.log2(m) - 1e-12)


# -- roofline --------------------------------------------------------------------------


def decode_step_s(
    *,
    params_active: Values,
    weights_bytes: Values,
    kv_per_token_bytes: Values,
    batch: Values,
    context: Values,
    chips: Values,
    peak_flop_per_s: Values,
    memory_bandwidth_bytes_per_s: Values,
    eff_compute: Values = 0.5,
    eff_memory: Values = 0.5,
    n_layers: Values | None = None,
    d_model: Values | None = None,
    overlap: str = "none",
    parallelism: str = "tensor",
    interconnect_bytes_per_s: Values | None = None,
) -> Values:
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


def prefill_s_per_token(
    *,
    params_active: Values,
    chips: Values,
    peak_flop_per_s: Values,
    eff_compute: Values = 0.5,
    parallelism: str = "tensor",
) -> Values:
    """Seconds of instance time to read one prompt token (compute-bound: 2 N_active FLOP)."""
    check_positive("params_active", params_active)
    working = 1.0 if parallelism == "pipeline" else np.asarray(chips, dtype=float)
    return 2.0 * np.asarray(params_active, dtype=float) / (working * peak_flop_per_s * eff_compute)


def instance_throughput(
    step_s: Values, batch: Values, prompt_per_generated: Values = 0.0, prefill_s_token: Values = 0.0
) -> Values:
    """Generated tokens per second per instance, counting the time to read prompts."""
    check_positive("decode step", step_s)
    s_per_generated = np.asarray(step_s, dtype=float) / batch + np.asarray(prompt_per_generated) * prefill_s_token
    return 1.0 / s_per_generated


def instances_for_load(tokens_per_day: Values, tokens_per_s_per_instance: Values, load_factor: Values = 1.0) -> Values:
    """Whole instances to serve ``tokens_per_day`` when each runs at ``load_factor`` of its throughput (at least 1)."""
    check_positive("tokens_per_day", tokens_per_day)
    check_fraction("load_factor", load_factor, what="average utilization of the fleet")
    need = np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * load_factor)
    return np.maximum(np.ceil(need - 1e-9), 1.0)


def fleet_load_factor(tokens_per_day: Values, tokens_per_s_per_instance: Values, instances: Values) -> Values:
    """Average fraction of the fleet's capacity used."""
    return np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * instances)


# -- dollars ---------------------------------------------------------------------------


def usd_per_million_tokens(
    price_usd_per_chip_hour: Values, chips: Values, tokens_per_s_per_instance: Values, load_factor: Values = 1.0
) -> Values:
    """Dollars per million generated tokens for an instance of ``chips`` chips at ``load_factor``."""
    check_positive("price_usd_per_chip_hour", price_usd_per_chip_hour)
    usd_per_s = np.asarray(price_usd_per_chip_hour, dtype=float) * chips / SECONDS_PER_HOUR
    return usd_per_s / (np.asarray(tokens_per_s_per_instance) * load_factor) * 1e6


def owned_usd_per_chip_hour(
    chip_price_usd: Values,
    *,
    server_overhead: Values = 1.64,
    interconnect_fraction: Values = 0.19,
    lifetime_years: Values | None = None,
    depreciation_oom_per_year: Values = 0.14,
    tdp_w: Values | None = None,
    server_power_ratio: Values = 1.8,
    average_power_fraction: Values = 0.75,
    pue: Values = 1.25,
    usd_per_kwh: Values = 0.08,
) -> Values:
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
    energy: Values = 0.0
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


def api_cost_usd(tokens: Values, usd_per_1k_tokens: Values) -> Values:
    """Cost of ``tokens`` through an API priced per thousand tokens."""
    check_positive("tokens", tokens)
    check_positive("usd_per_1k_tokens", usd_per_1k_tokens)
    return np.asarray(tokens, dtype=float) / 1000.0 * usd_per_1k_tokens


def words_to_tokens(words: Values, words_per_token: Values = 0.75) -> Values:
    """Tokens for ``words`` English words (OpenAI's rule of thumb: 0.75 words a token)."""
    check_positive("words", words)
    check_positive("words_per_token", words_per_token)
    return np.asarray(words, dtype=float) / words_per_token
