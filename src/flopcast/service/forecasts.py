"""Forecast questions: trends with bands, the cost of reproducing a run later, who can afford
it when, how long the frontier takes to be caught up, and the compute-optimal emulation of a model.

Front-ends parse their input into plain values and format what comes back; the work is here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flopcast.defaults import (
    DEFAULT_COST_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
    RANDOM_SAMPLING,
)
from flopcast.errors import InvalidInputError
from flopcast.limits import YEAR_MAX
from flopcast.methods import METHOD_NAMES
from flopcast.quantities import QuantityInput
from flopcast.service.checks import check_count, check_date, check_params, check_positive, check_year
from flopcast.service.training import (
    MoneyOptions,
    _check_sampling,
    as_input,
    database,
    reference_cost,
    settings,
    training_estimate,
)

if TYPE_CHECKING:
    import numpy as np

    from flopcast.datasets.database import Database
    from flopcast.lags import Lag
    from flopcast.reproduction import ReproductionCost
    from flopcast.scaling import FitEmulation
    from flopcast.trends import TrendFit
    from flopcast.uncertainty import Distribution, Summary

#: the most bootstrap resamples of a trend fit (as many as Monte Carlo samples)
MAX_BOOTSTRAP = 1_000_000
TREND_METRICS = ("compute", "cost", "params", "data", "price-performance")
#: how "the frontier run of year Y" is found: the costliest frontier model of Y, or the trend of frontier costs
FRONTIER_BASES = ("top-model", "trend")
DEFAULT_FRONTIER_BASIS = "top-model"
#: the frontier: the top 10 models by training compute at release (Cottier et al. 2024's selection)
FRONTIER_TOP = 10


@dataclass
class TrendAnalysis:
    """A fitted trend with the points it was fitted to and everything a front-end shows."""

    fit: TrendFit
    dates: list[Any]
    values: np.ndarray
    labels: list[str]
    title: str
    unit: str
    source: str
    notes: list[str] = field(default_factory=list)
    out: dict[str, Any] = field(default_factory=dict)
    band: dict[str, list[float]] = field(default_factory=dict)

    @property
    def years(self) -> np.ndarray:
        """The points' dates as decimal years."""
        import numpy as np

        from flopcast.dates import decimal_year

        return np.asarray(decimal_year(list(self.dates)), dtype=float).reshape(-1)

    def points(self) -> list[dict[str, Any]]:
        """One ``{year, value, label}`` per point (the web chart's data)."""
        import numpy as np

        values = np.asarray(self.values, dtype=float)
        return [
            {"year": float(y), "value": float(v), "label": lab}
            for y, v, lab in zip(self.years, values, self.labels, strict=True)
        ]


def trend_analysis(
    metric: str,
    *,
    data: str | None = None,
    top: int | None = None,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    include_finetunes: bool = False,
    above_trend: float | None = None,
    cost_method: str = DEFAULT_COST_METHOD,
    year_dollars: int | None = None,
    price_index: str | None = None,
    extrapolate: int | None = None,
    cross: float | None = None,
    breakpoint: bool = False,
    bootstrap: int = 10_000,
    credibility: float = 0.9,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    band_points: int = 0,
    within_intervals: bool = True,
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
    db: Database | None = None,
) -> TrendAnalysis:
    """The trend behind ``flopcast trend``: costs are the same medians ``costs`` gives for these models."""
    from flopcast.selection import above_trend as above_mask
    from flopcast.series import hardware_series, model_series
    from flopcast.trends import fit_trend

    if metric not in TREND_METRICS:
        raise InvalidInputError(f"metric {metric!r} is not one of {', '.join(TREND_METRICS)}")
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
    check_year("since", since)
    check_year("until", until)
    check_year("extrapolate", extrapolate)
    check_year("year_dollars", year_dollars)
    check_positive("cross", cross)
    if above_trend is not None and not (isinstance(above_trend, (int, float)) and math.isfinite(above_trend)):
        raise InvalidInputError(f"above_trend={above_trend!r} is not finite; give orders of magnitude, e.g. 0.5")
    if not isinstance(bootstrap, bool) and isinstance(bootstrap, int) and bootstrap > MAX_BOOTSTRAP:
        raise InvalidInputError(f"bootstrap={bootstrap} is outside 0..{MAX_BOOTSTRAP:,} (0 skips the bootstrap)")
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"since {since} is after until {until}")
    _check_sampling(samples, seed, sampling, 1_000_000)
    db = database(data, db)
    described = db.describe()
    if metric == "price-performance":
        series = hardware_series(db.hardware, db.price_book, since=since, until=until, source=described)
    else:
        money = MoneyOptions(utilization_prior=utilization_prior)
        s = settings(db, method=cost_method, year_dollars=year_dollars, price_index=price_index, money=money)
        series = model_series(
            db,
            metric,
            top=top,
            since=since,
            until=until,
            domain=domain,
            org=org,
            include_finetunes=include_finetunes,
            settings=s,
            samples=samples,
            seed=seed,
            sampling=sampling,
        )
    dates, values, labels = series.dates, series.values, series.labels
    sigmas = series.sigmas_log10 if within_intervals else None
    if above_trend is not None:
        keep = above_mask(dates, values, above_trend)
        dates = [d for d, k in zip(dates, keep, strict=True) if k]
        values = values[keep]
        labels = [x for x, k in zip(labels, keep, strict=True) if k]
        sigmas = None if sigmas is None else sigmas[keep]
    fit = fit_trend(
        dates,
        values,
        credibility=credibility,
        bootstrap=bootstrap,
        seed=seed,
        breakpoint=breakpoint,
        labels=labels,
        metric=series.title,
        unit=series.unit,
        sigmas_log10=sigmas,
    )
    out = fit.to_dict()
    out["source"] = described
    out["notes"] = series.notes
    out["n_models"] = len(dates)
    if metric == "cost":
        out.update(samples=samples, seed=seed, sampling=sampling, cost_method=cost_method)
    selection = {
        "top": top,
        "since": since,
        "until": until,
        "domain": domain,
        "org": org,
        "above_trend": above_trend,
        "include_finetunes": include_finetunes,
    }
    out["selection"] = {k: v for k, v in selection.items() if v is not None}
    if metric != "price-performance":
        from flopcast.selection import top_meaning

        out["selection"]["meaning"] = top_meaning(top, include_finetunes)
    if extrapolate is not None:
        out["extrapolation"] = fit.predict(float(extrapolate) + 0.5)
    if cross is not None:
        out["crossing"] = dict(fit.crossing_year(cross), value=cross)
    band = trend_band(fit, dates, extrapolate, band_points) if band_points else {}
    return TrendAnalysis(
        fit=fit,
        dates=list(dates),
        values=values,
        labels=list(labels),
        title=series.title,
        unit=series.unit,
        source=described,
        notes=list(series.notes),
        out=out,
        band=band,
    )


def trend_band(
    fit: TrendFit,
    dates: Sequence[Any],
    extrapolate: int | None = None,
    points: int = 80,
    *,
    also: Sequence[float] = (),
    margin: float = 0.0,
) -> dict[str, list[float]]:
    """The fitted line with its confidence and prediction bands on a grid of ``points`` years.

    The grid spans the points and the fit, mid-``extrapolate`` and any years in ``also``
    (e.g. a model to place on the chart), widened by ``margin`` years on each side.
    """
    import numpy as np

    from flopcast.dates import decimal_year

    years = [float(y) for y in np.atleast_1d(decimal_year(list(dates)))]
    extra = [float(y) for y in also if y is not None and np.isfinite(y)]
    lo = min([*years, fit.start_year, *extra]) - margin
    hi = max([*years, fit.end_year, *extra, *([extrapolate + 0.5] if extrapolate else [])]) + margin
    band = fit.predict(np.linspace(lo, hi, points))
    return {
        k: np.asarray(band[k], dtype=float).tolist()
        for k in ("year", "median", "line_low", "line_high", "pred_low", "pred_high")
    }


def price_performance_fit(db: Database) -> Distribution:
    """The hardware price-performance rate (OOM/year) fitted to the database's chip prices, as a normal."""
    from flopcast.series import hardware_series
    from flopcast.trends import fit_trend
    from flopcast.uncertainty import Normal

    s = hardware_series(db.hardware, db.price_book)
    fit = fit_trend(s.dates, s.values, bootstrap=0)
    return Normal(fit.slope_oom_per_year, fit.slope_se_oom_per_year)


def _describe(value: QuantityInput) -> str:
    return f"{value[0]:g}..{value[1]:g}" if isinstance(value, tuple) else f"{value:g}"


@dataclass(frozen=True)
class Reference:
    """The run a diffusion question starts from: its cost, date, a label and the source."""

    cost: Summary | Distribution | float
    date: dt.date
    label: str
    source: str


def diffusion_reference(
    model: str | None = None,
    *,
    cost_usd: QuantityInput = None,
    date: dt.date | None = None,
    compute_flop: QuantityInput = None,
    hardware: str | None = None,
    cost_method: str = DEFAULT_COST_METHOD,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
    given_as: str | None = None,
    frontier_of: int | None = None,
    frontier_basis: str = DEFAULT_FRONTIER_BASIS,
) -> Reference:
    """The reference of ``flopcast diffusion``: a database model, a cost on a date, a run by compute, or the
    frontier run of a year (``frontier_of``, see :func:`frontier_reference`).

    ``compute_flop`` needs ``hardware`` and ``date`` (the run's start), and is costed by the same
    pipeline as ``flopcast estimate``. ``given_as`` is the value as the user wrote it, for the label.
    """
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
    if frontier_of is not None:
        if model is not None or cost_usd is not None or compute_flop is not None:
            raise InvalidInputError("give one of MODEL, --cost, --compute or --frontier-of")
        return frontier_reference(
            frontier_of, basis=frontier_basis, cost_method=cost_method, samples=samples, seed=seed, data=data, db=db
        )
    check_date("date", date)
    check_positive("cost", cost_usd)
    check_count("compute", compute_flop, unit="FLOP", one="FLOP")
    if compute_flop is not None:
        if model is not None or cost_usd is not None:
            raise InvalidInputError("give one of MODEL, --cost or --compute")
        if hardware is None or date is None:
            raise InvalidInputError("--compute needs --hardware and --date (the run's start)")
        est = training_estimate(
            None,
            compute=compute_flop,
            hardware=hardware,
            start_date=date,
            method=cost_method,
            samples=samples,
            seed=seed,
            data=data,
            db=db,
        )
        what = given_as or _describe(compute_flop)
        return Reference(
            est.cost_usd[cost_method], date, f"a {what}-FLOP run on {est.hardware} ({cost_method} cost)", est.source
        )
    if model is None:
        if cost_usd is None or date is None:
            raise InvalidInputError("give a MODEL, --cost and --date, or --compute, --hardware and --date")
        what = given_as or _describe(cost_usd)
        return Reference(as_input(cost_usd), date, f"reference costing {what} USD on {date}", "given")
    if cost_usd is not None:
        raise InvalidInputError("give a MODEL or --cost, not both")
    summary, when, est = reference_cost(model, cost_method=cost_method, data=data, samples=samples, seed=seed, db=db)
    return Reference(summary, when, f"{est.name} ({cost_method} cost, {est.dollars})", est.source)


def frontier_reference(
    year: int,
    *,
    basis: str = DEFAULT_FRONTIER_BASIS,
    cost_method: str = DEFAULT_COST_METHOD,
    top: int = FRONTIER_TOP,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
) -> Reference:
    """The frontier training run of ``year``, as a diffusion reference (docs/trends.md, "Affordability as a
    probability").

    - ``top-model`` (the default): the model published in ``year``, among the ``top`` models by training compute
      at release (Cottier et al.'s frontier), whose ``cost_method`` cost has the highest median; its full
      Monte Carlo estimate (the same as ``flopcast estimate NAME``) is the reference, dated at its publication.
    - ``trend``: the log-linear trend of those frontier models' costs (every year of the data) at mid-``year``;
      the cost is the lognormal of the fit's 90% prediction interval (one new frontier model at that date),
      dated mid-``year``. It reaches years past the data.
    """
    from flopcast.formatting import format_usd

    if basis not in FRONTIER_BASES:
        raise InvalidInputError(f"frontier_basis={basis!r} is not one of {', '.join(FRONTIER_BASES)}")
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
    check_year("frontier_of", year, last=YEAR_MAX - 1, why="the frontier of a year is dated mid-year")
    db = database(data, db)
    if basis == "trend":
        from flopcast.uncertainty import ci

        t = trend_analysis("cost", top=top, cost_method=cost_method, bootstrap=0, samples=samples, seed=seed, db=db)
        p = t.fit.predict(year + 0.5)
        mid = dt.date(year, 7, 1)
        label = (
            f"the frontier run of {year} by the trend of the top-{top} models' {cost_method} costs "
            f"({t.fit.slope_oom_per_year:.2f} OOM/year, {len(t.dates)} models, "
            f"{math.floor(t.years.min()):d}-{math.floor(t.years.max()):d}): median {format_usd(p['median'])}, "
            f"90% prediction interval {format_usd(p['pred_low'])}-{format_usd(p['pred_high'])}"
        )
        return Reference(ci(float(p["pred_low"]), float(p["pred_high"])), mid, label, t.source)
    from flopcast.service.training import cost_table

    none = InvalidInputError(
        f"frontier_of={year}: no model of {year} among the top {top} by compute has a cost by the {cost_method} method in "
        f"{db.describe()}; give --frontier-basis trend"
    )
    try:
        table = cost_table(since=year, until=year, top=top, method=cost_method, samples=samples, seed=seed, db=db)
    except InvalidInputError:  # the filters leave no models: a year the data does not reach
        raise none from None
    costed = [e for e in table.result.estimates if cost_method in e.cost_usd]
    if not costed:
        raise none
    # the leader of the year's frontier: the most training compute (the median; the database's order on ties)
    best = max(costed, key=lambda e: e.training_compute_flop.median)
    summary, when, est = reference_cost(best.key, cost_method=cost_method, samples=samples, seed=seed, db=db)
    label = (
        f"the frontier run of {year}: {est.name}, the most training compute of the {len(costed)} costed "
        f"top-{top} models of {year} ({cost_method} cost, {est.dollars})"
    )
    return Reference(summary, when, label, est.source)


@dataclass
class AffordabilityProbability:
    """The probability that a budget covers the reference's cost at mid-``year``."""

    reference: Reference
    year: int
    budget_usd: float
    #: P(cost at mid-year <= budget), 0..1
    p_affordable: float
    #: the cost to reproduce the reference at mid-year (USD)
    cost_usd: Summary
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference.label,
            "reference_date": self.reference.date.isoformat(),
            "year": self.year,
            "budget_usd": self.budget_usd,
            "p_affordable": self.p_affordable,
            "cost_usd": self.cost_usd.to_dict(),
            "method": self.method,
        }


def _check_after_reference(reference: Reference, year: int) -> dt.date:
    target = dt.date(year, 7, 1)
    if target < reference.date:
        raise InvalidInputError(
            f"year={year} (mid-year, {target}) is before the reference date {reference.date}; "
            "give a year at or after it"
        )
    return target


def affordability_probability(
    reference: Reference,
    year: int,
    budget_usd: float,
    *,
    price_performance_oom_per_year: float | Distribution | None = None,
    include_algorithmic: bool = False,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> AffordabilityProbability:
    """``P(cost to reproduce the reference at mid-year <= budget)``, from the cost's Monte Carlo samples
    (exact for a lognormal cost: ``Phi((ln budget - mu) / sigma)``); :func:`flopcast.reproduction.affordability_probability`.
    """
    from flopcast.reproduction import affordability_probability as prob

    _check_sampling(samples, seed, RANDOM_SAMPLING, 1_000_000)
    check_year("year", year, last=YEAR_MAX - 1, why=f"the cost is priced in mid-year; dates end on {YEAR_MAX}-01-01")
    check_positive("budget", budget_usd)
    check_positive("price_performance", price_performance_oom_per_year)
    target = _check_after_reference(reference, year)
    got = prob(
        reference.cost,
        reference.date,
        target,
        float(budget_usd),
        price_performance_oom_per_year=price_performance_oom_per_year,
        include_algorithmic=include_algorithmic,
        samples=samples,
        seed=seed,
    )
    return AffordabilityProbability(
        reference, year, float(budget_usd), float(got["p_affordable"]), got["cost_usd"], got["method"]
    )


def actors_with(actors: str | None = None, overrides: Mapping[str, float] | None = None) -> list[Any]:
    """The actor presets (or a CSV of actors) with budgets replaced or added: ``{key or name: USD}``.

    A key or name of the presets (``startup``, ``AI startup``) replaces that actor's budget; any other name
    adds an actor. The catalog stays editable from the command line (``--actor startup=2e7``).
    """
    from dataclasses import replace

    from flopcast.catalogs.actors import Actor, load_actors

    people = load_actors(actors)
    for name, usd in (overrides or {}).items():
        if not str(name).strip():
            raise InvalidInputError(f"actor name {name!r} is empty; write --actor NAME=BUDGET, e.g. startup=2e7")
        check_positive(f"budget of actor {name!r}", usd)
        hit = next((i for i, a in enumerate(people) if name in (a.key, a.name)), None)
        if hit is None:
            people.append(Actor(key=str(name), name=str(name), budget_usd=float(usd), source="user (--actor)"))
        else:
            people[hit] = replace(people[hit], budget_usd=float(usd), source="user (--actor)")
    return people


@dataclass
class DiffusionAnalysis:
    """What ``flopcast diffusion`` shows: the reference, its cost at the target date, when each budget
    affords it, and (on request) the cost curve over the years."""

    reference: Reference
    target: dt.date
    reproduction: ReproductionCost
    affordability: list[dict[str, Any]]
    include_algorithmic: bool
    curve: ReproductionCost | None = None
    #: the compute-optimal emulation priced instead of the reference run, when asked for
    emulation: FitEmulation | None = None

    @property
    def double_counting_rule(self) -> str:
        """How an emulation's saving and algorithmic progress combine (counted once)."""
        from flopcast.reproduction import DOUBLE_COUNTING_RULE

        return DOUBLE_COUNTING_RULE


def diffusion_analysis(
    reference: Reference,
    year: int,
    *,
    budgets: Mapping[str, float] | str | list[Any] | None = None,
    price_performance_oom_per_year: float | Distribution | None = None,
    include_algorithmic: bool = False,
    curve_points: int = 0,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    emulation: FitEmulation | None = None,
) -> DiffusionAnalysis:
    """The cost of reproducing ``reference`` in mid-``year`` and the year each budget affords it.

    With ``emulation`` (one fit of :func:`emulation`, for the reference's model), the run priced is the
    reference's compute-optimal emulation: the cost falls by its compute ratio (drawn from the fit's
    interval), and with ``include_algorithmic`` the saving is ``max(algorithmic, emulation)``, never their
    product (:func:`flopcast.reproduction.combined_saving_oom`; docs/trends.md).

    ``budgets`` is None (the actor presets), a CSV of actors, ``{label: USD}`` or a list of actors
    (:func:`actors_with`). With ``curve_points``, the cost on that many dates from the reference to four
    years past ``year``. Each affordability row also holds ``p_affordable``, the probability that its budget
    covers the cost in mid-``year`` (None when mid-``year`` is before the reference date), and ``p_year``.
    """
    from flopcast.reproduction import affordability_table, cost_to_reproduce

    _check_sampling(samples, seed, RANDOM_SAMPLING, 1_000_000)
    # the cost is priced in mid-year, and a date runs to the first day of YEAR_MAX (flopcast.dates)
    check_year("year", year, last=YEAR_MAX - 1, why=f"the cost is priced in mid-year; dates end on {YEAR_MAX}-01-01")
    if isinstance(budgets, Mapping):
        for usd in budgets.values():
            check_positive("budget", usd)
    check_positive("price_performance", price_performance_oom_per_year)
    target = dt.date(year, 7, 1)
    kw: dict[str, Any] = dict(
        price_performance_oom_per_year=price_performance_oom_per_year,
        include_algorithmic=include_algorithmic,
        samples=samples,
        seed=seed,
    )
    if emulation is not None:
        import numpy as np

        from flopcast.uncertainty import Samples

        drawn = emulation.compute_ratio.samples
        kw["emulation_ratio"] = Samples(np.asarray(drawn)) if drawn is not None else emulation.compute_ratio.median
    repro = cost_to_reproduce(reference.cost, reference.date, target, **kw)
    table = affordability_table(reference.cost, reference.date, budgets, year=target, **kw)
    curve = None
    if curve_points:
        import numpy as np

        from flopcast.dates import decimal_year

        start = float(decimal_year(reference.date))
        years = np.linspace(start, min(max(year, start + 1) + 4, YEAR_MAX), curve_points)
        curve = cost_to_reproduce(reference.cost, reference.date, years, **kw)
    return DiffusionAnalysis(reference, target, repro, table, include_algorithmic, curve, emulation)


#: the ``fit`` choices of :func:`emulation`: each shipped fit (``flopcast.scaling.FIT_NAMES``) or both
EMULATION_FITS = ("hoffmann", "besiroglu", "both")


@dataclass
class EmulationAnalysis:
    """What ``flopcast emulate`` shows: a reference (N, D) and its compute-optimal emulation under each
    fit asked for, with 90% intervals (:class:`flopcast.scaling.FitEmulation`)."""

    label: str
    params: float
    tokens: float
    #: fit name -> its emulation, in the order shown (hoffmann first under ``both``)
    fits: dict[str, FitEmulation]

    @property
    def first(self) -> FitEmulation:
        return next(iter(self.fits.values()))

    def summary(self) -> str:
        return "\n".join(
            [f"compute-optimal emulation of {self.label}:", *(f"  {v.summary()}" for v in self.fits.values())]
        )

    def to_dict(self) -> dict[str, Any]:
        # the top-level fields are the first fit's point emulation (scripts written for one fit keep working)
        return dict(
            self.first.point.to_dict(),
            reference=self.label,
            fit_names=list(self.fits),
            fits={k: v.to_dict() for k, v in self.fits.items()},
        )


def emulation(
    model: str | None = None,
    *,
    params: float | None = None,
    tokens: float | None = None,
    fit: str = "both",
    data: str | None = None,
    db: Database | None = None,
) -> EmulationAnalysis:
    """The compute-optimal model reaching the loss of a database model (its parameters and tokens x epochs)
    or of ``params`` x ``tokens``, under ``fit`` (one of :data:`EMULATION_FITS`), each with 90% intervals."""
    from flopcast.scaling import FIT_NAMES, emulate_with_interval

    if not isinstance(fit, str) or fit not in (*FIT_NAMES, "both"):
        raise InvalidInputError(f"fit={fit!r} is not one of {', '.join((*FIT_NAMES, 'both'))}")
    check_params("params", params)
    check_count("tokens", tokens, unit="tokens", one="token")
    if model is not None:
        if params is not None or tokens is not None:
            raise InvalidInputError("give a MODEL or --params and --tokens, not both")
        m = database(data, db).find(model)
        if not (m.params_per_token and m.training_tokens):
            raise InvalidInputError(
                f"{m.name} has no parameter count and token count in the database; give --params and --tokens"
            )
        n, d, label = float(m.params_per_token), float(m.training_tokens * (m.epochs or 1.0)), m.name
    elif params is None or tokens is None:
        raise InvalidInputError("give a MODEL, or both --params and --tokens")
    else:
        n, d, label = float(params), float(tokens), f"N={params:.3g}, D={tokens:.3g}"
    names = FIT_NAMES if fit == "both" else (fit,)
    return EmulationAnalysis(label, n, d, {name: emulate_with_interval(n, d, fit=name) for name in names})


@dataclass
class LagAnalysis:
    """What ``flopcast lag`` shows: each frontier model's catch-up lags, their Kaplan-Meier medians with
    bootstrap p5/p95 by period and overall, what the frontier selection means and the database it was read from."""

    lags: list[Lag]
    summary: list[dict[str, Any]]
    selection: str
    source: str
    top: int
    date_basis: str
    overall: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    include_previews: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date_basis": self.date_basis,
            "top": self.top,
            "selection": self.selection,
            "include_previews": self.include_previews,
            "bootstrap": self.bootstrap,
            "lags": [x.to_dict() for x in self.lags],
            "summary": self.summary,
            "overall": self.overall,
            "kaplan_meier": {k: (c.to_dict() if c is not None else None) for k, c in self.curves.items()},
        }


def lag_analysis(
    *,
    data: str | None = None,
    top: int = 10,
    since: int | None = None,
    include_finetunes: bool = False,
    include_previews: bool = False,
    date_basis: str = "publication",
    period: int = 2,
    bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    compute_uncertainty: bool = True,
    db: Database | None = None,
) -> LagAnalysis:
    """Months until another organization, an open-weights model and an API-accessible model reached the training
    compute of each of the ``top`` frontier models (referenced from ``since`` on), with Kaplan-Meier medians (lags
    not caught up by the table's end are right-censored) by ``period`` years of reference date and overall, each
    with the p5/p95 of ``bootstrap`` resamples of the frontier models and (``compute_uncertainty``) of every
    model's compute within its Epoch confidence interval. ``date_basis`` is "publication", or "training_end"
    where a model's training end is known. Fine-tunes and previews are left out unless asked for."""
    from flopcast.lags import CREDIBILITY, lag_intervals
    from flopcast.selection import top_meaning

    check_year("since", since)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or not 0 <= bootstrap <= 10_000:
        raise InvalidInputError(f"bootstrap={bootstrap!r} must be a whole number in 0..10000 (0: no intervals)")
    _check_sampling(2, seed, RANDOM_SAMPLING, 1_000_000)
    db = database(data, db)
    res = lag_intervals(
        db.records,
        top=top,
        since=since,
        date_basis=date_basis,
        include_finetunes=include_finetunes,
        include_previews=include_previews,
        period_years=period,
        samples=bootstrap,
        seed=seed,
        compute_uncertainty=compute_uncertainty,
    )
    selection = top_meaning(top, include_finetunes) + (
        "; previews included" if include_previews else "; previews left out"
    )
    return LagAnalysis(
        lags=res.lags,
        summary=res.summary,
        selection=selection,
        source=db.describe(),
        top=top,
        date_basis=date_basis,
        overall=res.overall,
        curves=dict(res.curves),
        bootstrap={
            "samples": bootstrap,
            "seed": seed,
            "compute_uncertainty": compute_uncertainty,
            "credibility": CREDIBILITY,
            "method": "frontier models resampled with replacement"
            + (", each model's compute drawn within its Epoch confidence interval" if compute_uncertainty else ""),
        },
        include_previews=include_previews,
    )


@dataclass
class LagCounterfactual:
    """What ``flopcast lag --counterfactual`` shows: the named followers' lags behind a reference and the cost
    to reproduce the reference at their dates, as they were and had each come ``speedup`` months later."""

    reference: str
    reference_date: dt.date
    date_basis: str
    speedup: str
    speedup_source: str
    speedup_months: dict[str, float]
    followers: list[Any]
    costs: list[dict[str, Any]]
    reference_lag: Lag
    reference_lag_counterfactual: Lag
    cost_method: str
    cost_source: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for f, c in zip(self.followers, self.costs, strict=True):
            rows.append(f.to_dict() | c)
        return {
            "source": self.source,
            "reference": self.reference,
            "reference_date": self.reference_date.isoformat(),
            "date_basis": self.date_basis,
            "speedup": {"distribution": self.speedup, "source": self.speedup_source, **self.speedup_months},
            "cost_method": self.cost_method,
            "cost_source": self.cost_source,
            "followers": rows,
            "reference_lag": self.reference_lag.to_dict(),
            "reference_lag_counterfactual": self.reference_lag_counterfactual.to_dict(),
        }


def lag_counterfactual(
    reference: str = "gpt-3",
    *,
    followers: Sequence[str] | None = None,
    speedup_months: QuantityInput = None,
    date_basis: str = "publication",
    cost_method: str = DEFAULT_COST_METHOD,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
) -> LagCounterfactual:
    """Counterfactual timing: had ``followers`` not been sped up by knowing ``reference`` existed, each would have
    come ``speedup_months`` later (a number, a ``(low, high)`` 90% interval, or None: Cottier's 6 months, 90% CI
    1-18, for GPT-3), so its lag grows by the speedup and the cost to reproduce the reference at its date falls
    by the price-performance rate over the speedup (:func:`flopcast.reproduction.cost_to_reproduce`, from the
    reference's estimated cost, as ``flopcast diffusion``). ``followers`` default to GPT-3's followers at Google
    and DeepMind (:data:`flopcast.lags.GPT3_FOLLOWERS`); another reference needs them named."""
    import dataclasses

    import numpy as np

    from flopcast.catalogs.constants import diffusion_constant
    from flopcast.errors import UnknownModelError
    from flopcast.lags import DAYS_PER_MONTH, GPT3_FOLLOWERS, reference_lag, shifted_followers
    from flopcast.reproduction import cost_to_reproduce
    from flopcast.uncertainty import Point, ci

    if isinstance(speedup_months, (tuple, list)):
        if len(speedup_months) != 2:
            raise InvalidInputError(f"speedup_months={speedup_months!r} is not a number or a (low, high) interval")
        lo, hi = speedup_months
        if lo > hi:
            raise InvalidInputError(
                f"speedup_months={lo:g}..{hi:g}: low {lo:g} is greater than high {hi:g}; write low..high (months)"
            )
    check_positive("speedup_months", speedup_months)
    if date_basis not in ("publication", "training_end"):
        raise InvalidInputError(f"date_basis={date_basis!r} is not one of publication, training_end")
    db = database(data, db)
    ref = db.find(reference)
    if ref.publication_date is None or not ref.training_compute_flop:
        raise InvalidInputError(f"reference={reference!r} has no publication date or training compute in the database")
    if followers is None:
        if ref.key != "gpt-3":
            raise InvalidInputError(
                f"followers: none given for reference={reference!r}; the default followers (Cottier's) are "
                "GPT-3's; name them with --followers a,b"
            )
        followers = list(GPT3_FOLLOWERS)
    if not followers:
        raise InvalidInputError("followers: the list is empty; name at least one model")
    names = []
    for f in followers:
        try:
            names.append(db.find(f).name)
        except UnknownModelError as exc:
            raise InvalidInputError(f"followers: {exc.message}") from None
    if speedup_months is None:
        c = diffusion_constant("counterfactual_speedup_months.gpt-3")
        dist, why = c.distribution(), c.source
        if ref.key != "gpt-3":
            why += " (Cottier's estimate is for GPT-3; give --speedup-months for another reference)"
    elif isinstance(speedup_months, (tuple, list)):
        dist, why = ci(*speedup_months), "given"
    else:
        dist, why = Point(float(speedup_months)), "given"
    q = tuple(float(x) for x in dist.ppf(np.array([0.05, 0.5, 0.95])))
    months = {"p5": q[0], "p50": q[1], "p95": q[2], "mean": float(getattr(dist, "mean", q[1]))}
    shifted = shifted_followers(db.records, ref.name, names, (q[0], q[1], q[2]), date_basis)
    for sf in shifted:
        if sf.counterfactual_year[2] > YEAR_MAX:
            room = (YEAR_MAX - sf.year) * 12
            raise InvalidInputError(
                f"speedup_months: its 95th percentile, {q[2]:g} months, moves {sf.follower} past {YEAR_MAX}; "
                f"give a speedup under {room:.0f} months"
            )
    cost, when, est = reference_cost(ref.key or ref.name, cost_method=cost_method, samples=samples, seed=seed, db=db)
    costs = []
    for s in shifted:
        years = np.array([s.year, *s.counterfactual_year])
        r = cost_to_reproduce(cost, when, years, samples=samples, seed=seed)
        assert isinstance(r.cost_usd, tuple)
        central = np.asarray(r.central_usd, dtype=float)
        costs.append(
            {
                "cost_usd": r.cost_usd[0].to_dict() | {"central": float(central[0])},
                "counterfactual_cost_usd": {
                    k: r.cost_usd[i + 1].to_dict() | {"central": float(central[i + 1])}
                    for i, k in enumerate(("p5", "p50", "p95"))
                },
                "cost_ratio": {k: float(central[i + 1] / central[0]) for i, k in enumerate(("p5", "p50", "p95"))},
                "rate_oom_per_year": r.rate_oom_per_year.to_dict(),
            }
        )
    # the reference's own catch-up with the followers moved by the median speedup
    move = {s.follower: dt.timedelta(days=round(q[1] * DAYS_PER_MONTH)) for s in shifted}
    moved = [
        dataclasses.replace(r, publication_date=r.publication_date + move[r.name])
        if r.name in move and r.publication_date is not None
        else r
        for r in db.records
    ]
    return LagCounterfactual(
        reference=ref.name,
        reference_date=ref.publication_date,
        date_basis=date_basis,
        speedup=dist.describe(),
        speedup_source=why,
        speedup_months=months,
        followers=shifted,
        costs=costs,
        reference_lag=reference_lag(db.records, ref.name, date_basis=date_basis),
        reference_lag_counterfactual=reference_lag(moved, ref.name, date_basis=date_basis),
        cost_method=cost_method,
        cost_source=f"{est.name} ({cost_method} cost, {est.dollars}) from {when.isoformat()}",
        source=db.describe(),
    )
