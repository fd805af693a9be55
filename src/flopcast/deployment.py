"""Deployment stage functions: what it costs to serve a model, from first principles.

Layer: stage functions (array-in/array-out, no catalogs, no database, no sampling) for the
memory fit, the per-chip roofline of prefill and decode, throughput, latency, instances for a
load and dollars per token. :mod:`flopcast.serving` orchestrates them into a
:class:`~flopcast.serving.DeploymentEstimate`; :mod:`flopcast.validation.serving` checks them
against published measurements.

Roofline. One decode step of a batch of ``b`` sequences reads the weights (for a mixture of
experts, the shared ones and the experts its tokens touch) and the KV cache of every sequence,
and does ``b x (2 N_active + attention per position x n_ctx)`` FLOP. Its time is the memory time
``bytes / (chips x bandwidth x eff_memory)``, the compute time ``FLOP / (chips x peak x
eff_compute)`` and the exposed communication (tensor-parallel all-reduces, expert-parallel
all-to-alls): added (``overlap="none"``, the default: measured serving systems track the sum,
see docs/deployment.md) or the largest (``overlap="full"``, the ideal roofline). Prefill reads a
prompt at ``2 N_active`` FLOP a token plus causal attention; continuous batching, speculative
decoding and the prefix cache are their own functions below.

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

WEIGHT_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4")
OVERLAPS = ("none", "full")
PARALLELISMS = ("tensor", "pipeline", "zero")
WEIGHT_KERNELS = ("fused", "dequantize")
QUANTIZED = ("fp8", "fp4", "int8", "int4")
#: the KV cache's precisions
KV_PRECISIONS = ("bf16", "fp16", "fp8", "fp4", "int8")
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
    """Peak FLOP/s of the decode GEMMs: fp4 weights on fp4 tensor cores (else fp8 ones: W4A8), fp8
    weights on fp8 tensor cores, int8/int4 on int8 ones when the chip has them and the kernel is
    fused; 16-bit otherwise (a dequantizing kernel runs a dense 16-bit GEMM)."""
    have = hw.peak_flop_per_s_by_precision
    if weight_kernel == "fused" and precision == "fp4" and "fp4" in have:
        return hw.peak_flop_per_s("fp4")
    if weight_kernel == "fused" and precision in ("fp8", "fp4") and "fp8" in have:
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
    attention_flop_per_position: Values | None = None,
    overlap: str = "none",
    parallelism: str = "tensor",
    interconnect_bytes_per_s: Values | None = None,
) -> Values:
    """Seconds for one decode step: every sequence of the batch gets one token (no communication term;
    the planner's configurations add theirs, see :func:`allreduce_s`).

    ``weights_bytes`` is the weights' memory traffic per step (:func:`weight_bytes_read`). Attention
    costs ``attention_flop_per_position`` per context position (:func:`attention_flop_per_position`),
    else that of multi-head attention of width ``d_model`` over ``n_layers``, else nothing.
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
    flop_per_token = 2.0 * np.asarray(params_active, dtype=float)
    if attention_flop_per_position is None and n_layers is not None and d_model is not None:
        attention_flop_per_position = attention_flop_per_position_mha(n_layers, d_model)
    if attention_flop_per_position is not None:
        flop_per_token = flop_per_token + np.asarray(attention_flop_per_position) * context
    kv = np.asarray(kv_per_token_bytes, dtype=float)
    w = np.asarray(weights_bytes, dtype=float)
    if parallelism == "zero":
        if interconnect_bytes_per_s is None:
            raise InvalidInputError("parallelism=zero needs the chip's interconnect bandwidth (none in the catalog)")
        check_positive("interconnect_bytes_per_s", interconnect_bytes_per_s)
        n = np.asarray(chips, dtype=float)
        per_chip = b / n
        t_gather = w * (n - 1.0) / n / (0.5 * np.asarray(interconnect_bytes_per_s, dtype=float) * eff_memory)
        return roofline_s(
            bytes_moved=w + kv * per_chip * context,
            flop=per_chip * flop_per_token,
            chips=1.0,
            memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s,
            peak_flop_per_s=peak_flop_per_s,
            eff_memory=eff_memory,
            eff_compute=eff_compute,
            comm_s=t_gather,
            overlap=overlap,
        )
    working = 1.0 if parallelism == "pipeline" else np.asarray(chips, dtype=float)
    return roofline_s(
        bytes_moved=w + kv * b * context,
        flop=b * flop_per_token,
        chips=working,
        memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s,
        peak_flop_per_s=peak_flop_per_s,
        eff_memory=eff_memory,
        eff_compute=eff_compute,
        overlap=overlap,
    )


def attention_flop_per_position_mha(n_layers: Values, d_model: Values) -> Values:
    """:func:`attention_flop_per_position` of multi-head attention of width ``d_model``: ``4 x layers x d_model``."""
    return attention_flop_per_position(n_layers, 1.0, d_model, d_model)


def instances_for_load(tokens_per_day: Values, tokens_per_s_per_instance: Values, load_factor: Values = 1.0) -> Values:
    """Whole instances to serve ``tokens_per_day`` when each runs at ``load_factor`` of its throughput (at least 1)."""
    check_positive("tokens_per_day", tokens_per_day)
    check_fraction("load_factor", load_factor, what="average utilization of the fleet")
    need = np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * load_factor)
    return np.maximum(np.ceil(need - 1e-9), 1.0)


def fleet_load_factor(tokens_per_day: Values, tokens_per_s_per_instance: Values, instances: Values) -> Values:
    """Average fraction of the fleet's capacity used."""
    return np.asarray(tokens_per_day, dtype=float) / 86_400 / (np.asarray(tokens_per_s_per_instance) * instances)


# -- 2026 serving: attention, experts, collectives, prefill, speculation, batching ------


def attention_flop_per_position(n_layers: Values, n_heads: Values, qk_dim: Values, v_dim: Values) -> Values:
    """FLOP one query token spends on one position of its context: ``2 x layers x heads x (qk + v)``.

    The scores (q . k over ``qk_dim``) and the weighted sum of values (over ``v_dim``), two FLOP a
    multiply-add: Hoffmann et al. 2022 (arXiv 2203.15556), Appendix F, "attention logits" and
    "softmax @ query reduction". Multi-head and grouped-query attention: ``qk = v = head_dim``
    (GQA shares keys and values between heads, but every head does its own products, so GQA
    saves KV bytes, not FLOP). Multi-head latent attention, decoding with the up-projections
    absorbed (DeepSeek-AI 2024, arXiv 2412.19437, Section 2.1.1; FlashMLA): ``qk = kv_lora_rank +
    rope_head_dim`` (576) and ``v = kv_lora_rank`` (512), 128 x 1,088 / 7,168 = 19x the
    ``2 x d_model`` a multi-head model of DeepSeek-V3's width would spend.
    """
    for name, v in (("n_layers", n_layers), ("n_heads", n_heads), ("qk_dim", qk_dim), ("v_dim", v_dim)):
        check_positive(name, v)
    return 2.0 * np.asarray(n_layers, dtype=float) * n_heads * (np.asarray(qk_dim, dtype=float) + v_dim)


def moe_params(
    params: Values, params_active: Values, n_experts: Values, experts_per_token: Values
) -> tuple[Values, Values]:
    """Always-read parameters (embeddings, attention, dense layers, shared experts) and the routed
    experts' parameters, from the total and active counts: ``shared + E x e = params`` and
    ``shared + k x e = active`` (DeepSeek-V3: 671B and 37B with 8 of 256 experts give 16.6B shared
    and 654B routed)."""
    check_positive("params", params)
    check_positive("params_active", params_active)
    check_positive("n_experts", n_experts)
    check_positive("experts_per_token", experts_per_token)
    p, a = np.asarray(params, dtype=float), np.asarray(params_active, dtype=float)
    e, k = np.asarray(n_experts, dtype=float), np.asarray(experts_per_token, dtype=float)
    if (a > p).any() or (k >= e).any():
        raise InvalidInputError("a mixture of experts needs params_active <= params and experts_per_token < n_experts")
    per_expert = (p - a) / (e - k)
    return a - k * per_expert, e * per_expert


def experts_touched_fraction(tokens: Values, experts_per_token: Values, n_experts: Values) -> Values:
    """Expected share of routed experts that at least one of ``tokens`` tokens is sent to:
    ``1 - (1 - k / E) ^ tokens`` (each token picks ``k`` of ``E``, routing balanced). One token of
    DeepSeek-V3 touches 8/256 = 3%; a step of 128 tokens, 98%."""
    check_positive("tokens", tokens)
    check_positive("n_experts", n_experts)
    check_positive("experts_per_token", experts_per_token)
    share = np.asarray(experts_per_token, dtype=float) / n_experts
    return 1.0 - (1.0 - share) ** np.asarray(tokens, dtype=float)


def allreduce_s(
    tokens: Values,
    d_model: Values,
    n_layers: Values,
    tp: Values,
    link_bytes_per_s: Values,
    *,
    eff_network: Values = 0.7,
    latency_s: Values = 1e-5,
    value_bytes: float = 2.0,
    per_layer: float = 2.0,
) -> Values:
    """Seconds of a forward pass's tensor-parallel all-reduces over ``tokens`` tokens: ``per_layer`` a
    layer (Megatron-LM, Shoeybi et al. 2019, arXiv 1909.08053: after attention and after the MLP).

    A ring all-reduce sends and receives ``2 (tp - 1) / tp`` of the ``tokens x d_model x value_bytes``
    message on every chip (NCCL's bus bandwidth), each way at half the catalog's bidirectional link
    bandwidth, times ``eff_network``, plus ``latency_s`` per all-reduce. Zero for ``tp = 1``.
    """
    check_positive("tokens", tokens)
    check_positive("tp", tp)
    check_positive("link_bytes_per_s", link_bytes_per_s)
    check_fraction("eff_network", eff_network, what="achieved / peak link bandwidth")
    check_positive("latency_s", latency_s, allow_zero=True)
    t = np.asarray(tp, dtype=float)
    message = np.asarray(tokens, dtype=float) * d_model * value_bytes
    one = 2.0 * (t - 1.0) / t * message / (0.5 * np.asarray(link_bytes_per_s, dtype=float) * eff_network) + latency_s
    return np.where(t > 1, per_layer * np.asarray(n_layers, dtype=float) * one, 0.0)


def all_to_all_s(
    tokens_per_chip: Values,
    experts_per_token: Values,
    d_model: Values,
    moe_layers: Values,
    ep: Values,
    link_bytes_per_s: Values,
    *,
    eff_network: Values = 0.7,
    latency_s: Values = 1e-5,
    dispatch_bytes: float = 1.0,
    combine_bytes: float = 2.0,
) -> Values:
    """Seconds of a forward pass's expert-parallel dispatch and combine: every token's hidden vector
    goes to its ``k`` experts and comes back, in fp8 and bf16 (DeepSeek-AI 2024, Section 3.4; DeepEP),
    and the ``(ep - 1) / ep`` of it bound for other chips crosses the link (half the catalog's
    bidirectional bandwidth each way, times ``eff_network``), with two latencies a layer. Zero for
    ``ep = 1``."""
    check_positive("tokens_per_chip", tokens_per_chip)
    check_positive("ep", ep)
    check_positive("link_bytes_per_s", link_bytes_per_s)
    check_fraction("eff_network", eff_network, what="achieved / peak link bandwidth")
    e = np.asarray(ep, dtype=float)
    sent = np.asarray(tokens_per_chip, dtype=float) * experts_per_token * d_model * (dispatch_bytes + combine_bytes)
    per_layer = sent * (e - 1.0) / e / (0.5 * np.asarray(link_bytes_per_s, dtype=float) * eff_network)
    return np.where(e > 1, np.asarray(moe_layers, dtype=float) * (per_layer + 2.0 * np.asarray(latency_s)), 0.0)


def prefill_flop(
    prompt_tokens: Values, params_active: Values, attention_per_position: Values, cached_fraction: Values = 0.0
) -> Values:
    """FLOP to read one prompt: ``2 N_active`` per new token plus causal attention, token ``i`` attending
    to ``i`` positions, ``attention_per_position x (p^2 - c^2) / 2`` with ``c = cached_fraction x p``
    tokens found in the prefix cache and skipped (vLLM's automatic prefix caching; SGLang's
    RadixAttention, Zheng et al. 2024, arXiv 2312.07104)."""
    check_positive("prompt_tokens", prompt_tokens, allow_zero=True)
    check_positive("params_active", params_active)
    h = np.asarray(cached_fraction, dtype=float)
    if np.isnan(h).any() or (h < 0).any() or (h >= 1).any():
        raise InvalidInputError(f"prefix cache hit rate={float(np.ravel(h)[0]):g} is outside [0, 1)")
    p = np.asarray(prompt_tokens, dtype=float)
    return (
        2.0 * np.asarray(params_active, dtype=float) * p * (1.0 - h)
        + np.asarray(attention_per_position) * p**2 * (1.0 - h**2) / 2.0
    )


def speculative_tokens_per_step(acceptance: Values, draft_tokens: Values) -> Values:
    """Expected tokens one verification step yields with ``g`` draft tokens, each accepted with
    probability ``a``: ``(1 - a^(g + 1)) / (1 - a)`` (Leviathan et al. 2023, arXiv 2211.17192, eq. 1);
    1 with no drafts."""
    a = np.asarray(acceptance, dtype=float)
    g = np.asarray(draft_tokens, dtype=float)
    if np.isnan(a).any() or (a < 0).any() or (a >= 1).any():
        raise InvalidInputError(f"draft acceptance={float(np.ravel(a)[0]):g} is outside [0, 1)")
    check_positive("draft_tokens", g, allow_zero=True)
    return (1.0 - a ** (g + 1.0)) / (1.0 - a)


def mean_decode_context(prompt_tokens: Values, output_tokens: Values) -> Values:
    """Mean context over a request's decode steps, ``prompt + (output - 1) / 2``: under continuous
    batching the batch holds sequences at every stage of their output at once."""
    check_positive("prompt_tokens", prompt_tokens, allow_zero=True)
    check_positive("output_tokens", output_tokens)
    return np.asarray(prompt_tokens, dtype=float) + (np.asarray(output_tokens, dtype=float) - 1.0) / 2.0


def steady_state_batch(requests_per_s: Values, output_tokens: Values, time_per_output_token_s: Values) -> Values:
    """Sequences decoding at once at a load under continuous batching (Orca, Yu et al. 2022): Little's
    law, arrivals x time in decode, ``requests/s x output tokens x time per output token``."""
    check_positive("requests_per_s", requests_per_s, allow_zero=True)
    return np.asarray(requests_per_s, dtype=float) * output_tokens * time_per_output_token_s


def roofline_s(
    *,
    bytes_moved: Values,
    flop: Values,
    chips: Values,
    memory_bandwidth_bytes_per_s: Values,
    peak_flop_per_s: Values,
    eff_memory: Values = 0.5,
    eff_compute: Values = 0.5,
    comm_s: Values = 0.0,
    overlap: str = "none",
) -> Values:
    """Seconds of a step that moves ``bytes_moved`` and does ``flop`` over ``chips`` chips: memory time
    ``bytes / (chips x bandwidth x eff_memory)``, compute time ``flop / (chips x peak x eff_compute)``
    and exposed communication ``comm_s``, added (``overlap="none"``) or the largest (``"full"``)."""
    check_fraction("eff_compute", eff_compute, what="achieved / peak FLOP/s")
    check_fraction("eff_memory", eff_memory, what="achieved / peak memory bandwidth")
    if overlap not in OVERLAPS:
        raise UnknownNameError("overlap", overlap, OVERLAPS)
    n = np.asarray(chips, dtype=float)
    t_mem = np.asarray(bytes_moved, dtype=float) / (n * memory_bandwidth_bytes_per_s * eff_memory)
    t_compute = np.asarray(flop, dtype=float) / (n * peak_flop_per_s * eff_compute)
    if overlap == "none":
        return t_mem + t_compute + comm_s
    return np.maximum(np.maximum(t_mem, t_compute), comm_s)


def request_rate(
    prefill_s: Values, step_s: Values, batch: Values, output_tokens: Values, tokens_per_step: Values = 1.0
) -> Values:
    """Requests per second one instance completes: ``1 / (prefill + output x step / (batch x tokens per
    step))``. The instance interleaves prefill chunks with decode steps (chunked prefill: Agrawal et al.
    2024, Sarathi-Serve, arXiv 2403.02310), so a request costs its prefill time and its share of the
    decode steps of the batch it joins."""
    check_positive("decode step", step_s)
    check_positive("prefill_s", prefill_s, allow_zero=True)
    per_request = np.asarray(prefill_s, dtype=float) + np.asarray(output_tokens, dtype=float) * step_s / (
        np.asarray(batch, dtype=float) * tokens_per_step
    )
    return 1.0 / per_request


def time_per_output_token_s(step_s: Values, tokens_per_step: Values, prefill_share: Values) -> Values:
    """What a user sees between tokens: the step over the tokens it yields, stretched by the share of
    the instance's time spent on other requests' prefills, ``step / tokens / (1 - share)``."""
    share = np.asarray(prefill_share, dtype=float)
    return np.asarray(step_s, dtype=float) / tokens_per_step / np.maximum(1.0 - share, 1e-9)


def time_to_first_token_s(prefill_s: Values, step_s: Values) -> Values:
    """Time to the first token with no queue: the prompt's prefill on the instance, then one step."""
    return np.asarray(prefill_s, dtype=float) + step_s


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


def inference_implied_by_shares(training: Values, experimentation: Values, shares: Mapping[str, float]) -> Values:
    """Inference compute (or energy) a published lifetime split implies for a model's training and experiments:
    ``training x inference / training share`` (Wu et al. 2022: 70 / 20 = 3.5x the final runs), or, where the split
    lumps experiments with training, ``(training + experimentation) x inference / that share`` (Patterson et al.
    2022: 3/5 against 2/5, 1.5x)."""
    if "training" in shares:
        return np.asarray(training, dtype=float) * shares["inference"] / shares["training"]
    return (
        (np.asarray(training, dtype=float) + experimentation)
        * shares["inference"]
        / shares["experimentation_and_training"]
    )
