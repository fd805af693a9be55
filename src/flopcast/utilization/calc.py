"""Utilization from reported figures: MFU, HFU and the utilization implied by a training run.

Conventions (docs/utilization.md):

* **Model FLOP per token** (MFU's numerator) follows PaLM (Chowdhery et al. 2022, Appendix B):
  ``6 N + 12 n_layers d_model n_ctx``: 6 FLOP per parameter (forward 2, backward 4) and the
  attention scores and weighted values (forward ``4 L d T``, three times that with the backward).
  ``N`` counts every parameter (PaLM counts its tied embedding). The attention term is counted
  in full, without halving for the causal mask (``attention="causal"`` halves it,
  ``"none"`` drops it).
* **Hardware FLOP per token** (HFU's numerator) adds what activation recomputation repeats
  (:data:`RECOMPUTE`): ``selective`` (Korthikanti et al. 2022: only the attention core is
  recomputed) adds the forward attention ``4 L d T``; ``full`` recomputes the whole forward pass
  and adds ``2 N + 4 L d T``; ``palm`` is PaLM 540B's rematerialization (Chowdhery et al. 2022,
  Appendix B: "75% of non-attention forward pass FLOPs are recomputed while all attention forward
  pass FLOPs are recomputed") and adds ``0.75 x 2 N + 4 L d T``.
* **MFU** = tokens/s x model FLOP per token / (chips x peak FLOP/s). Peak is the chip's dense
  peak at the training precision (catalog) unless given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast.defaults import ATTENTION_CHOICES, DEFAULT_ATTENTION
from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.units import SECONDS_PER_HOUR, FloatOrArray, check_positive

if TYPE_CHECKING:
    from flopcast.catalogs.models import ModelSpec
    from flopcast.compute import FlopConvention


#: The recomputation conventions of HFU (hardware FLOP per token), a FLOP count; the activation memory each
#: leaves is :data:`flopcast.training.RECOMPUTE`'s business (none, selective, full).
RECOMPUTE = ("none", "selective", "full", "palm")

#: The share of the non-attention forward pass that PaLM 540B recomputes in the backward pass (Chowdhery et al.
#: 2022, arXiv 2204.02311, Appendix B: "75% of non-attention forward pass FLOPs are recomputed while all attention
#: forward pass FLOPs are recomputed"; Table 22: 3.28 TFLOP a token without rematerialization, 4.10 with it).
PALM_REMAT_NON_ATTENTION_FRACTION = 0.75


def _convention(attention: str) -> FlopConvention:
    from flopcast.compute import convention

    if attention not in ATTENTION_CHOICES:
        raise UnknownNameError("attention", attention, ATTENTION_CHOICES)
    return convention(attention)


def _shape_known(n_layers: FloatOrArray | None, d_model: FloatOrArray | None, context: FloatOrArray | None) -> bool:
    given = [x is not None for x in (n_layers, d_model, context)]
    if any(given) and not all(given):
        raise InvalidInputError(
            "give all of n_layers, d_model and context (sequence length) for the attention term, or none of them"
        )
    return all(given)


def model_flop_per_token(
    params: FloatOrArray,
    n_layers: FloatOrArray | None = None,
    d_model: FloatOrArray | None = None,
    context: FloatOrArray | None = None,
    *,
    attention: str = DEFAULT_ATTENTION,
) -> FloatOrArray:
    """Training FLOP per token by the PaLM convention: ``6 N + 12 L d T`` (attention full).

    The same count as :func:`flopcast.compute.training_flop_per_token`, which this calls: one
    convention in every module (``d_model`` here is the attention width, d_attn).
    """
    from flopcast.compute import training_flop_per_token

    check_positive("params", params)
    conv = _convention(attention)
    if _shape_known(n_layers, d_model, context):
        return training_flop_per_token(params, n_layers, d_model, context, conv)
    return training_flop_per_token(params, convention=conv)


def hardware_flop_per_token(
    params: FloatOrArray,
    n_layers: FloatOrArray | None = None,
    d_model: FloatOrArray | None = None,
    context: FloatOrArray | None = None,
    *,
    attention: str = DEFAULT_ATTENTION,
    recompute: str = "none",
) -> FloatOrArray:
    """Model FLOP per token plus the FLOP that activation recomputation repeats.

    ``none``: ``6 N + 12 L d T``. ``selective`` (Korthikanti et al. 2022, arXiv 2205.05198, selective recomputation: only the
    attention core is recomputed) adds the forward attention ``4 L d T``. ``full`` (the whole forward pass again)
    adds ``2 N + 4 L d T``, 4/3 of the model FLOP. ``palm`` (Chowdhery et al. 2022, arXiv 2204.02311, Appendix B:
    75% of the non-attention forward pass and all of the attention forward pass are recomputed) adds
    ``0.75 x 2 N + 4 L d T``: ``7.5 N + 16 L d T`` in all, PaLM 540B's 4.10 TFLOP a token (its Table 22), which
    gives its HFU of 57.8% from the same 238.3K tokens/s that give its MFU of 46.2%. The attention terms follow
    ``attention`` (halved for ``causal``, dropped for ``none``) and are left out without the shape.
    """
    from flopcast.compute import attention_flop_per_token

    if recompute not in RECOMPUTE:
        raise UnknownNameError("recompute", recompute, RECOMPUTE)
    flop = model_flop_per_token(params, n_layers, d_model, context, attention=attention)
    attn_fwd: FloatOrArray = 0.0
    if n_layers is not None and d_model is not None and context is not None:  # all or none: checked just above
        attn_fwd = attention_flop_per_token(n_layers, d_model, context, _convention(attention))
    if recompute == "selective":
        return flop + attn_fwd
    if recompute == "full":
        return flop + 2.0 * np.asarray(params, dtype=float) + attn_fwd
    if recompute == "palm":
        return flop + PALM_REMAT_NON_ATTENTION_FRACTION * 2.0 * np.asarray(params, dtype=float) + attn_fwd
    return flop


def mfu(
    tokens_per_s: FloatOrArray, flop_per_token: FloatOrArray, chips: FloatOrArray, peak_flop_per_s: FloatOrArray
) -> np.ndarray:
    """Achieved model FLOP/s over the peak of all chips."""
    for name, v in (
        ("tokens_per_s", tokens_per_s),
        ("flop_per_token", flop_per_token),
        ("chips", chips),
        ("peak_flop_per_s", peak_flop_per_s),
    ):
        check_positive(name, v)
    return np.asarray(tokens_per_s, dtype=float) * flop_per_token / (np.asarray(chips, dtype=float) * peak_flop_per_s)


def implied_utilization(
    compute_flop: FloatOrArray, chips: FloatOrArray, hours: FloatOrArray, peak_flop_per_s: FloatOrArray
) -> np.ndarray:
    """Utilization implied by a run: compute / (chips x hours x 3600 x peak)."""
    for name, v in (
        ("compute_flop", compute_flop),
        ("chips", chips),
        ("hours", hours),
        ("peak_flop_per_s", peak_flop_per_s),
    ):
        check_positive(name, v)
    return np.asarray(compute_flop, dtype=float) / (
        np.asarray(chips, dtype=float) * hours * SECONDS_PER_HOUR * peak_flop_per_s
    )


@dataclass(eq=False)
class UtilizationResult:
    """One calculation: the utilization, how it was reached, and every input with its origin."""

    method: str
    utilization: float
    hfu: float | None
    achieved_flop_per_s_per_chip: float
    peak_flop_per_s: float
    peak_origin: str
    inputs: dict[str, float] = field(default_factory=dict)
    convention: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "mfu" if self.method == "throughput" else "utilization": self.utilization,
            "hfu": self.hfu,
            "achieved_flop_per_s_per_chip": self.achieved_flop_per_s_per_chip,
            "peak_flop_per_s": self.peak_flop_per_s,
            "peak_origin": self.peak_origin,
            "inputs": self.inputs,
            "convention": self.convention,
            "notes": list(self.notes),
        }


#: What each recomputation convention adds to the model FLOP for HFU (:func:`hardware_flop_per_token`)
RECOMPUTE_ADDS = {
    "none": "nothing",
    "selective": "the forward attention, 4 n_layers d_model n_ctx",
    "full": "the whole forward pass, 2 N + 4 n_layers d_model n_ctx",
    "palm": "PaLM 540B's rematerialization, 0.75 x 2 N + 4 n_layers d_model n_ctx",
}

CONVENTION = (
    "model FLOP per token = 6 N + 12 n_layers d_model n_ctx (PaLM, Chowdhery et al. 2022, App. B; "
    "attention {attention}); HFU adds recomputation ({recompute}: {adds})"
)


def calculate(
    model: str | ModelSpec | None = None,
    *,
    params: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
    context: float | None = None,
    tokens_per_s: float | None = None,
    samples_per_s: float | None = None,
    achieved_flop_per_s_per_chip: float | None = None,
    compute_flop: float | None = None,
    training_hours: float | None = None,
    chips: float | None = None,
    hardware: str | None = None,
    precision: str | None = None,
    peak_flop_per_s: float | None = None,
    attention: str = DEFAULT_ATTENTION,
    recompute: str = "none",
    d_attn: float | None = None,
) -> UtilizationResult:
    """Utilization from whichever figures a paper reports.

    Routes, in order: ``tokens_per_s`` or ``samples_per_s`` (x ``context``) gives MFU and HFU;
    ``achieved_flop_per_s_per_chip`` (e.g. OPT-175B's 147 TFLOP/s) gives achieved / peak;
    ``compute_flop`` with ``training_hours`` gives the implied utilization. A catalog ``model``
    fills its shape, chips, hardware, compute and training time; explicit arguments win.
    ``d_attn`` (heads x head dimension) replaces ``d_model`` in the attention term where the two
    differ (PaLM 540B: 48 x 256 = 12,288 against a width of 18,432).
    """
    from flopcast.catalogs import get_hardware, get_model

    _convention(attention)  # checked on every route, used or not
    if recompute not in RECOMPUTE:
        raise UnknownNameError("recompute", recompute, RECOMPUTE)
    spec = get_model(model) if isinstance(model, str) else model
    notes: list[str] = []

    def pick(value: Any, attr: str) -> tuple[Any, str]:
        if value is not None:
            return value, "given"
        if spec is None:
            return None, ""
        v = getattr(spec, attr, None)
        return v, (f"catalog: {spec.name}" if v is not None else "")

    params, _ = pick(params, "params")
    n_layers, _ = pick(n_layers, "n_layers")
    d_model, _ = pick(d_model, "d_model")
    if d_attn is None and d_model is not None and spec is not None and getattr(spec, "d_attn", None):
        d_attn = spec.d_attn  # the catalog's attention width (PaLM: 48 heads x 256 against a width of 18,432)
    if d_attn is not None:
        check_positive("d_attn", d_attn)
        d_model = d_attn
    context, _ = pick(context, "context_length")
    chips, _ = pick(chips, "chips")
    hw_name = hardware if hardware is not None else (spec.hardware if spec is not None else None)
    if peak_flop_per_s is not None:
        check_positive("peak_flop_per_s", peak_flop_per_s)
        peak, peak_origin = float(peak_flop_per_s), "given"
        if precision is not None:
            notes.append("--precision ignored: the peak was given")
    else:
        if not hw_name:
            raise InvalidInputError("give the hardware (e.g. --hardware a100) or the peak FLOP/s per chip (--peak)")
        hw = get_hardware(hw_name)
        if precision is None and spec is not None and spec.precision in hw.peak_flop_per_s_by_precision:
            precision = spec.precision
        peak = hw.peak_flop_per_s(precision)
        prec = precision or hw.default_precision()
        peak_origin = f"catalog: {hw.name}, dense {prec} ({hw.source})"
    inputs = {
        "params": params,
        "n_layers": n_layers,
        "d_attn": d_model,
        "context": context,
        "chips": chips,
        "peak_flop_per_s": peak,
    }
    inputs = {k: v for k, v in inputs.items() if v is not None}
    convention = CONVENTION.format(attention=attention, recompute=recompute, adds=RECOMPUTE_ADDS[recompute])

    if tokens_per_s is not None or samples_per_s is not None:
        if tokens_per_s is not None and samples_per_s is not None:
            raise InvalidInputError("give tokens_per_s or samples_per_s, not both")
        if samples_per_s is not None:
            check_positive("samples_per_s", samples_per_s)
            if context is None:
                raise InvalidInputError("samples_per_s needs the sequence length (--context) to count tokens")
            tokens_per_s = float(samples_per_s) * float(context)
            inputs["samples_per_s"] = samples_per_s
        assert tokens_per_s is not None  # given, or counted from samples_per_s just above
        if params is None:
            raise InvalidInputError("give the parameter count (--params) or a catalog model")
        if chips is None:
            raise InvalidInputError("give the number of chips (--chips) or a catalog model that has it")
        shape = (n_layers, d_model, context) if None not in (n_layers, d_model, context) else (None, None, None)
        if shape[0] is None:
            notes.append("layers, width or context unknown: the attention term is left out (6N only)")
        per_token = float(model_flop_per_token(params, *shape, attention=attention))
        hw_per_token = float(hardware_flop_per_token(params, *shape, attention=attention, recompute=recompute))
        u = float(mfu(tokens_per_s, per_token, chips, peak))
        inputs.update(
            tokens_per_s=float(tokens_per_s), model_flop_per_token=per_token, hardware_flop_per_token=hw_per_token
        )
        return UtilizationResult(
            "throughput", u, u * hw_per_token / per_token, u * peak, peak, peak_origin, inputs, convention, notes
        )
    if achieved_flop_per_s_per_chip is not None:
        check_positive("achieved_flop_per_s_per_chip", achieved_flop_per_s_per_chip)
        a = float(achieved_flop_per_s_per_chip)
        inputs["achieved_flop_per_s_per_chip"] = a
        notes.append(
            "achieved FLOP/s as the source counted them; whether they include recomputation is the source's convention"
        )
        return UtilizationResult(
            "achieved",
            a / peak,
            None,
            a,
            peak,
            peak_origin,
            inputs,
            "utilization = reported achieved FLOP/s per chip / peak",
            notes,
        )
    compute, _ = pick(compute_flop, "training_compute_flop")
    hours, _ = pick(training_hours, "training_time_hours")
    if compute is None or hours is None or chips is None:
        missing = [n for n, v in (("--compute", compute), ("--training-hours", hours), ("--chips", chips)) if v is None]
        raise InvalidInputError(
            "give a throughput (--tokens-per-s or --samples-per-s), achieved FLOP/s per chip "
            "(--achieved-per-chip), or a training run (--compute, --training-hours, --chips); "
            f"missing: {', '.join(missing)}"
        )
    u = float(implied_utilization(compute, chips, hours, peak))
    inputs.update(compute_flop=float(compute), training_hours=float(hours))
    return UtilizationResult(
        "implied",
        u,
        None,
        u * peak,
        peak,
        peak_origin,
        inputs,
        "utilization = training compute / (chips x hours x 3600 x peak)",
        notes,
    )
