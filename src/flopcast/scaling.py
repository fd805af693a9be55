"""Compute-optimal scaling (Hoffmann et al. 2022): the parametric loss, the allocation
that minimizes it for a compute budget, and the emulation of a reference model.

With ``L(N, D) = E + A / N^alpha + B / D^beta`` (approach 3; constants in
``catalogs/data/diffusion_constants.csv``), :func:`emulate` finds the (N, D) with the
least compute ``C = 6 N D`` that reaches the same loss as a reference (N, D).

Two fits are shipped, by name in :data:`FITS`: Hoffmann et al. 2022's published approach-3
parameters (``"hoffmann"``) and Besiroglu et al. 2024's refit of the same data
(``"besiroglu"``, arXiv 2404.10102). :func:`emulate_with_interval` adds a 90% interval from
the fit's parameter uncertainty: each draw is the fit's published parameters moved by one
bootstrap deviation of the approach-3 estimator on the data Besiroglu et al. reconstructed
(``catalogs/data/chinchilla_bootstrap.csv``, made by ``tests/reference/chinchilla_bootstrap.py``):
``log A, log B, log E`` shift by the deviation of their logs, ``alpha, beta`` by theirs. The
refit's draws therefore have the paper's bootstrap spread; Hoffmann et al. published no usable
uncertainty for approach 3, so its draws get the same spread (the same estimator on the same
kind of data), centred on its own parameters. :func:`emulate_parameters` is the array stage
behind both: every parameter may be an array of draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from flopcast.catalogs.constants import diffusion_constant
from flopcast.compute import DEFAULT_CONVENTION
from flopcast.errors import InvalidInputError
from flopcast.units import check_positive

if TYPE_CHECKING:
    from flopcast.uncertainty import Summary

__all__ = [
    "FITS",
    "FIT_NAMES",
    "FLOP_PER_PARAM_TOKEN",
    "ChinchillaFit",
    "Emulation",
    "FitEmulation",
    "besiroglu_fit",
    "chinchilla_loss",
    "compute_for_loss",
    "compute_optimal_allocation",
    "compute_optimal_loss",
    "emulate",
    "emulate_parameters",
    "emulate_with_interval",
    "fit_by_name",
    "fit_draws",
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


@lru_cache(maxsize=1)
def besiroglu_fit() -> ChinchillaFit:
    """Besiroglu et al. 2024's refit of approach 3 (arXiv 2404.10102), from ``diffusion_constants.csv``."""
    vals = {k: diffusion_constant(f"chinchilla_refit.{k}") for k in ("E", "A", "B", "alpha", "beta")}
    return ChinchillaFit(**{k: c.value for k, c in vals.items()}, source=vals["E"].source)


#: the shipped fits by name (the CLI's ``--fit`` choices come from here)
FITS: dict[str, Callable[[], ChinchillaFit]] = {"hoffmann": hoffmann_fit, "besiroglu": besiroglu_fit}
FIT_NAMES: tuple[str, ...] = tuple(FITS)
#: how each fit is named in tables and JSON
FIT_TITLES = {
    "hoffmann": "Hoffmann et al. 2022, approach 3",
    "besiroglu": "Besiroglu et al. 2024 refit of approach 3",
}


def fit_by_name(name: str) -> ChinchillaFit:
    """The shipped fit called ``name`` (one of :data:`FIT_NAMES`)."""
    if not isinstance(name, str) or name not in FITS:
        raise InvalidInputError(f"fit={name!r} is not one of {', '.join(FIT_NAMES)}")
    return FITS[name]()


@lru_cache(maxsize=1)
def _bootstrap_deviations() -> dict[str, np.ndarray]:
    """Bootstrap deviations of the approach-3 estimator: log E, log A, log B, alpha, beta minus row 0's."""
    from flopcast.catalogs._table import num, read_rows

    cols = ("E", "A", "B", "alpha", "beta")
    rows, label = read_rows("chinchilla_bootstrap.csv", required=("draw", *cols))
    table = np.array([[num(r, c, label, required=True) for c in cols] for r in rows], dtype=float)
    if table.shape[0] < 3 or int(rows[0]["draw"]) != 0:
        raise InvalidInputError(f"{label}: row 0 must be the full-sample fit, followed by the bootstrap draws")
    full, draws = table[0], table[1:]
    logs = np.array([True, True, True, False, False])
    dev = np.where(logs, np.log(draws) - np.log(full), draws - full)
    return {c: dev[:, i] for i, c in enumerate(cols)}


def fit_draws(fit: str | ChinchillaFit) -> dict[str, np.ndarray]:
    """Parameter draws ``{E, A, B, alpha, beta}`` (arrays) of a fit, for its interval.

    Each draw is the fit's parameters moved by one bootstrap deviation of the approach-3
    estimator (module docstring): ``E, A, B`` multiplied by ``exp`` of the deviation of their
    logs, ``alpha, beta`` shifted by theirs.
    """
    f = fit_by_name(fit) if isinstance(fit, str) else _fit(fit)
    dev = _bootstrap_deviations()
    out = {k: getattr(f, k) * np.exp(dev[k]) for k in ("E", "A", "B")}
    out.update({k: getattr(f, k) + dev[k] for k in ("alpha", "beta")})
    return out


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


def emulate_parameters(params, tokens, E, A, B, alpha, beta) -> dict[str, np.ndarray | float]:
    """:func:`emulate` with every fit parameter an array (or a number): the stage behind the intervals.

    Returns ``{loss, params_opt, tokens_opt, compute_ref_flop, compute_opt_flop, compute_ratio}``
    broadcast over all inputs (floats when all are numbers). Same closed form as :func:`emulate`:
    ``G = (alpha A / (beta B))^(1/(alpha+beta))``, ``K = A G^-alpha + B G^beta``,
    ``gamma = alpha beta / (alpha + beta)``, ``C_opt = 6 (K / (L - E))^(1/gamma)``.
    """
    check_positive("params", params, what="a parameter count")
    check_positive("tokens", tokens, what="training tokens")
    for k, v in (("E", E), ("A", A), ("B", B), ("alpha", alpha), ("beta", beta)):
        check_positive(k, v, what="a Chinchilla fit parameter")
    n, d, e, a_, b_, al, be = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (params, tokens, E, A, B, alpha, beta))
    )
    c_ref = FLOP_PER_PARAM_TOKEN * n * d
    loss = e + a_ / n**al + b_ / d**be
    s = al + be
    g = (al * a_ / (be * b_)) ** (1.0 / s)
    k = a_ * g ** (-al) + b_ * g**be
    gamma = al * be / s
    c_opt = np.minimum(FLOP_PER_PARAM_TOKEN * (k / (loss - e)) ** (1.0 / gamma), c_ref)
    x = c_opt / FLOP_PER_PARAM_TOKEN
    return {
        "loss": _out(loss),
        "params_opt": _out(g * x ** (be / s)),
        "tokens_opt": _out(x ** (al / s) / g),
        "compute_ref_flop": _out(c_ref),
        "compute_opt_flop": _out(c_opt),
        "compute_ratio": _out(c_ref / c_opt),
    }


#: the outputs of :class:`FitEmulation` that carry an interval, with their units
INTERVAL_FIELDS = {
    "loss": "nats/token",
    "params_opt": "parameters",
    "tokens_opt": "tokens",
    "compute_opt_flop": "FLOP",
    "compute_ratio": "x",
}

#: the interval rule, as the results state it
INTERVAL_RULE = (
    "90% interval over bootstrap parameter draws: the fit's parameters moved by each of the bootstrap deviations "
    "of the approach-3 estimator on Besiroglu et al. 2024's reconstructed data (log E, log A, log B, alpha, beta); "
    "the Besiroglu refit has the paper's spread, Hoffmann et al.'s fit (no usable published uncertainty) the same "
    "spread around its own parameters"
)


@dataclass(frozen=True, eq=False)
class FitEmulation:
    """One fit's emulation of a reference (N, D), with 90% intervals from the fit's parameter uncertainty.

    ``point`` is the emulation with the fit's published parameters; ``loss``, ``params_opt``,
    ``tokens_opt``, ``compute_opt_flop`` (FLOP) and ``compute_ratio`` (reference compute /
    compute-optimal compute) are :class:`~flopcast.uncertainty.Summary` objects (median, 5th and
    95th percentiles) over ``draws`` parameter draws (:func:`fit_draws`).
    """

    name: str
    title: str
    point: Emulation
    loss: Summary
    params_opt: Summary
    tokens_opt: Summary
    compute_opt_flop: Summary
    compute_ratio: Summary
    draws: int
    interval_rule: str = INTERVAL_RULE

    def to_dict(self) -> dict:
        return {
            "fit": self.name,
            "title": self.title,
            "point": self.point.to_dict(),
            **{k: getattr(self, k).to_dict() for k in INTERVAL_FIELDS},
            "draws": self.draws,
            "interval_rule": self.interval_rule,
        }

    def summary(self) -> str:
        from flopcast.formatting import format_sci

        r, n = self.compute_ratio, self.params_opt
        return (
            f"{self.title}: {format_sci(float(self.point.params_opt))} params "
            f"(90% CI {format_sci(n.p5)}-{format_sci(n.p95)}), {float(self.point.compute_ratio):.2f}x less compute "
            f"(90% CI {r.p5:.2f}-{r.p95:.2f})"
        )


def emulate_with_interval(params: float, tokens: float, *, fit: str = "hoffmann") -> FitEmulation:
    """:func:`emulate` under the shipped fit ``fit``, with 90% intervals (:func:`fit_draws`).

    ``params`` and ``tokens`` are one reference model (numbers, not arrays).
    """
    from flopcast.uncertainty import Summary

    f = fit_by_name(fit)
    for k, v in (("params", params), ("tokens", tokens)):
        if np.ndim(v) != 0:
            raise InvalidInputError(f"{k} must be one number for an emulation with an interval, not an array")
    point = emulate(params, tokens, fit=f)
    drawn = emulate_parameters(params, tokens, **fit_draws(fit))
    summaries = {k: Summary.from_samples(np.asarray(drawn[k]), unit) for k, unit in INTERVAL_FIELDS.items()}
    return FitEmulation(
        name=fit,
        title=FIT_TITLES[fit],
        point=point,
        loss=summaries["loss"],
        params_opt=summaries["params_opt"],
        tokens_opt=summaries["tokens_opt"],
        compute_opt_flop=summaries["compute_opt_flop"],
        compute_ratio=summaries["compute_ratio"],
        draws=int(np.size(drawn["compute_ratio"])),
    )
