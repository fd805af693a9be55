"""Training and inference FLOP: stage functions, array-in/array-out.

Conventions (see docs/conventions.md), one for every module of flopcast:

* A multiply-add is 2 FLOP.
* Training is forward + backward = 3 x forward, so a dense transformer costs
  ``6 N D`` FLOP for ``N`` parameters and ``D`` training tokens (Kaplan et al. 2020,
  arXiv 2001.08361), plus the attention term of PaLM (Chowdhery et al. 2022, arXiv
  2204.02311, Appendix B): ``12 n_layers n_ctx d_attn`` per token, the score (QK^T) and
  weighted-value matmuls, forward ``4 n_layers n_ctx d_attn``. ``n_ctx`` is the
  pretraining sequence length; ``d_attn`` is heads x (query-key width + value width) / 2,
  which is ``d_model`` for multi-head, multi-query and grouped-query attention (their query
  heads still span ``d_model``) and 128 x (192 + 128) / 2 = 20,480 for DeepSeek-V3's
  multi-head latent attention.
* ``causal_halving=True`` halves the attention term, since a causal mask lets a
  kernel skip half of the score matrix; PaLM does not halve it (default).
* Mixture-of-experts models count *active* parameters per token.
* Peak FLOP/s is the dense figure (never the sparse one) at the precision used.

Every function accepts floats, numpy arrays (e.g. Monte Carlo samples) or any
broadcast of the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flopcast.defaults import ATTENTION_CHOICES
from flopcast.uncertainty.summary import median
from flopcast.units import SECONDS_PER_HOUR, FloatOrArray, check_fraction, check_positive

#: A disagreement larger than this factor between two compute estimates is flagged.
DISAGREEMENT_FACTOR = 3.0


@dataclass(frozen=True)
class FlopConvention:
    """How FLOP are counted. The defaults follow PaLM (attention counted in full)."""

    count_attention: bool = True
    causal_halving: bool = False
    #: backward pass costs this many times the forward pass (2 for standard backprop)
    backward_to_forward: float = 2.0

    @property
    def training_multiplier(self) -> float:
        """FLOP per parameter per token for training, divided by 2 (a multiply-add)."""
        return 1.0 + self.backward_to_forward

    @property
    def name(self) -> str:
        return "none" if not self.count_attention else "causal" if self.causal_halving else "full"


DEFAULT_CONVENTION = FlopConvention()


def convention(attention: str = "full") -> FlopConvention:
    """The convention named ``full`` (PaLM), ``causal`` (attention halved) or ``none``."""
    if attention not in ATTENTION_CHOICES:
        from flopcast.errors import InvalidInputError

        raise InvalidInputError(f"attention={attention!r} is not one of {', '.join(ATTENTION_CHOICES)}")
    return FlopConvention(count_attention=attention != "none", causal_halving=attention == "causal")


def attention_flop_per_token(
    n_layers: FloatOrArray,
    d_attn: FloatOrArray,
    context_length: FloatOrArray,
    convention: FlopConvention = DEFAULT_CONVENTION,
) -> FloatOrArray:
    """Forward attention FLOP per token: ``4 n_layers n_ctx d_attn`` (scores and values; halved if causal)."""
    if not convention.count_attention:
        return np.zeros(np.broadcast(n_layers, d_attn, context_length).shape)[()] * 0.0
    check_positive("n_layers", n_layers)
    check_positive("d_attn", d_attn)
    check_positive("context_length", context_length)
    flop = 4.0 * np.asarray(n_layers, dtype=float) * context_length * d_attn
    return flop / 2.0 if convention.causal_halving else flop


def forward_flop_per_token(
    params_active: FloatOrArray,
    n_layers: FloatOrArray | None = None,
    d_attn: FloatOrArray | None = None,
    context_length: FloatOrArray | None = None,
    convention: FlopConvention = DEFAULT_CONVENTION,
) -> FloatOrArray:
    """Forward-pass FLOP per token: ``2 N_active`` plus attention when the shape is known."""
    check_positive("params_active", params_active, what="the parameters used per token (active parameters for MoE)")
    flop = 2.0 * np.asarray(params_active, dtype=float)
    if n_layers is not None and d_attn is not None and context_length is not None:
        flop = flop + attention_flop_per_token(n_layers, d_attn, context_length, convention)
    return flop[()] if isinstance(flop, np.ndarray) else flop


def training_flop_per_token(
    params_active: FloatOrArray,
    n_layers: FloatOrArray | None = None,
    d_attn: FloatOrArray | None = None,
    context_length: FloatOrArray | None = None,
    convention: FlopConvention = DEFAULT_CONVENTION,
) -> FloatOrArray:
    """Training FLOP per token: ``6 N`` plus ``12 n_layers n_ctx d_attn`` (PaLM's model FLOP, MFU's numerator)."""
    return convention.training_multiplier * forward_flop_per_token(
        params_active, n_layers, d_attn, context_length, convention
    )


def training_compute_flop(
    params: FloatOrArray,
    tokens: FloatOrArray,
    *,
    epochs: FloatOrArray = 1.0,
    n_layers: FloatOrArray | None = None,
    d_attn: FloatOrArray | None = None,
    context_length: FloatOrArray | None = None,
    convention: FlopConvention = DEFAULT_CONVENTION,
) -> np.ndarray:
    """Training compute from model size and data.

    ``params`` are the parameters used per token (the active ones for MoE);
    ``tokens`` is the size of one pass over the data, seen ``epochs`` times.
    ``6 N D`` plus ``12 n_layers n_ctx d_attn D`` when the shape is known.

    >>> float(training_compute_flop(175e9, 300e9))
    3.15e+23
    """
    check_positive("tokens", tokens, what="training tokens")
    check_positive("epochs", epochs)
    per_token = training_flop_per_token(params, n_layers, d_attn, context_length, convention)
    return per_token * np.asarray(tokens, dtype=float) * epochs


def compute_from_hardware(
    chips: FloatOrArray, duration_s: FloatOrArray, peak_flop_per_s: FloatOrArray, utilization: FloatOrArray
) -> np.ndarray:
    """Training compute from hardware x time: ``chips * duration * peak * utilization``."""
    check_positive("chips", chips)
    check_positive("duration_s", duration_s)
    check_positive("peak_flop_per_s", peak_flop_per_s)
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    return np.asarray(chips, dtype=float) * duration_s * peak_flop_per_s * utilization


def compute_from_chip_hours(
    chip_hours: FloatOrArray, peak_flop_per_s: FloatOrArray, utilization: FloatOrArray
) -> np.ndarray:
    """Training compute from chip-hours: ``chip_hours * 3600 * peak * utilization``."""
    check_positive("chip_hours", chip_hours)
    check_positive("peak_flop_per_s", peak_flop_per_s)
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    return np.asarray(chip_hours, dtype=float) * SECONDS_PER_HOUR * peak_flop_per_s * utilization


def inference_flop_per_token(
    params_active: FloatOrArray,
    n_layers: FloatOrArray | None = None,
    d_attn: FloatOrArray | None = None,
    context_length: FloatOrArray | None = None,
    convention: FlopConvention = DEFAULT_CONVENTION,
) -> FloatOrArray:
    """Forward FLOP to generate one token: ``2 N_active`` plus attention over the context."""
    return forward_flop_per_token(params_active, n_layers, d_attn, context_length, convention)


def disagreement_ratio(a: FloatOrArray, b: FloatOrArray) -> FloatOrArray:
    """max(a/b, b/a), elementwise: 1 means agreement."""
    check_positive("compute estimate a", a)
    check_positive("compute estimate b", b)
    r = np.asarray(a, dtype=float) / b
    out = np.maximum(r, 1.0 / r)
    return out[()] if isinstance(out, np.ndarray) else out


def disagrees(a: FloatOrArray, b: FloatOrArray, factor: float = DISAGREEMENT_FACTOR) -> bool:
    """True when the medians of two estimates differ by more than ``factor`` (3x)."""
    return bool(disagreement_ratio(median(a), median(b)) > factor)
