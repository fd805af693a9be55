"""Input distributions.

Every distribution maps uniform draws ``u`` in (0, 1) to values through its inverse
CDF (``ppf``). Sampling a chain therefore needs one column of uniforms per input,
drawn once per sample index, from plain random numbers or a scrambled Sobol sequence
(see :mod:`flopcast.uncertainty.sampling`). Distributions never overload ``==``
arithmetic or comparison: combine *samples*, not distribution objects.

The forecaster's shorthand ``ci(low, high)`` means "90% sure the value lies between
``low`` and ``high``": lognormal when ``low > 0``, normal otherwise (the convention of
squigglepy's ``to``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from flopcast.errors import InvalidInputError
from flopcast.uncertainty import special

_SQRT2 = math.sqrt(2.0)


def _z(credibility: float) -> float:
    """Standard-normal quantile at the upper end of a central interval."""
    if not (0 < credibility < 1):
        raise InvalidInputError(f"credibility={credibility!r} is outside (0, 1); 0.9 means a 90% interval")
    return float(special.ndtri(0.5 + credibility / 2))


def _finite(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(v):
        raise InvalidInputError(f"{name}={v} is not finite; give a finite number")
    return v


class Distribution:
    """Base class: a one-dimensional distribution with an inverse CDF."""

    is_point = False

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def median(self) -> float:
        return float(self.ppf(np.array([0.5]))[0])

    def interval(self, credibility: float = 0.9) -> tuple[float, float]:
        """Central interval holding ``credibility`` of the probability mass."""
        _z(credibility)
        lo, hi = self.ppf(np.array([0.5 - credibility / 2, 0.5 + credibility / 2]))
        return float(lo), float(hi)

    def describe(self) -> str:
        lo, hi = self.interval(0.9)
        return f"{type(self).__name__.lower()} (90% CI {lo:.3g}..{hi:.3g})"


@dataclass(frozen=True, eq=False)
class Point(Distribution):
    """A known value (no uncertainty)."""

    value: float
    is_point = True

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def median(self) -> float:
        return self.value

    def describe(self) -> str:
        return f"{self.value:.4g}"


@dataclass(frozen=True, eq=False)
class Normal(Distribution):
    mean: float
    sd: float

    def __post_init__(self) -> None:
        _finite("mean", self.mean)
        if not (_finite("sd", self.sd) > 0):
            raise InvalidInputError(f"sd={self.sd} must be > 0 for a normal distribution")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.mean + self.sd * special.ndtri(u)


@dataclass(frozen=True, eq=False)
class LogNormal(Distribution):
    """``exp(Normal(mu, sigma))``; ``mu`` and ``sigma`` are on the natural-log scale."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        _finite("mu", self.mu)
        if not (_finite("sigma", self.sigma) >= 0):
            raise InvalidInputError(f"sigma={self.sigma} must be >= 0 for a lognormal distribution")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * special.ndtri(u))

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)


@dataclass(frozen=True, eq=False)
class Beta(Distribution):
    """Beta(a, b) scaled to [low, high] (default [0, 1], for fractions)."""

    a: float
    b: float
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if not (_finite("a", self.a) > 0 and _finite("b", self.b) > 0):
            raise InvalidInputError(f"beta shape parameters a={self.a}, b={self.b} must both be > 0")
        if not _finite("low", self.low) < _finite("high", self.high):
            raise InvalidInputError(f"beta range low={self.low} must be < high={self.high}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """``low + (high - low) I^-1_u(a, b)``, by the interpolated table of
        :func:`flopcast.uncertainty.special.betaincinv` (within 1e-8 of the exact inverse; 2.3e-10 measured)."""
        return self.low + (self.high - self.low) * special.betaincinv(self.a, self.b, u)


@dataclass(frozen=True, eq=False)
class LogitNormal(Distribution):
    """``expit(Normal(mu, sigma))``, a fraction in (0, 1); ``mu`` and ``sigma`` are on the logit scale.

    ``ppf(u) = expit(mu + sigma * ndtri(u))``, with ``expit(z) = (1 + tanh(z / 2)) / 2`` (no overflow), so a
    draw costs one ``ndtri`` for any ``(mu, sigma)`` (no table, unlike :class:`Beta`)."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        _finite("mu", self.mu)
        if not (_finite("sigma", self.sigma) >= 0):
            raise InvalidInputError(f"sigma={self.sigma} must be >= 0 for a logit-normal distribution")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh((self.mu + self.sigma * special.ndtri(u)) / 2.0))

    @property
    def median(self) -> float:
        return 0.5 * (1.0 + math.tanh(self.mu / 2.0))


@dataclass(frozen=True, eq=False)
class Uniform(Distribution):
    low: float
    high: float

    def __post_init__(self) -> None:
        if not _finite("low", self.low) < _finite("high", self.high):
            raise InvalidInputError(f"uniform needs low < high; got low={self.low}, high={self.high}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)


@dataclass(frozen=True, eq=False)
class LogUniform(Distribution):
    low: float
    high: float

    def __post_init__(self) -> None:
        lo, hi = _finite("low", self.low), _finite("high", self.high)
        if not (0 < lo < hi):
            raise InvalidInputError(f"log-uniform needs 0 < low < high; got low={lo}, high={hi}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(np.log(self.low) + (np.log(self.high) - np.log(self.low)) * np.asarray(u, dtype=float))


@dataclass(frozen=True, eq=False)
class Triangular(Distribution):
    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        lo, m, hi = _finite("low", self.low), _finite("mode", self.mode), _finite("high", self.high)
        if not (lo <= m <= hi and lo < hi):
            raise InvalidInputError(f"triangular needs low <= mode <= high and low < high; got {lo}, {m}, {hi}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        lo, m, hi = self.low, self.mode, self.high
        c = (m - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (m - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - m))
        return np.where(u < c, left, right)


def pert(low: float, mode: float, high: float, lam: float = 4.0) -> Beta:
    """PERT distribution: a beta on [low, high] with the given mode (weight ``lam``, 4 by default)."""
    lo, m, hi = _finite("low", low), _finite("mode", mode), _finite("high", high)
    if not (lo <= m <= hi and lo < hi):
        raise InvalidInputError(f"PERT needs low <= mode <= high and low < high; got {lo}, {m}, {hi}")
    a = 1 + lam * (m - lo) / (hi - lo)
    b = 1 + lam * (hi - m) / (hi - lo)
    return Beta(a, b, lo, hi)


@dataclass(frozen=True, eq=False)
class Samples(Distribution):
    """An empirical distribution given as an array of samples.

    When a chain draws exactly ``len(values)`` samples with plain random sampling,
    the array is used as given (so arrays that came from the same earlier run stay
    paired); otherwise it is resampled through its empirical quantile function.
    """

    values: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        arr = np.asarray(self.values, dtype=float).ravel()
        if arr.size == 0:
            raise InvalidInputError("samples: the array is empty; give at least one value")
        if not np.isfinite(arr).all():
            raise InvalidInputError("samples: the array holds NaN or infinite values; give finite numbers")
        object.__setattr__(self, "values", arr)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.quantile(self.values, np.asarray(u, dtype=float))


# -- constructors in the forecaster's vocabulary ---------------------------------


def ci(low: float, high: float, credibility: float = 0.9, kind: str | None = None) -> Distribution:
    """``credibility`` (90% by default) sure the value lies in [low, high].

    ``kind`` is ``"lognormal"`` (default when low > 0), ``"normal"`` (default otherwise)
    or ``"beta"`` (a beta on [0, 1] with those quantiles, for fractions such as
    utilization). ``ci(x, x)`` is the point ``x``.
    """
    lo, hi = _finite("low", low), _finite("high", high)
    if lo > hi:
        raise InvalidInputError(f"interval low={lo:g} is greater than high={hi:g}; write it as low..high")
    z = _z(credibility)
    if lo == hi:
        return Point(lo)
    if kind is None:
        kind = "lognormal" if lo > 0 else "normal"
    if kind == "lognormal":
        if lo <= 0:
            raise InvalidInputError(f"a lognormal interval needs low > 0; got low={lo:g}")
        return LogNormal((math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * z))
    if kind == "normal":
        return Normal((lo + hi) / 2, (hi - lo) / (2 * z))
    if kind == "beta":
        return _beta_from_quantiles(lo, hi, credibility)
    raise InvalidInputError(f"kind={kind!r} is not one of lognormal, normal, beta")


def _beta_from_quantiles(lo: float, hi: float, credibility: float) -> Beta:
    """The beta on [0, 1] whose central ``credibility`` interval is ``lo..hi``.

    The catalog's intervals were fitted once and stored (``catalogs/data/beta_fits.csv``); any other
    is fitted by :func:`fit_beta` (scipy, imported then) on first use and kept for the process.
    """
    if not (0 < lo < hi < 1):
        raise InvalidInputError(f"a beta interval needs 0 < low < high < 1; got {lo:g}..{hi:g}")
    hit = special.stored_fit(lo, hi, credibility)
    if hit is None:
        hit = fit_beta(lo, hi, credibility)
        special.remember_fit(lo, hi, credibility, *hit)
    return Beta(*hit)


def fit_beta(lo: float, hi: float, credibility: float) -> tuple[float, float]:
    """Solve ``I^-1_{p_lo}(a, b) = lo`` and ``I^-1_{p_hi}(a, b) = hi`` (``p = 1/2 -+ credibility/2``) for
    the shape ``(a, b)``, by Powell's hybrid method on ``(ln a, ln b)`` from the moments of a normal with
    the same interval (scipy's ``root`` and exact ``betaincinv``, imported here)."""
    from scipy import optimize
    from scipy import special as sp

    p_lo, p_hi = 0.5 - credibility / 2, 0.5 + credibility / 2

    def resid(log_ab: np.ndarray) -> list[float]:
        a, b = np.exp(log_ab)
        return [sp.betaincinv(a, b, p_lo) - lo, sp.betaincinv(a, b, p_hi) - hi]

    m = (lo + hi) / 2
    s = (hi - lo) / (2 * _z(credibility))
    k = max(m * (1 - m) / s**2 - 1, 0.5)
    sol = optimize.root(resid, np.log([m * k, (1 - m) * k]), method="hybr")
    a, b = np.exp(sol.x)
    if not sol.success or max(abs(r) for r in resid(sol.x)) > 1e-6:
        raise InvalidInputError(f"no beta distribution has a {credibility:.0%} interval {lo:g}..{hi:g}")
    return float(a), float(b)


def normal(mean: float, sd: float) -> Normal:
    return Normal(mean, sd)


def lognormal(median: float, sigma: float) -> LogNormal:
    """Lognormal by its median and log-scale standard deviation."""
    if not _finite("median", median) > 0:
        raise InvalidInputError(f"lognormal median={median} must be > 0")
    return LogNormal(math.log(median), sigma)


def beta(a: float, b: float) -> Beta:
    return Beta(a, b)


def uniform(low: float, high: float) -> Uniform:
    return Uniform(low, high)


def loguniform(low: float, high: float) -> LogUniform:
    return LogUniform(low, high)


def triangular(low: float, mode: float, high: float) -> Triangular:
    return Triangular(low, mode, high)


def samples(values: ArrayLike) -> Samples:
    return Samples(np.asarray(values, dtype=float))


def as_distribution(value: Any, name: str = "value") -> Distribution:
    """Turn a number, distribution or sample array into a Distribution (anything else is an InvalidInputError)."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, np.ndarray) and value.ndim > 0 and value.size > 1:
        return Samples(value)
    if isinstance(value, (list, tuple)):
        return Samples(np.asarray(value, dtype=float))
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}={value!r} is not a number, an interval or an array of samples") from None
    if not math.isfinite(v):
        raise InvalidInputError(f"{name}={v} is not finite; give a finite number")
    return Point(v)


def lognormal_product(terms: Iterable[tuple[Distribution, float]], constant: float = 1.0) -> Distribution | None:
    """Closed form of ``constant * prod(x_i ** e_i)`` for independent lognormal/point x_i.

    Returns a :class:`LogNormal` (or :class:`Point`), or ``None`` when a term is of
    another kind and the product must be sampled.
    """
    if constant <= 0:
        return None
    mu, var = math.log(constant), 0.0
    for dist, exponent in terms:
        if isinstance(dist, Point):
            if dist.value <= 0:
                return None
            mu += exponent * math.log(dist.value)
        elif isinstance(dist, LogNormal):
            mu += exponent * dist.mu
            var += (exponent * dist.sigma) ** 2
        else:
            return None
    if var == 0:
        return Point(math.exp(mu))
    return LogNormal(mu, math.sqrt(var))
