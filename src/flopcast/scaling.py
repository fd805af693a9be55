"""Compute-optimal scaling (Hoffmann et al. 2022): the parametric loss, the allocation
that minimizes it for a compute budget, and the emulation of a reference model.

With ``L(N, D) = E + A / N^alpha + B / D^beta`` (approach 3; constants in
``catalogs/data/diffusion_constants.csv``), :func:`emulate` finds the (N, D) with the
least compute ``C = 6 N D`` that reaches the same loss as a reference (N, D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from flopcast.catalogs.constants import diffusion_constant
from flopcast.compute import DEFAULT_CONVENTION
from flopcast.errors import InvalidInputError
from flopcast.units import check_positive

__all__ = [
    "FLOP_PER_PARAM_TOKEN",
    "ChinchillaFit",
    "Emulation",
    "chinchilla_loss",
    "compute_for_loss",
    "compute_optimal_allocation",
    "compute_optimal_loss",
    "emulate",
    "hoffmann_fit",
]

#: training FLOP per parameter per token (6: forward 2 + backward 4), Hoffmann et al.'s C = 6 N D
FLOP_PER_PARAM_TOKEN = 2.0 * DEFAULT_CONVENTION.training_multiplier


@dataclass(frozen=True)
class ChinchillaFit:
    """``L(N, D) = E + A / N^alpha + B / D^beta`` (loss in nats per token)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str = ""

    def __post_init__(self):
        for k in ("E", "A", "B", "alpha", "beta"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InvalidInputError(f"ChinchillaFit {k}={v!r} must be a finite number > 0")

    @property
    def G(self) -> float:
        """``(alpha A / (beta B))^(1 / (alpha + beta))``: N_opt = G (C/6)^a, D_opt = (C/6)^b / G."""
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    @property
    def a(self) -> float:
        """Exponent of compute in N_opt: beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """Exponent of compute in D_opt: alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def _frontier(self) -> tuple[float, float]:
        # On the frontier, A / N^alpha + B / D^beta = K (C/6)^(-gamma), gamma = alpha beta / (alpha + beta)
        K = self.A * self.G ** (-self.alpha) + self.B * self.G**self.beta
        gamma = self.alpha * self.beta / (self.alpha + self.beta)
        return K, gamma


@lru_cache(maxsize=1)
def hoffmann_fit() -> ChinchillaFit:
    """Hoffmann et al. 2022's approach-3 fit (arXiv 2203.15556), from ``diffusion_constants.csv``."""
    vals = {k: diffusion_constant(f"chinchilla.{k}") for k in ("E", "A", "B", "alpha", "beta")}
    return ChinchillaFit(**{k: c.value for k, c in vals.items()}, source=vals["E"].source)


def _fit(fit: ChinchillaFit | None) -> ChinchillaFit:
    if fit is None:
        return hoffmann_fit()
    if not isinstance(fit, ChinchillaFit):
        raise InvalidInputError(f"fit={fit!r} must be a ChinchillaFit (or None for Hoffmann et al. 2022)")
    return fit


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


def chinchilla_loss(params, tokens, *, fit: ChinchillaFit | None = None):
    """Predicted loss (nats/token) of ``params`` parameters trained on ``tokens`` tokens."""
    f = _fit(fit)
    check_positive("params", params, what="a parameter count")
    check_positive("tokens", tokens, what="training tokens")
    n, d = np.asarray(params, dtype=float), np.asarray(tokens, dtype=float)
    return _out(f.E + f.A / n**f.alpha + f.B / d**f.beta)


def compute_optimal_allocation(compute_flop, *, fit: ChinchillaFit | None = None):
    """(params, tokens) minimizing the loss for ``compute_flop = 6 N D``."""
    f = _fit(fit)
    check_positive("compute_flop", compute_flop, what="training compute in FLOP")
    x = np.asarray(compute_flop, dtype=float) / FLOP_PER_PARAM_TOKEN
    return _out(f.G * x**f.a), _out(x**f.b / f.G)


def compute_optimal_loss(compute_flop, *, fit: ChinchillaFit | None = None):
    """Least loss reachable with ``compute_flop``: ``E + K (C/6)^(-alpha beta / (alpha + beta))``."""
    f = _fit(fit)
    check_positive("compute_flop", compute_flop, what="training compute in FLOP")
    K, gamma = f._frontier
    x = np.asarray(compute_flop, dtype=float) / FLOP_PER_PARAM_TOKEN
    return _out(f.E + K * x ** (-gamma))


def compute_for_loss(loss, *, fit: ChinchillaFit | None = None):
    """Least compute (FLOP) that reaches ``loss``: the inverse of :func:`compute_optimal_loss`.

    The frontier loss is a power law in compute, so the inverse is closed-form,
    ``C = 6 (K / (L - E))^(1/gamma)``: exact and vectorized, with no bracketing needed
    (the tests check it against ``scipy.optimize.brentq`` on log C).
    """
    f = _fit(fit)
    arr = np.asarray(loss, dtype=float)
    if not np.isfinite(arr).all():
        raise InvalidInputError(f"loss={loss!r} must be finite")
    if (arr <= f.E).any():
        bad = float(arr[arr <= f.E].ravel()[0])
        raise InvalidInputError(
            f"loss={bad:g} is not above the irreducible loss E={f.E:g}; no finite compute reaches it"
        )
    K, gamma = f._frontier
    return _out(FLOP_PER_PARAM_TOKEN * (K / (arr - f.E)) ** (1.0 / gamma))


@dataclass(frozen=True)
class Emulation:
    """A reference (N, D) and the compute-optimal (N, D) reaching the same predicted loss.

    Counts are parameters and tokens; compute in FLOP (``6 N D``); ``loss`` in nats per
    token; ``compute_ratio = compute_ref_flop / compute_opt_flop`` (>= 1). Fields are
    floats, or arrays for array inputs.
    """

    params_ref: float | np.ndarray
    tokens_ref: float | np.ndarray
    compute_ref_flop: float | np.ndarray
    loss: float | np.ndarray
    params_opt: float | np.ndarray
    tokens_opt: float | np.ndarray
    compute_opt_flop: float | np.ndarray
    compute_ratio: float | np.ndarray
    fit: ChinchillaFit = field(default_factory=hoffmann_fit, repr=False)

    def to_dict(self) -> dict:
        out = {}
        for k in (
            "params_ref",
            "tokens_ref",
            "compute_ref_flop",
            "loss",
            "params_opt",
            "tokens_opt",
            "compute_opt_flop",
            "compute_ratio",
        ):
            v = getattr(self, k)
            out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        out["fit"] = {k: getattr(self.fit, k) for k in ("E", "A", "B", "alpha", "beta", "source")}
        return out

    def summary(self) -> str:
        from flopcast.formatting import format_sci

        if np.ndim(self.compute_ratio):
            lo, hi = np.min(self.compute_ratio), np.max(self.compute_ratio)
            return f"{np.size(self.compute_ratio)} emulations; compute ratio {lo:.3g}-{hi:.3g}"
        # one emulation: every field is a float
        return (
            f"{format_sci(float(self.params_ref))} params x {format_sci(float(self.tokens_ref))} tokens "
            f"({format_sci(float(self.compute_ref_flop))} FLOP, loss {self.loss:.4f} nats/token) -> compute-optimal "
            f"{format_sci(float(self.params_opt))} params x {format_sci(float(self.tokens_opt))} tokens "
            f"({format_sci(float(self.compute_opt_flop))} FLOP): {self.compute_ratio:.2f}x less compute"
        )


def emulate(params, tokens, *, fit: ChinchillaFit | None = None) -> Emulation:
    """The compute-optimal model reaching the loss of ``params`` x ``tokens``.

    Loss from the parametric fit; least compute on the frontier reaching it
    (:func:`compute_for_loss`); its allocation from :func:`compute_optimal_allocation`.
    Arrays broadcast.
    """
    f = _fit(fit)
    check_positive("params", params, what="a parameter count")
    check_positive("tokens", tokens, what="training tokens")
    n, d = np.broadcast_arrays(np.asarray(params, dtype=float), np.asarray(tokens, dtype=float))
    c_ref = FLOP_PER_PARAM_TOKEN * n * d
    loss = f.E + f.A / n**f.alpha + f.B / d**f.beta
    # the frontier is the least compute for each loss, so c_opt <= c_ref; min() only removes rounding
    c_opt = np.minimum(compute_for_loss(loss, fit=f), c_ref)
    n_opt, d_opt = compute_optimal_allocation(c_opt, fit=f)
    return Emulation(
        params_ref=_out(n),
        tokens_ref=_out(d),
        compute_ref_flop=_out(c_ref),
        loss=_out(loss),
        params_opt=n_opt,
        tokens_opt=d_opt,
        compute_opt_flop=_out(c_opt),
        compute_ratio=_out(c_ref / c_opt),
        fit=f,
    )
