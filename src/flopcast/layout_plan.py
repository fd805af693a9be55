"""The training planner behind ``flopcast plan``: a run's layout, memory per rank, time and cost on one chip.

Given a model (its shape), its training tokens or compute, a chip and a cluster size or a deadline, the planner
searches the layouts that fit (:func:`flopcast.parallelism.search_layouts`), takes the best one, and estimates
the run on it with the pipeline (:func:`flopcast.pipeline.estimate_run`, the estimate ``flopcast estimate``
gives for that chip and chip count): compute, chip-hours at the utilization (the user's, else the MFU prior
conditioned on the chip, the chip count and the precision) and dollars by each method. On top it adds what a
layout decides: the pipeline bubble and the exposed communication inside a step (shares of the step, which a
reported MFU already includes), the time lost to failures and restarts (goodput), and the HFU of the recompute
the layout uses. It names the constraint that binds: the memory, the cluster, the deadline or the global batch.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast import parallelism as L
from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.defaults import PLAN_MEMORY_KEYS
from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.units import SECONDS_PER_HOUR

if TYPE_CHECKING:
    from flopcast.catalogs import Hardware
    from flopcast.datasets.database import Database
    from flopcast.datasets.records import ModelRecord
    from flopcast.pipeline import Settings, TrainingEstimate
    from flopcast.quantities import Quantity
    from flopcast.uncertainty import Summary

#: the chip a plan uses when none is given
DEFAULT_PLAN_HARDWARE = "h100"
#: how many alternative layouts a plan lists
ALTERNATIVES = 5
#: the goodput draws take the plan's seed plus this (independent of the pipeline's draws)
GOODPUT_SEED_OFFSET = 1_000_003
#: a step whose bubble and exposed communication leave the kernels less than this share of it is flagged
BUSY_SHARE_WARNING = 0.6


@dataclass(frozen=True)
class LayoutRequest:
    """The parts of a layout the user fixes (None: searched)."""

    tp: int | None = None
    pp: int | None = None
    dp: int | None = None
    zero: int | None = None
    micro_batch: int | None = None
    recompute: str | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class TrainingPlan:
    """A run planned on one chip: the layout, its memory per rank, the time and the cost (SI units)."""

    model: str
    shape: L.ModelShape
    hardware: str
    precision: str
    layout: L.Layout
    memory: L.RankMemory
    #: the layout's time at the central MFU (bubble, exposed communication, failures, utilizations)
    time: L.LayoutTime
    #: the pipeline's estimate of the run on ``layout.chips`` chips (compute, chip-hours, dollars)
    estimate: TrainingEstimate
    #: wall-clock time including the time lost to failures and restarts, s
    duration_s: Summary
    #: chips x wall-clock time: the chip-hours the cluster is held for
    chip_hours: Summary
    #: step MFU (the user's, else the prior's), HFU (with the layout's recompute) and effective (x goodput)
    mfu: Summary
    hfu: Summary
    effective_utilization: Summary
    mfu_source: str
    #: share of wall time spent training
    goodput: Summary
    #: cost by method including the time lost to failures (a purchase does not grow with time)
    cost_usd: dict[str, Summary]
    binding: str
    binding_detail: str
    #: the fewest chips that hold the run in any layout (the estimate's ``min_chips`` for a database model)
    fewest_chips: int
    tokens: float
    global_batch_tokens: float
    #: the MFU the layout's bubble and exposed communication allow with the kernels at peak
    mfu_ceiling: float
    alternatives: list[L.LayoutCandidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        from flopcast.formatting import format_value

        return (
            f"{self.model} on {self.layout.chips:,} {self.hardware}: {self.layout.describe()}; "
            f"{format_value(self.memory.total_bytes, 'bytes')} of {format_value(self.memory.capacity_bytes, 'bytes')} "
            f"per rank; {format_value(self.duration_s.median, 's')}; bound by {self.binding}"
        )

    def to_dict(self) -> dict[str, Any]:
        t, lay, sh = self.time, self.layout, self.shape
        return {
            "model": self.model,
            "hardware": self.hardware,
            "precision": self.precision,
            "shape": {
                "params": sh.params,
                "n_layers": sh.n_layers,
                "d_model": sh.d_model,
                "n_heads": sh.n_heads,
                "n_kv_heads": sh.kv_heads,
                "ffn_hidden": sh.ffn,
                "gated_ffn": sh.gated_ffn,
                "vocab": sh.vocab,
                "seq_len": sh.seq_len,
            },
            "tokens": self.tokens,
            "global_batch_tokens": self.global_batch_tokens,
            "layout": _layout_dict(lay),
            "memory_per_rank_bytes": {
                **dict(zip(MEMORY_KEYS, self.memory.terms().values(), strict=True)),
                "total": self.memory.total_bytes,
                "capacity": self.memory.capacity_bytes,
                "fits": self.memory.fits,
            },
            "fewest_chips": self.fewest_chips,
            "binding": self.binding,
            "binding_detail": self.binding_detail,
            "step": {
                "bubble_share": t.bubble_share,
                "exposed_comm_share": t.comm_share,
                "exposed_comm_s": dict(t.comm_s),
                "steps": t.steps,
                "mfu_ceiling": self.mfu_ceiling,
            },
            "goodput": self.goodput.to_dict(),
            "mfu": self.mfu.to_dict(),
            "mfu_source": self.mfu_source,
            "hfu": self.hfu.to_dict(),
            "effective_utilization": self.effective_utilization.to_dict(),
            "training_compute_flop": self.estimate.training_compute_flop.to_dict(),
            "duration_s": self.duration_s.to_dict(),
            "chip_hours": self.chip_hours.to_dict(),
            "cost_usd": {m: s.to_dict() for m, s in self.cost_usd.items()},
            "dollars": self.estimate.dollars,
            "alternatives": [
                {**_layout_dict(c.layout), "memory_per_rank_bytes": c.memory.total_bytes, "overhead": c.overhead}
                for c in self.alternatives
            ],
            "notes": list(self.notes),
            "samples": self.estimate.samples,
            "seed": self.estimate.seed,
        }


#: the JSON names of :meth:`flopcast.parallelism.RankMemory.terms`, in its order (one home: flopcast.defaults)
MEMORY_KEYS = PLAN_MEMORY_KEYS


def _layout_dict(lay: L.Layout) -> dict[str, Any]:
    return {
        "tp": lay.tp,
        "pp": lay.pp,
        "dp": lay.dp,
        "sp": bool(lay.sp),
        "zero": lay.zero,
        "micro_batch": lay.micro_batch,
        "n_micro": lay.n_micro,
        "recompute": lay.recompute,
        "chips": lay.chips,
        "describe": lay.describe(),
    }


# -- the model's shape ------------------------------------------------------------------------------------------


def model_shape(record: ModelRecord | None, given: dict[str, Any], notes: list[str]) -> L.ModelShape:
    """The shape: the user's values over the record's (the curated catalog's), else a standard one, each
    assumption in ``notes``. ``given`` holds params, n_layers, d_model, n_heads, n_kv_heads, ffn_hidden,
    ffn_activation, vocab and seq_len (None: the record's)."""
    from flopcast.catalogs.models import FFN_ACTIVATIONS, GATED_FFN
    from flopcast.deployment import model_shape as standard_shape

    def pick(name: str, rec_attr: str | None = None) -> Any:
        v = given.get(name)
        if v is None and record is not None:
            v = getattr(record, rec_attr or name, None)
        return v

    params = pick("params", "parameters")
    if params is None:
        who = f"{record.name} has no parameter count in the database" if record is not None else "no model given"
        raise MissingInputError(f"a plan needs the model's parameters: {who}; give --params")
    layers, width = pick("n_layers"), pick("d_model")
    if layers is None or width is None:
        layers, width, note = standard_shape(float(params), layers, width)
        width = max(128.0, round(width / 128.0) * 128.0)  # a width heads of 128 divide
        layers = max(1.0, round(float(params) / (12.0 * width**2)))
        notes.append(f"{note} (rounded: {layers:g} layers of width {width:g})")
    heads = pick("n_heads")
    if heads is None:
        head_dim = next((d for d in (128, 64, 96, 80, 256, 32, 16) if round(float(width)) % d == 0), float(width))
        heads = float(width) / head_dim
        notes.append(f"heads not given: {heads:g} heads of width {head_dim:g} assumed")
    activation = pick("ffn_activation")
    if activation is not None and activation not in FFN_ACTIVATIONS:
        raise InvalidInputError(f"ffn_activation={activation!r} is not one of {', '.join(FFN_ACTIVATIONS)}")
    vocab = pick("vocab")
    if vocab is None:
        notes.append("vocabulary not given: the embedding and output layer's activations are left out")
    seq = pick("seq_len", "context_length")
    if seq is None:
        who = f"{record.name} has none in the database" if record is not None else "no model given"
        raise MissingInputError(f"a plan needs the sequence length: {who}; give --seq-len")
    experts: dict[str, Any] = {}
    if record is not None and record.params_active and record.parameters and given.get("params") is None:
        from flopcast.catalogs import bundled_models

        spec = bundled_models().find(record.key)
        if spec is not None and spec.n_experts and spec.experts_per_token:
            k_over_e = spec.experts_per_token / spec.n_experts
            share = (1.0 - record.params_active / record.parameters) / (1.0 - k_over_e)
            experts = dict(
                n_experts=int(spec.n_experts),
                experts_per_token=int(spec.experts_per_token),
                expert_params_share=min(max(share, 0.0), 0.999),
            )
    gated = activation in GATED_FFN
    kv, ffn = pick("n_kv_heads"), pick("ffn_hidden")
    return L.ModelShape(
        params=float(params),
        n_layers=round(float(layers)),
        d_model=round(float(width)),
        n_heads=round(float(heads)),
        seq_len=round(float(seq)),
        vocab=round(float(vocab or 0)),
        n_kv_heads=round(float(kv)) if kv is not None else None,
        ffn_hidden=round(float(ffn)) if ffn is not None else None,
        gated_ffn=gated,
        dropout=not gated,
        **experts,
    )


# -- the chip's links and failures ------------------------------------------------------------------------------------


def interconnect(hw: Hardware) -> L.Interconnect:
    """The chip's links per direction (the catalogs give both directions): the scale-up link inside its domain
    (``scale_up_chips``), the scale-out network (``scale_out_bandwidth_bytes_per_s``) beyond it, with the
    catalog's network efficiency and exposed share of data-parallel communication (central values)."""
    out = float(K.constant("scale_out_bandwidth_bytes_per_s").value) / 2.0
    up = float(hw.interconnect_bandwidth_bytes_per_s or 0.0) / 2.0 or out
    return L.Interconnect(
        scale_up_bytes_per_s=up,
        scale_out_bytes_per_s=out,
        scale_up_domain=int(K.constant("scale_up_chips", hw.family).value),
        network_efficiency=float(K.constant("training_network_efficiency").value),
        dp_exposed_fraction=float(K.constant("training_dp_comm_exposed_fraction").value),
    )


def _failures() -> tuple[K.Constant, K.Constant]:
    """The catalog's interruptions per chip-hour and wall time lost per interruption (Llama 3's, with intervals)."""
    return K.constant("training_interruptions_per_chip_hour"), K.constant("training_time_lost_per_interruption_s")


def goodput(chips: int) -> float:
    """Goodput on ``chips`` chips (:func:`flopcast.parallelism.goodput`) at the catalog's central failure rates."""
    rate, lost = _failures()
    return float(L.goodput(chips, rate.value, lost.value))


def goodput_draws(chips: int, n: int, seed: int | None) -> np.ndarray:
    """``n`` draws of the goodput on ``chips`` chips: the interruption rate and the time lost per interruption
    drawn as the catalog's independent lognormals."""
    from flopcast.uncertainty import draw

    rate, lost = _failures()
    # a seed of its own: the same seed would give the first uniform columns of the pipeline's draws, tying the
    # failures to the run's compute
    own = None if seed is None else seed + GOODPUT_SEED_OFFSET
    d = draw({"rate": rate.distribution(), "lost": lost.distribution()}, n, own, "sobol")
    return np.asarray(L.goodput(chips, d["rate"], d["lost"]), dtype=float) + np.zeros(n)


# -- the plan ---------------------------------------------------------------------------------------------------


def _draws(s: Summary, n: int) -> np.ndarray:
    """``n`` draws of an output of the estimate: its samples, else (a point, or an exact lognormal kept without
    samples) its quantile function at the mid-points (i + 0.5) / n."""
    if s.samples is not None and s.samples.size == n:
        return np.asarray(s.samples, dtype=float)
    if s.dist is not None:
        return np.asarray(s.dist.ppf((np.arange(n) + 0.5) / n), dtype=float)
    return np.full(n, s.median)


def _summary(x: np.ndarray, unit: str) -> Summary:
    from flopcast.uncertainty import summarize

    return summarize(x, unit)


def plan_training(
    db: Database,
    *,
    settings: Settings,
    model: str | None = None,
    shape: dict[str, Any] | None = None,
    tokens: Quantity | None = None,
    compute: Quantity | None = None,
    hardware: str | None = None,
    precision: str | None = None,
    chips: int | None = None,
    deadline_hours: float | None = None,
    utilization: Quantity | None = None,
    global_batch_tokens: float | None = None,
    layout: LayoutRequest | None = None,
    start_date: dt.date | None = None,
    organization: str | None = None,
    samples: int | None = None,
    seed: int | None = 0,
) -> TrainingPlan:
    """Plan a training run (the module's docstring says how); a clear error when no layout holds it.

    The cluster: ``chips``, else the fewest (a multiple of the best layout's tensor x pipeline group) that finish
    within ``deadline_hours``, else the record's reported cluster when the plan is on the record's chip, else
    the fewest that finish within Cottier et al.'s default training time; never fewer than fit in memory.
    """
    from flopcast.pipeline import RunSpec, estimate_run

    notes: list[str] = []
    record = db.find(model) if model is not None else None
    given = {k: v for k, v in (shape or {}).items() if v is not None}
    sh = model_shape(record, given, notes)
    hw, note = db.hardware.resolve(hardware or DEFAULT_PLAN_HARDWARE)
    if note:
        notes.append(note)
    if not hw.memory_bytes:
        raise MissingInputError(f"{hw.name} has no memory size in the chip tables; plan on another chip")
    chip_memory = float(hw.memory_bytes)
    prec = (precision or hw.default_precision() or "bf16").lower()
    peak = float(hw.peak_flop_per_s(prec))  # an unknown precision, or one the chip lacks, says which
    state_bits = training.state_precision(prec)
    state = L.Precision(state_bits, state_bits)
    reserved = float(K.constant("training_memory_reserved_fraction").value)
    net = interconnect(hw)
    req = layout or LayoutRequest()
    if chips is not None and deadline_hours is not None:
        raise InvalidInputError("give chips (the cluster size) or a deadline (--days), not both")
    if req.tp is not None and req.pp is not None and req.dp is not None:
        fixed = req.tp * req.pp * req.dp
        if chips is not None and chips != fixed:
            raise InvalidInputError(
                f"tp x pp x dp = {req.tp} x {req.pp} x {req.dp} = {fixed:,} chips, not the cluster's {chips:,}"
            )
        chips = fixed
    gbt = global_batch_tokens or float(K.constant("training_global_batch_tokens").value)
    if global_batch_tokens is None:
        notes.append(f"global batch not given: {gbt / 1e6:.3g}M tokens assumed (training_global_batch_tokens)")

    def search(n: int | None, restricted: bool = True) -> list[L.LayoutCandidate]:
        r = req if restricted else LayoutRequest()
        found = L.search_layouts(
            sh,
            chip_memory_bytes=chip_memory,
            chips=n,
            global_batch_tokens=gbt,
            scale_up_domain=net.scale_up_domain,
            zero_stages=(r.zero,) if r.zero is not None else L.ZERO_STAGES,
            recompute=(r.recompute,) if r.recompute is not None else L.RECOMPUTE,
            micro_batches=(r.micro_batch,) if r.micro_batch is not None else (1, 2, 4, 8),
            precision=state,
            reserved_fraction=reserved,
            peak_flop_per_s=peak,
            interconnect=net,
            top=100_000 if r.tp or r.pp or r.dp else 1 + ALTERNATIVES,
        )
        options = [
            c
            for c in found.layouts
            if (r.tp is None or c.layout.tp == r.tp)
            and (r.pp is None or c.layout.pp == r.pp)
            and (r.dp is None or c.layout.dp == r.dp)
        ]
        if not options:
            raise InvalidInputError(_refusal(n, found) if restricted else (found.reason or "no layout fits"))
        return options

    def _refusal(n: int | None, found: L.LayoutSearch) -> str:
        """Why the user's layout does not hold the run (the most-loaded rank's terms), and one that does."""
        n = n if n is not None else chips
        fixed = ", ".join(f"{k}={v}" for k, v in req.given().items())
        where = f" on {n:,} chips" if n is not None else ""
        why = f"no layout with {fixed} holds the run{where}" if fixed else (found.reason or "no layout fits")
        if req.tp is not None and req.pp is not None and (req.dp is not None or n is not None):
            dp = req.dp if req.dp is not None else max(1, (n or 1) // (req.tp * req.pp))
            mb = req.micro_batch or 1
            asked = L.Layout(
                tp=req.tp,
                pp=req.pp,
                dp=dp,
                zero=req.zero if req.zero is not None else 0,
                micro_batch=mb,
                n_micro=max(1, math.ceil(gbt / sh.seq_len / (dp * mb) - 1e-9)),
                recompute=req.recompute or "selective",
            )
            try:
                mem = L.rank_memory(
                    sh,
                    asked,
                    chip_memory_bytes=chip_memory,
                    precision=state,
                    reserved_fraction=reserved,
                    scale_up_domain=net.scale_up_domain,
                )
                why = (mem.reason or why) if not mem.fits else why
            except InvalidInputError as exc:
                why = f"{asked.describe()} is not a layout of this model: {exc}"
        if req.given():
            try:
                other = search(n, restricted=False)[0].layout
                why += f"; a layout that fits: {other.describe()}"
            except InvalidInputError:
                pass
        elif n is not None and fewest is not None:
            why += f"; the fewest chips in a layout that fits: {fewest.describe()}"
        return why

    def estimate(n: int) -> TrainingEstimate:
        spec = RunSpec(
            params=sh.active_params if ("params" in given or record is None) else None,
            tokens=tokens,
            training_compute_flop=compute,
            hardware=hw.key,
            precision=prec,
            chips=n,
            utilization=utilization,
            start_date=start_date,
            organization=organization,
            reported_run=False,
        )
        est = estimate_run(record, db, spec=spec, settings=settings, samples=samples, seed=seed, keep_samples=True)
        if est.chip_hours is None or est.duration_s is None:
            raise MissingInputError("; ".join(est.notes) or f"the run has no chip-hours on {hw.name}")
        return est

    fewest: L.Layout | None = None  # read by _refusal, which the first search may call
    fewest = search(None)[0].layout
    est: TrainingEstimate | None = None
    same_chip = record is not None and record.hardware_quantity and _record_chip(db, record) == hw.key
    if chips is not None:
        binding, n = "cluster size", chips
        detail = f"the cluster of {chips:,} chips given"
    elif deadline_hours is not None or not same_chip:
        default = deadline_hours is None
        hours = float(K.constant("training_time_hours", "default").value) if default else deadline_hours
        assert hours is not None
        n, est = _chips_for_deadline(estimate, hours, fewest, seed)
        binding = "default deadline" if default else "deadline"
        detail = (
            f"finishes within {hours / 24:.3g} days at the median on {n:,} chips (a multiple of TP x PP = "
            f"{fewest.tp * fewest.pp})"
            + (" (no cluster size or deadline given: Cottier et al.'s default training time)" if default else "")
        )
        if n <= fewest.chips:
            n, binding = fewest.chips, "memory"
            detail = (
                f"the fewest chips in a layout that holds the run ({fewest.chips:,}) already finish within "
                f"{hours / 24:.3g} days"
            )
    else:
        assert record is not None and record.hardware_quantity
        n, binding = int(record.hardware_quantity), "reported cluster"
        detail = f"the cluster of {n:,} chips the database reports for {record.name}"
    if n < fewest.chips:
        raise InvalidInputError(
            f"{n:,} chips cannot hold the run: the fewest in a layout that fits is {fewest.chips:,} "
            f"({fewest.describe()})"
        )
    options = search(n)
    best = options[0]
    if binding == "cluster size" and n == fewest.chips:
        detail += " (also the fewest that hold the run)"
    if est is None or est.chips is None or round(est.chips.median) != n:  # the deadline's last round is this run
        est = estimate(n)
    run_tokens = est.training_compute_flop.median / (6.0 * sh.active_params)
    size = est.samples
    compute_draws = _draws(est.training_compute_flop, size)
    assert est.chip_hours is not None and est.duration_s is not None  # estimate() checks
    hours_draws = _draws(est.chip_hours, size)
    mfu_draws = compute_draws / (hours_draws * SECONDS_PER_HOUR * peak)
    mfu_median = float(np.median(mfu_draws))
    hfu_ratio = float(L.recompute_flop_ratio(best.layout.recompute, sh.seq_len, sh.d_model))
    rate, lost = _failures()
    layout_args: dict[str, Any] = dict(
        model_flop=est.training_compute_flop.median,
        tokens=run_tokens,
        peak_flop_per_s=peak,
        hardware_flop_ratio=hfu_ratio,
        interconnect=net,
        precision=state,
        interruptions_per_chip_hour=float(rate.value),
        time_lost_per_interruption_s=float(lost.value),
    )
    if goodput(n) <= 0:
        raise InvalidInputError(
            f"on {n:,} chips interruptions ({rate.value:.3g} per chip-hour) outpace progress: no time is left to "
            "train; plan on fewer chips"
        )
    time = L.layout_time(sh, best.layout, mfu=min(mfu_median, 1.0), **layout_args)
    ceiling = L.layout_time(sh, best.layout, kernel_efficiency=1.0, **layout_args).mfu
    gp = goodput_draws(n, size, seed)
    gp_safe = np.maximum(gp, 1e-3)  # goodput near 0 in a far tail: time 1,000x, not infinite
    duration = _draws(est.duration_s, size) / gp_safe
    cost = {
        m: (_summary(_draws(s, size) / gp_safe, "USD") if _per_chip_hour(m) else s) for m, s in est.cost_usd.items()
    }
    mfu_input = next((i for i in est.inputs if i.name == "utilization"), None)
    source = mfu_input.source if mfu_input is not None else "implied by the run's compute, chips and time"
    busy = 1.0 - time.bubble_share - time.comm_share
    if mfu_median > ceiling and utilization is not None:
        notes.append(
            f"the MFU given ({mfu_median:.0%}) is above what this layout's pipeline bubble "
            f"({time.bubble_share:.0%} of a step, one virtual stage per rank) and exposed communication "
            f"({time.comm_share:.0%}) allow with the kernels at peak ({ceiling:.0%}): the run overlaps or interleaves "
            "more than this model counts"
        )
    elif mfu_median > ceiling:
        binding, detail = (
            "global batch",
            (
                f"{detail}; but this layout's pipeline bubble ({time.bubble_share:.0%} of a step) and exposed "
                f"communication ({time.comm_share:.0%}) cap MFU at {ceiling:.0%} with the kernels at peak, below the "
                f"{mfu_median:.0%} assumed: a larger global batch or fewer chips"
            ),
        )
    elif busy < BUSY_SHARE_WARNING:
        notes.append(
            f"the pipeline bubble ({time.bubble_share:.0%}) and exposed communication ({time.comm_share:.0%}) take "
            f"{1 - busy:.0%} of each step on this layout; a larger global batch (--global-batch-tokens) shrinks them"
        )
    notes.append(
        f"inside each step the pipeline bubble is {time.bubble_share:.1%} and exposed communication "
        f"{time.comm_share:.1%} of the time (a reported MFU includes both); at {time.mfu:.0%} MFU the kernels run "
        f"at {time.mfu / max(busy, 1e-9):.0%} of peak between them"
    )
    if record is not None and record.utilization and utilization is None:
        notes.append(
            f"the database reports {record.utilization:.1%} MFU for {record.name}'s own run; this plan is a new run "
            "and takes the prior (give --utilization to use the reported figure)"
        )
    notes.extend(est.notes)
    return TrainingPlan(
        model=record.name if record is not None else "custom model",
        shape=sh,
        hardware=hw.name,
        precision=prec,
        layout=best.layout,
        memory=best.memory,
        time=time,
        estimate=est,
        duration_s=_summary(duration, "s"),
        chip_hours=_summary(duration * n / SECONDS_PER_HOUR, "chip-hours"),
        mfu=_summary(mfu_draws, "fraction"),
        hfu=_summary(mfu_draws * hfu_ratio, "fraction"),
        effective_utilization=_summary(mfu_draws * gp, "fraction"),
        mfu_source=source,
        goodput=_summary(gp, "fraction"),
        cost_usd=cost,
        binding=binding,
        binding_detail=detail,
        fewest_chips=_fewest_chips(record, given, est, fewest),
        tokens=run_tokens,
        global_batch_tokens=gbt,
        mfu_ceiling=ceiling,
        alternatives=list(options[1 : 1 + ALTERNATIVES]),
        notes=list(dict.fromkeys(x for x in notes if x)),
    )


#: the shape keywords of a plan; with none of them given, the pipeline sees the record's shape too
SHAPE_KEYS = (
    "params",
    "n_layers",
    "d_model",
    "n_heads",
    "n_kv_heads",
    "ffn_hidden",
    "ffn_activation",
    "vocab",
    "seq_len",
)


def _fewest_chips(record: ModelRecord | None, given: dict[str, Any], est: TrainingEstimate, fewest: L.Layout) -> int:
    """The fewest chips that hold the run: ``estimate``'s (the pipeline's ``min_chips``, the same rule) where the
    pipeline has the plan's shape (a database model with its curated heads, the shape not overridden), else the
    search's fewest (a run of your own: the pipeline would see no layers or heads)."""
    if record is not None and record.n_heads and not (given.keys() & set(SHAPE_KEYS)) and est.min_chips is not None:
        return int(est.min_chips.median)
    return fewest.chips


def _per_chip_hour(method: str) -> bool:
    from flopcast.methods import COST_METHODS

    return COST_METHODS[method].per_chip_hour


def _record_chip(db: Database, record: ModelRecord) -> str | None:
    """The catalog key of the chip the record names (None when it names none the catalog knows)."""
    if not record.training_hardware:
        return None
    hw, _ = db.hardware.match_names(record.training_hardware)
    return hw.key if hw is not None else None


def _chips_for_deadline(
    estimate: Callable[[int], TrainingEstimate], deadline_hours: float, unit: L.Layout, seed: int | None
) -> tuple[int, TrainingEstimate | None]:
    """Chips to finish within the deadline: chip-hours at the MFU for that scale / (deadline x goodput), a multiple
    of the fewest layout's tensor x pipeline group. The MFU prior and the goodput depend on the chip count, so the
    count is solved again on its own result (a few rounds settle it). Returns the count and the estimate on it
    (None when the last round moved the count)."""
    group = unit.tp * unit.pp
    n = unit.chips
    for _ in range(4):
        est = estimate(n)
        assert est.chip_hours is not None
        gp = goodput(n)
        need = est.chip_hours.median / (deadline_hours * max(gp, 1e-3))
        n_new = max(group, math.ceil(need / group - 1e-9) * group)
        if n_new == n:
            return n, est
        n = n_new
    return n, None
