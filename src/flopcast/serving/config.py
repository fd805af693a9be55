"""One serving configuration through the stage functions: the arithmetic shared by the planner and the estimate.

Layer: orchestration. :func:`evaluate` takes a served model (:class:`Served`), a configuration
(:class:`Config`: chip, chips, tensor and expert parallelism, precisions, batch), a request shape
(:class:`Workload`) and the efficiencies, as numbers or arrays (one per sample, or one per batch size),
and returns memory, step time, latency and throughput from :mod:`flopcast.deployment`'s stage
functions. :func:`~flopcast.serving.plan.plan` evaluates it over many configurations at central
efficiencies; :func:`~flopcast.serving.chain.estimate_deployment` over the samples of one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from flopcast.catalogs import Hardware, ModelSpec
from flopcast.catalogs import constants as K
from flopcast.deployment import (
    KV_PRECISIONS,
    WEIGHT_KERNELS,
    WEIGHT_PRECISIONS,
    Values,
    all_to_all_s,
    allreduce_s,
    attention_flop_per_position,
    decode_peak_flop_per_s,
    decode_step_s,
    experts_touched_fraction,
    instances_for_load,
    kv_bytes_per_token,
    mean_decode_context,
    model_shape,
    moe_params,
    prefill_flop,
    request_rate,
    roofline_s,
    speculative_tokens_per_step,
    time_per_output_token_s,
    time_to_first_token_s,
    weight_bytes,
    weight_bytes_read,
)
from flopcast.errors import InvalidInputError, UnknownNameError

#: the efficiencies and collective latency every evaluation draws, with their constants
EFFICIENCIES = {
    "eff_memory": "serving_eff_memory",
    "eff_compute": "serving_eff_compute",
    "eff_network": "serving_eff_network",
    "collective_latency_s": "serving_collective_latency_s",
}


@dataclass(frozen=True)
class Served:
    """The served model's numbers: parameters, shape, attention and experts (see :func:`served`)."""

    spec: ModelSpec | None
    name: str
    params: float
    params_active: float
    n_layers: float
    d_model: float
    #: FLOP of one query token on one context position (all layers)
    attention_per_position: float
    #: KV cache relative to multi-head attention's 2 x d_model per token and layer
    kv_fraction: float
    #: mha, gqa, mqa or mla, and the KV heads (what tensor parallelism can split the KV cache over)
    attention: str
    n_kv_heads: float
    n_experts: float = 0.0
    experts_per_token: float = 0.0
    moe_layers: float = 0.0
    max_context: float | None = None
    #: always-read and routed-expert parameters (a dense model: all of them, none), split once in :func:`served`
    shared_params: float = 0.0
    routed_params: float = 0.0

    @property
    def moe(self) -> bool:
        return self.n_experts > 0

    def kv_copies(self, tp: int) -> float:
        """Copies of each token's KV cache over ``tp`` tensor-parallel ranks: the latent of multi-head
        latent attention is shared by all heads, so every rank keeps it (the reason DeepSeek serves
        attention data-parallel); grouped-query heads split up to one KV head a rank."""
        if self.attention == "mla":
            return float(tp)
        return max(1.0, tp / self.n_kv_heads)

    def weight_split(self) -> tuple[float, float]:
        """Always-read and routed-expert parameters (dense models: all of them, none)."""
        return self.shared_params, self.routed_params


def served(
    spec: ModelSpec | None,
    name: str,
    params: float,
    params_active: float,
    n_layers: float,
    d_model: float,
    kv_fraction: float,
) -> Served:
    """The served model from a catalog row (its attention and experts) or a multi-head ad-hoc shape."""
    attention = (spec.attention if spec is not None else None) or "mha"
    heads = spec.n_heads if spec is not None and spec.n_heads else None
    head_dim = spec.head_dim if spec is not None and spec.head_dim else None
    if attention == "mla" and spec is not None and spec.kv_lora_rank and spec.rope_head_dim and heads:
        per_position = attention_flop_per_position(
            n_layers, heads, spec.kv_lora_rank + spec.rope_head_dim, spec.kv_lora_rank
        )
    elif heads and head_dim:
        per_position = attention_flop_per_position(n_layers, heads, head_dim, head_dim)
    else:  # a multi-head shape of width d_model
        per_position = attention_flop_per_position(n_layers, 1.0, d_model, d_model)
    # KV heads: the row's, else its heads; a shape without heads is taken as heads of 128 (d_model / 128)
    kv_heads = (spec.n_kv_heads if spec is not None and spec.n_kv_heads else None) or heads or d_model / 128.0
    longest = (spec.max_context_length or spec.context_length) if spec is not None else None
    experts = (0.0, 0.0, 0.0)
    shared, routed = params, 0.0
    if spec is not None and spec.n_experts and spec.experts_per_token and spec.moe_layers and params_active < params:
        experts = (float(spec.n_experts), float(spec.experts_per_token), float(spec.moe_layers))
        split = moe_params(params, params_active, experts[0], experts[1])
        shared, routed = float(split[0]), float(split[1])
    return Served(
        spec,
        name,
        params,
        params_active,
        n_layers,
        d_model,
        float(per_position),
        kv_fraction,
        attention,
        float(kv_heads),
        *experts,
        float(longest) if longest else None,
        shared,
        routed,
    )


def served_from_spec(spec: ModelSpec) -> Served:
    """A catalog model as it is, with the standard shape where the row gives none (:func:`model_shape`)."""
    if spec.params is None:
        raise InvalidInputError(f"{spec.name} has no parameter count to serve")
    layers, width, _ = model_shape(spec.params, spec.n_layers, spec.d_model)
    return served(
        spec, spec.name, spec.params, spec.params_active or spec.params, layers, width, spec.kv_cache_fraction or 1.0
    )


@dataclass(frozen=True)
class Workload:
    """The requests: prompt and output tokens each, the prefix-cache hit rate and speculative decoding."""

    #: a number, or one per sample (a scenario's drawn prompt ratio)
    prompt_tokens: Values
    output_tokens: float
    cache_hit: float = 0.0
    draft_tokens: int = 0
    acceptance: float = 0.0
    #: time of one draft token relative to one step of the served model (Leviathan et al.'s c)
    draft_cost: float = 0.0
    #: a fixed mean decode context instead of prompt + (output - 1) / 2 (replaying a benchmark)
    context: float | None = None

    @property
    def decode_context(self) -> Values:
        if self.context is not None:
            return self.context
        return mean_decode_context(self.prompt_tokens, self.output_tokens)


@dataclass(frozen=True)
class Config:
    """One way to serve: the chip, chips per instance, tensor and expert parallelism, precisions, batch."""

    hw: Hardware
    chips: int
    tp: int
    ep: int
    precision: str
    kv_precision: str
    batch: int
    weight_kernel: str = "fused"
    parallelism: str = "tensor"
    overlap: str = "none"
    #: prompts read on instances of their own (prefill and decode disaggregated), not between decode steps
    disaggregated: bool = False

    def describe(self) -> str:
        par = f"TP{self.tp}" + (f" EP{self.ep}" if self.ep > 1 else "")
        if self.tp < self.chips:
            par += f" (attention DP{self.chips // self.tp})"
        kv = "" if self.kv_precision == self.precision else f", KV {self.kv_precision}"
        split = ", prefill on instances of its own" if self.disaggregated else ""
        return f"{self.chips} x {self.hw.name}, {par}, {self.precision}{kv}, batch {self.batch}{split}"


def check_config(m: Served, cfg: Config) -> None:
    """A one-line error for a layout that cannot exist: parallelism that does not divide the chips,
    experts on a dense model, a precision the chip cannot compute in."""
    if cfg.precision not in WEIGHT_PRECISIONS:
        raise UnknownNameError("precision", cfg.precision, WEIGHT_PRECISIONS)
    if cfg.kv_precision not in KV_PRECISIONS:
        raise UnknownNameError("KV precision", cfg.kv_precision, KV_PRECISIONS)
    if cfg.weight_kernel not in WEIGHT_KERNELS:
        raise UnknownNameError("weight kernel", cfg.weight_kernel, WEIGHT_KERNELS)
    if cfg.chips < 1 or cfg.tp < 1 or cfg.ep < 1:
        raise InvalidInputError(f"chips={cfg.chips}, tp={cfg.tp}, ep={cfg.ep}: each must be at least 1")
    if cfg.ep > 1 and not m.moe:
        raise InvalidInputError(f"ep={cfg.ep}: {m.name} has no experts to spread; expert parallelism is for MoE models")
    if cfg.chips % cfg.tp:
        raise InvalidInputError(
            f"tp={cfg.tp} does not divide chips={cfg.chips}; give a tensor-parallel degree that does"
        )
    if cfg.chips % cfg.ep:
        raise InvalidInputError(
            f"ep={cfg.ep} does not divide chips={cfg.chips}; give an expert-parallel degree that does"
        )
    if not m.moe and cfg.tp != cfg.chips and cfg.parallelism == "tensor":
        raise InvalidInputError(
            f"tp={cfg.tp} with chips={cfg.chips}: a dense model's instance is one tensor-parallel group "
            "(more replicas are more instances)"
        )
    if cfg.precision in ("fp8", "fp4") and "fp8" not in cfg.hw.peak_flop_per_s_by_precision:
        raise InvalidInputError(f"precision={cfg.precision}: {cfg.hw.name} has no fp8 tensor cores; use bf16 or int8")
    if cfg.kv_precision in ("fp8", "fp4") and "fp8" not in cfg.hw.peak_flop_per_s_by_precision:
        raise InvalidInputError(f"kv_precision={cfg.kv_precision}: {cfg.hw.name} has no fp8 support; use bf16")


def software_factor(hw: Hardware) -> float:
    """The chip's serving-stack factor on the efficiencies (``serving_software_factor``: 1 for the stacks they
    were set on, 0.59 for MI300X from MLPerf Inference v4.1; the central value, as the planner compares)."""
    return float(K.constant("serving_software_factor", hw.family).value)


def link_bandwidth(hw: Hardware, group: int) -> float:
    """Bandwidth per chip (both directions) of a collective over ``group`` chips: the scale-up link
    inside the chip's scale-up domain, the scale-out network beyond it."""
    domain = K.constant("scale_up_chips", hw.family).value
    scale_out = K.constant("scale_out_bandwidth_bytes_per_s").value
    if group <= domain and hw.interconnect_bandwidth_bytes_per_s:
        return float(hw.interconnect_bandwidth_bytes_per_s)
    return float(scale_out)


def memory_bytes(m: Served, cfg: Config, work: Workload, batch: Values) -> Values:
    """Memory of an instance: weights (the always-read part on every attention data-parallel group,
    the experts once per expert-parallel group) plus the KV cache of ``batch`` sequences at their
    mean context, with the copies tensor parallelism makes."""
    shared, routed = m.weight_split()
    dp = cfg.chips // cfg.tp
    w = weight_bytes(shared, cfg.precision) * dp
    if routed:
        w = w + weight_bytes(routed, cfg.precision) * (cfg.chips // cfg.ep)
    kv = kv_bytes_per_token(m.n_layers, m.d_model, cfg.kv_precision, kv_heads_fraction=m.kv_fraction)
    return w + np.asarray(batch, dtype=float) * work.decode_context * kv * m.kv_copies(cfg.tp)


def evaluate(
    m: Served, cfg: Config, work: Workload, eff: Mapping[str, Values], batch: Values | None = None
) -> dict[str, Values]:
    """Memory, decode step, prefill, latency and throughput of one instance.

    ``eff`` holds ``eff_memory``, ``eff_compute``, ``eff_network`` and ``collective_latency_s`` (numbers
    or per-sample arrays); ``batch`` (default ``cfg.batch``) may be an array of batch sizes.
    """
    b = np.asarray(cfg.batch if batch is None else batch, dtype=float)
    peak = decode_peak_flop_per_s(cfg.hw, cfg.precision, cfg.weight_kernel)
    # a stack that reaches less of its chip's peaks than those the efficiencies came from (drawn per sample when
    # ``eff`` carries it, else its central value)
    software = eff.get("software_factor", software_factor(cfg.hw))
    if np.any(np.asarray(software) != 1.0):
        eff = {
            **eff,
            "eff_memory": np.minimum(np.asarray(eff["eff_memory"]) * software, 1.0),
            "eff_compute": np.minimum(np.asarray(eff["eff_compute"]) * software, 1.0),
        }
    bw = float(cfg.hw.memory_bandwidth_bytes_per_s or 0.0)
    ctx = work.decode_context
    kv_token = kv_bytes_per_token(m.n_layers, m.d_model, cfg.kv_precision, kv_heads_fraction=m.kv_fraction)
    verified = 1.0 + work.draft_tokens
    tokens_per_step = speculative_tokens_per_step(work.acceptance, work.draft_tokens) if work.draft_tokens else 1.0
    dp = cfg.chips // cfg.tp
    eff_net, latency = eff["eff_network"], eff["collective_latency_s"]
    if cfg.parallelism != "tensor":  # the naive layouts of 2022 (pipeline, ZeRO-Inference), as measured by Hugging Face
        step = decode_step_s(
            params_active=m.params_active,
            weights_bytes=weight_bytes_read(m.params, cfg.precision, cfg.weight_kernel),
            kv_per_token_bytes=kv_token,
            batch=b,
            context=ctx,
            chips=cfg.chips,
            peak_flop_per_s=peak,
            memory_bandwidth_bytes_per_s=bw,
            eff_compute=eff["eff_compute"],
            eff_memory=eff["eff_memory"],
            attention_flop_per_position=m.attention_per_position,
            overlap=cfg.overlap,
            parallelism=cfg.parallelism,
            interconnect_bytes_per_s=cfg.hw.interconnect_bandwidth_bytes_per_s,
        )
    else:
        shared, routed = m.weight_split()
        tokens = b * verified
        read = weight_bytes_read(shared, cfg.precision, cfg.weight_kernel) * dp
        comm: Values = allreduce_s(
            tokens / dp,
            m.d_model,
            m.n_layers,
            cfg.tp,
            link_bandwidth(cfg.hw, cfg.tp),
            eff_network=eff_net,
            latency_s=latency,
        )
        if routed:
            replicas = cfg.chips // cfg.ep
            touched = experts_touched_fraction(tokens / replicas, m.experts_per_token, m.n_experts)
            read = read + weight_bytes_read(routed, cfg.precision, cfg.weight_kernel) * replicas * touched
            comm = comm + all_to_all_s(
                tokens / cfg.chips,
                m.experts_per_token,
                m.d_model,
                m.moe_layers,
                cfg.ep,
                link_bandwidth(cfg.hw, cfg.ep),
                eff_network=eff_net,
                latency_s=latency,
            )
        step = roofline_s(
            bytes_moved=read + b * ctx * kv_token * m.kv_copies(cfg.tp),
            flop=tokens * (2.0 * m.params_active + m.attention_per_position * ctx),
            chips=cfg.chips,
            memory_bandwidth_bytes_per_s=bw,
            peak_flop_per_s=peak,
            eff_memory=eff["eff_memory"],
            eff_compute=eff["eff_compute"],
            comm_s=comm,
            overlap=cfg.overlap,
        )
    step = step * (1.0 + work.draft_tokens * work.draft_cost)
    new = np.asarray(work.prompt_tokens, dtype=float) * (1.0 - work.cache_hit)
    pf_flop = prefill_flop(work.prompt_tokens, m.params_active, m.attention_per_position, work.cache_hit)
    pf_comm: Values = 0.0
    if (new > 0).any() and cfg.parallelism == "tensor":
        pf_comm = allreduce_s(
            new, m.d_model, m.n_layers, cfg.tp, link_bandwidth(cfg.hw, cfg.tp), eff_network=eff_net, latency_s=latency
        )
        if m.moe:
            pf_comm = pf_comm + all_to_all_s(
                new / cfg.tp,
                m.experts_per_token,
                m.d_model,
                m.moe_layers,
                cfg.ep,
                link_bandwidth(cfg.hw, cfg.ep),
                eff_network=eff_net,
                latency_s=latency,
            )
    working = 1.0 if cfg.parallelism == "pipeline" else float(cfg.chips)
    group = 1.0 if cfg.parallelism == "pipeline" else float(cfg.tp)
    pf_instance = pf_flop / (working * peak * eff["eff_compute"]) + pf_comm / dp
    first = pf_flop / (group * peak * eff["eff_compute"]) + pf_comm
    if cfg.disaggregated:
        # the prompt's KV cache moves from its prefill instance to a decode instance over the scale-out network
        kv_move = (
            np.asarray(work.prompt_tokens, dtype=float)
            * kv_token
            / (0.5 * float(K.constant("scale_out_bandwidth_bytes_per_s").value) * eff_net)
        )
        rate = request_rate(0.0, step, b, work.output_tokens, tokens_per_step)
        prefill_rate = 1.0 / np.maximum(pf_instance, 1e-30)
        share: Values = 0.0
        first = first + kv_move
    else:
        rate = request_rate(pf_instance, step, b, work.output_tokens, tokens_per_step)
        prefill_rate = rate  # the same instances read the prompts
        share = rate * pf_instance
    return {
        "memory_bytes": memory_bytes(m, cfg, work, b),
        "step_s": step,
        "tokens_per_step": np.asarray(tokens_per_step, dtype=float),
        "requests_per_s": rate,
        "prefill_requests_per_s": prefill_rate,
        "output_tokens_per_s": rate * work.output_tokens,
        "prompt_tokens_per_s": rate * work.prompt_tokens,
        "prefill_share": np.asarray(share, dtype=float),
        "time_per_output_token_s": time_per_output_token_s(step, tokens_per_step, share),
        "time_to_first_token_s": time_to_first_token_s(first, step),
    }


def fleet(
    cfg: Config, out: Mapping[str, Values], work: Workload, output_tokens_per_day: Values, load_factor: Values
) -> tuple[Values, Values]:
    """Whole instances for the load (:func:`~flopcast.deployment.instances_for_load`): decode instances for the
    output tokens, plus, when prefill is disaggregated, prefill instances for the requests. Returns
    (instances in all, prefill instances)."""
    decode = instances_for_load(output_tokens_per_day, out["output_tokens_per_s"], load_factor)
    if not cfg.disaggregated:
        return decode, np.zeros_like(np.asarray(decode, dtype=float))
    requests_per_day = np.asarray(output_tokens_per_day, dtype=float) / work.output_tokens
    prefill = instances_for_load(requests_per_day, out["prefill_requests_per_s"], load_factor)
    prefill = np.where(np.asarray(work.prompt_tokens, dtype=float) > 0, prefill, 0.0)
    return decode + prefill, prefill


def fits(m: Served, cfg: Config, work: Workload, batch: Values | None = None) -> Values:
    """Whether the instance's usable memory holds the weights and the batch's KV cache."""
    usable = K.constant("serving_memory_usable").value
    b = cfg.batch if batch is None else batch
    return np.asarray(memory_bytes(m, cfg, work, b)) <= cfg.chips * float(cfg.hw.memory_bytes or 0.0) * usable
