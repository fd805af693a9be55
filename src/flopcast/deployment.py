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
``device_map``) does.
"""

from __future__ import annotations

import math

import numpy as np

from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.units import BYTES_PER_VALUE, SECONDS_PER_HOUR, check_fraction, check_positive

WEIGHT_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
OVERLAPS = ("none", "full")
PARALLELISMS = ("tensor", "pipeline")
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


def decode_step_s(*, params_active, weights_bytes, kv_per_token_bytes, batch, context, chips, peak_flop_per_s,
                  memory_bandwidth_bytes_per_s, eff_compute=0.5, eff_memory=0.5, n_layers=None, d_model=None,
                  overlap: str = "none", parallelism: str = "tensor"):
    """Seconds for one decode step: every sequence of the batch gets one token."""
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
    """Whole instances to serve ``tokens_per_day`` when each runs at ``load_factor`` of its throughput."""
    check_positive("tokens_per_day", tokens_per_day)
    check_fraction("load_factor", load_factor, what="average utilization of the fleet")
    need = np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * load_factor)
    return np.ceil(need - 1e-9)


def fleet_load_factor(tokens_per_day, tokens_per_s_per_instance, instances):
    """Average fraction of the fleet's capacity used."""
    return np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * instances)


def usd_per_million_tokens(price_usd_per_chip_hour, chips, tokens_per_s_per_instance, load_factor=1.0):
    """Dollars per million generated tokens for an instance of ``chips`` chips at ``load_factor``."""
    check_positive("price_usd_per_chip_hour", price_usd_per_chip_hour)
    usd_per_s = np.asarray(price_usd_per_chip_hour, dtype=float) * chips / SECONDS_PER_HOUR
    return usd_per_s / (np.asarray(tokens_per_s_per_instance) * load_factor) * 1e6


def owned_usd_per_chip_hour(chip_price_usd, *, server_overhead=1.64, interconnect_fraction=0.19, lifetime_years=None,
                            depreciation_oom_per_year=0.14, tdp_w=None, server_power_ratio=1.8,
                            average_power_fraction=0.75, pue=1.25, usd_per_kwh=0.08):
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
        energy = training.energy_cost_usd(1.0, tdp_w, server_power_ratio=server_power_ratio,
                                          average_power_fraction=average_power_fraction, pue=pue,
                                          usd_per_kwh=usd_per_kwh)
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


def _isfinite(x) -> bool:
    return bool(np.all(np.isfinite(x))) and not (isinstance(x, float) and math.isnan(x))
