"""The serving planner: the cheapest configuration that carries a load within latency targets.

Layer: orchestration. :func:`plan` evaluates :func:`flopcast.serving.config.evaluate` at the
central efficiencies over every candidate chip, chips per instance, tensor and expert
parallelism, precision and batch (the batch as an array, one call per layout), sizes the fleet
for the load, drops what does not fit or misses a target, and returns the cheapest by the
fleet's dollars a day, with the frontier of throughput against latency.
:func:`~flopcast.serving.chain.estimate_deployment` then puts the chosen configuration through
the Monte Carlo for its interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from flopcast.catalogs import Hardware
from flopcast.catalogs import constants as K
from flopcast.errors import InvalidInputError
from flopcast.formatting import format_duration
from flopcast.serving.config import (
    EFFICIENCIES,
    Config,
    Served,
    Workload,
    check_config,
    evaluate,
    fits,
    fleet,
    memory_bytes,
)
from flopcast.units import BYTES_PER_VALUE

#: batch sizes the planner tries
BATCHES = tuple(2**i for i in range(11))  # 1 .. 1024
#: precisions of the weights it tries, where the chip computes in them
PRECISIONS = ("bf16", "int8", "fp8", "fp4")
#: chips per instance it tries (powers of two; more inside a larger scale-up domain)
CHIPS = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class Targets:
    """Latency targets in seconds (None: no target)."""

    ttft_s: float | None = None
    tpot_s: float | None = None

    def describe(self) -> str:
        parts = []
        if self.ttft_s is not None:
            parts.append(f"time to first token <= {format_duration(self.ttft_s)}")
        if self.tpot_s is not None:
            parts.append(f"time per output token <= {format_duration(self.tpot_s)}")
        return " and ".join(parts) or "no latency target"


@dataclass
class PlanResult:
    """The chosen configuration, what it costs at central values, and the search around it."""

    config: Config
    row: dict[str, Any]
    targets: Targets
    #: the latency targets that changed the answer (none when the cheapest configuration meets them anyway)
    binding: list[str]
    unconstrained: dict[str, Any] | None
    frontier: list[dict[str, Any]]
    searched: int
    feasible: int


def central_efficiencies() -> dict[str, float]:
    """The medians of the efficiency constants the planner compares configurations at."""
    return {k: float(K.constant(c).distribution().median) for k, c in EFFICIENCIES.items()}


def chip_counts(hw: Hardware, fixed: int | None) -> tuple[int, ...]:
    """The chips per instance to try on ``hw``: ``fixed``, else powers of two up to 16 and to the
    chip's scale-up domain (72 for an NVL72 rack)."""
    if fixed is not None:
        return (fixed,)
    domain = int(K.constant("scale_up_chips", hw.family).value)
    more = tuple(2**i for i in range(5, 7) if 2**i <= domain) + ((domain,) if domain > 16 else ())
    return CHIPS + more


def layouts(m: Served, chips: int, tp: int | None, ep: int | None) -> list[tuple[int, int]]:
    """(tp, ep) pairs for an instance of ``chips``: a dense model is one tensor-parallel group; a mixture
    of experts spreads its experts over every chip, with attention tensor-parallel or data-parallel."""
    if not m.moe:
        return [(tp if tp is not None else chips, ep if ep is not None else 1)]
    tps = (tp,) if tp is not None else tuple(sorted({chips, 1}))
    return [(t, ep if ep is not None else chips) for t in tps]


def kv_precision_for(hw: Hardware, precision: str, given: str | None) -> str:
    """The KV cache's precision: given, else 8 bits with 8-bit or 4-bit weights (fp8 on a chip with fp8,
    int8 on one without, as TensorRT-LLM's FP8 and INT8 KV caches), else bf16."""
    if given is not None:
        return given
    if precision not in ("fp8", "fp4", "int8", "int4"):
        return "bf16"
    return "fp8" if "fp8" in hw.peak_flop_per_s_by_precision else "int8"


def precisions_for(hw: Hardware, fixed: str | None) -> tuple[str, ...]:
    if fixed is not None:
        return (fixed,)
    have = hw.peak_flop_per_s_by_precision
    # int8 weights and activations (SmoothQuant) where the chip has no fp8: the 8-bit choice of an A100
    return tuple(p for p in PRECISIONS if p == "bf16" or (p in have and (p != "int8" or "fp8" not in have)))


@dataclass(frozen=True)
class Choices:
    """What the caller fixed (None: the planner searches it) and the layout options of 2022's stacks."""

    chips: int | None = None
    tp: int | None = None
    ep: int | None = None
    precision: str | None = None
    kv_precision: str | None = None
    batch: int | None = None
    #: prompts on prefill instances of their own (True), between decode steps (False), or the cheaper (None)
    disaggregated: bool | None = None
    weight_kernel: str = "fused"
    parallelism: str = "tensor"
    overlap: str = "none"

    @property
    def strict(self) -> bool:
        """Whether a layout that cannot exist is the caller's error rather than a candidate to skip."""
        return any(v is not None for v in (self.chips, self.tp, self.ep, self.precision, self.kv_precision))


def search(
    m: Served,
    work: Workload,
    *,
    hardware: Sequence[Hardware],
    price: Callable[[Hardware], float | None],
    output_tokens_per_day: float,
    load_factor: float = 1.0,
    choices: Choices = Choices(),
    precisions: Sequence[str] | None = None,
    batches: Sequence[int] = BATCHES,
    eff: Mapping[str, float] | None = None,
) -> tuple[list[dict[str, Any]], int, tuple[float, str]]:
    """Every candidate configuration that fits, evaluated at central efficiencies and sized for the
    load: the rows, how many configurations were tried, and the largest instance tried (bytes, name).
    ``precisions`` overrides the precisions tried; ``choices.batch``, when fixed, the batches."""
    c = choices
    eff = dict(eff or central_efficiencies())
    rows: list[dict[str, Any]] = []
    biggest: tuple[float, str] = (0.0, "")
    searched = 0
    sizes = np.asarray((c.batch,) if c.batch is not None else batches, dtype=float)
    prompts = float(np.mean(work.prompt_tokens)) > 0 and c.parallelism == "tensor"
    splits = (c.disaggregated,) if c.disaggregated is not None else ((False, True) if prompts else (False,))
    for hw in hardware:
        usd = price(hw)
        for n in chip_counts(hw, c.chips):
            biggest = max(biggest, (n * float(hw.memory_bytes or 0.0), f"{n} x {hw.name}"))
            for t, e in layouts(m, n, c.tp, c.ep):
                for prec in precisions or precisions_for(hw, c.precision):
                    cfg = Config(
                        hw, n, t, e, prec, kv_precision_for(hw, prec, c.kv_precision), int(sizes[0]),
                        c.weight_kernel, c.parallelism, c.overlap,
                    )  # fmt: skip
                    if c.strict:
                        check_config(m, cfg)
                    elif _impossible(m, cfg):
                        continue
                    ok = np.asarray(fits(m, cfg, work, sizes))
                    for split in splits:
                        searched += len(sizes)
                        if not ok.any():
                            continue
                        mine = replace(cfg, disaggregated=split)
                        out = _arrays(evaluate(m, mine, work, eff, sizes[ok]))
                        for i, b in enumerate(sizes[ok]):
                            one = {k: float(v[min(i, v.size - 1)]) for k, v in out}
                            rows.append(_row(mine, int(b), one, usd, output_tokens_per_day, load_factor, work))
    return rows, searched, biggest


def plan(
    m: Served,
    work: Workload,
    *,
    hardware: Sequence[Hardware],
    price: Callable[[Hardware], float],
    output_tokens_per_day: float,
    load_factor: float = 1.0,
    targets: Targets = Targets(),
    choices: Choices = Choices(),
    batches: Sequence[int] = BATCHES,
    eff: Mapping[str, float] | None = None,
) -> PlanResult:
    """The cheapest configuration (by the fleet's dollars a day at central values) that fits in memory
    and meets ``targets``, over what ``choices`` leaves free; fixed choices are checked, not searched."""
    rows, searched, biggest = search(
        m,
        work,
        hardware=hardware,
        price=price,
        output_tokens_per_day=output_tokens_per_day,
        load_factor=load_factor,
        choices=choices,
        batches=batches,
        eff=eff,
    )
    if not rows:
        raise InvalidInputError(_no_fit_message(m, work, hardware, biggest, choices))
    meets = [r for r in rows if _meets(r, targets)]
    if not meets:
        raise InvalidInputError(_no_target_message(rows, targets))
    best = min(meets, key=_cost_key)
    cheapest = min(rows, key=_cost_key)
    return PlanResult(
        config=best["config"],
        row=best,
        targets=targets,
        binding=_binding(cheapest, targets) if cheapest is not best else [],
        unconstrained=None if cheapest is best else cheapest,
        frontier=frontier(rows),
        searched=searched,
        feasible=len(rows),
    )


def _impossible(m: Served, cfg: Config) -> bool:
    try:
        check_config(m, cfg)
    except InvalidInputError:
        return True
    return False


def _arrays(out: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
    return [(k, np.atleast_1d(np.asarray(v, dtype=float))) for k, v in out.items()]


def _row(
    cfg: Config,
    batch: int,
    out: dict[str, float],
    usd_per_chip_hour: float | None,
    output_tokens_per_day: float,
    load_factor: float,
    work: Workload,
) -> dict[str, Any]:
    instances, prefill = (float(x) for x in fleet(cfg, out, work, output_tokens_per_day, load_factor))
    usd = float("nan") if usd_per_chip_hour is None else usd_per_chip_hour
    usd_day = instances * cfg.chips * 24.0 * usd
    total_tokens = output_tokens_per_day * (1.0 + float(np.mean(work.prompt_tokens)) / work.output_tokens)
    # at capacity: one decode instance, and the share of a prefill instance its requests need
    per_decode = out["output_tokens_per_s"]
    capacity_chips = cfg.chips * (
        1.0 + (out["requests_per_s"] / out["prefill_requests_per_s"] if cfg.disaggregated and prefill else 0.0)
    )
    return {
        "config": replace(cfg, batch=batch),
        "disaggregated": cfg.disaggregated,
        "prefill_instances": prefill,
        "hardware": cfg.hw.name,
        "chips": cfg.chips,
        "tp": cfg.tp,
        "ep": cfg.ep,
        "precision": cfg.precision,
        "kv_precision": cfg.kv_precision,
        "batch": batch,
        **out,
        "output_tokens_per_s_per_chip": out["output_tokens_per_s"] / capacity_chips,
        "usd_per_chip_hour": usd,
        "instances": float(instances),
        "usd_per_day": float(usd_day),
        "usd_per_million_tokens": float(usd_day / total_tokens * 1e6),
        "usd_per_million_tokens_at_capacity": float(
            capacity_chips * usd / 3600.0 / (per_decode * (total_tokens / output_tokens_per_day)) * 1e6
        ),
    }  # fmt: skip


def _cost_key(r: Mapping[str, Any]) -> tuple[float, bool, float, float]:
    """Fewest dollars a day; on a tie, prompts read on the same instances (the simpler fleet), then the
    lower cost at capacity, then the faster."""
    return (r["usd_per_day"], r["disaggregated"], r["usd_per_million_tokens_at_capacity"], r["time_per_output_token_s"])


def _meets(r: Mapping[str, Any], t: Targets) -> bool:
    return (t.ttft_s is None or r["time_to_first_token_s"] <= t.ttft_s) and (
        t.tpot_s is None or r["time_per_output_token_s"] <= t.tpot_s
    )


def _binding(cheapest: Mapping[str, Any], t: Targets) -> list[str]:
    out = []
    if t.ttft_s is not None and cheapest["time_to_first_token_s"] > t.ttft_s:
        out.append(f"time to first token <= {format_duration(t.ttft_s)}")
    if t.tpot_s is not None and cheapest["time_per_output_token_s"] > t.tpot_s:
        out.append(f"time per output token <= {format_duration(t.tpot_s)}")
    return out


def frontier(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each chip, the configurations no other on that chip beats on both latency (time per output
    token) and cost at capacity ($ per million tokens with the instance full), fastest first."""
    out: list[dict[str, Any]] = []
    for hw in dict.fromkeys(r["hardware"] for r in rows):
        mine = [r for r in rows if r["hardware"] == hw]
        best = float("inf")
        for r in sorted(mine, key=lambda r: (r["time_per_output_token_s"], r["usd_per_million_tokens_at_capacity"])):
            if r["usd_per_million_tokens_at_capacity"] < best:
                best = r["usd_per_million_tokens_at_capacity"]
                out.append({k: v for k, v in r.items() if k != "config"})
    return out


def _no_fit_message(
    m: Served, work: Workload, hardware: Sequence[Hardware], biggest: tuple[float, str], choices: Choices
) -> str:
    """What a model that fits nowhere needs: the memory at the smallest precision tried, and the chips."""
    batch, precision, kv_precision, chips = choices.batch, choices.precision, choices.kv_precision, choices.chips
    usable = K.constant("serving_memory_usable").value
    hw = hardware[0]
    prec = precision or min(precisions_for(hw, None), key=lambda p: BYTES_PER_VALUE[p])
    probe = Config(hw, 1, 1, 1, prec, kv_precision_for(hw, prec, kv_precision), batch or 1)
    need = float(np.ravel(memory_bytes(m, probe, work, batch or 1))[0])
    ctx = float(np.mean(work.decode_context))
    what = f"batch {batch} x {ctx:,.0f} tokens" if batch is not None else f"one sequence of {ctx:,.0f} tokens"
    if chips is not None:
        least = int(np.ceil(need / (float(hw.memory_bytes or 1.0) * usable) - 1e-9))
        return (
            f"chips={chips} cannot hold {m.name} at {prec} with {what}: it needs {need / 1e9:,.0f} GB, at least "
            f"{least} {hw.name} ({(hw.memory_bytes or 0) / 1e9:.0f} GB, {usable:.0%} usable each); give more chips, "
            "a smaller batch, shorter requests or a lower precision"
        )
    return (
        f"{m.name} fits on no candidate: at {prec} with {what} it needs {need / 1e9:,.0f} GB, and the largest "
        f"instance tried, {biggest[1]}, has {biggest[0] * usable / 1e9:,.0f} GB usable ({usable:.0%}); give more "
        "--chips, a lower --precision, a smaller --batch or shorter requests"
    )


def _no_target_message(rows: Sequence[Mapping[str, Any]], t: Targets) -> str:
    """Which target no configuration meets, and the best reachable; or that none meets both at once."""
    parts = []
    for key, limit, what in (
        ("time_to_first_token_s", t.ttft_s, "time to first token"),
        ("time_per_output_token_s", t.tpot_s, "time per output token"),
    ):
        if limit is None:
            continue
        r = min(rows, key=lambda r: (r[key], r["disaggregated"]))
        if r[key] > limit:
            parts.append(f"the shortest {what} reachable is {format_duration(r[key])} ({r['config'].describe()})")
    if not parts:
        return f"no configuration meets {t.describe()} at once; relax one of them"
    return f"no configuration meets {t.describe()}: " + "; ".join(parts)
