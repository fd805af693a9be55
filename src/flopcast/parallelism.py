"""Training parallelism stage functions: memory per rank, the fewest chips and a layout, time from a layout.

Layer: stage functions (numbers or numpy arrays in and out; no catalogs, no database, no sampling). The
defaults below mirror rows of ``catalogs/data/constants.csv`` (``tests/test_parallelism.py`` keeps them in
step); an orchestrator resolves those rows with their provenance and passes them in.

Notation (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
arXiv 2205.05198, Sec. 4): ``s`` sequence length, ``b`` micro-batch, ``h`` hidden size, ``a`` attention
heads, ``L`` layers, ``t`` tensor-parallel size, ``p`` pipeline-parallel size, ``v`` vocabulary. Memory is
in bytes, time in seconds, bandwidth in bytes per second *per direction* (the figure NCCL's bus bandwidth
is measured against: half of a "both directions" datasheet figure).

A layout is ``tp x pp x dp`` chips: tensor parallelism inside the scale-up domain (NVLink), pipeline
stages, and data-parallel replicas; expert parallelism ``ep`` shards the experts inside the data-parallel
group; ZeRO stage 1/2/3 shards optimizer states / + gradients / + weights over the data-parallel group
(stage 3 is FSDP's full shard). The most-loaded rank is a first pipeline stage: it holds the input
embedding and, under 1F1B, the activations of ``p`` micro-batches in flight.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from flopcast import training
from flopcast.errors import InvalidInputError
from flopcast.training import OPTIMIZER_BYTES_PER_PARAM, OPTIMIZERS, RECOMPUTE, bytes_per_value
from flopcast.units import SECONDS_PER_HOUR, FloatOrArray, check_positive

GB = 1e9

#: ZeRO stages: 0 none, 1 optimizer states, 2 + gradients, 3 + weights (FSDP full shard); Rajbhandari et
#: al. 2020, "ZeRO", arXiv 1910.02054, Sec. 5 (P_os, P_os+g, P_os+g+p).
ZERO_STAGES = (0, 1, 2, 3)

# -- defaults: each mirrors a constants.csv row (name in brackets) ---------------------------------------

#: Share of chip memory not available to the model: CUDA context, NCCL and allocator buffers and
#: fragmentation [training_memory_reserved_fraction]. ZeRO (arXiv 1910.02054, Sec. 3.2 "Residual Memory
#: Consumption") names temporary buffers and fragmentation; the 10% is flopcast's judgment.
RESERVED_FRACTION = 0.10
#: Job interruptions per chip-hour [training_interruptions_per_chip_hour]: Llama 3 (arXiv 2407.21783,
#: Sec. 3.3.4): 466 interruptions in a 54-day snapshot on 16,384 H100s = 466 / (16,384 x 1,296 h).
INTERRUPTIONS_PER_CHIP_HOUR = 466.0 / (16_384 * 54 * 24)
#: Wall time lost per interruption, restart plus work since the last checkpoint, in seconds
#: [training_time_lost_per_interruption_s]: Llama 3's ">90% effective training time" over those 466
#: interruptions in 1,296 h bounds it by 0.10 x 1,296 h / 466 = 0.278 h = 1,001 s.
TIME_LOST_PER_INTERRUPTION_S = 0.10 * 54 * 24 / 466 * SECONDS_PER_HOUR
#: Share of the data-parallel gradient synchronization not hidden behind the backward pass
#: [training_dp_comm_exposed_fraction] (bucketed all-reduce overlapping backward: Li et al. 2020, PyTorch
#: DDP, arXiv 2006.15704, Sec. 3.2.3).
DP_COMM_EXPOSED_FRACTION = 0.2
#: Achieved / peak link bandwidth of large training collectives [training_network_efficiency] (NCCL's
#: all-reduce bus bandwidth on large messages, nccl-tests doc/PERFORMANCE.md).
NETWORK_EFFICIENCY = 0.8
#: Chips in one scale-up domain (NVLink) when not given [scale_up_chips.default].
SCALE_UP_DOMAIN = 8

# -- typed inputs ---------------------------------------------------------------------------------------


def _bad(field_name: str, value: object, allowed: str) -> InvalidInputError:
    return InvalidInputError(f"{field_name}={value!r} is not allowed; {allowed}")


def _check_int(field_name: str, value: object, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise _bad(field_name, value, f"it must be a whole number >= {minimum}")


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


@dataclass(frozen=True)
class ModelShape:
    """A transformer's shape. ``params`` is the total count (experts included); ``vocab=0`` leaves the
    embedding and output layer out of the memory terms; ``n_kv_heads`` (GQA) defaults to ``n_heads``,
    ``ffn_hidden`` to ``4 d_model``; ``gated_ffn`` is SwiGLU's three matrices; ``dropout=False`` drops
    the dropout masks Korthikanti et al. count (Llama-style models train without dropout). Mixture of experts:
    ``n_experts`` experts, ``experts_per_token`` active, ``expert_params_share`` of the layer parameters
    in the experts."""

    params: float
    n_layers: int
    d_model: int
    n_heads: int
    seq_len: int
    vocab: int = 0
    n_kv_heads: int | None = None
    ffn_hidden: int | None = None
    gated_ffn: bool = False
    dropout: bool = True
    n_experts: int = 1
    experts_per_token: int = 1
    expert_params_share: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.params, (int, float, np.integer, np.floating)) and math.isfinite(self.params)):
            raise _bad("params", self.params, "it must be a finite number of parameters > 0")
        if self.params <= 0:
            raise _bad("params", self.params, "it must be > 0")
        for name in ("n_layers", "d_model", "n_heads", "seq_len", "n_experts", "experts_per_token"):
            _check_int(name, getattr(self, name))
        _check_int("vocab", self.vocab, minimum=0)
        if self.n_kv_heads is None:
            object.__setattr__(self, "n_kv_heads", self.n_heads)
        if self.ffn_hidden is None:
            object.__setattr__(self, "ffn_hidden", 4 * self.d_model)
        _check_int("n_kv_heads", self.n_kv_heads)
        _check_int("ffn_hidden", self.ffn_hidden)
        if self.n_heads % self.kv_heads:
            raise _bad(
                "n_kv_heads", self.n_kv_heads, f"it must divide n_heads={self.n_heads} (grouped-query attention)"
            )
        if self.d_model % self.n_heads:
            raise _bad("n_heads", self.n_heads, f"it must divide d_model={self.d_model}")
        if self.experts_per_token > self.n_experts:
            raise _bad("experts_per_token", self.experts_per_token, f"it must be <= n_experts={self.n_experts}")
        if not 0.0 <= self.expert_params_share < 1.0 or (self.n_experts == 1 and self.expert_params_share):
            raise _bad(
                "expert_params_share", self.expert_params_share, "it is a share in [0, 1), and 0 without experts"
            )

    @property
    def kv_heads(self) -> int:
        return int(self.n_kv_heads or self.n_heads)

    @property
    def ffn(self) -> int:
        return int(self.ffn_hidden or 4 * self.d_model)

    def architecture_terms(self) -> dict[str, Any]:
        """The shape's architecture as :func:`_memory_terms` takes it (every memory evaluation and the layout search):
        vocabulary, KV heads and feed-forward width as ratios, gating, dropout and the experts' share."""
        return dict(
            vocab=self.vocab,
            kv_ratio=self.kv_heads / self.n_heads,
            ffn_ratio=self.ffn / self.d_model,
            gated=self.gated_ffn,
            dropout=self.dropout,
            expert_share=self.expert_params_share,
        )

    @property
    def active_params(self) -> float:
        """Parameters a token passes through: ``N (1 - e + e k / E)`` for expert share ``e``, ``k`` of ``E``."""
        e = self.expert_params_share
        return self.params * (1.0 - e + e * self.experts_per_token / self.n_experts)


@dataclass(frozen=True)
class Layout:
    """A parallel layout: ``chips = tp * pp * dp``. ``sp`` (sequence parallelism) defaults to on when
    ``tp > 1``; ``n_micro`` micro-batches of ``micro_batch`` sequences per pipeline per step (gradient
    accumulation); ``interleave`` virtual stages per pipeline rank; ``ep`` divides ``dp``."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1
    sp: bool | None = None
    zero: int = 0
    micro_batch: int = 1
    n_micro: int = 1
    recompute: str = "selective"
    interleave: int = 1

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "dp", "ep", "micro_batch", "n_micro", "interleave"):
            _check_int(name, getattr(self, name))
        if not _is_pow2(self.tp):
            raise _bad("tp", self.tp, "tensor parallelism must be a power of 2 (1, 2, 4, 8...)")
        if self.zero not in ZERO_STAGES or isinstance(self.zero, bool):
            raise _bad("zero", self.zero, "ZeRO stage 0, 1, 2 or 3 (3 is FSDP full shard)")
        if self.recompute not in RECOMPUTE:
            raise _bad("recompute", self.recompute, f"one of {', '.join(RECOMPUTE)}")
        if self.dp % self.ep:
            raise _bad("ep", self.ep, f"expert parallelism must divide dp={self.dp}")
        if self.interleave > 1 and self.pp == 1:
            raise _bad("interleave", self.interleave, "virtual stages need pp > 1")
        if self.sp is None:
            object.__setattr__(self, "sp", self.tp > 1)
        if self.sp and self.tp == 1:
            raise _bad("sp", self.sp, "sequence parallelism needs tp > 1")

    @property
    def chips(self) -> int:
        return self.tp * self.pp * self.dp

    def describe(self) -> str:
        sp = " + SP" if self.sp else ""
        ep = f" EP {self.ep}" if self.ep > 1 else ""
        return (
            f"TP {self.tp}{sp}, PP {self.pp}"
            + (f" (x{self.interleave} virtual)" if self.interleave > 1 else "")
            + f", DP {self.dp}{ep}, ZeRO-{self.zero}, micro-batch {self.micro_batch} x {self.n_micro}, "
            f"{'no' if self.recompute == 'none' else self.recompute} recompute ({self.chips:,} chips)"
        )


@dataclass(frozen=True)
class Precision:
    """Bytes per value of weights, gradients and activations, and the optimizer's extra bytes per parameter.

    ``optimizer_bytes`` defaults to :data:`flopcast.training.OPTIMIZER_BYTES_PER_PARAM` for ``optimizer``
    with 16-bit weights (mixed-precision Adam: fp32 master + two moments, 12 bytes; ZeRO's "16 Psi" with
    2-byte weights and gradients). Activations are costed at 16 bits (Korthikanti et al. 2022's bytes)."""

    weights: str = "bf16"
    gradients: str = "bf16"
    optimizer: str = "adam"
    optimizer_bytes: float | None = None

    def __post_init__(self) -> None:
        w = bytes_per_value(self.weights)
        bytes_per_value(self.gradients)
        if self.optimizer_bytes is None:
            key = (self.optimizer, w < 4)
            if key not in OPTIMIZER_BYTES_PER_PARAM:
                raise _bad("optimizer", self.optimizer, f"one of {', '.join(OPTIMIZERS)}")
            object.__setattr__(self, "optimizer_bytes", OPTIMIZER_BYTES_PER_PARAM[key])
        elif not (self.optimizer_bytes >= 0 and math.isfinite(self.optimizer_bytes)):
            raise _bad("optimizer_bytes", self.optimizer_bytes, "bytes per parameter >= 0")

    @property
    def w(self) -> float:
        return bytes_per_value(self.weights)

    @property
    def g(self) -> float:
        return bytes_per_value(self.gradients)

    @property
    def o(self) -> float:
        return float(self.optimizer_bytes or 0.0)


# -- activations (Korthikanti et al. 2022, term by term) -------------------------------------------------


def layer_activation_bytes(
    seq_len: FloatOrArray,
    micro_batch: FloatOrArray,
    d_model: FloatOrArray,
    n_heads: FloatOrArray,
    *,
    tp: FloatOrArray = 1,
    sp: bool = False,
    recompute: str = "none",
    kv_ratio: FloatOrArray = 1.0,
    ffn_ratio: FloatOrArray = 4.0,
    gated: bool = False,
    dropout: bool = True,
) -> np.ndarray:
    """Activation bytes one transformer layer keeps for one micro-batch, on one tensor-parallel rank.

    Korthikanti et al. 2022 (arXiv 2205.05198), Sec. 4.1 and Table 2, 16-bit activations, 1-byte
    dropout masks, in units of ``sbh``:

    - attention ``11 + 5as/h``: QKV input 2, Q and K 4, V 2, output-projection input 2, dropout mask 1;
      softmax output 2as/h, its dropout mask as/h, dropout output 2as/h;
    - MLP 19: first-linear input 2, GeLU input 8 (``2 x 4h``), second-linear input 8, dropout mask 1;
    - two layer norms 4.

    Total ``34 + 5as/h``. Tensor parallelism divides the attention core and the MLP interior (24 of the
    34 and the ``5as/h``); the layer-norm, dropout and linear inputs (10) stay replicated unless sequence
    parallelism shards them too: Table 2's ``10 + 24/t + 5as/(ht)`` (TP) and ``(34 + 5as/h)/t`` (TP + SP).
    Selective recomputation drops the ``5as/h`` (Sec. 5; also what FlashAttention stores); full
    recomputation keeps the layer input, 2 (``2/t`` with SP).

    Variants, derived term by term: grouped-query attention with ``r = n_kv/n_heads`` stores K and V at
    ``2r`` each, so attention's sharded part is ``4 + 4r`` (8 at r = 1); an FFN of width ``phi h`` stores
    ``4 phi`` (GeLU: activation input and second-linear input, 16 at phi = 4) or, gated (SwiGLU), the gate
    and up projections and their product, ``6 phi``. Replicated stays 10. So per layer::

        none:       R + (P + 5as/h) / t         R = 10,  P = 4 + 4r + (4 or 6) phi
        selective:  R + P / t
        full:       2                           (SP divides R and the 2 by t as well)

    Without dropout (Llama-style models) the two 1-byte masks leave R (R = 8) and the attention scores
    keep only the softmax output, ``2as/h``.
    """
    if recompute not in RECOMPUTE:
        raise _bad("recompute", recompute, f"one of {', '.join(RECOMPUTE)}")
    check_positive("seq_len", seq_len)
    check_positive("micro_batch", micro_batch)
    check_positive("d_model", d_model)
    check_positive("n_heads", n_heads)
    check_positive("tp", tp)
    s = np.asarray(seq_len, dtype=float)
    h = np.asarray(d_model, dtype=float)
    t = np.asarray(tp, dtype=float)
    sbh = s * micro_batch * h
    if recompute == "full":
        return sbh * 2.0 / (t if sp else 1.0)
    replicated = 10.0 if dropout else 8.0
    sharded = 4.0 + 4.0 * np.asarray(kv_ratio, dtype=float) + (6.0 if gated else 4.0) * np.asarray(ffn_ratio)
    if recompute == "none":
        sharded = sharded + (5.0 if dropout else 2.0) * np.asarray(n_heads, dtype=float) * s / h
    if sp:
        return sbh * (replicated + sharded) / t
    return sbh * (replicated + sharded / t)


def inflight_microbatches(pp: FloatOrArray, n_micro: FloatOrArray, interleave: FloatOrArray = 1) -> np.ndarray:
    """Micro-batches whose activations the first pipeline stage holds at its peak, under 1F1B.

    Narayanan et al. 2021 (arXiv 2104.04473, Sec. 2.2.1): the first stage runs ``p`` forward passes
    before its first backward, so it holds ``min(p, m)`` micro-batches. With ``v`` interleaved stages
    Korthikanti et al. 2022 (Sec. 4.2.3) give ``L (1 + (p-1)/(p v))`` layers' worth, i.e. ``p + (p-1)/v``
    micro-batches of the stage's ``L/p`` layers (capped at ``m``)."""
    check_positive("pp", pp)
    check_positive("n_micro", n_micro)
    check_positive("interleave", interleave)
    p = np.asarray(pp, dtype=float)
    v = np.asarray(interleave, dtype=float)
    peak = np.where(v > 1, p + (p - 1.0) / v, p)
    return np.minimum(peak, np.asarray(n_micro, dtype=float))


def layers_on_first_stage(n_layers: FloatOrArray, pp: FloatOrArray) -> np.ndarray:
    """Layers on the most-loaded stage: ``ceil(L / p)``. Any ``p <= L`` is accepted; when ``p`` does not
    divide ``L`` the first stage takes the larger share (Llama 3 405B ran 126 layers on 16 stages,
    arXiv 2407.21783, Sec. 3.3.2)."""
    return np.ceil(np.asarray(n_layers, dtype=float) / np.asarray(pp, dtype=float) - 1e-9)


def embedding_activation_bytes(
    seq_len: FloatOrArray,
    micro_batch: FloatOrArray,
    d_model: FloatOrArray,
    vocab: FloatOrArray,
    *,
    tp: FloatOrArray = 1,
    pp: FloatOrArray = 1,
    inflight: FloatOrArray = 1,
    dropout: bool = True,
) -> np.ndarray:
    """Activations outside the layers on the first stage (Korthikanti et al. 2022, Sec. 4.3).

    The input embedding's dropout mask, ``sbh`` per micro-batch in flight (``sbhp/t`` in the paper); the
    output layer (layer norm and projection inputs ``4sbh`` and the fp32 logits ``4sbv``, i.e.
    ``4sbh/t (1 + v/h)``) sits on the last stage, so it counts here only when ``p = 1``. Divided by ``t``
    (sequence parallelism; without it the paper's small replicated terms are not modeled)."""
    s = np.asarray(seq_len, dtype=float)
    h = np.asarray(d_model, dtype=float)
    sbh = s * micro_batch * h
    t = np.asarray(tp, dtype=float)
    emb = np.where((np.asarray(vocab) > 0) & dropout, sbh * np.asarray(inflight, dtype=float), 0.0)
    out = np.where(np.asarray(pp) == 1, 4.0 * sbh * (1.0 + np.asarray(vocab, dtype=float) / h), 0.0)
    return (emb + out) / t


def zero_shards(zero: FloatOrArray, dp: FloatOrArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factors that divide weights, gradients and optimizer states over ``dp`` at a ZeRO stage.

    Rajbhandari et al. 2020 (arXiv 1910.02054, Sec. 5.1): stage 1 shards the optimizer states, stage 2
    also the gradients, stage 3 also the weights (FSDP full shard)."""
    z = np.asarray(zero)
    d = np.asarray(dp, dtype=float)
    one = np.ones_like(d)
    return np.where(z >= 3, d, one), np.where(z >= 2, d, one), np.where(z >= 1, d, one)


# -- memory per rank ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankMemory:
    """Memory of the most-loaded rank (a first pipeline stage), in bytes, with the verdict.

    ``buffers_bytes`` is ZeRO-3's gathered weights (one layer in use, one prefetched); ``reserved_bytes``
    the allowance for the CUDA context, communication buffers and fragmentation (a share of capacity)."""

    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    embedding_activations_bytes: float
    buffers_bytes: float
    reserved_bytes: float
    capacity_bytes: float
    layout: Layout
    reason: str | None = None

    @property
    def model_state_bytes(self) -> float:
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes

    @property
    def total_bytes(self) -> float:
        return (
            self.model_state_bytes
            + self.activations_bytes
            + self.embedding_activations_bytes
            + self.buffers_bytes
            + self.reserved_bytes
        )

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes * (1 + 1e-12)

    def terms(self) -> dict[str, float]:
        return {
            "weights": self.weights_bytes,
            "gradients": self.gradients_bytes,
            "optimizer states": self.optimizer_bytes,
            "activations": self.activations_bytes,
            "embedding/output activations": self.embedding_activations_bytes,
            "ZeRO-3 gather buffers": self.buffers_bytes,
            "reserved (buffers, fragmentation)": self.reserved_bytes,
        }


def _memory_terms(
    params: FloatOrArray,
    n_layers: FloatOrArray,
    d_model: FloatOrArray,
    n_heads: FloatOrArray,
    seq_len: FloatOrArray,
    *,
    vocab: FloatOrArray,
    kv_ratio: FloatOrArray,
    ffn_ratio: FloatOrArray,
    gated: bool,
    dropout: bool,
    expert_share: FloatOrArray,
    tp: FloatOrArray,
    pp: FloatOrArray,
    dp: FloatOrArray,
    ep: FloatOrArray,
    sp: bool,
    zero: FloatOrArray,
    micro_batch: FloatOrArray,
    n_micro: FloatOrArray,
    interleave: FloatOrArray,
    recompute: str,
    w: float,
    g: float,
    o: float,
) -> dict[str, np.ndarray]:
    """Every memory term of the first-stage rank, broadcast over array inputs (bytes)."""
    L = np.asarray(n_layers, dtype=float)
    h = np.asarray(d_model, dtype=float)
    t = np.asarray(tp, dtype=float)
    p = np.asarray(pp, dtype=float)
    d = np.asarray(dp, dtype=float)
    e = np.asarray(expert_share, dtype=float)
    emb = np.asarray(vocab, dtype=float) * h
    per_layer = np.maximum(np.asarray(params, dtype=float) - 2.0 * emb, 0.0) / L
    lf = layers_on_first_stage(L, p)
    n_emb = np.where(p == 1, 2.0, 1.0)  # input embedding; the untied output layer too when p = 1
    dense = (lf * per_layer * (1.0 - e) + n_emb * emb) / t
    expert = lf * per_layer * e / (t * np.asarray(ep, dtype=float))
    expert_dp = d / np.asarray(ep, dtype=float)  # the experts' data-parallel group
    sw, sg, so = zero_shards(zero, d)
    ew, eg, eo = zero_shards(zero, expert_dp)
    inflight = inflight_microbatches(p, n_micro, interleave)
    act_layer = layer_activation_bytes(
        seq_len,
        micro_batch,
        h,
        n_heads,
        tp=t,
        sp=sp,
        recompute=recompute,
        kv_ratio=kv_ratio,
        ffn_ratio=ffn_ratio,
        gated=gated,
        dropout=dropout,
    )
    acts = act_layer * lf * inflight
    if recompute == "full":  # the layer being recomputed holds its full activations during its backward
        acts = acts + layer_activation_bytes(
            seq_len,
            micro_batch,
            h,
            n_heads,
            tp=t,
            sp=sp,
            recompute="selective",
            kv_ratio=kv_ratio,
            ffn_ratio=ffn_ratio,
            gated=gated,
            dropout=dropout,
        )
    z = np.asarray(zero)
    return {
        "weights": w * (dense / sw + expert / ew),
        "gradients": g * (dense / sg + expert / eg),
        "optimizer": o * (dense / so + expert / eo),
        "activations": acts,
        "embedding": embedding_activation_bytes(
            seq_len, micro_batch, h, vocab, tp=t, pp=p, inflight=inflight, dropout=dropout
        ),
        "buffers": np.where(z >= 3, 2.0 * w * per_layer / t, 0.0),
    }


def check_layout(shape: ModelShape, layout: Layout, *, scale_up_domain: int = SCALE_UP_DOMAIN) -> None:
    """Raise InvalidInputError when ``layout`` does not divide ``shape`` or leaves the scale-up domain."""
    _check_int("scale_up_domain", scale_up_domain)
    if layout.tp > scale_up_domain:
        raise _bad("tp", layout.tp, f"tensor parallelism must stay inside the scale-up domain of {scale_up_domain}")
    if shape.n_heads % layout.tp or shape.kv_heads % layout.tp:
        raise _bad(
            "tp",
            layout.tp,
            f"it must divide the attention heads ({shape.n_heads}) and KV heads ({shape.kv_heads})",
        )
    if layout.pp * layout.interleave > shape.n_layers:
        raise _bad("pp", layout.pp, f"pp x interleave must be <= n_layers={shape.n_layers}")
    if layout.ep > shape.n_experts or shape.n_experts % layout.ep:
        raise _bad("ep", layout.ep, f"expert parallelism must divide n_experts={shape.n_experts}")


def rank_memory(
    shape: ModelShape,
    layout: Layout,
    *,
    chip_memory_bytes: float,
    precision: Precision | None = None,
    reserved_fraction: float = RESERVED_FRACTION,
    scale_up_domain: int = SCALE_UP_DOMAIN,
) -> RankMemory:
    """Memory of the most-loaded rank of ``layout`` and whether it fits ``chip_memory_bytes``.

    weights/gradients/optimizer = bytes x (first-stage parameters / t [/ ep for experts]) / ZeRO shard;
    activations = :func:`layer_activation_bytes` x ``ceil(L/p)`` x :func:`inflight_microbatches`, plus
    :func:`embedding_activation_bytes`; buffers = ZeRO-3's two gathered layers; reserved =
    ``reserved_fraction`` x capacity. Data parallelism never divides activations: each replica holds its own.
    """
    check_layout(shape, layout, scale_up_domain=scale_up_domain)
    check_positive("chip_memory_bytes", chip_memory_bytes)
    if not 0.0 <= reserved_fraction < 1.0:
        raise _bad("reserved_fraction", reserved_fraction, "a share of chip memory in [0, 1)")
    prec = precision or Precision()
    terms = _memory_terms(
        shape.params,
        shape.n_layers,
        shape.d_model,
        shape.n_heads,
        shape.seq_len,
        **shape.architecture_terms(),
        tp=layout.tp,
        pp=layout.pp,
        dp=layout.dp,
        ep=layout.ep,
        sp=bool(layout.sp),
        zero=layout.zero,
        micro_batch=layout.micro_batch,
        n_micro=layout.n_micro,
        interleave=layout.interleave,
        recompute=layout.recompute,
        w=prec.w,
        g=prec.g,
        o=prec.o,
    )
    mem = RankMemory(
        weights_bytes=float(terms["weights"]),
        gradients_bytes=float(terms["gradients"]),
        optimizer_bytes=float(terms["optimizer"]),
        activations_bytes=float(terms["activations"]),
        embedding_activations_bytes=float(terms["embedding"]),
        buffers_bytes=float(terms["buffers"]),
        reserved_bytes=reserved_fraction * chip_memory_bytes,
        capacity_bytes=float(chip_memory_bytes),
        layout=layout,
    )
    return mem if mem.fits else replace(mem, reason=_why_not(mem))


def _why_not(mem: RankMemory) -> str:
    lay = mem.layout
    cap = mem.capacity_bytes
    usable = cap - mem.reserved_bytes
    acts = mem.activations_bytes + mem.embedding_activations_bytes
    head = (
        f"{lay.describe()} needs {mem.total_bytes / GB:.1f} GB per rank; the chip holds {cap / GB:.0f} GB "
        f"({usable / GB:.1f} GB usable)"
    )
    if acts >= usable:
        fixes = []
        if lay.recompute != "full":
            fixes.append("full recompute" if lay.recompute == "selective" else "selective or full recompute")
        if lay.micro_batch > 1:
            fixes.append("a smaller micro-batch")
        fixes += ["more tensor (with sequence) parallelism", "more pipeline stages"]
        fix = ", ".join(fixes)
        return (
            f"{head}: activations alone are {acts / GB:.1f} GB, more than the chip holds however many "
            f"data-parallel chips are added; fix with {fix}"
        )
    states = mem.model_state_bytes + mem.buffers_bytes
    biggest = max(
        ("weights", mem.weights_bytes),
        ("gradients", mem.gradients_bytes),
        ("optimizer states", mem.optimizer_bytes),
        key=lambda kv: kv[1],
    )
    fix = "a higher ZeRO stage" if lay.zero < 3 else "more data-parallel chips"
    return (
        f"{head}: model states are {states / GB:.1f} GB (largest: {biggest[0]} {biggest[1] / GB:.1f} GB) beside "
        f"{acts / GB:.1f} GB of activations; fix with {fix}, more tensor or pipeline parallelism"
    )


# -- the search -----------------------------------------------------------------------------------------


def _pow2_upto(n: int) -> list[int]:
    return [1 << k for k in range(int(math.log2(max(n, 1))) + 1)]


def pipeline_candidates(n_layers: int, *, chips: int | None = None, tp: int = 1) -> list[int]:
    """Pipeline sizes the search tries: the divisors of ``n_layers`` and the powers of 2 up to it (uneven
    last stages allowed, :func:`layers_on_first_stage`); with a fixed cluster, only those that divide it."""
    cands = {k for k in range(1, n_layers + 1) if n_layers % k == 0} | set(_pow2_upto(n_layers))
    if chips is not None:
        cands = {k for k in cands if chips % (k * tp) == 0}
    return sorted(cands)


def bubble_fraction(pp: FloatOrArray, n_micro: FloatOrArray, interleave: FloatOrArray = 1) -> np.ndarray:
    """Pipeline bubble time / ideal compute time: ``(p - 1) / (v m)`` (Narayanan et al. 2021, arXiv
    2104.04473, Sec. 2.2: 1F1B, and the interleaved schedule with ``v`` model chunks per device)."""
    check_positive("pp", pp)
    check_positive("n_micro", n_micro)
    check_positive("interleave", interleave)
    return (np.asarray(pp, dtype=float) - 1.0) / (np.asarray(interleave, dtype=float) * np.asarray(n_micro))


def recompute_flop_ratio(recompute: str, seq_len: FloatOrArray, d_model: FloatOrArray) -> np.ndarray:
    """Hardware FLOP / model FLOP from recomputation. Model FLOP per layer and token-batch is
    ``72bsh^2 (1 + s/(6h))``, three passes of ``24bsh^2 + 4bs^2h`` (Narayanan et al. 2021, Sec. 5.1, count
    ``96 B s l h^2 (1 + s/(6h) + V/(16 l h))`` with full recomputation's fourth pass); full recomputation
    repeats the forward: ``4/3``. Selective recomputes the attention core, ``4bs^2h``
    of forward per layer: ``1 + s / (3 (6h + s))`` (Korthikanti et al. 2022, Sec. 5), the count of
    ``flopcast.utilization``'s selective recompute (``4 L d T`` a token). Korthikanti et al.'s own eq. 8,
    behind their Table 5 HFU, writes ``s/(3h)`` for ``s/(6h)``, i.e. ``1 + s / (6h + s)``: pass that to
    :func:`layout_time` as ``hardware_flop_ratio`` to reproduce their HFU."""
    if recompute not in RECOMPUTE:
        raise _bad("recompute", recompute, f"one of {', '.join(RECOMPUTE)}")
    s = np.asarray(seq_len, dtype=float)
    h = np.asarray(d_model, dtype=float)
    if recompute == "full":
        return np.full(np.broadcast(s, h).shape, 4.0 / 3.0)
    if recompute == "selective":
        return 1.0 + s / (3.0 * (6.0 * h + s))
    return np.ones(np.broadcast(s, h).shape)


@dataclass(frozen=True)
class Interconnect:
    """Bandwidths per chip per direction (bytes/s): inside the scale-up domain (NVLink) and across it
    (InfiniBand/Ethernet, one NIC per chip), with the achieved share of peak and the exposed share of DP
    communication."""

    scale_up_bytes_per_s: float
    scale_out_bytes_per_s: float
    scale_up_domain: int = SCALE_UP_DOMAIN
    network_efficiency: float = NETWORK_EFFICIENCY
    dp_exposed_fraction: float = DP_COMM_EXPOSED_FRACTION
    tp_exposed_fraction: float = 1.0

    def __post_init__(self) -> None:
        check_positive("scale_up_bytes_per_s", self.scale_up_bytes_per_s)
        check_positive("scale_out_bytes_per_s", self.scale_out_bytes_per_s)
        _check_int("scale_up_domain", self.scale_up_domain)
        for name in ("network_efficiency", "dp_exposed_fraction", "tp_exposed_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0 or (name == "network_efficiency" and v == 0):
                raise _bad(name, v, "a fraction in [0, 1] (efficiency > 0)")


def ring_collective_s(
    bytes_per_rank: FloatOrArray, n: FloatOrArray, bandwidth: FloatOrArray, *, kind: str = "all-reduce"
) -> np.ndarray:
    """Bandwidth time of a ring collective over ``n`` ranks: an all-reduce sends ``2 (n-1)/n`` of the
    buffer per rank, a reduce-scatter or all-gather ``(n-1)/n`` (Thakur et al. 2005; NCCL's bus bandwidth,
    nccl-tests doc/PERFORMANCE.md). ``n = 1`` costs nothing."""
    factor = {"all-reduce": 2.0, "reduce-scatter": 1.0, "all-gather": 1.0}
    if kind not in factor:
        raise _bad("kind", kind, f"one of {', '.join(factor)}")
    n = np.asarray(n, dtype=float)
    return factor[kind] * (n - 1.0) / n * np.asarray(bytes_per_rank, dtype=float) / np.asarray(bandwidth)


def _step_comm_s(
    shape_terms: dict[str, np.ndarray | float],
    *,
    tp: np.ndarray,
    pp: np.ndarray,
    dp: np.ndarray,
    zero: np.ndarray,
    micro_batch: np.ndarray,
    n_micro: np.ndarray,
    sp: np.ndarray,
    full_recompute: np.ndarray,
    net: Interconnect,
    w: float,
    g: float,
) -> dict[str, np.ndarray]:
    """Exposed communication per step (seconds), per Megatron (arXiv 1909.08053 Sec. 3; 2104.04473 Sec. 3).

    - TP: 2 all-reduces of the ``2sbh``-byte activation in each layer's forward and 2 in its backward (3
      + 3 with full recompute's second forward); with SP an all-gather + reduce-scatter pair of equal volume.
      On the scale-up link, ``tp_exposed_fraction`` exposed (default all: it sits on the critical path).
    - PP: each stage boundary sends ``2sbh/t`` bytes forward and back per micro-batch (scatter-gather).
    - DP: gradients (``P g`` bytes per rank) all-reduced once per step, or reduce-scatter + all-gather under
      ZeRO-1/2 (the same volume); ZeRO-3 all-gathers the weights in every micro-batch's forward and backward
      and reduce-scatters gradients (``(d-1)/d (2 n_micro w + g) P``, 1.5x DDP at one micro-batch: ZeRO,
      arXiv 1910.02054, Sec. 7). Over scale-up when ``tp x dp`` fits the domain, else scale-out;
      ``dp_exposed_fraction`` exposed.
    """
    s = shape_terms["seq_len"]
    h = shape_terms["d_model"]
    lf = shape_terms["layers_first"]
    p_rank = shape_terms["params_rank"]
    eff = net.network_efficiency
    up = net.scale_up_bytes_per_s * eff
    out = net.scale_out_bytes_per_s * eff
    act = 2.0 * s * micro_batch * h
    n_coll = np.where(full_recompute, 6.0, 4.0)
    tp_s = lf * n_micro * n_coll * ring_collective_s(act, tp, up) * net.tp_exposed_fraction
    pp_bw = np.where(tp * pp <= net.scale_up_domain, up, out)
    pp_s = np.where(pp > 1, 2.0 * n_micro * act / tp / pp_bw, 0.0)
    dp_bw = np.where(tp * dp <= net.scale_up_domain, up, out)
    frac = (dp - 1.0) / dp
    vol = np.where(zero >= 3, (2.0 * n_micro * w + g) * p_rank, 2.0 * g * p_rank)
    dp_s = frac * vol / dp_bw * net.dp_exposed_fraction
    return {"tp": tp_s, "pp": pp_s, "dp": dp_s}


@dataclass(frozen=True)
class LayoutCandidate:
    """A layout that fits, its memory per rank and its overhead: (step time / ideal compute time) - 1,
    from recomputation, the pipeline bubble and exposed communication (when bandwidths are given)."""

    layout: Layout
    memory: RankMemory
    overhead: float


@dataclass(frozen=True)
class LayoutSearch:
    """The feasible layouts ranked (fewest chips, then least overhead), and the verdict on a requested one."""

    layouts: tuple[LayoutCandidate, ...]
    chip_memory_bytes: float
    chips: int | None
    requested: RankMemory | None = None
    refusal: str | None = None
    reason: str | None = None
    closest: LayoutCandidate | None = None
    evaluated: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def best(self) -> LayoutCandidate:
        """The first-ranked layout; InvalidInputError with the reason when none fits."""
        if not self.layouts:
            raise InvalidInputError(self.reason or "no layout fits")
        return self.layouts[0]

    @property
    def fewest_chips(self) -> int:
        return self.best.layout.chips


def _grid(*axes: Sequence[float]) -> list[np.ndarray]:
    mesh = np.meshgrid(*[np.asarray(a, dtype=float) for a in axes], indexing="ij")
    return [m.ravel() for m in mesh]


def _fewest_dp(one: dict[str, np.ndarray], zero: FloatOrArray, usable: FloatOrArray) -> np.ndarray:
    """Smallest ``dp`` that fits, from the ``dp = 1`` terms: memory is ``A + B / dp`` with ``B`` the
    ZeRO-sharded states, so ``dp = ceil(B / (C - A))``, ``inf`` when ``A >= C`` (no ``dp`` helps)."""
    z = np.asarray(zero)
    shard = one["weights"] * (z >= 3) + one["gradients"] * (z >= 2) + one["optimizer"] * (z >= 1)
    total = sum(one.values())
    room = np.asarray(usable, dtype=float) - (total - shard)
    with np.errstate(divide="ignore", invalid="ignore"):
        dp = np.where(room > 0, np.maximum(np.ceil(shard / room - 1e-9), 1.0), np.inf)
    return np.where(shard > 0, dp, np.where(room >= 0, 1.0, np.inf))


def search_layouts(
    shape: ModelShape,
    *,
    chip_memory_bytes: float,
    chips: int | None = None,
    global_batch_sequences: int | None = None,
    global_batch_tokens: float | None = None,
    scale_up_domain: int = SCALE_UP_DOMAIN,
    zero_stages: Iterable[int] = ZERO_STAGES,
    recompute: Iterable[str] = RECOMPUTE,
    micro_batches: Iterable[int] = (1, 2, 4, 8),
    precision: Precision | None = None,
    reserved_fraction: float = RESERVED_FRACTION,
    requested: Layout | None = None,
    peak_flop_per_s: float | None = None,
    kernel_efficiency: float = 0.5,
    interconnect: Interconnect | None = None,
    max_chips: int = 1 << 24,
    top: int = 20,
) -> LayoutSearch:
    """Feasible layouts on ``chips`` chips (or, ``chips=None``, on the fewest), ranked.

    The grid: ``tp`` in powers of 2 up to ``scale_up_domain`` dividing the query and KV heads (with SP),
    ``pp`` in :func:`pipeline_candidates`, each ZeRO stage, recompute option and micro-batch allowed. With
    a fixed cluster ``dp = chips / (tp pp)``; for the fewest chips each point takes its smallest ``dp``:
    per-rank memory is ``A + B / dp`` (``B`` the ZeRO-sharded states), so ``dp = ceil(B / (C - A))`` where
    ``C`` is the usable memory, infeasible when ``A >= C`` whatever ``dp``. The global batch fixes the
    micro-batches per step, ``n_micro = ceil(G / (dp b))`` (needing ``dp b <= G``); without one,
    ``n_micro = 8 p`` (bubble <= 1/8) is assumed. Overhead = ``r (1 + bubble) (1 + comm/compute) - 1``
    with ``r`` :func:`recompute_flop_ratio`; communication counts only when ``peak_flop_per_s`` and
    ``interconnect`` are given (compute at ``kernel_efficiency`` of peak). Vectorized over the grid.
    Not searched: expert parallelism (``ep = 1``), interleaved stages (``v = 1``); sequence parallelism is
    on whenever ``tp > 1``. ``requested`` is judged by :func:`rank_memory`: ``refusal`` says why it does not
    fit (or does not divide the model) and names the first-ranked layout that does."""
    check_positive("chip_memory_bytes", chip_memory_bytes)
    _check_int("scale_up_domain", scale_up_domain)
    if chips is not None:
        _check_int("chips", chips)
    zeros = sorted(set(zero_stages))
    for z in zeros:
        if z not in ZERO_STAGES:
            raise _bad("zero", z, "ZeRO stage 0, 1, 2 or 3")
    recompute = tuple(recompute)
    recs = [r for r in RECOMPUTE if r in set(recompute)]
    for r in set(recompute) - set(RECOMPUTE):
        raise _bad("recompute", r, f"one of {', '.join(RECOMPUTE)}")
    mbs = sorted(set(micro_batches))
    for b in mbs:
        _check_int("micro_batch", b)
    if not zeros or not recs or not mbs:
        raise InvalidInputError("zero_stages, recompute and micro_batches must each allow at least one value")
    if global_batch_tokens is not None and global_batch_sequences is None:
        check_positive("global_batch_tokens", global_batch_tokens)
        global_batch_sequences = max(1, round(global_batch_tokens / shape.seq_len))
    if global_batch_sequences is not None:
        _check_int("global_batch_sequences", global_batch_sequences)
    prec = precision or Precision()
    usable = chip_memory_bytes * (1.0 - reserved_fraction)
    tps = [
        t for t in _pow2_upto(min(scale_up_domain, shape.n_heads)) if shape.n_heads % t == 0 and shape.kv_heads % t == 0
    ]
    if chips is not None:
        tps = [t for t in tps if chips % t == 0]

    rows: list[tuple[np.ndarray, ...]] = []
    for t in tps:
        pps = pipeline_candidates(shape.n_layers, chips=chips, tp=t)
        if pps:
            tt, pp, zz, bb = _grid([t], pps, zeros, mbs)
            rows.append((tt, pp, zz, bb))
    notes: list[str] = []
    if not rows:
        return LayoutSearch(
            (), chip_memory_bytes, chips, reason=f"no tensor x pipeline split divides {chips} chips", notes=()
        )
    T, P, Z, B = (np.concatenate(c) for c in zip(*rows, strict=True))
    G = global_batch_sequences

    # per recompute option, broadcast over the grid (t, p, zero, b)
    cand: list[dict[str, np.ndarray]] = []
    for rec in recs:
        common: dict[str, Any] = dict(
            **shape.architecture_terms(),
            tp=T,
            pp=P,
            ep=1,
            sp=True,
            zero=Z,
            micro_batch=B,
            interleave=1,
            recompute=rec,
            w=prec.w,
            g=prec.g,
            o=prec.o,
        )
        # sp=True is exact at tp = 1 too (every division by t is by 1); n_micro = p, the peak in flight,
        # sizes dp conservatively, and the actual n_micro is checked below
        if chips is not None:
            D = chips / (T * P)
        else:
            one = _memory_terms(
                shape.params, shape.n_layers, shape.d_model, shape.n_heads, shape.seq_len, dp=1.0, n_micro=P, **common
            )
            D = _fewest_dp(one, Z, usable)
        D = np.asarray(D, dtype=float)
        ok = np.isfinite(D) & (T * P * np.where(np.isfinite(D), D, 1.0) <= max_chips)
        if G is not None:
            ok &= D * B <= G
            M = np.where(ok, np.ceil(G / np.where(ok, D * B, 1.0) - 1e-9), 1.0)
        else:
            M = 8.0 * P
        Dsafe = np.where(ok, D, 1.0)
        terms = _memory_terms(
            shape.params, shape.n_layers, shape.d_model, shape.n_heads, shape.seq_len, dp=Dsafe, n_micro=M, **common
        )
        total = np.sum(list(terms.values()), axis=0)
        fit = ok & (total <= usable * (1 + 1e-9))
        cand.append(
            {
                "tp": T,
                "pp": P,
                "zero": Z,
                "mb": B,
                "dp": Dsafe,
                "n_micro": M,
                "fit": fit,
                "ok": ok,
                "total": total,
                "rec": np.full(T.shape, RECOMPUTE.index(rec), dtype=float),
                **terms,
            }
        )
    allc = {k: np.concatenate([c[k] for c in cand]) for k in cand[0]}
    n_eval = int(allc["tp"].size)

    # overhead: recomputation, bubble, exposed communication
    seq = float(shape.seq_len)
    rec_ratio = np.choose(allc["rec"].astype(int), [recompute_flop_ratio(r, seq, shape.d_model) for r in RECOMPUTE])
    bub = bubble_fraction(allc["pp"], allc["n_micro"])
    comm_ratio = np.zeros_like(bub)
    if peak_flop_per_s is not None and interconnect is not None:
        check_positive("peak_flop_per_s", peak_flop_per_s)
        n_chips = allc["tp"] * allc["pp"] * allc["dp"]
        tokens_step = allc["dp"] * allc["mb"] * allc["n_micro"] * seq
        compute_s = (
            6.0 * shape.active_params * tokens_step * rec_ratio / (n_chips * peak_flop_per_s * kernel_efficiency)
        )
        lf = layers_on_first_stage(shape.n_layers, allc["pp"])
        emb = shape.vocab * shape.d_model
        p_rank = (lf * max(shape.params - 2.0 * emb, 0.0) / shape.n_layers + emb) / allc["tp"]
        comm = _step_comm_s(
            {"seq_len": seq, "d_model": float(shape.d_model), "layers_first": lf, "params_rank": p_rank},
            tp=allc["tp"],
            pp=allc["pp"],
            dp=allc["dp"],
            zero=allc["zero"],
            micro_batch=allc["mb"],
            n_micro=allc["n_micro"],
            sp=allc["tp"] > 1,
            full_recompute=allc["rec"] == 2,
            net=interconnect,
            w=prec.w,
            g=prec.g,
        )
        comm_ratio = (comm["tp"] + comm["pp"] + comm["dp"]) / (compute_s * (1.0 + bub))
    overhead = rec_ratio * (1.0 + bub) * (1.0 + comm_ratio) - 1.0
    n_chips = allc["tp"] * allc["pp"] * allc["dp"]

    def make(i: int) -> LayoutCandidate:
        lay = Layout(
            tp=int(allc["tp"][i]),
            pp=int(allc["pp"][i]),
            dp=int(allc["dp"][i]),
            zero=int(allc["zero"][i]),
            micro_batch=int(allc["mb"][i]),
            n_micro=int(allc["n_micro"][i]),
            recompute=RECOMPUTE[int(allc["rec"][i])],
        )
        mem = rank_memory(
            shape,
            lay,
            chip_memory_bytes=chip_memory_bytes,
            precision=prec,
            reserved_fraction=reserved_fraction,
            scale_up_domain=scale_up_domain,
        )
        return LayoutCandidate(lay, mem, float(overhead[i]))

    fit_idx = np.flatnonzero(allc["fit"])
    order = fit_idx[np.lexsort((allc["total"][fit_idx], overhead[fit_idx], n_chips[fit_idx]))][:top]
    layouts = tuple(make(int(i)) for i in order)

    req_mem = refusal = None
    if requested is not None:
        try:
            req_mem = rank_memory(
                shape,
                requested,
                chip_memory_bytes=chip_memory_bytes,
                precision=prec,
                reserved_fraction=reserved_fraction,
                scale_up_domain=scale_up_domain,
            )
            if not req_mem.fits:
                refusal = req_mem.reason
            elif chips is not None and requested.chips != chips:
                refusal = f"{requested.describe()} uses {requested.chips:,} chips, not the cluster's {chips:,}"
        except InvalidInputError as exc:
            refusal = str(exc)
        if refusal and layouts:
            refusal += f"; a layout that fits: {layouts[0].layout.describe()}"

    reason = closest = None
    if not layouts:
        valid = np.flatnonzero(allc["ok"]) if allc["ok"].any() else np.arange(n_eval)
        j = int(valid[np.argmin(allc["total"][valid])])
        closest = make(j)
        where = f"on {chips:,} chips" if chips is not None else f"on up to {max_chips:,} chips"
        reason = (
            f"no layout fits {shape.params / 1e9:.0f}B parameters at sequence {shape.seq_len:,} {where} of "
            f"{chip_memory_bytes / GB:.0f} GB (tensor parallelism inside {scale_up_domain} chips); the closest, "
            f"{closest.layout.describe()}, needs {closest.memory.total_bytes / GB:.1f} GB per rank"
        )
        if closest.memory.reason:
            reason += f" ({closest.memory.reason.split(': ', 1)[-1]})"
    if G is None:
        notes.append("no global batch given: 8 x pp micro-batches per step assumed")
    return LayoutSearch(
        layouts, float(chip_memory_bytes), chips, req_mem, refusal, reason, closest, n_eval, tuple(notes)
    )


# -- fewest chips, vectorized over Monte Carlo samples --------------------------------------------------


def min_chips(
    params: FloatOrArray,
    n_layers: FloatOrArray,
    d_model: FloatOrArray,
    seq_len: FloatOrArray,
    chip_memory_bytes: FloatOrArray,
    *,
    n_heads: FloatOrArray | None = None,
    kv_ratio: FloatOrArray = 1.0,
    ffn_ratio: FloatOrArray = 4.0,
    gated_ffn: bool = False,
    dropout: bool = True,
    vocab: FloatOrArray = 0,
    micro_batch: FloatOrArray = 1,
    scale_up_domain: int = SCALE_UP_DOMAIN,
    zero_stages: Iterable[int] = ZERO_STAGES,
    recompute: Iterable[str] = RECOMPUTE,
    precision: Precision | None = None,
    reserved_fraction: float = RESERVED_FRACTION,
    max_pp: int = 128,
) -> np.ndarray:
    """Fewest chips whose most-loaded rank fits, elementwise over broadcast arrays (``inf`` where no layout
    fits at any scale).

    The replacement of ``training.min_chips_for_memory``'s total / chip memory, which shards activations
    over every chip: here each data-parallel replica keeps its own activations (:func:`rank_memory`'s
    terms). Minimized over ``tp`` in powers of 2 up to ``scale_up_domain``, ``pp`` in powers of 2 up to
    ``min(L, max_pp)`` (uneven stages allowed), each allowed ZeRO stage and the most memory-saving allowed
    recompute, at ``micro_batch`` with ``p`` micro-batches in flight; ``dp = ceil(B / (C - A))`` as in
    :func:`search_layouts`. ``n_heads`` defaults to ``d_model / 128``; ``tp`` is not checked against the
    heads here. Chips are ``tp x pp x dp``."""
    check_positive("params", params)
    check_positive("n_layers", n_layers)
    check_positive("d_model", d_model)
    check_positive("seq_len", seq_len)
    check_positive("chip_memory_bytes", chip_memory_bytes)
    prec = precision or Precision()
    recs = [r for r in RECOMPUTE if r in set(recompute)]
    if not recs:
        raise _bad("recompute", tuple(recompute), f"allow at least one of {', '.join(RECOMPUTE)}")
    rec = recs[-1]  # full < selective < none in activation memory
    zeros = sorted(set(zero_stages))
    if not zeros or any(z not in ZERO_STAGES for z in zeros):
        raise _bad("zero_stages", tuple(zeros), "ZeRO stages among 0, 1, 2, 3")
    heads = n_heads if n_heads is not None else np.maximum(np.asarray(d_model, dtype=float) / 128.0, 1.0)
    usable = np.asarray(chip_memory_bytes, dtype=float) * (1.0 - reserved_fraction)
    L = np.asarray(n_layers, dtype=float)
    best = np.full(np.broadcast(params, L, d_model, seq_len, usable, micro_batch).shape, np.inf)
    # _memory_terms at tp = 1, dp = 1, written out so that what does not depend on pp is computed once.
    # With sequence parallelism every term of a rank is its tp = 1 value / t, so dp = ceil(B1 / (t C - A1)).
    # ZeRO-2 holds no more than ZeRO-0 or 1 at any dp (it shards a superset, with no extra buffer), so of
    # the allowed stages only the highest up to 2, and 3 (whose gather buffers can make it worse), are tried.
    h = np.asarray(d_model, dtype=float)
    emb = np.multiply(vocab, h)
    per_layer = np.maximum(np.asarray(params, dtype=float) - 2.0 * emb, 0.0) / L
    kw: dict[str, Any] = dict(kv_ratio=kv_ratio, ffn_ratio=ffn_ratio, gated=gated_ffn, dropout=dropout)
    act_layer = layer_activation_bytes(seq_len, micro_batch, h, heads, sp=True, recompute=rec, **kw)
    transient = (
        layer_activation_bytes(seq_len, micro_batch, h, heads, sp=True, recompute="selective", **kw)
        if rec == "full"
        else 0.0
    )
    sbh = np.asarray(seq_len, dtype=float) * micro_batch * h
    emb_mask = np.where(np.asarray(vocab) > 0, sbh, 0.0) if dropout else 0.0  # embedding dropout mask
    out_layer = 4.0 * sbh * (1.0 + np.asarray(vocab, dtype=float) / h)
    w, g, o = prec.w, prec.g, prec.o
    stages = [z for z in zeros if z <= 2][-1:] + [z for z in zeros if z == 3]
    tps = _pow2_upto(scale_up_domain)
    for p in _pow2_upto(max_pp):
        lf = layers_on_first_stage(L, p)
        dense = lf * per_layer + (2.0 if p == 1 else 1.0) * emb
        acts = act_layer * lf * p + transient + emb_mask * p + (out_layer if p == 1 else 0.0)
        fits_layers = p <= L
        all_layers = bool(np.all(fits_layers))
        for z in stages:
            k_shard = w * (z >= 3) + g * (z >= 2) + o * (z >= 1)
            shard = dense * k_shard
            fixed = dense * (w + g + o - k_shard) + acts
            if z >= 3:
                fixed = fixed + 2.0 * w * per_layer
            for t in tps:
                room = t * usable - fixed
                dp = np.full(room.shape, np.inf)
                np.divide(shard, room, out=dp, where=room > 0)  # no room: no dp fits
                dp -= 1e-9
                np.ceil(dp, out=dp)
                np.maximum(dp, 1.0, out=dp)
                dp *= t * p
                if not all_layers:
                    dp[~np.broadcast_to(fits_layers, dp.shape)] = np.inf
                np.minimum(best, dp, out=best)
    return best


def min_chips_sharded(
    memory_bytes: FloatOrArray, chip_memory_bytes: FloatOrArray, reserved_fraction: FloatOrArray = RESERVED_FRACTION
) -> np.ndarray:
    """Fewest chips when ``memory_bytes`` shards over every chip (ZeRO-3's training state; activations too
    under context parallelism), each keeping ``reserved_fraction`` for buffers and fragmentation:
    ``ceil(M / (C (1 - r)))``. The rule where the model's shape is unknown (no per-rank activations)."""
    return training.min_chips_for_memory(memory_bytes, chip_memory_bytes, 1.0 - np.asarray(reserved_fraction))


# -- time from a layout ---------------------------------------------------------------------------------


def goodput(
    chips: FloatOrArray,
    interruptions_per_chip_hour: FloatOrArray = INTERRUPTIONS_PER_CHIP_HOUR,
    time_lost_per_interruption_s: FloatOrArray = TIME_LOST_PER_INTERRUPTION_S,
) -> np.ndarray:
    """Share of wall time spent on useful training: ``1 - lambda c tau``.

    A synchronous job on ``c`` chips is interrupted ``lambda c`` times a wall-clock hour and loses ``tau``
    (restart plus the work since the last checkpoint) each time. Llama 3 405B (arXiv 2407.21783, Sec.
    3.3.4): 466 interruptions in 54 days on 16,384 H100s, ">90%" effective training time; the defaults
    reproduce 0.90 at that scale. Zero when interruptions outpace progress."""
    check_positive("chips", chips)
    check_positive("interruptions_per_chip_hour", interruptions_per_chip_hour, allow_zero=True)
    check_positive("time_lost_per_interruption_s", time_lost_per_interruption_s, allow_zero=True)
    lost = (
        np.asarray(interruptions_per_chip_hour, dtype=float)
        * np.asarray(chips, dtype=float)
        * np.asarray(time_lost_per_interruption_s, dtype=float)
        / SECONDS_PER_HOUR
    )
    return np.maximum(1.0 - lost, 0.0)


@dataclass(frozen=True)
class LayoutTime:
    """Time of a run on a layout (seconds) and its utilizations.

    ``train_s = compute_s + bubble_s + exposed_comm_s`` is the time of the training steps; ``total_s`` adds
    ``failure_loss_s``. MFU = model FLOP / (chips x peak x train_s), as papers report it over steps; HFU =
    MFU x hardware/model FLOP; effective = model FLOP / (chips x peak x total_s) = MFU x goodput."""

    compute_s: float
    bubble_s: float
    exposed_comm_s: float
    failure_loss_s: float
    chips: int
    steps: float
    mfu: float
    hfu: float
    goodput: float
    comm_s: dict[str, float]
    mode: str

    @property
    def train_s(self) -> float:
        return self.compute_s + self.bubble_s + self.exposed_comm_s

    @property
    def total_s(self) -> float:
        return self.train_s + self.failure_loss_s

    @property
    def effective_utilization(self) -> float:
        return self.mfu * self.goodput

    @property
    def chip_hours(self) -> float:
        return self.chips * self.total_s / SECONDS_PER_HOUR

    @property
    def bubble_share(self) -> float:
        return self.bubble_s / self.train_s

    @property
    def comm_share(self) -> float:
        return self.exposed_comm_s / self.train_s


def layout_time(
    shape: ModelShape,
    layout: Layout,
    *,
    model_flop: float,
    tokens: float,
    peak_flop_per_s: float,
    mfu: float | None = None,
    kernel_efficiency: float | None = None,
    hardware_flop_ratio: float = 1.0,
    interconnect: Interconnect | None = None,
    precision: Precision | None = None,
    interruptions_per_chip_hour: float = INTERRUPTIONS_PER_CHIP_HOUR,
    time_lost_per_interruption_s: float = TIME_LOST_PER_INTERRUPTION_S,
) -> LayoutTime:
    """Wall time of ``model_flop`` (over ``tokens`` tokens) on ``layout``, two ways.

    - ``mfu`` given (a step MFU as papers report it): ``train_s = F / (c x peak x MFU)``; the bubble and
      the exposed communication are inside it: ``train_s = C (1 + beta) + X``, with ``beta`` the
      :func:`bubble_fraction` and ``X`` the exposed communication (capped at ``train_s``), reported as
      shares.
    - ``kernel_efficiency`` given (bottom-up): compute ``C = F x hardware_flop_ratio / (c x peak x eff)``,
      bubble ``beta C`` (Narayanan et al. 2021), exposed communication per step (:func:`_step_comm_s`) x
      steps, steps = tokens / (dp x micro_batch x n_micro x s).

    Failures: ``failure_loss_s = train_s x q / (1 - q)``, ``q = 1 -`` :func:`goodput`. Without
    ``interconnect`` no communication is counted."""
    if (mfu is None) == (kernel_efficiency is None):
        raise InvalidInputError("give exactly one of mfu (top-down, as papers report) or kernel_efficiency (bottom-up)")
    check_positive("model_flop", model_flop)
    check_positive("tokens", tokens)
    check_positive("peak_flop_per_s", peak_flop_per_s)
    check_positive("hardware_flop_ratio", hardware_flop_ratio)
    util = mfu if mfu is not None else kernel_efficiency
    if util is None or not 0.0 < util <= 1.0:
        raise _bad("mfu" if mfu is not None else "kernel_efficiency", util, "a fraction of peak in (0, 1]")
    prec = precision or Precision()
    c = layout.chips
    tokens_step = layout.dp * layout.micro_batch * layout.n_micro * shape.seq_len
    steps = tokens / tokens_step
    beta = float(bubble_fraction(layout.pp, layout.n_micro, layout.interleave))
    comm = {"tp": 0.0, "pp": 0.0, "dp": 0.0}
    if interconnect is not None:
        lf = layers_on_first_stage(shape.n_layers, layout.pp)
        emb = shape.vocab * shape.d_model
        p_rank = (lf * max(shape.params - 2.0 * emb, 0.0) / shape.n_layers + emb) / layout.tp
        per_step = _step_comm_s(
            {
                "seq_len": float(shape.seq_len),
                "d_model": float(shape.d_model),
                "layers_first": lf,
                "params_rank": p_rank,
            },
            tp=np.asarray(float(layout.tp)),
            pp=np.asarray(float(layout.pp)),
            dp=np.asarray(float(layout.dp)),
            zero=np.asarray(layout.zero),
            micro_batch=np.asarray(float(layout.micro_batch)),
            n_micro=np.asarray(float(layout.n_micro)),
            sp=np.asarray(bool(layout.sp)),
            full_recompute=np.asarray(layout.recompute == "full"),
            net=interconnect,
            w=prec.w,
            g=prec.g,
        )
        comm = {k: float(v) * steps for k, v in per_step.items()}
    exposed = sum(comm.values())
    if mfu is not None:
        train = model_flop / (c * peak_flop_per_s * mfu)
        exposed = min(exposed, train)
        compute = (train - exposed) / (1.0 + beta)
        mode = "mfu"
    else:
        assert kernel_efficiency is not None
        compute = model_flop * hardware_flop_ratio / (c * peak_flop_per_s * kernel_efficiency)
        train = compute * (1.0 + beta) + exposed
        mode = "bottom-up"
    bubble = beta * compute
    gp = float(goodput(c, interruptions_per_chip_hour, time_lost_per_interruption_s))
    if gp <= 0:
        raise InvalidInputError(
            f"interruptions_per_chip_hour={interruptions_per_chip_hour:g} x {c:,} chips x "
            f"{time_lost_per_interruption_s:g} s lost each leaves no time to train; checkpoint more often"
        )
    run_mfu = model_flop / (c * peak_flop_per_s * train)
    return LayoutTime(
        compute_s=compute,
        bubble_s=bubble,
        exposed_comm_s=exposed,
        failure_loss_s=train * (1.0 - gp) / gp,
        chips=c,
        steps=steps,
        mfu=run_mfu,
        hfu=run_mfu * hardware_flop_ratio,
        goodput=gp,
        comm_s=comm,
        mode=mode,
    )
