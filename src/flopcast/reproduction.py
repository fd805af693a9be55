"""Diffusion of a training run: what it costs later, and who can afford it when.

Two stages, each a pure function of numbers or arrays:

* **Cost to reproduce** (:func:`cost_to_reproduce`). Hardware price-performance makes
  the same compute cheaper: ``cost(t) = cost_ref x 10^(-r_hw x (t - t_ref))``. With
  algorithmic progress the compute needed for the same capability also falls, at
  ``r_alg`` orders of magnitude (OOM) a year: ``cost(t) = cost_ref x 10^(-(r_hw + r_alg) x (t - t_ref))``.
  ``r_hw`` defaults to the ML GPU price-performance trend of ``catalogs/data/constants.csv``
  (``depreciation_oom_per_year``: 0.14 OOM/yr, 90% CI 0.10-0.18, Hobbhahn et al. 2023),
  ``r_alg`` to Ho et al. 2024's language-model rate in ``diffusion_constants.csv``
  (compute halves about every 8 months: 0.4515 OOM/yr).
* **Affordability** (:func:`affordability_year`, :func:`affordability_table`): the decimal
  year when ``cost(t) <= budget``, i.e. ``t_ref + log10(cost_ref / budget) / rate``; the
  reference date when the budget already covers the cost. Budgets of illustrative actors
  (academic lab, startup, large lab...) come from :mod:`flopcast.catalogs.actors`.

Inputs may be numbers, distributions (``ci(low, high)``), sample arrays, or a
:class:`~flopcast.uncertainty.Summary` (e.g. ``estimate("gpt-3").cost_usd["amortized"]``).
Where the answer is exactly lognormal (a point or lognormal cost, point or normal rates) it
is computed in closed form; otherwise each input is drawn once per sample index from one
seeded generator. Dates are ``datetime.date``, ISO strings ``"2020-05-28"`` or decimal
years ``2020.4`` (read by :func:`flopcast.dates.parse_year`); every year returned is a
decimal year. The compute-optimal emulation lives in :mod:`flopcast.scaling`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from flopcast.catalogs.actors import Actor, load_actors
from flopcast.catalogs.constants import Constant, constant, diffusion_constant
from flopcast.dates import parse_year
from flopcast.errors import InvalidInputError
from flopcast.uncertainty import (
    Distribution,
    LogNormal,
    Normal,
    Point,
    Samples,
    Summary,
    as_distribution,
    draw,
)
from flopcast.uncertainty.distributions import _z
from flopcast.uncertainty.sampling import check_samples
from flopcast.units import check_positive

__all__ = [
    "DiffusionInput",
    "ReproductionCost",
    "affordability_probability",
    "affordability_table",
    "affordability_year",
    "combined_saving_oom",
    "cost_to_reproduce",
    "probability_affordable",
]

_LN10 = math.log(10.0)


def _price_performance() -> Constant:
    # one number, one place: the same trend depreciates hardware in the training-cost chain
    return constant("depreciation_oom_per_year")


def _algorithmic(domain: str = "language") -> Constant:
    return diffusion_constant(f"algorithmic_oom_per_year.{domain}")


# -- inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusionInput:
    """One input of a diffusion calculation: its distribution, central value, unit and source."""

    name: str
    value: Distribution = field(repr=False)
    central: float
    unit: str
    source: str

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "value": self.value.describe(),
            "central": self.central,
            "unit": self.unit,
            "source": self.source,
        }


def _from_summary(s: Summary) -> Distribution:
    if s.samples is not None and np.size(s.samples) > 1:
        return Samples(np.asarray(s.samples))
    if s.dist is not None:
        return s.dist
    return Point(s.median)


def _cost_input(value, name: str = "reference_cost_usd") -> DiffusionInput:
    dist = _from_summary(value) if isinstance(value, Summary) else as_distribution(value, name)
    central = dist.median
    if isinstance(dist, Point) and not dist.value > 0:
        raise InvalidInputError(f"{name}={dist.value:g} is not allowed; a cost in USD must be > 0")
    if isinstance(dist, Samples) and (dist.values <= 0).any():
        raise InvalidInputError(f"{name}: the samples hold values <= 0; a cost in USD must be > 0")
    if isinstance(dist, Normal):
        raise InvalidInputError(
            f"{name} is a normal distribution, which allows costs <= 0; use ci(low, high) with low > 0 (lognormal)"
        )
    source = "user (from a Summary)" if isinstance(value, Summary) else "user"
    return DiffusionInput(name, dist, float(central), "USD", source)


def _rate_input(name: str, value, default: Constant) -> DiffusionInput:
    if value is None:
        dist = default.distribution()
        interval = f", 90% CI {default.low:g}-{default.high:g}" if default.low is not None else ""
        return DiffusionInput(
            name,
            dist,
            float(default.value),
            "OOM/year",
            f"{default.name} = {default.value:g}{interval}: {default.source}",
        )
    dist = _from_summary(value) if isinstance(value, Summary) else as_distribution(value, name)
    if isinstance(dist, Point) and not dist.value >= 0:
        raise InvalidInputError(
            f"{name}={dist.value:g} is negative; a rate of progress in orders of magnitude a year must be >= 0 "
            "(0.14 means 10^0.14 = 1.38x cheaper a year)"
        )
    return DiffusionInput(name, dist, float(dist.median), "OOM/year", "user")


def _rate_inputs(price_performance_oom_per_year, algorithmic_oom_per_year, include_algorithmic: bool):
    rates = [_rate_input("price_performance_oom_per_year", price_performance_oom_per_year, _price_performance())]
    # a given algorithmic rate is used: ignoring it silently would be worse than the flag's default
    if include_algorithmic or algorithmic_oom_per_year is not None:
        rates.append(_rate_input("algorithmic_oom_per_year", algorithmic_oom_per_year, _algorithmic()))
    return rates


def _check_method(sampling: str) -> None:
    from flopcast.uncertainty.sampling import METHODS

    if sampling not in METHODS:
        raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(METHODS)}")


def _closed_form_ok(cost: DiffusionInput, rates: list[DiffusionInput]) -> bool:
    return isinstance(cost.value, (Point, LogNormal)) and all(isinstance(r.value, (Point, Normal)) for r in rates)


def _drawn(cost: DiffusionInput, rates: list[DiffusionInput], samples: int, seed, sampling: str):
    """(cost samples, total rate samples): each input drawn once per sample index."""
    d = draw({cost.name: cost.value, **{r.name: r.value for r in rates}}, samples, seed, sampling)
    c = np.broadcast_to(np.asarray(d[cost.name], dtype=float), (samples,))
    if (c <= 0).any():
        raise InvalidInputError(f"{cost.name}: the distribution gives costs <= 0; use ci(low, high) with low > 0")
    r = np.broadcast_to(sum(np.asarray(d[x.name], dtype=float) for x in rates), (samples,))
    return c, r


# -- cost to reproduce -------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReproductionCost:
    """What a reference training run costs at later (or earlier) dates.

    ``cost_usd`` is one :class:`Summary` (USD) for a single target date, or a tuple of
    them, one per date, for an array of dates; ``median_usd``, ``p5_usd`` and ``p95_usd``
    give the curve as arrays. ``central_usd`` is the cost with every input at its central
    value (the published rates, the reference's median cost).
    """

    reference_cost_usd: Summary
    reference_year: float
    #: decimal year(s) of the target date(s)
    target_year: float | np.ndarray
    #: target_year - reference_year
    elapsed_years: float | np.ndarray
    cost_usd: Summary | tuple[Summary, ...]
    central_usd: float | np.ndarray
    #: total rate of decline used, hardware (+ algorithms), in orders of magnitude a year
    rate_oom_per_year: Summary
    include_algorithmic: bool
    inputs: tuple[DiffusionInput, ...]
    method: str
    samples: int
    seed: int | None
    sampling: str

    def _curve(self, attr: str) -> float | np.ndarray:
        if isinstance(self.cost_usd, Summary):
            return getattr(self.cost_usd, attr)
        return np.array([getattr(s, attr) for s in self.cost_usd])

    @property
    def median_usd(self) -> float | np.ndarray:
        return self._curve("median")

    @property
    def p5_usd(self) -> float | np.ndarray:
        return self._curve("p5")

    @property
    def p95_usd(self) -> float | np.ndarray:
        return self._curve("p95")

    @property
    def reduction_factor(self) -> float | np.ndarray:
        """Central cost at the target / central cost of the reference (< 1 later, > 1 earlier)."""
        return self.central_usd / self.inputs[0].central

    def to_dict(self) -> dict:
        def arr(x):
            return x.tolist() if isinstance(x, np.ndarray) else x

        costs = [s.to_dict() for s in self.cost_usd] if isinstance(self.cost_usd, tuple) else self.cost_usd.to_dict()
        return {
            "reference_cost_usd": self.reference_cost_usd.to_dict(),
            "reference_year": self.reference_year,
            "target_year": arr(self.target_year),
            "elapsed_years": arr(self.elapsed_years),
            "cost_usd": costs,
            "central_usd": arr(self.central_usd),
            "rate_oom_per_year": self.rate_oom_per_year.to_dict(),
            "include_algorithmic": self.include_algorithmic,
            "inputs": [i.to_dict() for i in self.inputs],
            "method": self.method,
            "samples": self.samples,
            "seed": self.seed,
            "sampling": self.sampling,
        }

    def summary(self) -> str:
        from flopcast.formatting import format_summary

        what = "hardware + algorithms" if self.include_algorithmic else "hardware price-performance"
        lines = [
            (
                f"cost to reproduce a {format_summary(self.reference_cost_usd)} run of {self.reference_year:.2f} "
                f"({what}, {format_summary(self.rate_oom_per_year)})"
            )
        ]
        costs = self.cost_usd if isinstance(self.cost_usd, tuple) else (self.cost_usd,)
        for y, s in zip(np.atleast_1d(self.target_year), costs, strict=True):
            lines.append(f"  {y:.2f}: {format_summary(s)}")
        return "\n".join(lines)


def cost_to_reproduce(
    reference_cost_usd,
    reference_date,
    target_date,
    *,
    price_performance_oom_per_year=None,
    algorithmic_oom_per_year=None,
    include_algorithmic: bool = False,
    samples: int = 10_000,
    seed: int | None = 0,
    sampling: str = "random",
    emulation_ratio=None,
) -> ReproductionCost:
    """Cost of the same training run (or, with algorithms, the same capability) at ``target_date``.

    ``cost(t) = cost_ref x 10^(-(r_hw [+ r_alg]) x (t - t_ref))``. The rates default to the
    cited catalog values (see the module docstring); giving ``algorithmic_oom_per_year``
    turns on the algorithmic term. ``target_date`` may be an array of dates for a curve;
    all dates then share the same draws, so the curve of each sample is smooth.

    With ``emulation_ratio`` (the reference's compute / its compute-optimal emulation's, >= 1: a number,
    a distribution, samples or a Summary) the run priced is the emulation, the saving counted once:
    ``cost(t) = cost_ref x 10^(-r_hw x (t - t_ref) - S)``, ``S = max(r_alg x (t - t_ref), log10 ratio)``
    with the algorithmic term (:func:`combined_saving_oom`), ``S = log10 ratio`` without it. That is always
    sampled (the max is not lognormal), and ``inputs`` ends with the ratio.

    >>> r = cost_to_reproduce(4.6e6, 2020, 2025, price_performance_oom_per_year=0.14)
    >>> round(r.central_usd)  # 4.6e6 x 10^(-0.7) = 4.6e6 x 0.199526
    917821
    """
    _check_method(sampling)
    samples = check_samples(samples)
    cost = _cost_input(reference_cost_usd)
    rates = _rate_inputs(price_performance_oom_per_year, algorithmic_oom_per_year, include_algorithmic)
    t_ref = parse_year(reference_date, "reference_date")
    if isinstance(t_ref, np.ndarray):
        raise InvalidInputError("reference_date must be one date; give an array of target dates for a curve")
    t = parse_year(target_date, "target_date")
    scalar = not isinstance(t, np.ndarray)
    elapsed = np.atleast_1d(np.asarray(t, dtype=float)).ravel() - t_ref
    inputs: tuple[DiffusionInput, ...] = (cost, *rates)

    rate_central = sum(r.central for r in rates)
    central = cost.central * 10.0 ** (-rate_central * elapsed)

    if emulation_ratio is not None:
        ratio = _ratio_input(emulation_ratio)
        inputs = (*inputs, ratio)
        r_alg_c = rates[1].central if len(rates) > 1 else 0.0
        e_c = math.log10(max(ratio.central, 1.0))
        central = cost.central * 10.0 ** (-rates[0].central * elapsed - combined_saving_oom(elapsed, r_alg_c, e_c))
        c, r_hw, r_alg, e = _emulated_draws(cost, rates, ratio, samples, seed, sampling)
        saving = r_hw[:, None] * elapsed[None, :] + combined_saving_oom(elapsed[None, :], r_alg[:, None], e[:, None])
        grid = c[:, None] * 10.0 ** (-saving)  # (samples, dates)
        summaries = [Summary.from_samples(grid[:, j], "USD") for j in range(elapsed.size)]
        rate = Summary.from_samples(r_hw + r_alg, "OOM/year")
        ref = Summary.from_samples(c, "USD")
        method = "monte-carlo"
    elif _closed_form_ok(cost, rates):
        # ln cost(t) = ln cost_ref - ln(10) x rate x elapsed: normal when ln cost_ref and rate are normal
        cv = cost.value
        assert isinstance(cv, (Point, LogNormal))  # _closed_form_ok
        mu_c, s_c = (math.log(cv.value), 0.0) if isinstance(cv, Point) else (cv.mu, cv.sigma)
        m = sum(r.value.value if isinstance(r.value, Point) else r.value.mean for r in rates)
        var = sum(0.0 if isinstance(r.value, Point) else r.value.sd**2 for r in rates)
        summaries = []
        for e in elapsed:
            sigma = math.sqrt(s_c**2 + var * (_LN10 * e) ** 2)
            if sigma == 0:
                v = math.exp(mu_c) * 10.0 ** (-m * e)
                summaries.append(Summary(v, v, v, v, "USD"))
            else:
                summaries.append(Summary.from_distribution(LogNormal(mu_c - _LN10 * m * e, sigma), "USD"))
        rate = (
            Summary(m, m, m, m, "OOM/year")
            if var == 0
            else Summary.from_distribution(Normal(m, math.sqrt(var)), "OOM/year")
        )
        ref = (
            Summary(cost.value.value, cost.value.value, cost.value.value, cost.value.value, "USD")
            if isinstance(cost.value, Point)
            else Summary.from_distribution(cost.value, "USD")
        )
        method = "closed-form"
    else:
        c, r = _drawn(cost, rates, samples, seed, sampling)
        grid = c[:, None] * 10.0 ** (-r[:, None] * elapsed[None, :])  # (samples, dates)
        summaries = [Summary.from_samples(grid[:, j], "USD") for j in range(elapsed.size)]
        rate = Summary.from_samples(r, "OOM/year")
        ref = Summary.from_samples(c, "USD")
        method = "monte-carlo"

    return ReproductionCost(
        reference_cost_usd=ref,
        reference_year=t_ref,
        target_year=float(t) if scalar else np.asarray(t, dtype=float),
        elapsed_years=float(elapsed[0]) if scalar else elapsed.reshape(np.shape(t)),
        cost_usd=summaries[0] if scalar else tuple(summaries),
        central_usd=float(central[0]) if scalar else central.reshape(np.shape(t)),
        rate_oom_per_year=rate,
        include_algorithmic=len(rates) > 1,
        inputs=inputs,
        method=method,
        samples=samples if method == "monte-carlo" else 0,
        seed=seed if method == "monte-carlo" else None,
        sampling=sampling,
    )


# -- affordability -----------------------------------------------------------------


def _years_after(cost, rate, budget):
    """Years until ``cost x 10^(-rate x years) <= budget``: 0 when already affordable, inf when never."""
    cost, rate, budget = np.broadcast_arrays(
        np.asarray(cost, float), np.asarray(rate, float), np.asarray(budget, float)
    )
    gap = np.log10(cost / budget)
    with np.errstate(divide="ignore", invalid="ignore"):
        years = np.where(gap <= 0, 0.0, np.where(rate > 0, gap / np.where(rate > 0, rate, 1.0), np.inf))
    return years


def _percentile(x: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    # "never" (inf) samples: linear interpolation between two infs gives nan, so take an actual sample there
    method: Literal["inverted_cdf", "linear"] = "inverted_cdf" if np.isinf(x).any() else "linear"
    return np.percentile(x, q, axis=axis, method=method)


def _point_value(d: Distribution) -> float:
    """The value of a certain input (one that is not the uncertain one)."""
    assert isinstance(d, Point)
    return d.value


def _affordability(
    cost: DiffusionInput,
    t_ref: float,
    budgets: np.ndarray,
    rates: list[DiffusionInput],
    credibility: float,
    samples: int,
    seed,
    sampling: str,
):
    """(estimate, low, high) decimal-year arrays, one element per budget."""
    _z(credibility)
    p_lo, p_hi = 0.5 - credibility / 2, 0.5 + credibility / 2
    r_central = sum(r.central for r in rates)
    estimate = t_ref + _years_after(cost.central, r_central, budgets)
    uncertain = [x for x in (cost, *rates) if not isinstance(x.value, Point)]
    if not uncertain:
        return estimate, estimate.copy(), estimate.copy(), "point"
    if len(uncertain) == 1:
        # exact: years is monotone in its one uncertain input (rising in cost, falling in rate),
        # so its quantiles are the input's quantiles mapped through it
        (u,) = uncertain
        q_lo, q_hi = (float(v) for v in u.value.ppf(np.array([p_lo, p_hi])))
        c = _point_value(cost.value) if u is not cost else None
        r_fixed = sum(_point_value(r.value) for r in rates if r is not u)
        if u is cost:
            low = _years_after(q_lo, r_fixed, budgets)
            high = _years_after(q_hi, r_fixed, budgets)
        else:
            low = _years_after(c, r_fixed + q_hi, budgets)
            high = _years_after(c, r_fixed + q_lo, budgets)
        return estimate, t_ref + low, t_ref + high, "exact-quantiles"
    c, r = _drawn(cost, rates, samples, seed, sampling)
    years = _years_after(c[:, None], r[:, None], budgets[None, :])  # (samples, budgets)
    low = _percentile(years, 100 * p_lo)
    high = _percentile(years, 100 * p_hi)
    return estimate, t_ref + low, t_ref + high, "monte-carlo"


def affordability_year(
    reference_cost_usd,
    reference_date,
    budget_usd,
    *,
    price_performance_oom_per_year=None,
    algorithmic_oom_per_year=None,
    include_algorithmic: bool = False,
    credibility: float = 0.9,
    samples: int = 10_000,
    seed: int | None = 0,
    sampling: str = "random",
) -> dict:
    """Decimal year when reproducing the reference costs no more than ``budget_usd``.

    ``year = t_ref + log10(cost_ref / budget) / rate`` (``t_ref`` when the budget already
    covers the cost; ``inf`` when the rate is not positive). Returns ``{"estimate", "low",
    "high", "credibility"}``: the estimate uses the central inputs, ``low``-``high`` is the
    ``credibility`` interval from the cost and rate distributions (exact when one input is
    uncertain, sampled otherwise). ``budget_usd`` may be an array (the values are then arrays).

    >>> a = affordability_year(2.1e6, "2020-05-28", 1e6, price_performance_oom_per_year=0.14)
    >>> round(a["estimate"], 2)  # 2020.404 + log10(2.1) / 0.14
    2022.71
    """
    _check_method(sampling)
    samples = check_samples(samples)
    check_positive("budget_usd", budget_usd, what="a budget in USD")
    cost = _cost_input(reference_cost_usd)
    rates = _rate_inputs(price_performance_oom_per_year, algorithmic_oom_per_year, include_algorithmic)
    t_ref = parse_year(reference_date, "reference_date")
    if isinstance(t_ref, np.ndarray):
        raise InvalidInputError("reference_date must be one date")
    budgets = np.atleast_1d(np.asarray(budget_usd, dtype=float)).ravel()
    est, lo, hi, _ = _affordability(cost, t_ref, budgets, rates, credibility, samples, seed, sampling)
    if np.ndim(budget_usd) == 0:
        return {"estimate": float(est[0]), "low": float(lo[0]), "high": float(hi[0]), "credibility": credibility}
    shape = np.shape(budget_usd)
    return {
        "estimate": est.reshape(shape),
        "low": lo.reshape(shape),
        "high": hi.reshape(shape),
        "credibility": credibility,
    }


def probability_affordable(cost_usd, budget_usd) -> float | np.ndarray:
    """``P(cost <= budget)``: the share of the cost's Monte Carlo samples at or under the budget.

    ``cost_usd`` is a :class:`Summary` (its samples, or its closed-form distribution), a distribution,
    an array of samples or a number. A lognormal cost is exact: ``Phi((ln budget - mu) / sigma)``; a point
    cost gives 0 or 1; samples give ``mean(samples <= budget)``. ``budget_usd`` may be an array.

    >>> round(float(probability_affordable(LogNormal(math.log(2e6), 1.0), 1e6)), 4)  # Phi(ln(0.5)) = Phi(-0.693)
    0.2441
    """
    check_positive("budget_usd", budget_usd, what="a budget in USD")
    b = np.asarray(budget_usd, dtype=float)
    dist: Distribution
    if isinstance(cost_usd, Summary):
        if cost_usd.dist is not None and isinstance(cost_usd.dist, (Point, LogNormal)):
            dist = cost_usd.dist
        elif cost_usd.samples is not None and np.size(cost_usd.samples) > 1:
            dist = Samples(np.asarray(cost_usd.samples, dtype=float))
        else:
            dist = Point(cost_usd.median)
    elif isinstance(cost_usd, np.ndarray) and cost_usd.ndim > 0 and cost_usd.size > 1:
        dist = Samples(np.asarray(cost_usd, dtype=float))
    else:
        dist = as_distribution(cost_usd, "cost_usd")
    if isinstance(dist, LogNormal):
        from scipy import special

        p = special.ndtr((np.log(b) - dist.mu) / dist.sigma)
    elif isinstance(dist, Point):
        p = (dist.value <= b).astype(float)
    elif isinstance(dist, Samples):
        x = np.sort(np.asarray(dist.values, dtype=float).ravel())
        p = np.searchsorted(x, b, side="right") / x.size
    else:
        raise InvalidInputError(
            f"cost_usd is a {type(dist).__name__}; give a Summary, samples, a number or a lognormal (ci(low, high))"
        )
    return float(p) if np.ndim(p) == 0 else np.asarray(p, dtype=float)


def affordability_probability(
    reference_cost_usd,
    reference_date,
    target_date,
    budget_usd,
    *,
    price_performance_oom_per_year=None,
    algorithmic_oom_per_year=None,
    include_algorithmic: bool = False,
    samples: int = 10_000,
    seed: int | None = 0,
    sampling: str = "random",
    emulation_ratio=None,
) -> dict:
    """The probability that ``budget_usd`` covers reproducing the reference (or, with ``emulation_ratio``,
    its compute-optimal emulation: :func:`cost_to_reproduce`) at ``target_date``.

    ``P = P(cost_ref x 10^(-rate x (t - t_ref)) <= budget)``, from the same cost (closed form or Monte
    Carlo) as :func:`cost_to_reproduce`: exact ``Phi((ln budget - mu_t) / sigma_t)`` when the cost at ``t``
    is lognormal, else the share of the samples at or under the budget. ``target_date`` must not be
    before ``reference_date`` (what a run costs before it was made is not a question of affordability).
    Returns ``{"p_affordable", "cost_usd" (the Summary at the target), "target_year", "method"}``;
    ``budget_usd`` may be an array (``p_affordable`` is then an array).

    >>> r = affordability_probability(LogNormal(math.log(2e6), 1.0), 2020, 2020, 1e6)
    >>> round(r["p_affordable"], 4)
    0.2441
    """
    check_positive("budget_usd", budget_usd, what="a budget in USD")
    t_ref = parse_year(reference_date, "reference_date")
    t = parse_year(target_date, "target_date")
    if isinstance(t_ref, np.ndarray) or isinstance(t, np.ndarray):
        raise InvalidInputError("reference_date and target_date must be one date each; give an array of budgets")
    if t < t_ref:
        raise InvalidInputError(
            f"target_date={t:.2f} is before the reference date {t_ref:.2f}; a run is affordable from its date on"
        )
    repro = cost_to_reproduce(
        reference_cost_usd,
        reference_date,
        target_date,
        price_performance_oom_per_year=price_performance_oom_per_year,
        algorithmic_oom_per_year=algorithmic_oom_per_year,
        include_algorithmic=include_algorithmic,
        samples=samples,
        seed=seed,
        sampling=sampling,
        emulation_ratio=emulation_ratio,
    )
    assert isinstance(repro.cost_usd, Summary)  # one target date
    return {
        "p_affordable": probability_affordable(repro.cost_usd, budget_usd),
        "cost_usd": repro.cost_usd,
        "target_year": float(t),
        "method": repro.method,
    }


def _actors(actors) -> list[Actor]:
    if actors is None:
        return load_actors()
    if isinstance(actors, (str, Path)):
        return load_actors(actors)
    if isinstance(actors, Mapping):
        out = []
        for k, v in actors.items():
            check_positive(f"budget_usd of {k!r}", v, what="a budget in USD")
            out.append(Actor(key=str(k), name=str(k), budget_usd=float(v), source="user"))
        return out
    if isinstance(actors, Iterable):
        out = list(actors)
        if not all(isinstance(a, Actor) for a in out):
            raise InvalidInputError("actors must be None, a CSV path, a {name: budget_usd} mapping or Actor objects")
        return out
    raise InvalidInputError(
        f"actors={actors!r} must be None, a CSV path, a {{name: budget_usd}} mapping or Actor objects"
    )


def affordability_table(
    reference_cost_usd,
    reference_date,
    actors=None,
    *,
    price_performance_oom_per_year=None,
    algorithmic_oom_per_year=None,
    include_algorithmic: bool = False,
    credibility: float = 0.9,
    samples: int = 10_000,
    seed: int | None = 0,
    sampling: str = "random",
    year: float | str | dt.date | None = None,
    emulation_ratio=None,
) -> list[dict]:
    """One row per actor: when it can afford to reproduce the reference (or, with ``emulation_ratio``, its
    compute-optimal emulation, the saving counted once as in :func:`cost_to_reproduce`; its interval is then
    sampled).

    ``actors`` is None (the bundled presets), a CSV path, a ``{name: budget_usd}``
    mapping or a list of :class:`Actor`. Each row holds key, name, budget_usd,
    estimate, low, high (decimal years), credibility, affordable_now and source. All
    actors share the same draws. With ``year`` (a date or decimal year), each row also holds
    ``p_year`` and ``p_affordable``, the probability that the budget covers the cost at that date
    (:func:`affordability_probability`; None for a date before the reference's).
    """
    _check_method(sampling)
    samples = check_samples(samples)
    people = _actors(actors)
    cost = _cost_input(reference_cost_usd)
    rates = _rate_inputs(price_performance_oom_per_year, algorithmic_oom_per_year, include_algorithmic)
    t_ref = parse_year(reference_date, "reference_date")
    if isinstance(t_ref, np.ndarray):
        raise InvalidInputError("reference_date must be one date")
    budgets = np.array([a.budget_usd for a in people], dtype=float)
    now = cost.central
    if emulation_ratio is None:
        est, lo, hi, _ = _affordability(cost, t_ref, budgets, rates, credibility, samples, seed, sampling)
    else:
        ratio = _ratio_input(emulation_ratio)
        est, lo, hi = _emulated_affordability(cost, t_ref, budgets, rates, ratio, credibility, samples, seed, sampling)
        now = cost.central / max(ratio.central, 1.0)
    rows = [
        {
            "key": a.key,
            "name": a.name,
            "budget_usd": a.budget_usd,
            "estimate": float(e),
            "low": float(low),
            "high": float(h),
            "credibility": credibility,
            "affordable_now": bool(a.budget_usd >= now),
            "source": a.source,
        }
        for a, e, low, h in zip(people, est, lo, hi, strict=True)
    ]
    if year is not None:
        t = parse_year(year, "year")
        if isinstance(t, np.ndarray):
            raise InvalidInputError("year must be one date")
        p: list[float | None] = [None] * len(rows)
        if t >= t_ref:
            got = affordability_probability(
                reference_cost_usd,
                reference_date,
                t,
                budgets,
                price_performance_oom_per_year=price_performance_oom_per_year,
                algorithmic_oom_per_year=algorithmic_oom_per_year,
                include_algorithmic=include_algorithmic,
                samples=samples,
                seed=seed,
                sampling=sampling,
                emulation_ratio=emulation_ratio,
            )
            p = [float(v) for v in np.atleast_1d(got["p_affordable"])]
        for row, pv in zip(rows, p, strict=True):
            row["p_year"], row["p_affordable"] = float(t), pv
    return rows


# -- emulation with algorithmic progress, counted once --------------------------------

#: the rule that keeps an emulation's saving and algorithmic progress from being counted twice
DOUBLE_COUNTING_RULE = (
    "compute saved = max(algorithmic rate x years, log10(emulation compute ratio)) orders of magnitude, never "
    "their sum: compute-optimal reallocation is one of the gains inside Ho et al. 2024's algorithmic rate"
)


def combined_saving_oom(elapsed_years, algorithmic_oom_per_year, emulation_saving_oom):
    """Orders of magnitude of compute saved for the same capability when an emulation's one-off
    saving (``log10(compute_ratio)``) and algorithmic progress are both counted.

    The rule (docs/trends.md, "Emulation and algorithmic progress"): the larger of the two,
    ``max(r_alg x years, log10(compute_ratio))``, never their sum, because compute-optimal
    reallocation is one of the gains Ho et al. 2024's rate measures (their 2012-2023 data run
    from models trained near Kaplan et al.'s allocation, GPT-3 at 1.7 tokens per parameter, to
    compute-optimal ones; they count the switch to Chinchilla scaling as a compute-equivalent
    gain of the same kind). ``algorithmic_oom_per_year`` of 0 means no algorithmic term: the
    emulation's saving alone. Arrays broadcast.

    >>> float(combined_saving_oom(6.0, 0.45, 0.47))  # 2.7 OOM of algorithms already hold the 0.47 OOM
    2.7
    >>> float(combined_saving_oom(0.5, 0.45, 0.47))  # half a year on, the emulation is the larger
    0.47
    """
    years = np.asarray(elapsed_years, dtype=float)
    rate = np.asarray(algorithmic_oom_per_year, dtype=float)
    e = np.asarray(emulation_saving_oom, dtype=float)
    if (e < 0).any():
        raise InvalidInputError(
            "emulation_saving_oom is negative; an emulation never needs more compute (log10 of a ratio >= 1)"
        )
    out = np.maximum(rate * years, e)
    return float(out) if out.ndim == 0 else out


def _ratio_input(value) -> DiffusionInput:
    """The emulation's compute ratio (>= 1): a number, a distribution, samples or a Summary."""
    name = "emulation_ratio"
    if isinstance(value, Summary):
        dist = _from_summary(value)
    elif isinstance(value, np.ndarray) and value.ndim > 0 and value.size > 1:
        dist = Samples(np.asarray(value, dtype=float))
    else:
        dist = as_distribution(value, name)
    if isinstance(dist, Point) and not dist.value >= 1:
        raise InvalidInputError(
            f"{name}={dist.value:g} is below 1; it is reference compute / compute-optimal compute, which is >= 1"
        )
    if isinstance(dist, Samples) and (dist.values < 1).any():
        raise InvalidInputError(f"{name}: the samples hold values below 1; a compute ratio is >= 1")
    if isinstance(dist, Normal):
        raise InvalidInputError(f"{name} is a normal distribution; give a number >= 1, samples or ci(low, high)")
    source = "user (from a Summary)" if isinstance(value, Summary) else "user"
    return DiffusionInput(name, dist, float(dist.median), "x", source)


def _emulated_draws(cost, rates, ratio, samples, seed, sampling):
    """(cost, hardware rate, algorithmic rate, log10 ratio) samples: each input drawn once per index."""
    d = draw(
        {cost.name: cost.value, **{r.name: r.value for r in rates}, ratio.name: ratio.value}, samples, seed, sampling
    )

    def col(name):
        return np.broadcast_to(np.asarray(d[name], dtype=float), (samples,))

    c = col(cost.name)
    if (c <= 0).any():
        raise InvalidInputError(f"{cost.name}: the distribution gives costs <= 0; use ci(low, high) with low > 0")
    r_hw = col(rates[0].name)
    r_alg = col(rates[1].name) if len(rates) > 1 else np.zeros(samples)
    # a lognormal ratio can dip under 1; an emulation never needs more compute than its reference
    e = np.log10(np.maximum(col(ratio.name), 1.0))
    return c, r_hw, r_alg, e


def _years_after_emulated(gap_oom, r_hw, r_alg, e):
    """Years until ``r_hw x years + max(r_alg x years, e) >= gap_oom`` (0 if already, inf if never).

    The saving is continuous and rising in the years, so: 0 when ``gap <= e``; else
    ``(gap - e) / r_hw`` while the emulation is the larger (``r_alg x years <= e``), and
    ``gap / (r_hw + r_alg)`` after.
    """
    gap, r_hw, r_alg, e = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (gap_oom, r_hw, r_alg, e)))
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(r_hw > 0, (gap - e) / np.where(r_hw > 0, r_hw, 1.0), np.inf)
        total = r_hw + r_alg
        second = np.where(total > 0, gap / np.where(total > 0, total, 1.0), np.inf)
        in_first = r_alg * first <= e
    return np.where(gap <= e, 0.0, np.where(in_first, first, second))


def _emulated_affordability(cost, t_ref, budgets, rates, ratio, credibility, samples, seed, sampling):
    """(estimate, low, high) decimal-year arrays, one element per budget, for the emulation (sampled)."""
    _z(credibility)
    r_alg_c = rates[1].central if len(rates) > 1 else 0.0
    e_c = math.log10(max(ratio.central, 1.0))
    est = t_ref + _years_after_emulated(np.log10(cost.central / budgets), rates[0].central, r_alg_c, e_c)
    c, r_hw, r_alg, e = _emulated_draws(cost, rates, ratio, samples, seed, sampling)
    years = _years_after_emulated(
        np.log10(c[:, None] / budgets[None, :]), r_hw[:, None], r_alg[:, None], e[:, None]
    )  # (samples, budgets)
    p_lo, p_hi = 0.5 - credibility / 2, 0.5 + credibility / 2
    return est, t_ref + _percentile(years, 100 * p_lo), t_ref + _percentile(years, 100 * p_hi)
